"""The import engine every ledger plugs into.

A ledger declares its columns (Chinese header, aliases, parser, whether required or sensitive) and three hooks:
``prepare()`` loads its lookup tables once, ``check_row()`` validates one parsed row (cross-field rules,
duplicates within the file), ``check_chunk()`` checks a chunk against the database (duplicates), and
``write_chunk()`` writes the valid rows of a chunk through the app's services (or their bulk equivalent).

``run_import()`` streams the sheet chunk by chunk, so memory stays flat whatever the row count:

- mode CHECK: validate every row, write nothing;
- mode ALL: validate and write inside one transaction; if any row is invalid, the transaction is rolled back
  at the end — nothing is written, every problem is still reported (all-or-nothing);
- mode VALID: write only the valid rows, in one transaction (the user chose so explicitly).

Never half a run: a failure or a cancellation rolls the whole transaction back.

Bulk ("pipelined") ledgers are read, parsed and prepared in a forked reader process where that is safe, while
this process does the database work; see _Reader.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import chain, islice
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from taizhang.audit.services import Action, audit_record

from .columns import CellError, Column, RowProblems, header_key, text
from .reading import FileRefused, Limits, Table, check_file, limits, open_workbook_tables, sniff_format

CHECK, ALL, VALID = "check", "all", "valid"
HEADER_SCAN_ROWS = 30
PREVIEW_PROBLEMS = 500
BULK_SQLITE_CACHE_KIB = 24 * 1024
SWITCH_INTERVAL = 0.001
GC_YOUNG_THRESHOLD = 20_000  # allocations between young collections during a run (Python's default: 700)


class Cancelled(Exception):
    pass


@dataclass(frozen=True)
class Problem:
    row: int  # Excel row number; 0 for the file itself
    column: str
    value: str
    reason: str


@dataclass(slots=True)
class ParsedRow:
    row: int
    values: dict[str, Any]
    problems: RowProblems = field(default_factory=RowProblems)


@dataclass(frozen=True)
class HeaderMap:
    sheet: str
    header_row: int  # Excel row number of the (last) header row
    columns: dict[int, Column]  # cell index → column
    ignored: tuple[str, ...]  # headers present in the file that no column claims


class Ledger:
    """Base of every ledger. Subclasses set the class attributes and override the hooks."""

    do_not_call_in_templates: ClassVar[bool] = True  # templates read ledger.title from the class
    code: ClassVar[str]
    title: ClassVar[str]
    sheet_title: ClassVar[str]
    import_roles: ClassVar[frozenset[str]] = frozenset()
    export_roles: ClassVar[frozenset[str]] = frozenset()
    instructions: ClassVar[tuple[str, ...]] = ()
    chunk_size: ClassVar[int] = 2000
    # Service-backed ledgers (one service call per row) check by rehearsing the writes in a transaction that
    # is always rolled back, so that the services' own rules appear in the report.
    check_by_writing: ClassVar[bool] = False
    # Bulk ledgers split writing into prepare_chunk (Python work, no database) and store_chunk (the database
    # work). Where a process may fork (Linux, no other thread running), the sheet is read, parsed, checked row by
    # row and prepared in a forked reader process while this one checks against the database and writes
    # (_Reader): the per-row Python work and the database work run on two cores. Otherwise, on PostgreSQL,
    # store_chunk runs on a writer thread (_Pipeline) so that the server's work overlaps ours; on SQLite inline.
    # See docs/adr/0008-transfer-engine.md for the measurements.
    pipelined: ClassVar[bool] = False

    # Values of a valid row that check_chunk() reads: all that crosses from the reader process (see _Reader).
    check_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, user: Any) -> None:
        self.user = user
        self.job_id: int | None = None  # set by run_import before prepare()

    # --- declaration ---
    def columns(self) -> list[Column]:
        raise NotImplementedError

    # --- hooks ---
    def prepare(self) -> None:
        """Load lookup tables (regions, categories …) once per run."""

    def check_row(self, row: ParsedRow) -> None:
        """Cross-field rules and duplicates within the file; add problems to row.problems."""

    def check_chunk(self, rows: list[ParsedRow]) -> None:
        """Checks against the database for a chunk of rows (one query per chunk, not per row). With a reader
        process the rows' values hold only the ledger's check_keys."""

    def write_chunk(self, rows: list[ParsedRow], *, job_id: int | None) -> int:
        """Write the valid rows; return how many records were created. Runs inside the run's transaction.

        A row that a service refuses gets a problem added (row.problems) and must leave nothing behind
        (call the service in a savepoint: ``with transaction.atomic():``)."""
        raise NotImplementedError

    def prepare_chunk(self, rows: list[ParsedRow], *, job_id: int | None) -> list[Any]:
        """Pipelined ledgers: one payload per row, built without touching the database."""
        raise NotImplementedError

    def store_chunk(self, payload: list[Any]) -> int:
        """Pipelined ledgers: write the payloads of the rows that are still valid; return how many were created."""
        raise NotImplementedError

    def finish(self, *, written: int, job_id: int | None) -> None:
        """After the last chunk, still inside the transaction: one audit record for the whole import."""
        if written:
            audit_record(
                action=Action.IMPORT,
                actor=self.user,
                object_type=f"transfer.{self.code}",
                object_id=f"{written} rows",
                object_repr=f"{self.title}导入",
                detail={"job": job_id, "ledger": self.code, "rows": written},
            )

    # --- export (optional) ---
    def export_header(self) -> list[str]:
        return [c.header for c in self.columns()]


@dataclass
class Outcome:
    total: int = 0
    valid: int = 0
    invalid: int = 0
    written: int = 0
    problems_count: int = 0
    preview: list[Problem] = field(default_factory=list)
    sheet: str = ""
    header_row: int = 0
    ignored_columns: tuple[str, ...] = ()
    rolled_back: bool = False

    @property
    def ok(self) -> bool:
        return self.problems_count == 0


ProgressFn = Callable[[int, int, str], None]
CancelFn = Callable[[], bool]
ProblemSink = Callable[[Problem], None]


def _fill_merges(rows: list[tuple[int, list[Any]]], merged: Sequence[tuple[tuple[int, int], tuple[int, int]]]) -> None:
    """Copy each merged header cell's value into every cell it covers (rows are (Excel row, cells))."""
    if not merged or not rows:
        return
    by_number = {number - 1: cells for number, cells in rows}
    for (r0, c0), (r1, c1) in merged:
        if r0 not in by_number:
            continue
        source = by_number[r0]
        value = source[c0] if c0 < len(source) else ""
        for r in range(r0, r1 + 1):
            cells = by_number.get(r)
            if cells is None:
                continue
            while len(cells) <= c1:
                cells.append("")
            for c in range(c0, c1 + 1):
                if cells[c] in ("", None):
                    cells[c] = value


