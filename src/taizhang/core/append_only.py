"""Append-only tables: rows are inserted, never changed or removed.

Three layers refuse a change, so that no path through the application or around it rewrites history:

- `AppendOnlyQuerySet`: bulk `update()` and `delete()` raise (`bulk_update()` goes through `update()`);
- `AppendOnlyModel`: `save()` of a row that already exists and `delete()` raise;
- on PostgreSQL, a trigger refuses UPDATE and DELETE from any client, added by the model's app in a
  migration of its own: `operations = [append_only_trigger("<app>_<model>")]`.

A model names what it holds in `append_only_label` (the messages read "审计日志只能追加，不能修改") and may
raise its own subclass of `AppendOnlyError` through `append_only_error`.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, TypeVar

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import ProjectState


class AppendOnlyError(Exception):
    """A change to an append-only row was refused."""


_M = TypeVar("_M", bound="AppendOnlyModel")


class AppendOnlyQuerySet(models.QuerySet[_M]):
    def update(self, **kwargs: Any) -> int:
        raise self.model.append_only_refusal("修改")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise self.model.append_only_refusal("删除")


class AppendOnlyModel(models.Model):
    """Abstract base of an append-only table. The default manager refuses bulk changes too; a model that
    needs queryset methods of its own subclasses `AppendOnlyQuerySet`."""

    # What the table holds, as the messages name it; the model's verbose_name when empty.
    append_only_label: ClassVar[str] = ""
    # The exception raised; an app may subclass AppendOnlyError so that its refusals stay its own type.
    append_only_error: ClassVar[type[AppendOnlyError]] = AppendOnlyError

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise self.append_only_refusal("修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise self.append_only_refusal("删除")

    @classmethod
    def append_only_refusal(cls, change: str) -> AppendOnlyError:
        """The exception for a refused change ("修改" or "删除")."""
        label = cls.append_only_label or str(cls._meta.verbose_name)
        return cls.append_only_error(f"{label}只能追加，不能{change}")


class RunSQLOnPostgreSQL(migrations.RunSQL):
    """RunSQL that runs (and that sqlmigrate shows) on PostgreSQL only; elsewhere it does nothing."""

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


# PostgreSQL truncates identifiers to 63 bytes: the longest derived name must fit.
_TABLE = re.compile(r"[a-z_][a-z0-9_]*")
_MAX_TABLE = 63 - len("_no_update_delete")


def append_only_trigger_sql(table: str) -> tuple[str, str]:
    """The PostgreSQL statements that add and remove the trigger refusing UPDATE and DELETE on `table`.

    Migrations that already ran this must keep getting the same text: never change it in place (a new
    trigger is a new function and a new migration). audit 0002 and problems 0003 hold the same SQL inline.
    """
    if not _TABLE.fullmatch(table) or len(table) > _MAX_TABLE:
        raise ValueError(f"not a table name this trigger can be named after: {table!r}")
    create = f"""
CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = '{table} is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {table}_no_update_delete
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
"""
    drop = f"""
DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table};
DROP FUNCTION IF EXISTS {table}_append_only();
"""
    return create, drop


def append_only_trigger(table: str) -> migrations.RunSQL:
    """The migration operation that makes `table` refuse UPDATE and DELETE on PostgreSQL (reversible; a
    no-op on other databases)."""
    create, drop = append_only_trigger_sql(table)
    # One statement list entry each, so that the script is sent as it is, not split by sqlparse (the
    # function body holds semicolons).
    return RunSQLOnPostgreSQL(sql=[create], reverse_sql=[drop])
