"""Helpers every service uses."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def model_update(*, instance: M, fields: list[str], data: dict[str, Any]) -> tuple[M, dict[str, tuple[Any, Any]]]:
    """Set the given fields from `data` when they differ; validate and save only what changed.

    Returns the instance and a {field: (old, new)} map of the changes (for the audit log and events).
    """
    changes: dict[str, tuple[Any, Any]] = {}
    for name in fields:
        if name not in data:
            continue
        old = getattr(instance, name)
        new = data[name]
        if old != new:
            changes[name] = (old, new)
            setattr(instance, name, new)
    if changes:
        instance.full_clean()
        update_fields = list(changes)
        # a changed encrypted field saves its blind index with it (core.protected refuses otherwise)
        from .protected import blind_index_fields

        update_fields += [f.name for f in blind_index_fields(type(instance)) if f.source in changes]
        if any(f.name == "updated_at" for f in instance._meta.get_fields()):
            update_fields.append("updated_at")
        instance.save(update_fields=update_fields)
    return instance, changes
