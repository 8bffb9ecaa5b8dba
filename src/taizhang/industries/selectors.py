from __future__ import annotations

from django.db.models import QuerySet

from .models import ServiceCategory


def minor_categories() -> QuerySet[ServiceCategory]:
    return ServiceCategory.objects.filter(level=ServiceCategory.Level.MINOR, is_active=True).select_related("parent")


def find_category(value: str) -> ServiceCategory | None:
    """A minor category by code or exact name (used by imports and forms)."""
    value = value.strip()
    return minor_categories().filter(code=value).first() or minor_categories().filter(name=value).first()