def detect_header(table: Table, ledger_columns: list[Column]) -> tuple[HeaderMap, Iterator[tuple[int, list[Any]]]] | None:
    """Find the header row among the first rows: title rows above, two-level or merged headers, extra and
    reordered columns. Returns the map and the data rows after it, or None when no row looks like a header."""
    by_key: dict[str, Column] = {}
    for col in ledger_columns:
        for k in col.header_keys():
            by_key.setdefault(k, col)
    head = [(n, list(cells)) for n, cells in islice(table.rows, HEADER_SCAN_ROWS)]
    _fill_merges(head, table.merged)
    best: tuple[int, int, dict[int, Column], list[str]] | None = None
    previous: list[Any] = []
    for index, (_number, cells) in enumerate(head):
        found: dict[int, Column] = {}
        unknown: list[str] = []
        for i, cell in enumerate(cells):
            key = header_key(cell)
            if not key:
                continue
            parent = header_key(previous[i]) if i < len(previous) else ""
            match = by_key.get(parent + key) or by_key.get(key)
            if match is not None and match not in found.values():
                found[i] = match
            elif match is None:
                unknown.append(text(cell))
        if found and (best is None or len(found) > len(best[2])):
            best = (index, len(found), found, unknown)
        previous = cells
    if best is None:
        return None
    index, _n, found, unknown = best
    required = {c.key for c in ledger_columns if c.required}
    if not required <= {c.key for c in found.values()} and len(found) < 2:
        return None
    header_row = head[index][0]
    rest = chain(head[index + 1 :], table.rows)
    return HeaderMap(sheet=table.name, header_row=header_row, columns=found, ignored=tuple(u for u in unknown if u)), rest


_NO_SHORTCUT = object()
_IMMUTABLE = (type(None), str, int, float, bool, Decimal, date)


