"""The registry's indexes are a decision (docs/adr/0011-establishment-indexes.md): each serves a query, and every
write pays for all of them. These tests fail when an index is added or lost without that decision being revisited,
and check that the main query shapes can use theirs."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from taizhang.core.paths import subtree_q
from taizhang.establishments import selectors
from taizhang.establishments.models import Establishment, EstablishmentEvent

# (columns, unique) of every index but the primary key; a partial index appears with its columns.
ESTABLISHMENT_INDEXES = [
    (("category_id", "status"), False),  # category filter, a department's categories
    (("contact_mobile_bidx",), False),  # exact mobile
    (("credit_code",), True),  # exact code, unique (NULLs allowed)
    (("kind_id",), False),  # kind filter (schools, kindergartens, malls are rare)
    (("name",), False),  # exact name: duplicate checks, assignment import
    (("region_path",), False),  # partial: above_size
    (("region_path",), False),  # partial: key_target
    (("region_path", "name", "id"), False),  # scope range in the list's order
    (("status", "region_path"), False),  # status within a scope
]
EVENT_INDEXES = [(("establishment_id", "at"), False)]  # the timeline


def indexes(model: Any) -> list[tuple[tuple[str, ...], bool]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return sorted(
        (tuple(c["columns"]), bool(c["unique"]))
        for c in found.values()
        if (c["index"] or c["unique"]) and not c["primary_key"] and not c["foreign_key"] and not c["check"]
    )


@pytest.mark.django_db
def test_the_tables_have_exactly_the_decided_indexes():
    assert indexes(Establishment) == ESTABLISHMENT_INDEXES
    assert indexes(EstablishmentEvent) == EVENT_INDEXES


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL adds *_like indexes for CharFields")
def test_no_pattern_ops_index_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN (%s, %s) AND indexdef LIKE %s",
            [Establishment._meta.db_table, EstablishmentEvent._meta.db_table, "%pattern_ops%"],
        )
        assert cursor.fetchall() == []


def test_credit_code_is_unique_but_may_be_missing(world):
    a = world.establishment("甲超市", "官园第1网格", credit_code=None)
    b = world.establishment("乙超市", "官园第1网格", credit_code=None)
    assert a.credit_code is None and b.credit_code is None
    c = world.establishment("丙超市", "官园第1网格")
    with pytest.raises(IntegrityError), transaction.atomic():
        Establishment.objects.filter(pk=a.pk).update(credit_code=c.credit_code)


def plan_of(qs: Any) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # the test tables are tiny
    return str(qs.explain())


def test_scope_range_in_list_order_is_one_index_range(world):
    world.establishment("官园超市", "官园第1网格")
    path = world.regions["光华路街道"].path
    plan = plan_of(Establishment.objects.filter(subtree_q([path], "region_path")).order_by("region_path", "name", "id")[:50])
    assert "est_region_name_idx" in plan, plan
    if connection.vendor == "sqlite":
        assert "(region_path>? AND region_path<?)" in plan and "TEMP B-TREE" not in plan, plan


def test_above_size_uses_the_partial_index(world):
    world.establishment("官园商场", "官园第1网格", above_size=True)
    plan = plan_of(Establishment.objects.filter(above_size=True).order_by())
    assert "est_above_size_idx" in plan, plan


def test_timeline_reads_one_establishments_events_by_index(world):
    est = world.establishment("官园超市", "官园第1网格")
    plan = plan_of(selectors.establishment_events(establishment=est)[:200])
    assert "est_event_idx" in plan, plan
