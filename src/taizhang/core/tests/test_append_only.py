"""The append-only guard: model, QuerySet and the PostgreSQL trigger operation."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest
from django.apps.registry import Apps
from django.db import DatabaseError, connection, models, transaction
from django.db.migrations.state import ProjectState

from taizhang.core.append_only import (
    AppendOnlyError,
    AppendOnlyModel,
    AppendOnlyQuerySet,
    append_only_trigger,
    append_only_trigger_sql,
)

# The test models live in their own registry (no migrations); the table is created for this module only.
test_apps = Apps()
TABLE = "core_test_append_only_entry"


class EntryError(AppendOnlyError):
    pass


class EntryQuerySet(AppendOnlyQuerySet["Entry"]):
    def about(self, text: str) -> EntryQuerySet:
        return self.filter(text=text)


class Entry(AppendOnlyModel):
    append_only_label = "测试记录"
    append_only_error = EntryError

    text = models.CharField(max_length=20)

    objects = EntryQuerySet.as_manager()

    class Meta:
        app_label = "core"
        apps = test_apps
        db_table = TABLE

    def __str__(self) -> str:
        return self.text


class Note(AppendOnlyModel):
    """Neither label nor error of its own: the verbose name and the core exception."""

    class Meta:
        app_label = "core"
        apps = test_apps
        verbose_name = "备忘"

    def __str__(self) -> str:
        return str(self.pk)


@pytest.fixture(scope="session")
def entry_table(django_db_setup: Any, django_db_blocker: Any) -> Any:
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        if TABLE in connection.introspection.table_names():  # left over by an interrupted run
            editor.delete_model(Entry)
        editor.create_model(Entry)
    yield
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        editor.delete_model(Entry)


@pytest.fixture
def entry(entry_table: Any, db: Any) -> Entry:
    return Entry.objects.create(text="原文")


def test_rows_are_inserted_but_never_changed_or_removed(entry):
    entry.text = "改写"
    with pytest.raises(EntryError, match=r"^测试记录只能追加，不能修改$"):
        entry.save()
    with pytest.raises(EntryError, match=r"^测试记录只能追加，不能删除$"):
        entry.delete()
    with pytest.raises(EntryError, match=r"^测试记录只能追加，不能修改$"):
        Entry.objects.about("原文").update(text="改写")
    with pytest.raises(EntryError, match=r"^测试记录只能追加，不能修改$"), transaction.atomic():
        Entry.objects.bulk_update([entry], ["text"])
    with pytest.raises(EntryError, match=r"^测试记录只能追加，不能删除$"):
        Entry.objects.all().delete()
    assert list(Entry.objects.values_list("text", flat=True)) == ["原文"]
    Entry(text="再记一条").save()
    assert Entry.objects.count() == 2


def test_defaults_name_the_verbose_name_and_raise_the_core_error():
    note = Note(pk=1)
    note._state.adding = False
    with pytest.raises(AppendOnlyError, match=r"^备忘只能追加，不能修改$") as refused:
        note.save()
    assert type(refused.value) is AppendOnlyError
    with pytest.raises(AppendOnlyError, match=r"^备忘只能追加，不能删除$"):
        Note.objects.none().delete()


@pytest.mark.parametrize(
    ("migration", "table"),
    [
        ("taizhang.audit.migrations.0002_refuse_update_delete_on_postgresql", "audit_auditevent"),
        ("taizhang.problems.migrations.0003_event_append_only_on_postgresql", "problems_problemevent"),
    ],
)
def test_trigger_sql_is_that_of_the_applied_migrations(migration, table):
    """Databases migrated before the helper existed have these triggers: the helper writes the same SQL."""
    module = import_module(migration)
    assert append_only_trigger_sql(table) == (module.CREATE, module.DROP)


def test_trigger_operation_is_reversible_raw_sql():
    create, drop = append_only_trigger_sql("core_test_append_only_entry")
    operation = append_only_trigger("core_test_append_only_entry")
    assert (operation.sql, operation.reverse_sql, operation.reversible) == ([create], [drop], True)
    assert "CREATE TRIGGER core_test_append_only_entry_no_update_delete" in create


@pytest.mark.parametrize("table", ["", "Audit", "audit; drop table x", "t" * 47])
def test_trigger_refuses_what_is_not_a_plain_table_name(table):
    with pytest.raises(ValueError, match="table name"):
        append_only_trigger(table)


def run(operation: Any, editor: Any, direction: str = "forwards") -> None:
    getattr(operation, f"database_{direction}")("core", editor, ProjectState(), ProjectState())


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the trigger is PostgreSQL's")
def test_trigger_is_a_noop_elsewhere():
    editor = connection.schema_editor(collect_sql=True)
    run(append_only_trigger(TABLE), editor)
    run(append_only_trigger(TABLE), editor, "backwards")
    assert editor.collected_sql == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
def test_sqlmigrate_shows_the_trigger_sql():
    create, drop = append_only_trigger_sql(TABLE)
    editor = connection.schema_editor(collect_sql=True)
    run(append_only_trigger(TABLE), editor)
    run(append_only_trigger(TABLE), editor, "backwards")
    assert editor.collected_sql == [create, drop]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
def test_postgresql_trigger_refuses_update_and_delete_from_any_client(entry):
    statements = (f"UPDATE {TABLE} SET text = 'x'", f"DELETE FROM {TABLE}")  # noqa: S608 - constant table name
    with connection.schema_editor() as editor:
        run(append_only_trigger(TABLE), editor)
    for sql in statements:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert Entry.objects.get().text == "原文"

    with connection.schema_editor() as editor:
        run(append_only_trigger(TABLE), editor, "backwards")
    with connection.cursor() as cursor:
        cursor.execute(statements[0])
    assert Entry.objects.get().text == "x"
