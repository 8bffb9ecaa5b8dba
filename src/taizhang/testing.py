"""Fixtures shared by every app's tests: the NBS region tree, units, and users holding posts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.core.roles import Role
from taizhang.regions.models import Level, Region
from taizhang.regions.services import load_nbs_divisions, region_create_local

PASSWORD = "Test-Password-2020!"


@pytest.fixture
def regions(db: Any) -> dict[str, Region]:
    """The NBS tree plus two grids in 官园社区 and one in 乔家巷社区."""
    load_nbs_divisions()
    by_name = {r.display_name: r for r in Region.objects.all()}
    guanyuan = by_name["官园社区"]
    g1 = region_create_local(parent=guanyuan, level=Level.GRID, name="第1网格")
    g2 = region_create_local(parent=guanyuan, level=Level.GRID, name="第2网格")
    q1 = region_create_local(parent=by_name["乔家巷社区"], level=Level.GRID, name="第1网格")
    by_name.update({"官园第1网格": g1, "官园第2网格": g2, "乔家巷第1网格": q1})
    return by_name


@pytest.fixture
def make_user(regions: dict[str, Region]) -> Callable[..., User]:
    counter = {"n": 0}

    def make(role: str = Role.COMMUNITY, region: str = "官园社区", username: str | None = None, **extra: Any) -> User:
        counter["n"] += 1
        region_obj = regions[region]
        unit, _ = OrgUnit.objects.get_or_create(
            code=f"U-{role}-{region_obj.code}",
            defaults={"name": f"{region}{role}", "kind": OrgUnit.Kind.COMMAND, "region": region_obj},
        )
        user = User.objects.create_user(
            username=username or f"{role}{counter['n']}", password=PASSWORD, display_name=f"测试{counter['n']}"
        )
        Post.objects.create(user=user, unit=unit, region=region_obj, role=role, valid_from=date(2020, 1, 1), **extra)
        return user

    return make


SHIPPED_DATA_MIGRATIONS = [
    "taizhang.establishments.migrations.0002_shipped_establishment_kinds",
    "taizhang.problems.migrations.0002_shipped_categories",
    "taizhang.filings.migrations.0002_shipped_filing_templates",
    "taizhang.inspections.migrations.0002_shipped_checklists",
]


def restore_shipped_data() -> None:
    """Re-run the data migrations that ship configuration (kinds, categories, checklists).

    A transactional test starts from a flushed database, which has lost what data migrations wrote;
    calling this (idempotent: the migrations use update_or_create) brings it back without the
    serialized_rollback machinery.
    """
    from importlib import import_module

    from django.apps import apps

    for name in SHIPPED_DATA_MIGRATIONS:
        try:
            module = import_module(name)
        except ModuleNotFoundError:  # an app whose shipped data is not in this tree
            continue
        module.forwards(apps, None)


@pytest.fixture
def shipped_data(transactional_db: Any) -> None:
    restore_shipped_data()


@pytest.fixture(autouse=True)
def _shipped_data_in_transactional_tests(request: pytest.FixtureRequest) -> None:
    """Transactional tests (threads, live server) start from a flushed database: put the shipped
    configuration back before any other fixture builds on it."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or "transactional_db" in request.fixturenames
    if transactional or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        restore_shipped_data()


_TABLE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?')


def statements(captured: list[dict[str, Any]]) -> list[str]:
    """Captured SQL (CaptureQueriesContext.captured_queries) as "VERB table" lines, for pinning what a request
    runs: "SELECT accounts_post", "INSERT problems_problemevent", "SAVEPOINT" …"""
    out = []
    for q in captured:
        sql = q["sql"].lstrip()
        verb = sql.split(None, 1)[0].upper()
        table = _TABLE.search(sql)
        out.append(f"{verb} {table.group(1)}" if table and verb in {"SELECT", "INSERT", "UPDATE", "DELETE"} else verb)
    return out