def _blank_value(column: Column) -> Any:
    """What the column's parser makes of an empty cell, when that is a constant (so that empty cells need no
    call); _NO_SHORTCUT when the parser refuses an empty cell or returns something mutable."""
    try:
        value = column.parse("")
    except CellError:
        return _NO_SHORTCUT
    return value if isinstance(value, _IMMUTABLE) else _NO_SHORTCUT


def parse_rows(ledger: Ledger, header: HeaderMap, rows: Iterable[tuple[int, list[Any]]], lim: Limits) -> Iterator[ParsedRow]:
    """Parse every non-blank row with the columns' parsers (cell problems collected, never raised)."""
    mapped = [
        (i, col.key, col.parse, col.required, col.header, _NO_SHORTCUT if col.required else _blank_value(col))
        for i, col in sorted(header.columns.items())
    ]
    indexes = [i for i, *_rest in mapped]
    declared = {c.key: c for c in ledger.columns()}
    defaults = {c.key: c.parse("") for c in declared.values() if c not in header.columns.values()}
    count = 0
    max_rows = lim.max_rows
    for number, cells in rows:
        width = len(cells)
        for i in indexes:  # blank row (or content only in unmapped columns, e.g. notes): skipped
            if i < width:
                c = cells[i]
                if c != "" and c is not None and (c.__class__ is not str or not c.isspace()):
                    break
        else:
            continue
        count += 1
        if count > max_rows:
            raise FileRefused(f"行数超过上限（{max_rows} 行）：请拆分成几个文件分别导入")
        values = dict(defaults)
        row = ParsedRow(row=number, values=values)
        for i, key, parse, required, title, blank in mapped:
            cell = cells[i] if i < width else ""
            if cell == "" or cell is None:
                if required:
                    row.problems.add(title, "", "必填，不能为空")
                    continue
                if blank is not _NO_SHORTCUT:
                    values[key] = blank
                    continue
            elif required and cell.__class__ is str and cell.isspace():
                row.problems.add(title, "", "必填，不能为空")
                continue
            try:
                values[key] = parse(cell)
            except CellError as exc:
                row.problems.add(title, cell, exc.reason)
        yield row


def _chunks(rows: Iterator[ParsedRow], size: int) -> Iterator[list[ParsedRow]]:
    while True:
        chunk = list(islice(rows, size))
        if not chunk:
            return
        yield chunk


def open_sheet(
    ledger: Ledger, path: Path, *, name: str = "", fmt: str | None = None
) -> tuple[HeaderMap, Iterator[tuple[int, list[Any]]], int]:
    """Check the file, then find the first sheet with this ledger's header. FileRefused when none has it."""
    fmt = fmt or sniff_format(path, name)
    check_file(path, fmt)
    columns = ledger.columns()
    for table in open_workbook_tables(path, fmt):
        found = detect_header(table, columns)
        if found is None:
            continue
        header, rows = found
        missing = [c.header for c in columns if c.required and c not in header.columns.values()]
        if missing:
            raise FileRefused(
                f"工作表“{header.sheet}”第 {header.header_row} 行缺少必填列：{'、'.join(missing)}。请下载“{ledger.title}”模板，按模板的列标题填写"
            )
        return header, rows, table.estimated_rows
    raise FileRefused(
        f"没有找到“{ledger.title}”的列标题（如“{'”“'.join(c.header for c in columns[:3])}”）：请下载模板，按模板的列标题填写"
    )


def run_import(
    ledger: Ledger,
    path: Path,
    *,
    mode: str = CHECK,
    name: str = "",
    fmt: str | None = None,
    job_id: int | None = None,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
    sink: ProblemSink | None = None,
) -> Outcome:
    """Validate (and, unless mode is CHECK, write) every row of the file. See the module docstring."""
    with _bulk_gc():
        return _run_import(
            ledger, path, mode=mode, name=name, fmt=fmt, job_id=job_id, progress=progress, cancelled=cancelled, sink=sink
        )


