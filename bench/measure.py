"""One measurement per process (`python -m bench.measure WHAT ...`), so that peak memory belongs to that
measurement alone. Prints one JSON line: rows, seconds (the pipeline only, after imports and set-up),
rss_start_mb (resident memory after imports and set-up, when the pipeline starts) and maxrss_mb: the peak
resident memory *while the pipeline ran* (Linux: the high-water mark is reset at its start through
/proc/self/clear_refs, then read from VmHWM; elsewhere ru_maxrss of the whole process)."""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024
    _reset_peak()
    return rss


_HWM_RESET = False


def _reset_peak() -> None:
    """Start the peak-memory measurement here (after imports and set-up)."""
    global _HWM_RESET
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        _HWM_RESET = True
    except OSError:
        _HWM_RESET = False


def _maxrss_mb() -> float:
    if _HWM_RESET:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.config.settings.local")
    import django

    django.setup()


def _bench_user() -> Any:
    from taizhang.accounts.models import User

    return User.objects.get(username="bench")


# --- set-up of the template database ---------------------------------------------------------------


def setup() -> dict[str, Any]:
    _django()
    from datetime import date

    from django.core.management import call_command

    from taizhang.accounts.models import OrgUnit, Post, User
    from taizhang.core.roles import Role
    from taizhang.industries.services import category_create
    from taizhang.regions.models import Level, Region
    from taizhang.regions.services import load_nbs_divisions

    from .generate import CATEGORIES

    call_command("migrate", verbosity=0, interactive=False)
    load_nbs_divisions()
    district = Region.objects.get(code="410502000000")
    major = category_create(code="C01", name="服务业")
    for code, name in CATEGORIES:
        category_create(code=code, name=name, parent=major)
    unit = OrgUnit.objects.create(code="BENCH", name="文峰区基准测试", kind=OrgUnit.Kind.SUBDISTRICT_OFFICE, region=district)
    user = User.objects.create_user(username="bench", password=None, display_name="基准测试")
    Post.objects.create(user=user, unit=unit, region=district, role=Role.SUBDISTRICT, valid_from=date(2020, 1, 1))
    communities = [r.display_name for r in Region.objects.filter(level=Level.COMMUNITY, path__startswith=district.path)]
    names = [n for n in communities if communities.count(n) == 1]
    return {"communities": names}


# --- imports ---------------------------------------------------------------------------------------


def raw_import(path: Path, url: str) -> dict[str, Any]:
    """python-calamine read → PostgreSQL COPY (or SQLite executemany INSERT) of the same rows, no validation."""
    from python_calamine import CalamineWorkbook

    start_rss = _rss_mb()
    t0 = time.perf_counter()
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    rows = sheet.iter_rows()
    header = next(rows)
    cols = ", ".join(f"c{i} text" for i in range(len(header)))
    names = ", ".join(f"c{i}" for i in range(len(header)))
    n = 0
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url) as conn, conn.cursor() as cur:
            cur.execute(f"CREATE TABLE bench_raw (id bigserial primary key, {cols})")
            with cur.copy(f"COPY bench_raw ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([None if c == "" else str(c) for c in row])
                    n += 1
            conn.commit()
    else:
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"CREATE TABLE bench_raw (id integer primary key autoincrement, {cols})")
        conn.execute("BEGIN IMMEDIATE")
        marks = ", ".join("?" * len(header))
        batch: list[list[Any]] = []
        for row in rows:
            batch.append([None if c == "" else str(c) for c in row])
            if len(batch) == 5000:
                conn.executemany(f"INSERT INTO bench_raw ({names}) VALUES ({marks})", batch)
                n += len(batch)
                batch.clear()
        conn.executemany(f"INSERT INTO bench_raw ({names}) VALUES ({marks})", batch)
        n += len(batch)
        conn.execute("COMMIT")
        conn.close()
    return {"rows": n, "seconds": time.perf_counter() - t0, "rss_start_mb": start_rss}


def engine_import(path: Path) -> dict[str, Any]:
    _django()
    from taizhang.establishments.models import Establishment
    from taizhang.transfer import engine
    from taizhang.transfer.ledgers import EstablishmentLedger

    user = _bench_user()
    start_rss = _rss_mb()
    t0 = time.perf_counter()
    outcome = engine.run_import(EstablishmentLedger(user=user), path, mode=engine.ALL, name=path.name)
    seconds = time.perf_counter() - t0
    if not outcome.ok:
        raise SystemExit(f"engine import reported problems: {outcome.preview[:5]}")
    assert Establishment.objects.count() == outcome.written
    return {"rows": outcome.written, "seconds": seconds, "rss_start_mb": start_rss}


