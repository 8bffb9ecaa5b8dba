"""The audited reveal of a protected personal field (SPEC §4): the only way to see a full value.

Lives in audit (which may import core) because every reveal, granted or refused, is written to the
audit log. The audit row names the object and field, never the value; its object_repr is "<model> #<pk>"
rather than str(obj), which may itself be a person's name and the auditor must not read personal data.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models

from taizhang.core.errors import NotVisible
from taizhang.core.protected import can_reveal, encrypted_field

from .services import Action, Outcome, audit_record

REASON_MAX = 200


def _visible(user: Any, obj: models.Model) -> bool:
    """Row-level scope, where the model's QuerySet offers visible_to(user)."""
    queryset = type(obj)._default_manager.all()
    visible_to = getattr(queryset, "visible_to", None)
    if not callable(visible_to):
        return True
    return bool(visible_to(user).filter(pk=obj.pk).exists())


def reveal(*, user: Any, obj: models.Model, field_name: str, reason: str = "") -> str:
    """The plaintext of `obj.<field_name>` (an EncryptedTextField) for `user`, audited.

    Raises PermissionDenied (audited as a refused reveal) when the user lacks the reveal right, and
    NotVisible (404, audited) when the model is scoped and `obj` lies outside the user's scope.
    """
    field = encrypted_field(type(obj), field_name)
    reason = reason.strip()[:REASON_MAX]

    def audit(outcome: str) -> None:
        audit_record(
            action=Action.REVEAL,
            actor=user,
            target=obj,
            object_repr=f"{obj._meta.verbose_name} #{obj.pk}",
            outcome=outcome,
            detail={"field": field_name, "reason": reason},
        )

    if not can_reveal(user):
        audit(Outcome.DENIED)
        raise PermissionDenied("无权查看完整的个人信息")
    if not _visible(user, obj):
        audit(Outcome.DENIED)
        raise NotVisible()
    audit(Outcome.OK)
    value = getattr(obj, field.attname)
    return value or ""