@contextmanager
def _bulk_gc() -> Iterator[None]:
    """A run allocates millions of short-lived objects (cells, rows, values), none of them in a reference cycle.
    Each time young objects pile up, the cyclic garbage collector runs, and every so often it walks every object
    of the process — the framework's included, hundreds of thousands of them. For the run, the objects that
    exist at its start are set aside (gc.freeze: they are not walked, and a forked reader does not copy their
    pages just to update their collector bookkeeping) and young collections run less often. Collection stays on:
    a cycle made during the run is still freed. Restored on exit."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], GC_YOUNG_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _run_import(
    ledger: Ledger,
    path: Path,
    *,
    mode: str,
    name: str,
    fmt: str | None,
    job_id: int | None,
    progress: ProgressFn | None,
    cancelled: CancelFn | None,
    sink: ProblemSink | None,
) -> Outcome:
    lim = limits()
    rehearse = mode == CHECK and ledger.check_by_writing
    writing = mode in (ALL, VALID) or rehearse
    ledger.job_id = job_id
    reader: _Reader | None = None
    if ledger.pipelined and not rehearse and _reader_process_available():
        fmt = fmt or sniff_format(path, name)
        check_file(path, fmt)
        ledger.prepare()
        reader = _Reader(ledger, path, fmt=fmt, name=name, lim=lim, payloads=writing)
        reader.start()
        try:
            sheet, header_row, ignored, estimate = reader.header()
        except BaseException:
            reader.stop()
            raise
        raw_rows: Iterator[tuple[int, list[Any]]] = iter(())
        header = HeaderMap(sheet=sheet, header_row=header_row, columns={}, ignored=ignored)
    else:
        header, raw_rows, estimate = open_sheet(ledger, path, name=name, fmt=fmt)
        ledger.prepare()
    outcome = Outcome(sheet=header.sheet, header_row=header.header_row, ignored_columns=header.ignored)

    def report(problem: Problem) -> None:
        outcome.problems_count += 1
        if len(outcome.preview) < PREVIEW_PROBLEMS:
            outcome.preview.append(problem)
        if sink is not None:
            sink(problem)

    last = 0.0

    def tick(stage: str, force: bool = False) -> None:
        nonlocal last
        now = time.monotonic()
        if not force and now - last < 0.5:
            return
        last = now
        if progress is not None:
            progress(outcome.total, max(estimate - header.header_row, outcome.total), stage)
        if cancelled is not None and stage != "done" and cancelled():
            raise Cancelled()

    stop_writing = False

    def settle(chunk: list[ParsedRow], written: int) -> None:
        nonlocal stop_writing
        outcome.written += written
        for row in chunk:
            outcome.total += 1
            if row.problems:
                outcome.invalid += 1
                for column, value, reason in row.problems.items:
                    report(Problem(row.row, column, value, reason))
            else:
                outcome.valid += 1
        if mode == ALL and outcome.invalid and not stop_writing:
            stop_writing = True  # all-or-nothing: keep checking, write no more, roll back at the end
            if reader is not None:
                reader.stop_payloads()

    def checked_chunks() -> Iterator[tuple[list[ParsedRow], list[ParsedRow], Any]]:
        """(chunk, its rows valid so far, the prepared payload of those rows or None)."""
        if reader is not None:
            yield from reader.chunks()
            return
        for chunk in _chunks(parse_rows(ledger, header, raw_rows, lim), ledger.chunk_size):
            for row in chunk:
                if not row.problems:
                    ledger.check_row(row)
            valid = [r for r in chunk if not r.problems]
            write = writing and not stop_writing and valid
            yield chunk, valid, (ledger.prepare_chunk(valid, job_id=job_id) if write and ledger.pipelined else None)

    def store(valid: list[ParsedRow], payload: Any) -> int:
        ledger.check_chunk(valid)
        if not writing or stop_writing or not valid:
            return 0
        if not ledger.pipelined:
            good = [r for r in valid if not r.problems]
            return ledger.write_chunk(good, job_id=job_id) if good else 0
        if payload is None:
            return 0
        keep = [p for r, p in zip(valid, payload, strict=True) if not r.problems]
        return ledger.store_chunk(keep) if keep else 0

    def body(pipe: _Pipeline | None) -> None:
        tick("checking", force=True)
        for chunk, valid, payload in checked_chunks():
            if pipe is not None:
                # Check against the database and store on the writer thread, which shares this connection and
                # transaction; the next chunk is parsed and prepared here meanwhile.
                pipe.submit(chunk, valid, payload)
                for done, written in pipe.ready():
                    settle(done, written)
            else:
                settle(chunk, store(valid, payload))
            tick("writing" if writing and not stop_writing else "checking")
        if pipe is not None:
            for done, written in pipe.drain():
                settle(done, written)
        if outcome.total == 0:
            report(Problem(header.header_row, "", "", "列标题下面没有数据行：请在模板的列标题下逐行填写"))
        if writing and not stop_writing and not rehearse:
            ledger.finish(written=outcome.written, job_id=job_id)

    try:
        if not writing:
            body(None)
        else:
            with _bulk_session(), transaction.atomic():
                if ledger.pipelined and reader is None and not rehearse and connection.vendor == "postgresql":
                    with _Pipeline(store) as pipe:
                        body(pipe)
                else:
                    body(None)
                if rehearse or (mode == ALL and outcome.problems_count):
                    transaction.set_rollback(True)
                    outcome.rolled_back = True
                    outcome.written = 0
    finally:
        if reader is not None:
            reader.stop()
    tick("done", force=True)
    return outcome


# --- the reader process ------------------------------------------------------------------------------


def _reader_process_available() -> bool:
    """A forked reader process is used when it is safe: fork exists (Linux), and this process runs no other
    thread (a fork copies only the calling thread; a lock held by another thread would stay held in the
    child). Web workers with threads, and the test server, fall back to the in-process path."""
    return (
        bool(getattr(settings, "TAIZHANG_TRANSFER_READER_PROCESS", True))
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


class ReaderFailed(Exception):
    """The reader process ended without finishing the sheet (it crashed or was killed)."""


def _forbid_database() -> None:
    """In the reader process: the database connections copied from the parent belong to the parent's
    transaction. Any query from the reader would interleave with the parent's on the same socket; refuse it
    loudly instead (the reader works from the tables the ledger loaded in prepare())."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("transfer reader process: database access is not allowed here (load it in prepare())")

    for conn in connections.all(initialized_only=True):
        conn.execute_wrappers.append(refuse)


