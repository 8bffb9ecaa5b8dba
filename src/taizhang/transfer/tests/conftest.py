from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from taizhang.core.roles import Role
from taizhang.industries.services import category_create


@pytest.fixture(autouse=True)
def transfer_dir(settings: Any, tmp_path: Path) -> Path:
    settings.TAIZHANG_TRANSFER_DIR = tmp_path / "transfer"
    return settings.TAIZHANG_TRANSFER_DIR


@pytest.fixture
def categories(db: Any) -> dict[str, Any]:
    major = category_create(code="C01", name="批发和零售业")
    return {
        "超市": category_create(code="C0101", name="超市", parent=major),
        "便利店": category_create(code="C0102", name="便利店", parent=major),
    }


@pytest.fixture
def worker(make_user: Any) -> Any:
    """A community worker of 官园社区."""
    return make_user(Role.COMMUNITY, "官园社区")
