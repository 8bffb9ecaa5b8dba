"""Reads of the rollups. Every function is one indexed query whose cost depends on the number of categories,
keys and days asked for, never on the number of rows counted.

`dims` keeps only those dims; `exclude_dims` drops them (a department sees its categories everywhere, and every
category in the sub-districts it covers: see taizhang.dashboards.scope).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date

from django.db.models import Q, QuerySet, Sum

from taizhang.core.paths import subtree_upper

from .models import DailyFlow, RollupState, Tally


def _dim_q(dims: Collection[int] | None, exclude_dims: Collection[int] | None) -> Q:
    q = Q()
    if dims is not None:
        q &= Q(dim__in=sorted(dims))
    if exclude_dims:
        q &= ~Q(dim__in=sorted(exclude_dims))
    return q


def tallies(
    metrics: Iterable[str], path: str, *, dims: Collection[int] | None = None, exclude_dims: Collection[int] | None = None
) -> dict[str, dict[tuple[int, str], int]]:
    """{metric: {(dim, key): value}} of one region."""
    out: dict[str, dict[tuple[int, str], int]] = defaultdict(dict)
    if dims is not None and not dims:
        return out
    rows = Tally.objects.filter(_dim_q(dims, exclude_dims), metric__in=sorted(set(metrics)), region_path=path).values_list(
        "metric", "dim", "key", "value"
    )
    for metric, dim, key, value in rows:
        if value:
            out[metric][(dim, key)] = value
    return out


def children_tallies(
    metrics: Iterable[str],
    path: str,
    depth: int,
    *,
    dims: Collection[int] | None = None,
    exclude_dims: Collection[int] | None = None,
) -> dict[str, dict[tuple[str, str], int]]:
    """{child_path: {(metric, key): value summed over dims}} for the regions one level below `path` (at `depth`)."""
    return level_tallies(metrics, path, depth + 1, dims=dims, exclude_dims=exclude_dims)


def level_tallies(
    metrics: Iterable[str],
    path: str,
    level_depth: int,
    *,
    dims: Collection[int] | None = None,
    exclude_dims: Collection[int] | None = None,
) -> dict[str, dict[tuple[str, str], int]]:
    """{region_path: {(metric, key): value summed over dims}} for the regions at `level_depth` inside `path`
    (e.g. every community of a district: one range scan)."""
    out: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    if dims is not None and not dims:
        return out
    rows = (
        Tally.objects.filter(
            _dim_q(dims, exclude_dims),
            metric__in=sorted(set(metrics)),
            depth=level_depth,
            region_path__gte=path,
            region_path__lt=subtree_upper(path),
        )
        .values("region_path", "metric", "key")
        .annotate(v=Sum("value"))
        .order_by()
    )
    for r in rows:
        out[r["region_path"]][(r["metric"], r["key"])] += int(r["v"] or 0)
    return out


def level_flows(metrics: Iterable[str], path: str, level_depth: int, *, day: date) -> dict[str, dict[tuple[str, str], int]]:
    """{region_path: {(metric, key): value summed over dims}} of one day for the regions at `level_depth` in `path`."""
    out: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        DailyFlow.objects.filter(
            metric__in=sorted(set(metrics)),
            depth=level_depth,
            day=day,
            region_path__gte=path,
            region_path__lt=subtree_upper(path),
        )
        .values("region_path", "metric", "key")
        .annotate(v=Sum("value"))
        .order_by()
    )
    for r in rows:
        out[r["region_path"]][(r["metric"], r["key"])] += int(r["v"] or 0)
    return out


def flows(
    metric: str,
    path: str,
    *,
    start: date | None,
    end: date,
    keys: Collection[str] | None = None,
    dims: Collection[int] | None = None,
    exclude_dims: Collection[int] | None = None,
) -> dict[date, dict[str, int]]:
    """{day: {key: value summed over dims}} for start ≤ day ≤ end (start None: from the first day)."""
    out: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if dims is not None and not dims:
        return out
    qs: QuerySet[DailyFlow] = DailyFlow.objects.filter(_dim_q(dims, exclude_dims), metric=metric, region_path=path, day__lte=end)
    if start is not None:
        qs = qs.filter(day__gte=start)
    if keys is not None:
        qs = qs.filter(key__in=sorted(keys))
    for r in qs.values("day", "key").annotate(v=Sum("value")).order_by():
        out[r["day"]][r["key"]] += int(r["v"] or 0)
    return out


def flows_by_metric(
    metrics: Iterable[str],
    path: str,
    *,
    start: date,
    end: date,
    dims: Collection[int] | None = None,
    exclude_dims: Collection[int] | None = None,
) -> dict[str, dict[date, dict[str, int]]]:
    """{metric: {day: {key: value summed over dims}}} for several metrics of one region (one range scan)."""
    out: dict[str, dict[date, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    if dims is not None and not dims:
        return out
    qs = DailyFlow.objects.filter(
        _dim_q(dims, exclude_dims), metric__in=sorted(set(metrics)), region_path=path, day__gte=start, day__lte=end
    )
    for r in qs.values("metric", "day", "key").annotate(v=Sum("value")).order_by():
        out[r["metric"]][r["day"]][r["key"]] += int(r["v"] or 0)
    return out


def flow_totals(
    metric: str,
    path: str,
    *,
    end: date,
    start: date | None = None,
    keys: Collection[str] | None = None,
    dims: Collection[int] | None = None,
    exclude_dims: Collection[int] | None = None,
) -> dict[str, int]:
    """{key: value} summed over the days start ≤ day ≤ end and over dims."""
    out: dict[str, int] = defaultdict(int)
    if dims is not None and not dims:
        return out
    qs: QuerySet[DailyFlow] = DailyFlow.objects.filter(_dim_q(dims, exclude_dims), metric=metric, region_path=path, day__lte=end)
    if start is not None:
        qs = qs.filter(day__gte=start)
    if keys is not None:
        qs = qs.filter(key__in=sorted(keys))
    for r in qs.values("key").annotate(v=Sum("value")).order_by():
        out[r["key"]] += int(r["v"] or 0)
    return out


def state() -> RollupState:
    return RollupState.objects.filter(pk=1).first() or RollupState(pk=1)


def data_day(today: date) -> date:
    """The day the dashboards describe by default: the data's own day when it is not live (the demo), else today."""
    as_of = state().as_of
    return as_of if as_of is not None and as_of < today else today
