"""Fast inserts for large imports: the model's own fields prepare every value (so encrypted fields encrypt with
their own associated data, blind indexes are computed by the same function, JSON is adapted as usual), and the
rows go in with PostgreSQL COPY or one executemany on SQLite, with ids reserved up front so that events can
point at the new rows. Must run inside a transaction (the caller's).
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from django.db import connection, connections, models
from django.utils import timezone

from taizhang.core.protected import BlindIndexField, EncryptedTextField, blind_indexer, encrypted_field, encryptor


def _fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """n fresh primary keys for `model`, never used before (inside the caller's transaction)."""
    if n == 0:
        return []
    table = model._meta.db_table
    pk = model._meta.pk
    if pk is None:
        raise ValueError(f"{model} has no primary key")
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk.column])
            seq = cur.fetchone()[0]
            cur.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [seq, n])
            return [r[0] for r in cur.fetchall()]
        if connection.vendor == "sqlite":
            # The transaction holds SQLite's write lock (BEGIN IMMEDIATE): nobody else can take these ids.
            cur.execute(f'SELECT MAX("{pk.column}") FROM "{table}"')  # noqa: S608 - table name from the model
            top = cur.fetchone()[0] or 0
            cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cur.fetchone()
            top = max(top, row[0] if row else 0)
            return list(range(top + 1, top + n + 1))
    raise NotImplementedError(connection.vendor)


class BulkInserter:
    """Insert many rows of one model, given as dicts of attnames → Python values.

    Unset fields take their default; auto_now/auto_now_add take now; a BlindIndexField is computed from its
    source's plaintext; every value then goes through the field's get_db_prep_save (encryption included).
    """

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = _fields(model)
        pk = model._meta.pk
        if pk is None:
            raise ValueError(f"{model} has no primary key")
        self.pk_column = pk.column
        self.columns = [self.pk_column, *(f.column for f in self.fields)]
        self._now_fields = {f.attname for f in self.fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)}
        self._defaults = {f.attname: f.get_default() for f in self.fields if f.has_default()}
        self._indexes = {
            f.attname: (f.source, encrypted_field(model, f.source).kind) for f in self.fields if isinstance(f, BlindIndexField)
        }
        self._encrypted = {f.attname for f in self.fields if isinstance(f, EncryptedTextField)}

    def _converters(self) -> list[tuple[str, Any, bool, Any]]:
        """Per field: (attname, converter or None for "as is", takes now, default).

        Text, integer, boolean and foreign-key values are passed as they are (the driver adapts them exactly as
        get_db_prep_save would); encrypted fields encrypt through the field itself; everything else (dates,
        decimals, JSON) goes through get_db_prep_save on the real connection, memoised for repeated values.
        """
        real = connections[connection.alias]
        plain = {
            "CharField",
            "TextField",
            "SlugField",
            "BooleanField",
            "IntegerField",
            "BigIntegerField",
            "PositiveIntegerField",
            "PositiveSmallIntegerField",
            "PositiveBigIntegerField",
            "SmallIntegerField",
            "ForeignKey",
            "EmailField",
        }
        out: list[tuple[str, Any, bool, Any]] = []
        for f in self.fields:
            conv: Any
            if isinstance(f, EncryptedTextField):
                conv = _encryptor(f)
            elif f.get_internal_type() in plain:
                conv = None
            elif f.get_internal_type() in ("DateField", "DateTimeField", "DecimalField"):
                conv = _memo(f, real)
            else:
                conv = _bound(f, real)
            out.append((f.attname, conv, f.attname in self._now_fields, self._defaults.get(f.attname)))
        return out

    def insert(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        return self.write(self.prepare(rows))

    def prepare(self, rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
        """The database values of each row (slot 0 left for the id): pure Python, no query."""
        return self.convert(self.shape(rows))

    def shape(self, rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
        """Each row as a list in column order (slot 0 left for the id), defaults and now filled in, values still
        as Python has them (see convert). Rows that carry every field (as a ledger builds them) are picked in C."""
        if not rows:
            return []
        now = timezone.now()
        attnames = [f.attname for f in self.fields]
        nows = [i + 1 for i, f in enumerate(self.fields) if f.attname in self._now_fields]
        first = rows[0]
        if len(attnames) > 1 and all(a in first for a in attnames):
            pick = itemgetter(*attnames)
            out = [[None, *pick(row)] for row in rows]
        else:
            getters = [(a, self._defaults.get(a)) for a in attnames]
            out = [[None, *[row.get(a, d) for a, d in getters]] for row in rows]
        if nows:
            for values in out:
                for i in nows:
                    if values[i] is None:
                        values[i] = now
        return out

    def convert(self, shaped: list[list[Any]]) -> list[list[Any]]:
        """Blind indexes from their source's plaintext, then every value that needs it through its field (encryption,
        dates, decimals, JSON); in place. Pure Python, no query."""
        converters = self._converters()
        position = {a: i + 1 for i, (a, *_rest) in enumerate(converters)}
        bidx = [(position[attname], position[source], blind_indexer(kind)) for attname, (source, kind) in self._indexes.items()]
        # Only the fields that need work are touched (column i + 1: the pk comes first).
        work = [(i + 1, conv) for i, (_a, conv, _n, _d) in enumerate(converters) if conv is not None]
        for values in shaped:
            for i, source, index in bidx:
                values[i] = index(values[source])
            for i, conv in work:
                if values[i] is not None:
                    values[i] = conv(values[i])
        return shaped

    def write(self, prepared: list[list[Any]]) -> list[int]:
        """Reserve ids and write the prepared rows (inside the caller's transaction); returns the ids in order."""
        if not prepared:
            return []
        ids = reserve_ids(self.model, len(prepared))
        for pk, values in zip(ids, prepared, strict=True):
            values[0] = pk
        self._write(prepared)
        return ids

    def _write(self, out: list[list[Any]]) -> None:
        conn = connections[connection.alias]
        table = self.model._meta.db_table
        cols = ", ".join(f'"{c}"' for c in self.columns)
        if conn.vendor == "postgresql":
            with conn.cursor() as cur, cur.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                for values_row in out:
                    copy.write_row(values_row)
        else:
            marks = ", ".join(["%s"] * len(self.columns))
            with conn.cursor() as cur:
                cur.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', out)  # noqa: S608 - names from the model


def _encryptor(field: EncryptedTextField) -> Any:
    """EncryptedTextField.get_prep_value for a str: "" stays "", anything else is encrypted with the field's own
    associated data (key and associated data bound once, not per value)."""
    seal = encryptor(aad=field.aad)

    def convert(value: Any) -> Any:
        return seal(value if value.__class__ is str else str(value))

    return convert


def _bound(field: models.Field[Any, Any], conn: Any) -> Any:
    def convert(value: Any) -> Any:
        return field.get_db_prep_save(value, conn)

    return convert


def _memo(field: models.Field[Any, Any], conn: Any) -> Any:
    cache: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            if len(cache) > 10000:
                cache.clear()
            result = cache[value] = field.get_db_prep_save(value, conn)
            return result

    return convert
