"""Materialized paths: `/410500000000/410502000000/410502013000/`.

A subtree is the half-open range [path, path with its final "/" replaced by "0"): one range scan over
a B-tree index on both SQLite and PostgreSQL, provided the column compares bytewise
(see BinaryCollationCharField).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

SEP = "/"


def subtree_upper(path: str) -> str:
    """The exclusive upper bound of the subtree of `path` ('/' is 0x2F, '0' is 0x30)."""
    return path[:-1] + "0"


def minimal_paths(paths: Iterable[str]) -> list[str]:
    """Drop paths that lie inside another path of the set."""
    result: list[str] = []
    for p in sorted(set(paths)):
        if not result or not p.startswith(result[-1]):
            result.append(p)
    return result


def subtree_q(paths: Iterable[str], field: str = "path") -> Q:
    """Rows whose `field` lies in any of the given subtrees (an OR of index range scans)."""
    q = Q(pk__in=[])
    for p in minimal_paths(paths):
        q |= Q(**{f"{field}__gte": p, f"{field}__lt": subtree_upper(p)})
    return q


def in_subtrees(path: str, roots: Iterable[str]) -> bool:
    """Whether `path` lies in any of the subtrees: the test `subtree_q(roots)` makes in SQL, for a row already in
    memory (str comparison is code-point order, the bytewise order of the paths' UTF-8 in the index)."""
    return any(root <= path < subtree_upper(root) for root in roots)
