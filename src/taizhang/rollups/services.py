"""Writes to the rollups: the hooks the domain services call inside their transactions, the rebuild and the check.

A hook takes the facts of a row before the change (`taizhang.rollups.facts`, taken when the service locked the
row) and the row after it, and adds the difference, as +n/−n deltas, to every region on the row's path:

    before = facts.problem(p)            # right after SELECT … FOR UPDATE
    …change and save p…
    problem_changed(before=before, after=p)

The deltas are applied by one `INSERT … ON CONFLICT DO UPDATE SET value = value + excluded.value` per batch, in
a fixed order, on SQLite and PostgreSQL alike: concurrent writers add up instead of overwriting each other, and
never deadlock on each other's rows. See docs/adr/0010-rollups.md.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from . import facts as F
from .facts import Fact, Facts
from .models import DailyFlow, Member, RollupState, Tally
from .registry import Source, dependents, sources

log = logging.getLogger(__name__)

# (metric, region_path, depth, dim, key) for tallies; (metric, region_path, depth, day, dim, key) for flows.
TallyKey = tuple[str, str, int, int, str]
FlowKey = tuple[str, str, int, date, int, str]
BATCH = 100  # rows per upsert statement (6 or 7 parameters each: well under SQLite's limit)
_flow_depth: int | None = None


# --- the region path -----------------------------------------------------------------------------------


def ancestors(path: str) -> list[tuple[str, int]]:
    """Every region on `path`, from the root down, with its depth (the root has depth 0, as Region.depth)."""
    parts = [p for p in path.split("/") if p]
    return [("/" + "/".join(parts[: i + 1]) + "/", i) for i in range(len(parts))]


def flow_max_depth() -> int:
    """The deepest level that keeps daily flows: the community level (below it a region is small enough that its
    daily figures are not worth a row per day). `TAIZHANG_ROLLUP_FLOW_DEPTH` overrides it."""
    global _flow_depth
    configured = getattr(settings, "TAIZHANG_ROLLUP_FLOW_DEPTH", None)
    if configured is not None:
        return int(configured)
    if _flow_depth is None:
        from taizhang.regions.models import Level, Region

        found = Region.objects.filter(level=Level.COMMUNITY).values_list("depth", flat=True).first()
        if found is None:
            return 4  # no tree yet (the NBS tree: province 0 … community 4); not cached
        _flow_depth = int(found)
    return _flow_depth


# --- applying deltas ------------------------------------------------------------------------------------


@dataclass
class Deltas:
    tally: dict[TallyKey, int]
    flow: dict[FlowKey, int]

    def __bool__(self) -> bool:
        return any(self.tally.values()) or any(self.flow.values())


def deltas(before: Iterable[Fact] = (), after: Iterable[Fact] = ()) -> Deltas:
    """The net change, expanded to every region on each fact's path."""
    net: dict[tuple[str, str, int, str, date | None], int] = defaultdict(int)
    for f in after:
        net[(f.metric, f.path, f.dim, f.key, f.day)] += f.value
    for f in before:
        net[(f.metric, f.path, f.dim, f.key, f.day)] -= f.value
    tally: dict[TallyKey, int] = defaultdict(int)
    flow: dict[FlowKey, int] = defaultdict(int)
    max_depth = flow_max_depth() if any(k[4] is not None for k, v in net.items() if v) else 0
    for (metric, path, dim, key, day), value in net.items():
        if not value or not path:
            continue
        for p, depth in ancestors(path):
            if day is None:
                tally[(metric, p, depth, dim, key)] += value
            elif depth <= max_depth:
                flow[(metric, p, depth, day, dim, key)] += value
    return Deltas(tally, flow)


