"""The benchmark's generator, tiny: its sheet imports cleanly through the engine (make bench runs 200,000 rows)."""

from __future__ import annotations

from typing import Any

import pytest

from taizhang.establishments.models import Establishment
from taizhang.industries.services import category_create
from taizhang.transfer import engine
from taizhang.transfer.ledgers import EstablishmentLedger

pytestmark = pytest.mark.django_db


def test_generated_sheet_imports(make_user: Any, regions: Any, tmp_path: Any) -> None:
    from bench.generate import CATEGORIES, write_sheet

    from taizhang.core.roles import Role

    major = category_create(code="C01", name="服务业")
    for code, name in CATEGORIES:
        category_create(code=code, name=name, parent=major)
    staff = make_user(Role.SUBDISTRICT, "文峰区")
    path = write_sheet(tmp_path / "s.xlsx", 200, ["官园社区", "乔家巷社区"])
    outcome = engine.run_import(EstablishmentLedger(user=staff), path, mode=engine.ALL)
    assert outcome.ok, outcome.preview[:3]
    assert outcome.written == Establishment.objects.count() == 200
