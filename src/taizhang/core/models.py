from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField("创建时间", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True


class BinaryCollationCharField(models.CharField):
    """A CharField compared byte by byte on every database.

    Used for materialized paths: a subtree is the range [path, path_upper) and a range scan over a
    B-tree index only equals a prefix match when the column sorts bytewise. SQLite's default BINARY
    collation already does; on PostgreSQL the column gets COLLATE "C". The collation is chosen per
    connection so migrations stay database-neutral.
    """

    def db_parameters(self, connection: BaseDatabaseWrapper) -> dict[str, Any]:
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
