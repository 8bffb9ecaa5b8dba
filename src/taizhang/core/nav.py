"""The navigation registry: apps register their entries; the page shows those the user's roles allow."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str]
    section: str = "工作台"
    order: int = 100


_REGISTRY: list[NavItem] = []


def register(*items: NavItem) -> None:
    for item in items:
        if item not in _REGISTRY:
            _REGISTRY.append(item)


def items_for(roles: frozenset[str]) -> list[NavItem]:
    return sorted((i for i in _REGISTRY if i.roles & roles), key=lambda i: (i.order, i.label))
