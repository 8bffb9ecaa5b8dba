from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from taizhang.audit.models import AppendOnlyError, AuditEvent
from taizhang.audit.services import Action, audit_bulk, audit_change, audit_record
from taizhang.regions.models import Region


@pytest.fixture
def event(db):
    return audit_record(action=Action.LOGIN, username="someone")


def test_model_refuses_update_and_delete(event):
    event.username = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(username="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).username == "someone"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database trigger exists on PostgreSQL only")
def test_postgresql_refuses_update_and_delete_from_any_client(event):
    for sql in ("UPDATE audit_auditevent SET username = 'x'", "DELETE FROM audit_auditevent"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEvent.objects.filter(pk=event.pk, username="someone").exists()


def test_changes_are_recorded_without_sensitive_values(db):
    region = Region.objects.create(code="X1", name="测试", level="district", path="/X1/", depth=0)
    audit_change(
        actor=None, target=region, changes={"name": ("旧", "新"), "mobile": ("13800000000", "13900000000")}, sensitive=["mobile"]
    )
    e = AuditEvent.objects.get(action="update")
    assert e.detail["changes"]["name"] == ["旧", "新"]
    assert e.detail["changes"]["mobile"] == ["***", "***"]
    assert "13800000000" not in str(e.detail)


def test_bulk_operations_are_recorded(db):
    audit_bulk(action=Action.BULK_CREATE, actor=None, model=Region, ids=range(5))
    e = AuditEvent.objects.get(action="bulk_create")
    assert e.detail["count"] == 5
    assert e.object_type == "regions.region"


def test_nbs_import_is_audited_as_bulk(regions):
    e = AuditEvent.objects.get(action="bulk_create", object_type="regions.region")
    assert e.detail["count"] == 178


def test_service_writes_are_audited(regions):
    assert AuditEvent.objects.filter(action="create", object_type="regions.region").count() == 3  # the fixture's grids
