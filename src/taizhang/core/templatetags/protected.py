"""`{% load protected %}{{ person.mobile|masked:"mobile" }}`: personal values shown masked (SPEC §4)."""

from __future__ import annotations

from typing import Any

from django import template

from taizhang.core.protected import mask

register = template.Library()


@register.filter(name="masked")
def masked(value: Any, kind: str = "text") -> str:
    """The masked display of `value` for its kind ("mobile", "id_number", "name", "address", "text")."""
    return mask(kind, None if value is None else str(value))