def _chunks(rows: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _upsert(model: type[Tally] | type[DailyFlow], columns: list[str], conflict: list[str], rows: list[tuple[Any, ...]]) -> None:
    table = _q(model._meta.db_table)
    cols = ", ".join(_q(c) for c in columns)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    target = ", ".join(_q(c) for c in conflict)
    with connection.cursor() as cur:
        for chunk in _chunks(rows):
            values = ", ".join([one] * len(chunk))
            cur.execute(
                f"INSERT INTO {table} ({cols}) VALUES {values} ON CONFLICT ({target}) "  # noqa: S608 - names from the models
                f'DO UPDATE SET "value" = {table}."value" + excluded."value"',
                [v for row in chunk for v in row],
            )


def write(d: Deltas) -> None:
    """Add the deltas (sorted: concurrent writers lock shared rows in the same order)."""
    tally = sorted((k, v) for k, v in d.tally.items() if v)
    if tally:
        _upsert(
            Tally,
            ["metric", "region_path", "depth", "dim", "key", "value"],
            ["metric", "region_path", "dim", "key"],
            [(m, p, depth, dim, key, v) for (m, p, depth, dim, key), v in tally],
        )
    flow = sorted((k, v) for k, v in d.flow.items() if v)
    if flow:
        _upsert(
            DailyFlow,
            ["metric", "region_path", "depth", "day", "dim", "key", "value"],
            ["metric", "region_path", "day", "dim", "key"],
            [(m, p, depth, day, dim, key, v) for (m, p, depth, day, dim, key), v in flow],
        )


def apply(*, before: Iterable[Fact] = (), after: Iterable[Fact] = ()) -> None:
    """Replace a row's contribution `before` by `after` (either may be empty: a new row, a deleted row)."""
    d = deltas(before, after)
    if d:
        write(d)


# --- the hooks the domain services call ------------------------------------------------------------------


def establishment_changed(*, before: Facts | None, after: Any) -> None:
    """After establishment_create (before=None), _update and _transition, inside their transaction. When the
    establishment moved to another region or category, the rows counted at its place (filings) move too."""
    after_facts = F.establishment(after)
    apply(before=before or (), after=after_facts)
    old = next((f for f in before or () if f.metric == "est"), None)
    new = next((f for f in after_facts if f.metric == "est"), None)
    if old is not None and new is not None and (old.path, old.dim) != (new.path, new.dim):
        est_id = int(F.get(after, "pk") or F.get(after, "id"))
        moved_before: list[Fact] = []
        moved_after: list[Fact] = []
        for dependent in dependents():
            b, a = dependent(est_id, (old.path, old.dim), (new.path, new.dim))
            moved_before += b
            moved_after += a
        apply(before=moved_before, after=moved_after)


def establishments_added(rows: Iterable[Any]) -> None:
    """After a bulk insert of establishments (imports): objects or mappings with region_path, category_id, status,
    above_size, resumed_on."""
    apply(after=[f for r in rows for f in F.establishment(r)])


def problem_changed(*, before: Facts | None, after: Any) -> None:
    """After any write that may change a problem's state, unit, overdue mark or resolution (report: before=None)."""
    apply(before=before or (), after=F.problem(after))


_SNAPSHOT = "_rollup_facts"


def problem_locked(problem: Any) -> Any:
    """Right after a problem's row is locked (SELECT … FOR UPDATE): remember what it counts now."""
    setattr(problem, _SNAPSHOT, F.problem(problem))
    return problem


def problem_saved(problem: Any, *, new: bool = False, events: Iterable[Any] = ()) -> None:
    """After a problem locked with problem_locked() (or `new`) is saved: add the difference. May be called after
    each save of one service. `events`: ProblemEvents appended along with the save and not passed to
    problem_event(), counted in the same statements (a new report: one upsert per table instead of three)."""
    before = getattr(problem, _SNAPSHOT, None)
    if before is None and not new:
        raise RuntimeError("problem_saved() without problem_locked(): the rollups cannot know what the problem counted before")
    after = F.problem(problem)
    apply(before=before or (), after=[*after, *(f for e in events for f in _event_facts(problem, e.kind, e.at))])
    setattr(problem, _SNAPSHOT, after)


def _event_facts(problem: Any, kind: str, at: Any) -> Facts:
    return F.problem_event(path=F.get(problem, "region_path"), category_id=F.get(problem, "category_id"), kind=kind, at=at)


def problem_event(*, problem: Any, kind: str, at: Any) -> None:
    """After each ProblemEvent is appended (unless it is passed to problem_saved(events=…))."""
    apply(after=_event_facts(problem, kind, at))


def filing_changed(*, before: Facts | None, after: Any) -> None:
    """After a filing is created or changes state or its overdue flag (with its establishment loaded or passed
    as `establishment`)."""
    apply(before=before or (), after=F.filing(after))


def filings_changed(*, before: Iterable[Facts], after: Iterable[Any]) -> None:
    """The same for many filings at once (the overdue sweep)."""
    apply(before=[f for fs in before for f in fs], after=[f for row in after for f in F.filing(row)])


def targets_changed(*, before: Iterable[Facts] = (), after: Iterable[Any] = ()) -> None:
    """After campaign targets are added, taken out, put back or first covered (bulk or one)."""
    apply(before=[f for fs in before for f in fs], after=[f for t in after for f in F.campaign_target(t)])


def visit_recorded(*, visit: Any, helped: bool = False) -> None:
    """After a visit is recorded. `helped`: help was given or a problem opened from it (帮扶企业): the establishment
    counts once, however often it is helped."""
    added = list(F.visit(visit))
    est_id = F.get(visit, "establishment_id")
    if helped and est_id and _add_member("helped", int(est_id), F.get(visit, "region_path")):
        added.append(Fact("helped", F.get(visit, "region_path")))
    apply(after=added)


def visits_recorded(visits: Iterable[tuple[Any, bool]]) -> None:
    """The same for many visits (bulk writes of past ledgers): pairs of (visit, helped)."""
    added: list[Fact] = []
    for v, helped in visits:
        added += F.visit(v)
        est_id = F.get(v, "establishment_id")
        if helped and est_id and _add_member("helped", int(est_id), F.get(v, "region_path")):
            added.append(Fact("helped", F.get(v, "region_path")))
    apply(after=added)


def _add_member(metric: str, member_id: int, path: str) -> bool:
    table = _q(Member._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f'INSERT INTO {table} ("metric", "member_id", "region_path") VALUES (%s, %s, %s) '  # noqa: S608 - names from the models
            'ON CONFLICT ("metric", "member_id") DO NOTHING',
            [metric, member_id, path],
        )
        return bool(cur.rowcount)


# --- rebuild and check ----------------------------------------------------------------------------------


@dataclass
class Expected:
    tally: dict[TallyKey, int]
    flow: dict[FlowKey, int]
    members: list[tuple[str, int, str]]


def _expected(selected: Sequence[Source]) -> Expected:
    """The rollups as the base rows say they should be: each source's leaf counts added to every region above."""
    max_depth = flow_max_depth()
    tally: dict[TallyKey, int] = defaultdict(int)
    flow: dict[FlowKey, int] = defaultdict(int)
    members: list[tuple[str, int, str]] = []
    paths: dict[str, list[tuple[str, int]]] = {}
    for source in selected:
        for metric, path, dim, key, day, value in source.leaves():
            if not value or not path:
                continue
            chain = paths.get(path)
            if chain is None:
                chain = paths[path] = ancestors(path)
            if day is None:
                for p, depth in chain:
                    tally[(metric, p, depth, int(dim or 0), key or "")] += int(value)
            else:
                for p, depth in chain:
                    if depth <= max_depth:
                        flow[(metric, p, depth, day, int(dim or 0), key or "")] += int(value)
        if source.members is not None:
            members += list(source.members())
    return Expected(tally, flow, members)


def _metrics(selected: Sequence[Source]) -> set[str]:
    return {m for s in selected for m in s.metrics}


def _select(names: Iterable[str] | None) -> list[Source]:
    wanted = set(names or ())
    chosen = [s for s in sources() if not wanted or s.name in wanted]
    unknown = wanted - {s.name for s in chosen}
    if unknown:
        raise ValueError(f"unknown rollup sources: {', '.join(sorted(unknown))}")
    return chosen


def _lock_tables() -> None:
    """Rebuild holds the rollup tables exclusively: writers reaching their hook wait, and add their delta after
    the rebuild commits (their base-row change was not visible to it). SQLite serialises writers anyway."""
    if connection.vendor == "postgresql":
        names = ", ".join(_q(m._meta.db_table) for m in (Tally, DailyFlow, Member))
        with connection.cursor() as cur:
            cur.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")


def _bulk_write(model: type[Any], columns: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
    n = 0
    if connection.vendor == "postgresql":
        cols = ", ".join(_q(c) for c in columns)
        with connection.cursor() as cur:
            raw = cur.cursor  # psycopg's cursor: COPY
            with raw.copy(f"COPY {_q(model._meta.db_table)} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
        return n
    batch: list[Any] = []
    for row in rows:
        batch.append(model(**dict(zip(columns, row, strict=True))))
        if len(batch) >= 5000:
            model.objects.bulk_create(batch)
            n += len(batch)
            batch = []
    model.objects.bulk_create(batch)
    return n + len(batch)


@dataclass(frozen=True)
class RebuildResult:
    tallies: int
    flows: int
    members: int
    seconds: float


@transaction.atomic
def rebuild(*, only: Iterable[str] | None = None, as_of: date | bool | None = False) -> RebuildResult:
    """Recompute the rollups from the base rows (after bulk writes such as the demo, or to repair). `only` names
    sources (default: all). `as_of`: the day the data describes (the demo's), None for live data; False keeps it."""
    started = time.monotonic()
    selected = _select(only)
    _lock_tables()
    expected = _expected(selected)
    metrics = sorted(_metrics(selected))
    member_metrics = sorted({m for s in selected for m in s.member_metrics})
    Tally.objects.filter(metric__in=metrics).delete()
    DailyFlow.objects.filter(metric__in=metrics).delete()
    Member.objects.filter(metric__in=member_metrics).delete()
    tallies = _bulk_write(
        Tally,
        ["metric", "region_path", "depth", "dim", "key", "value"],
        ((m, p, depth, dim, key, v) for (m, p, depth, dim, key), v in sorted(expected.tally.items()) if v),
    )
    flows = _bulk_write(
        DailyFlow,
        ["metric", "region_path", "depth", "day", "dim", "key", "value"],
        ((m, p, depth, day, dim, key, v) for (m, p, depth, day, dim, key), v in sorted(expected.flow.items()) if v),
    )
    members = _bulk_write(Member, ["metric", "member_id", "region_path"], iter(expected.members))
    if connection.vendor == "postgresql":  # fresh statistics, or the planner guesses at the new rows
        with connection.cursor() as cur:
            for model in (Tally, DailyFlow, Member):
                cur.execute(f"ANALYZE {_q(model._meta.db_table)}")
    seconds = time.monotonic() - started
    state, _ = RollupState.objects.get_or_create(pk=1)
    state.rebuilt_at, state.rebuild_seconds = timezone.now(), seconds
    fields = ["rebuilt_at", "rebuild_seconds"]
    if as_of is not False:
        state.as_of = as_of if isinstance(as_of, date) else None
        fields.append("as_of")
    state.save(update_fields=fields)
    return RebuildResult(tallies, flows, members, seconds)


@dataclass(frozen=True)
class Difference:
    table: str  # "tally" or "flow"
    metric: str
    region_path: str
    dim: int
    key: str
    day: date | None
    expected: int
    actual: int

    def __str__(self) -> str:
        day = f" {self.day}" if self.day else ""
        return f"{self.table} {self.metric} {self.region_path} dim={self.dim} key={self.key!r}{day}: 应为 {self.expected}，实为 {self.actual}"


def verify(*, only: Iterable[str] | None = None, record: bool = True) -> list[Difference]:
    """Compare every maintained count with a direct GROUP BY over the base rows; return the differences (zero
    counts and missing rows are the same thing)."""
    selected = _select(only)
    metrics = sorted(_metrics(selected))
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":  # one snapshot for the base rows and the rollups
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        expected = _expected(selected)
        actual_tally = {
            (r[0], r[1], r[2], r[3], r[4]): r[5]
            for r in Tally.objects.filter(metric__in=metrics)
            .exclude(value=0)
            .values_list("metric", "region_path", "depth", "dim", "key", "value")
        }
        actual_flow = {
            (r[0], r[1], r[2], r[3], r[4], r[5]): r[6]
            for r in DailyFlow.objects.filter(metric__in=metrics)
            .exclude(value=0)
            .values_list("metric", "region_path", "depth", "day", "dim", "key", "value")
        }
    out: list[Difference] = []
    for k in sorted(set(expected.tally) | set(actual_tally)):
        e, a = expected.tally.get(k, 0), actual_tally.get(k, 0)
        if e != a:
            out.append(Difference("tally", k[0], k[1], k[3], k[4], None, e, a))
    for fk in sorted(set(expected.flow) | set(actual_flow)):
        e, a = expected.flow.get(fk, 0), actual_flow.get(fk, 0)
        if e != a:
            out.append(Difference("flow", fk[0], fk[1], fk[4], fk[5], fk[3], e, a))
    if record:
        RollupState.objects.update_or_create(pk=1, defaults={"verified_at": timezone.now(), "differences": len(out)})
    if out:
        log.warning("rollups differ from the base rows in %d places, e.g. %s", len(out), out[0])
    return out


def set_as_of(day: date | None) -> None:
    RollupState.objects.update_or_create(pk=1, defaults={"as_of": day})
