"""What the layers above register with the rollups (docs/adr/0004: a lower layer offers the hook, an upper one
fills it).

- A `Source` knows how to count its metrics straight from the base rows (GROUP BY queries): `rebuild()` writes
  those counts, `verify()` compares the maintained rollups with them. The dashboards app registers one per kind of
  row (it may import every domain app; this layer may not).
- A dependent is told when an establishment moves to another region or category, so that rows counted at the
  establishment's place (filings) are moved with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .facts import Fact

# (metric, region_path, dim, key, day or None, value): a count at the row's own region (leaf), before it is added
# to the regions above.
Leaf = tuple[str, str, int, str, Any, int]
# (metric, member_id, region_path): an object a distinct count has already counted.
MemberRow = tuple[str, int, str]
# (establishment_id, (old_path, old_category_id), (new_path, new_category_id)) -> (facts before, facts after)
Dependent = Callable[[int, tuple[str, int], tuple[str, int]], tuple[list[Fact], list[Fact]]]


@dataclass(frozen=True)
class Source:
    name: str
    metrics: tuple[str, ...]
    leaves: Callable[[], Iterable[Leaf]]
    members: Callable[[], Iterable[MemberRow]] | None = None
    member_metrics: tuple[str, ...] = field(default=())


_SOURCES: dict[str, Source] = {}
_DEPENDENTS: list[Dependent] = []


def register_source(source: Source) -> None:
    _SOURCES[source.name] = source


def sources() -> list[Source]:
    return list(_SOURCES.values())


def register_dependent(dependent: Dependent) -> None:
    if dependent not in _DEPENDENTS:
        _DEPENDENTS.append(dependent)


def dependents() -> list[Dependent]:
    return list(_DEPENDENTS)
