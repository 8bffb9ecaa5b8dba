"""Writing the audit log. Services call these explicitly; nothing is recorded by signals."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from taizhang.core.request_context import client_ip

from .models import AuditEvent

Action = AuditEvent.Action
Outcome = AuditEvent.Outcome


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def audit_record(
    *,
    action: str,
    actor: Any = None,
    username: str | None = None,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    outcome: str = Outcome.OK,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
        object_repr = object_repr or str(target)[:200]
    return AuditEvent.objects.create(
        actor=user,
        username=(username if username is not None else getattr(user, "username", "")) or "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        outcome=outcome,
        ip=client_ip.get(),
        detail=_jsonable(detail or {}),
    )


def audit_change(*, actor: Any, target: models.Model, changes: dict[str, tuple[Any, Any]], sensitive: Iterable[str] = ()) -> None:
    """Record an update; values of sensitive fields are never written, only that they changed."""
    if not changes:
        return
    hidden = set(sensitive)
    diff = {k: ("***", "***") if k in hidden else (_jsonable(a), _jsonable(b)) for k, (a, b) in changes.items()}
    audit_record(action=Action.UPDATE, actor=actor, target=target, detail={"changes": diff})


def audit_bulk(
    *, action: str, actor: Any, model: type[models.Model], ids: Iterable[Any], detail: dict[str, Any] | None = None
) -> None:
    id_list = [str(i) for i in ids]
    audit_record(
        action=action,
        actor=actor,
        object_type=model._meta.label_lower,
        object_id=f"{len(id_list)} rows",
        object_repr=f"{model._meta.verbose_name} × {len(id_list)}",
        detail={"ids": id_list[:1000], "count": len(id_list), **(detail or {})},
    )


def audit_denied(*, actor: Any, target: str, reason: str) -> None:
    audit_record(
        action=Action.DENIED,
        actor=actor,
        object_repr=target[:200],
        outcome=Outcome.DENIED,
        detail={"reason": reason},
    )
