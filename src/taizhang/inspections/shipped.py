"""The shipped checklists (a data migration). `flush` empties their tables, so the demo and browser tests put
them back with `ensure_shipped_checklists()`."""

from __future__ import annotations

import importlib

from django.apps import apps

SHIPPED = importlib.import_module("taizhang.inspections.migrations.0002_shipped_checklists")
TEMPLATE_CODES = [t["code"] for t in SHIPPED.TEMPLATES]


def ensure_shipped_checklists() -> None:
    """Create the shipped templates that are missing (with the problem categories they refer to)."""
    from taizhang.problems.defaults import ensure_default_categories

    ensure_default_categories()
    SHIPPED.forwards(apps, None)