def _watch_parent(parent: int, interval: float = 1.0) -> None:
    """In the reader process: end it as soon as its parent is gone (killed, say, by the out-of-memory killer), so
    that no orphan stays blocked on a queue nobody reads, holding the sheet in memory."""
    while True:
        time.sleep(interval)
        if os.getppid() != parent:
            os._exit(1)


def _reader_main(
    ledger: Ledger, path: Path, fmt: str, name: str, lim: Limits, out: Any, stop_payloads: Any, payloads: bool, parent: int
) -> None:
    threading.Thread(target=_watch_parent, args=(parent,), name="transfer-reader-watch", daemon=True).start()
    _forbid_database()
    try:
        header, rows, estimate = open_sheet(ledger, path, name=name, fmt=fmt)
        out.put(("header", (header.sheet, header.header_row, header.ignored, estimate)))
        keys = ledger.check_keys
        for chunk in _chunks(parse_rows(ledger, header, rows, lim), ledger.chunk_size):
            for row in chunk:
                if not row.problems:
                    ledger.check_row(row)
            valid = [r for r in chunk if not r.problems]
            payload = (
                ledger.prepare_chunk(valid, job_id=ledger.job_id) if payloads and valid and not stop_payloads.is_set() else None
            )
            slim = [
                (r.row, r.problems.items, None if r.problems else {k: r.values[k] for k in keys if k in r.values}) for r in chunk
            ]
            out.put(("chunk", (slim, payload)))
        out.put(("end", None))
    except FileRefused as exc:
        out.put(("refused", str(exc)))
    except BaseException:
        out.put(("error", traceback.format_exc(limit=20)))
    finally:
        out.close()
        out.join_thread()


