"""`python -m bench` (`make bench`): the transfer engine against its baselines, on SQLite and PostgreSQL.

Every figure is measured in this run on this machine, each in its own process. Prints a table and writes
var/bench/results.json (a list of {"name", "database", "rows", "value", "unit", "baseline", "baseline_value",
"ratio", "target"}; entries of other benchmarks already in the file are kept).

Raw pipeline and engine run alternately, best of BENCH_REPEAT (default 3) each; django-import-export runs once.
Memory is the peak resident memory while the pipeline runs (see bench/measure.py).

Options: --rows N (default 200000), --databases sqlite,postgresql, --pg postgres://user@host:port/db (an
administrative connection: the benchmark creates and drops databases bench_tz_*), --skip-peer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "var" / "bench" / "results.json"


def machine(pg_url: str | None) -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"nproc": str(os.cpu_count()), "cpu": cpu, "python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    try:
        import psutil  # type: ignore[import-not-found]

        info["memory"] = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        info["memory"] = f"{pages / 2**30:.0f} GiB"
    if pg_url:
        try:
            import psycopg

            with psycopg.connect(pg_url, connect_timeout=3) as conn:
                info["postgresql"] = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        except Exception as exc:
            info["postgresql"] = f"unavailable ({type(exc).__name__})"
    from importlib.metadata import version

    import xlsxwriter

    info["python-calamine"] = version("python-calamine")
    info["xlsxwriter"] = xlsxwriter.__version__
    try:
        import import_export

        info["django-import-export"] = import_export.__version__
    except ImportError:
        info["django-import-export"] = "not installed"
    return info


class Database:
    """A template database migrated and seeded once; a fresh copy for every measurement."""

    def __init__(self, vendor: str, work: Path, pg_admin: str | None) -> None:
        self.vendor = vendor
        self.work = work
        self.pg_admin = pg_admin

    def _pg(self, sql: str) -> None:
        import psycopg

        assert self.pg_admin
        with psycopg.connect(self.pg_admin, autocommit=True) as conn:
            conn.execute(sql)

    def url(self, name: str) -> str:
        if self.vendor == "sqlite":
            return f"sqlite:///{self.work / (name + '.sqlite3')}"
        assert self.pg_admin
        base = self.pg_admin.rsplit("/", 1)[0]
        return f"{base}/bench_tz_{name}"

    def create(self, name: str, template: str | None = None) -> str:
        if self.vendor == "sqlite":
            target = self.work / f"{name}.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            if template:
                src = self.work / f"{template}.sqlite3"
                con = sqlite3.connect(src)
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                con.close()
                shutil.copyfile(src, target)
        else:
            self._pg(f"DROP DATABASE IF EXISTS bench_tz_{name} WITH (FORCE)")
            self._pg(f"CREATE DATABASE bench_tz_{name}" + (f" TEMPLATE bench_tz_{template}" if template else ""))
        return self.url(name)

    def settle(self, *, drop: tuple[str, ...] = ()) -> None:
        """Between measurements: drop the scratch databases no longer needed (so that no autovacuum of the last
        run's 200,000 rows competes with the next one for the machine's two cores) and checkpoint, so that every
        run starts from the same state."""
        if self.vendor == "postgresql":
            for name in drop:
                self._pg(f"DROP DATABASE IF EXISTS bench_tz_{name} WITH (FORCE)")
            self._pg("CHECKPOINT")

    def drop_all(self, names: list[str]) -> None:
        if self.vendor == "postgresql":
            for name in names:
                self._pg(f"DROP DATABASE IF EXISTS bench_tz_{name} WITH (FORCE)")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def _tree_pss_mb(pid: int) -> float:
    """The proportional set size of a process and all its descendants (shared pages counted once)."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
        stack += _children(p)
    return total / 1024


def run(what: str, url: str, work: Path, *extra: str, sample: bool = False) -> dict[str, Any]:
    """One measurement in its own process. Its memory: its own peak resident memory (VmHWM, exact; see
    bench/measure.py) and, with sample=True, the peak of its whole process tree's proportional set size sampled
    every 100 ms from here (the engine's reader process counts), whichever is larger. Sampling reads
    /proc/<pid>/smaps_rollup, which slowed a 10-second import by about 0.3 s: only one run of each is sampled."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TAIZHANG_VAR": str(work / "var"),
        "DJANGO_SETTINGS_MODULE": "taizhang.config.settings.local",
        "TAIZHANG_LOG_LEVEL": "WARNING",
    }
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.measure", what, "--url", url, *extra],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
            text=True,
        )
        tree_peak = 0.0
        sampling = sample and Path("/proc/self/smaps_rollup").exists()
        while proc.poll() is None:
            if sampling:
                tree_peak = max(tree_peak, _tree_pss_mb(proc.pid))
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.1)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result = dict(json.loads(line[7:]))
            result["tree_pss_peak_mb"] = round(tree_peak, 1)
            result["maxrss_mb"] = max(result["maxrss_mb"], tree_peak)
            return result
    raise SystemExit(f"{what} failed ({proc.returncode}):\n{stdout[-3000:]}\n{stderr[-5000:]}")


REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest run (noise only ever slows a run down); memory: the largest peak of the runs."""
    fastest = min(runs, key=lambda r: r["seconds"])
    return {**fastest, "maxrss_mb": max(r["maxrss_mb"] for r in runs), "runs": [round(r["seconds"], 1) for r in runs]}