def write_floor(path: Path) -> dict[str, Any]:
    """The database's own cost of the engine's import: the rows read, parsed, checked and prepared first (not
    timed), then only what the writer does — store_chunk for every chunk, finish (events, tallies, audit) and the
    COMMIT — in one transaction, one process."""
    _django()
    from django.db import transaction

    from taizhang.transfer import engine
    from taizhang.transfer.ledgers import EstablishmentLedger
    from taizhang.transfer.reading import limits

    ledger = EstablishmentLedger(user=_bench_user())
    ledger.prepare()
    header, rows, _estimate = engine.open_sheet(ledger, path, name=path.name)
    payloads = []
    for chunk in engine._chunks(engine.parse_rows(ledger, header, rows, limits()), ledger.chunk_size):
        for row in chunk:
            ledger.check_row(row)
        payloads.append(ledger.prepare_chunk([r for r in chunk if not r.problems], job_id=None))
    start_rss = _rss_mb()
    t0 = time.perf_counter()
    with engine._bulk_session(), transaction.atomic():
        n = sum(ledger.store_chunk(p) for p in payloads)
        ledger.finish(written=n, job_id=None)
    return {"rows": n, "seconds": time.perf_counter() - t0, "rss_start_mb": start_rss}


def iex_import(path: Path) -> dict[str, Any]:
    _django()
    import tablib

    from taizhang.establishments.models import Establishment

    from .iex import EstablishmentResource

    user = _bench_user()
    start_rss = _rss_mb()
    t0 = time.perf_counter()
    with path.open("rb") as fh:
        dataset = tablib.Dataset().load(fh.read(), format="xlsx")
    result = EstablishmentResource(user=user).import_data(
        dataset, dry_run=False, use_transactions=True, collect_failed_rows=False
    )
    seconds = time.perf_counter() - t0
    if result.has_errors() or result.has_validation_errors():
        errors = result.row_errors()[:3] or result.invalid_rows[:3]
        raise SystemExit(f"django-import-export reported errors: {errors}")
    n = Establishment.objects.count()
    return {"rows": n, "seconds": seconds, "rss_start_mb": start_rss}


# --- exports ---------------------------------------------------------------------------------------


def _export_rows(limit: int) -> Any:
    from itertools import islice

    from taizhang.transfer.ledgers import EstablishmentLedger

    ledger = EstablishmentLedger(user=_bench_user())
    return ledger, islice(ledger.export_rows(filters={}, reveal=False), limit)


def engine_export(out: Path, limit: int) -> dict[str, Any]:
    _django()
    from taizhang.transfer.ledgers import EstablishmentLedger
    from taizhang.transfer.services import export_to_path

    user = _bench_user()
    start_rss = _rss_mb()
    t0 = time.perf_counter()
    n = export_to_path(EstablishmentLedger(user=user), out, filters={}, reveal=False, limit=limit)
    return {"rows": n, "seconds": time.perf_counter() - t0, "rss_start_mb": start_rss}


def xlsxwriter_export(out: Path, limit: int) -> dict[str, Any]:
    """The same rows (the same selector, decryption and masking) written by xlsxwriter in constant_memory mode."""
    _django()
    import xlsxwriter

    start_rss = _rss_mb()
    t0 = time.perf_counter()
    ledger, rows = _export_rows(limit)
    book = xlsxwriter.Workbook(
        str(out),
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    sheet = book.add_worksheet(ledger.sheet_title)
    sheet.write_row(0, 0, ledger.export_header())
    n = 0
    for n, values in enumerate(rows, start=1):
        sheet.write_row(n, 0, values)
    book.close()
    return {"rows": n, "seconds": time.perf_counter() - t0, "rss_start_mb": start_rss}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what")
    parser.add_argument("--file", type=Path)
    parser.add_argument("--url", default="")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args(argv)
    if args.what == "setup":
        result = setup()
    elif args.what == "raw_import":
        result = raw_import(args.file, args.url)
    elif args.what == "engine_import":
        result = engine_import(args.file)
    elif args.what == "write_floor":
        result = write_floor(args.file)
    elif args.what == "iex_import":
        result = iex_import(args.file)
    elif args.what == "engine_export":
        result = engine_export(args.file, args.limit)
    elif args.what == "xlsxwriter_export":
        result = xlsxwriter_export(args.file, args.limit)
    else:
        raise SystemExit(f"unknown measurement {args.what}")
    result["maxrss_mb"] = _maxrss_mb()
    print("RESULT " + json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