class _Reader:
    """The sheet read, parsed, checked row by row and prepared for writing in a forked process, while this
    process checks the chunks against the database and writes them: python-calamine, the parsers, the check
    characters, the encryption and the blind indexes run on one core, the database work on the other. Chunks
    cross a bounded queue (at most DEPTH ahead, so memory stays flat); a chunk carries its rows' numbers and
    problems, the values check_chunk() needs, and the prepared payload."""

    DEPTH = 4
    WAIT = 1.0

    def __init__(self, ledger: Ledger, path: Path, *, fmt: str, name: str, lim: Limits, payloads: bool) -> None:
        ctx = multiprocessing.get_context("fork")
        self.queue: Any = ctx.Queue(maxsize=self.DEPTH)
        self._stop_payloads = ctx.Event()
        self.process = ctx.Process(
            target=_reader_main,
            args=(ledger, path, fmt, name, lim, self.queue, self._stop_payloads, payloads, os.getpid()),
            name="transfer-reader",
            daemon=True,
        )

    def start(self) -> None:
        # The run has frozen the objects that exist now (_bulk_gc): the child does not copy every page it
        # inherited just to update their collector bookkeeping.
        self.process.start()

    def _get(self) -> tuple[str, Any]:
        while True:
            try:
                kind, body = self.queue.get(timeout=self.WAIT)
            except queue.Empty:
                if not self.process.is_alive():
                    raise ReaderFailed(f"读取文件的进程意外退出（退出码 {self.process.exitcode}）：请重新导入") from None
                continue
            if kind == "refused":
                raise FileRefused(body)
            if kind == "error":
                raise ReaderFailed("读取文件时出错：\n" + body)
            return kind, body

    def header(self) -> tuple[str, int, tuple[str, ...], int]:
        kind, body = self._get()
        if kind != "header":
            raise ReaderFailed(f"unexpected message {kind}")
        return body

    def chunks(self) -> Iterator[tuple[list[ParsedRow], list[ParsedRow], Any]]:
        while True:
            kind, body = self._get()
            if kind == "end":
                return
            slim, payload = body
            chunk = [ParsedRow(row=n, values=values or {}, problems=RowProblems(items)) for n, items, values in slim]
            yield chunk, [r for r in chunk if not r.problems], payload

    def stop_payloads(self) -> None:
        self._stop_payloads.set()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=10)
        self.queue.cancel_join_thread()
        self.queue.close()


class _Pipeline:
    """One writer thread that runs `store` (the run's database work for a chunk) on the run's own connection
    (Django's thread-sharing, as in its live-server tests), at most two chunks ahead, so memory stays flat."""

    DEPTH = 2
    _switch = 0.005

    def __init__(self, store: Callable[[list[ParsedRow], Any], int]) -> None:
        self.store = store
        self.conn = connections[DEFAULT_DB_ALIAS]
        self.pending: deque[tuple[list[ParsedRow], Future[int]]] = deque()
        self.executor: ThreadPoolExecutor | None = None

    def __enter__(self) -> _Pipeline:
        # The writer hands rows to psycopg and takes the GIL back often: a shorter switch interval lets it run
        # as soon as it can (15.4 s instead of 17.6 s for 200,000 rows, measured); restored on exit.
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.conn.inc_thread_sharing()
        conn = self.conn

        def share() -> None:
            connections[DEFAULT_DB_ALIAS] = conn

        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="transfer-writer", initializer=share)
        return self

    def submit(self, chunk: list[ParsedRow], valid: list[ParsedRow], payload: Any) -> None:
        if self.executor is None:
            raise RuntimeError("pipeline not started")
        self.pending.append((chunk, self.executor.submit(self.store, valid, payload)))

    def ready(self) -> Iterator[tuple[list[ParsedRow], int]]:
        while self.pending and (len(self.pending) > self.DEPTH or self.pending[0][1].done()):
            chunk, future = self.pending.popleft()
            yield chunk, future.result()

    def drain(self) -> Iterator[tuple[list[ParsedRow], int]]:
        while self.pending:
            chunk, future = self.pending.popleft()
            yield chunk, future.result()

    def __exit__(self, *exc: object) -> None:
        if self.executor is None:
            return
        for _chunk, future in self.pending:
            future.cancel()
        self.executor.shutdown(wait=True)
        self.conn.dec_thread_sharing()
        sys.setswitchinterval(self._switch)


@contextmanager
def _bulk_session() -> Iterator[None]:
    """SQLite: a larger page cache while one import writes many rows into tables with many indexes (the
    default 2 MB cache makes every index insert a page fault once the indexes outgrow it)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("PRAGMA cache_size")
        before = cur.fetchone()[0]
        cur.execute(f"PRAGMA cache_size = {-BULK_SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA cache_size = {int(before)}")


def run_rows(ledger: Ledger, rows: Sequence[Sequence[Any]], **kwargs: Any) -> Outcome:
    """Import in-memory rows (header first) — for tests and the API; same path as a file."""
    import csv
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".csv", encoding="utf-8", newline="", delete=False) as fh:
        csv.writer(fh).writerows([[text(c) for c in r] for r in rows])
    path = Path(fh.name)
    try:
        return run_import(ledger, path, name="rows.csv", **kwargs)
    finally:
        path.unlink(missing_ok=True)