def entry(
    name: str, db: str, rows: int, value: float, unit: str, baseline: str, baseline_value: float, target: str
) -> dict[str, Any]:
    ratio = value / baseline_value if baseline_value else 0.0
    return {
        "name": name,
        "database": db,
        "rows": rows,
        "value": round(value, 2),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": round(baseline_value, 2),
        "ratio": round(ratio, 3),
        "target": target,
    }


def met(e: dict[str, Any]) -> bool:
    op, _, number = e["target"].partition(" ")
    return e["ratio"] >= float(number) if op == ">=" else e["ratio"] <= float(number)


def bench_database(vendor: str, rows: int, work: Path, pg_admin: str | None, skip_peer: bool) -> list[dict[str, Any]]:
    from .generate import write_sheet

    db = Database(vendor, work, pg_admin)
    tpl = db.create("template")
    communities = run("setup", tpl, work)["communities"]
    sheet = work / f"establishments-{rows}.xlsx"
    if not sheet.exists():
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.config.settings.local")
        write_sheet(sheet, rows, communities)
    print(f"  [{vendor}] sheet {sheet.name}: {sheet.stat().st_size / 2**20:.1f} MiB", flush=True)

    # Raw and engine alternate, best of REPEAT each, so that a burst of load on the machine hits both alike.
    raw_runs: list[dict[str, Any]] = []
    our_runs: list[dict[str, Any]] = []
    for i in range(REPEAT):
        last = i == REPEAT - 1  # memory sampled in the last pair only
        url = db.create("raw", "template")
        db.settle(drop=("engine",))
        raw_runs.append(run("raw_import", url, work, "--file", str(sheet), sample=last))
        url = db.create("engine", "template")
        db.settle(drop=("raw",))
        our_runs.append(run("engine_import", url, work, "--file", str(sheet), sample=last))
    raw, ours = _best(raw_runs), _best(our_runs)
    print(f"  [{vendor}] raw calamine → {'COPY' if vendor == 'postgresql' else 'executemany'}: {raw['runs']} s", flush=True)
    print(f"  [{vendor}] engine (validated): {ours['runs']} s", flush=True)
    # Not a target: how long the database alone takes to write what the engine writes (prepared rows, no reading).
    url = db.create("floor", "template")
    db.settle()
    floor = run("write_floor", url, work, "--file", str(sheet))
    db.settle(drop=("floor",))
    print(
        f"  [{vendor}] the table's own write cost (prepared rows only: store, events, tallies, commit): "
        f"{floor['seconds']:.1f} s = {floor['seconds'] / raw['seconds']:.2f}× the whole raw pipeline",
        flush=True,
    )
    peer = None
    if not skip_peer:
        url = db.create("peer", "template")
        db.settle()
        peer = run("iex_import", url, work, "--file", str(sheet))
        db.settle(drop=("peer",))
        print(f"  [{vendor}] django-import-export: {peer['seconds']:.1f} s (once: it is the slow one)", flush=True)

    exports: dict[tuple[str, int], dict[str, Any]] = {}
    small = max(1, rows // 10)
    for limit in (small, rows):
        results: dict[str, list[dict[str, Any]]] = {"xlsxwriter_export": [], "engine_export": []}
        for _ in range(REPEAT):
            for what, runs in results.items():
                out_file = str(work / f"{what}-{limit}.xlsx")
                db.settle()
                runs.append(run(what, db.url("engine"), work, "--file", out_file, "--limit", str(limit)))
        for what, runs in results.items():
            exports[(what, limit)] = _best(runs)
            print(f"  [{vendor}] {what} {limit}: {exports[(what, limit)]['runs']} s", flush=True)

    raw_name = (
        "raw pipeline: python-calamine → "
        + ("psycopg COPY" if vendor == "postgresql" else "sqlite3 executemany INSERT")
        + ", no validation"
    )
    out = [
        entry(
            "import.establishments.throughput",
            vendor,
            rows,
            ours["rows"] / ours["seconds"],
            "rows/s",
            raw_name,
            raw["rows"] / raw["seconds"],
            ">= 0.4",
        ),
    ]
    if peer is not None:
        out.append(
            entry(
                "import.establishments.vs_django_import_export",
                vendor,
                rows,
                ours["rows"] / ours["seconds"],
                "rows/s",
                "django-import-export 4 (use_bulk, batch 5000, skip_diff, force_init_instance, cached FKs)",
                peer["rows"] / peer["seconds"],
                ">= 6",
            )
        )
    out.append(
        entry(
            "import.establishments.peak_memory",
            vendor,
            rows,
            ours["maxrss_mb"],
            "MB (peak while running: own RSS high-water mark, or the sampled PSS of the process and its reader process)",
            raw_name,
            raw["maxrss_mb"],
            "<= 1.5",
        )
    )
    out.append(
        entry(
            "import.establishments.memory_growth",
            vendor,
            rows,
            ours["maxrss_mb"] - ours["rss_start_mb"],
            "MB (that peak − RSS at start)",
            raw_name,
            raw["maxrss_mb"] - raw["rss_start_mb"],
            "<= 1.5",
        )
    )
    big_ours, big_x = exports[("engine_export", rows)], exports[("xlsxwriter_export", rows)]
    out.append(
        entry(
            "export.establishments.throughput",
            vendor,
            rows,
            big_ours["rows"] / big_ours["seconds"],
            "rows/s",
            "the same rows (same selector, decryption, masking) → xlsxwriter constant_memory",
            big_x["rows"] / big_x["seconds"],
            ">= 1.0",
        )
    )
    small_ours = exports[("engine_export", small)]
    out.append(
        entry(
            "export.establishments.memory_flat",
            vendor,
            rows,
            big_ours["maxrss_mb"],
            "MB (peak RSS while running)",
            f"the same export of {small} rows",
            small_ours["maxrss_mb"],
            "<= 1.1",
        )
    )
    db.drop_all(["template", "raw", "engine", "peer", "floor"])
    return out


def print_table(entries: list[dict[str, Any]]) -> None:
    print()
    print(f"{'figure':48} {'db':10} {'rows':>7} {'value':>12} {'baseline':>12} {'ratio':>7} {'target':>7}  result")
    for e in entries:
        print(
            f"{e['name']:48} {e['database']:10} {e['rows']:>7} {e['value']:>12,.1f} {e['baseline_value']:>12,.1f} {e['ratio']:>7.2f} "
            f"{e['target']:>7}  {'met' if met(e) else 'MISSED'}"
        )
    print()
    for e in entries:
        print(f"  {e['name']} [{e['database']}]: {e['unit']}; baseline = {e['baseline']}")


def save(entries: list[dict[str, Any]]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    try:
        existing = json.loads(RESULTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        existing = []
    keys = {(e["name"], e["database"]) for e in entries}
    kept = [e for e in existing if isinstance(e, dict) and (e.get("name"), e.get("database")) not in keys]
    RESULTS.write_text(json.dumps(kept + entries, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", "200000")))
    parser.add_argument("--databases", default=os.environ.get("BENCH_DATABASES", "sqlite,postgresql"))
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    info = machine(args.pg if "postgresql" in args.databases else None)
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    entries: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="taizhang-bench-") as tmp:
        work = Path(tmp)
        for vendor in [v.strip() for v in args.databases.split(",") if v.strip()]:
            if vendor == "postgresql" and info.get("postgresql", "").startswith("unavailable"):
                print(f"  [postgresql] skipped: {info['postgresql']} at {args.pg} (set BENCH_PG_URL)", flush=True)
                continue
            entries += bench_database(vendor, args.rows, work, args.pg if vendor == "postgresql" else None, args.skip_peer)
    print_table(entries)
    save([{**e, "machine": info} for e in entries])
    print(f"written {RESULTS.relative_to(ROOT)}")
    # The other benchmarks append their own entries to the same file (BENCH_SKIP=problem_api,dashboard skips them).
    skip = {s.strip() for s in os.environ.get("BENCH_SKIP", "").split(",")}
    if "problem_api" not in skip:
        subprocess.run([sys.executable, "-m", "bench.bench_problem_api"], cwd=ROOT, check=True)
    if "dashboard" not in skip:
        scale = os.environ.get("BENCH_CITY_SCALE", "1.0")
        subprocess.run([sys.executable, "-m", "bench.bench_dashboard", "--scale", scale], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
