"""Creating a problem through the REST API against a raw WSGI + database app, same server, same run.

    python -m bench.bench_problem_api [--requests 2000] [--concurrency 8] [--databases sqlite,postgresql]

The figure: POST /api/v1/problems/ (token authentication, one region lookup, the problem insert, routing to a
community committee and a person, the reported + routed events, the audit row, the notification and its
delivery task, the 201 detail document) — the `problem_report` service the pages and Open311 use. A second
figure: the same through Open311 (POST /open311/v2/requests.json with an api_key and an address to place).
The baseline: a WSGI callable on psycopg (or sqlite3) that parses the same JSON body, runs one SELECT (the
region) and one INSERT (a row with the same columns of interest) in one transaction and answers 201 JSON.

Each runs under gunicorn with the same worker count (sync workers, 127.0.0.1 only) on a scratch database
(PostgreSQL: created and dropped; SQLite: a temporary file), driven by a separate Python client process: a
warm-up, then a bounded number of requests at a fixed concurrency, each stopped by a time limit (what
completed by then is what counts). Rounds alternate raw / API / Open311 to spread the machine's noise; the
median over the rounds is reported. Targets (issue 6, item 10): requests/s ≥ 50% of the raw app's, p99 ≤ 2× the raw
app's. Results go to var/bench/results.json (other benchmarks' entries are kept). A missed target is printed
as MISSED, followed by where the API's time goes (SQL statements per request and a cProfile, in process).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "var" / "bench" / "results.json"
SCRATCH = "bench_tz_problem_api"
RAW_TABLE = "bench_raw_problem"
TARGET_THROUGHPUT = 0.5
TARGET_P99 = 2.0

# --- the baseline: a raw WSGI app (gunicorn imports it: bench.bench_problem_api:raw_app) ------------------

_conn: Any = None


def _raw_connection() -> Any:
    global _conn
    if _conn is None:
        url = os.environ["BENCH_RAW_URL"]
        if url.startswith("postgres"):
            import psycopg

            _conn = psycopg.connect(url, autocommit=False)
        else:
            _conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=20, check_same_thread=False)
            _conn.execute("PRAGMA journal_mode=WAL")
            _conn.execute("PRAGMA synchronous=NORMAL")
            _conn.execute("PRAGMA foreign_keys=ON")
    return _conn


def raw_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """POST JSON {region, category, description} → SELECT the region, INSERT the row, COMMIT, 201 JSON."""
    size = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(size) or b"{}")
    conn = _raw_connection()
    now = time.time()
    if isinstance(conn, sqlite3.Connection):
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute("SELECT id, path FROM regions_region WHERE id = ?", (int(body["region"]),)).fetchone()
        cur = conn.execute(
            f"INSERT INTO {RAW_TABLE} (region_id, region_path, category, description, created_at) VALUES (?, ?, ?, ?, ?)",
            (row[0], row[1], body["category"], body["description"], now),
        )
        new_id = cur.lastrowid
        conn.execute("COMMIT")
    else:
        with conn.cursor() as cur:
            cur.execute("SELECT id, path FROM regions_region WHERE id = %s", (int(body["region"]),))
            row = cur.fetchone()
            cur.execute(
                f"INSERT INTO {RAW_TABLE} (region_id, region_path, category, description, created_at) "
                "VALUES (%s, %s, %s, %s, to_timestamp(%s)) RETURNING id",
                (row[0], row[1], body["category"], body["description"], now),
            )
            new_id = cur.fetchone()[0]
        conn.commit()
    out = json.dumps({"id": new_id, "region": row[0]}).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]


# --- set-up (in its own process, with Django) -------------------------------------------------------------


def setup() -> dict[str, Any]:
    """Migrate the scratch database and build a minimal world: the command (triage) unit, the sub-district
    office and community committee of 官园社区 with three staff, a reporter with an API token, the raw table."""
    import django

    django.setup()
    from datetime import date

    from django.core.management import call_command
    from django.db import connection

    from taizhang.accounts.models import OrgUnit, Post, User
    from taizhang.accounts.services import api_token_create
    from taizhang.core.roles import Role
    from taizhang.problems.defaults import ensure_default_categories
    from taizhang.regions.models import Region
    from taizhang.regions.services import load_nbs_divisions

    call_command("migrate", verbosity=0, interactive=False)
    load_nbs_divisions()
    ensure_default_categories()
    start = date(2020, 1, 1)
    district = Region.objects.get(code="410502000000")
    sub = Region.objects.get(name="光华路街道")
    community = Region.objects.get(short_name="官园社区")
    command = OrgUnit.objects.create(code="ZHB", name="指挥部", kind=OrgUnit.Kind.COMMAND, region=district)
    office = OrgUnit.objects.create(
        code="JD-GHL", name="光华路街道办事处", kind=OrgUnit.Kind.SUBDISTRICT_OFFICE, region=sub, parent=command
    )
    committee = OrgUnit.objects.create(
        code="SQ-GY", name="官园社区委员会", kind=OrgUnit.Kind.COMMUNITY_COMMITTEE, region=community, parent=office
    )
    for i in range(3):
        staff = User.objects.create_user(username=f"guanyuan_{i}", password=None, display_name=f"社区干部{i}")
        Post.objects.create(user=staff, unit=committee, region=community, role=Role.COMMUNITY, valid_from=start)
    reporter = User.objects.create_user(username="bench_reporter", password=None, display_name="网格员")
    Post.objects.create(user=reporter, unit=committee, region=community, role=Role.COMMUNITY, valid_from=start)
    _, key = api_token_create(user=reporter, name="bench")
    from taizhang.problems.open311.services import client_register

    open311_key = client_register(name="bench").key
    pk = "bigserial" if connection.vendor == "postgresql" else "integer"
    created = "timestamptz" if connection.vendor == "postgresql" else "real"
    with connection.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {RAW_TABLE} (id {pk} primary key, region_id bigint not null, region_path varchar(255) not null, "
            f"category varchar(32) not null, description text not null, created_at {created} not null)"
        )
    return {"token": key, "region": community.pk, "open311_key": open311_key}


def profile(requests: int, token: str, region: int) -> dict[str, Any]:
    """In-process (no server): queries per API request and the top of a cProfile of `requests` requests."""
    import cProfile
    import io
    import pstats

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    body = json.dumps(_payload(region))
    for _ in range(20):
        client.post("/api/v1/problems/", body, content_type="application/json")
    with CaptureQueriesContext(connection) as ctx:
        r = client.post("/api/v1/problems/", body, content_type="application/json")
    assert r.status_code == 201, r.content[:500]
    queries = list(ctx.captured_queries)
    kinds: dict[str, int] = {}
    for q in queries:
        word = q["sql"].split(None, 1)[0].upper()
        kinds[word] = kinds.get(word, 0) + 1
    t0 = time.perf_counter()
    for _ in range(requests):
        client.post("/api/v1/problems/", body, content_type="application/json")
    in_process_ms = (time.perf_counter() - t0) / requests * 1000
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(requests):
        client.post("/api/v1/problems/", body, content_type="application/json")
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(r"taizhang|django/db/backends|rest_framework|psycopg|sqlite3", 28)
    # Share of the request (cumulative time of each part over the handler's), from the same profile.
    parts = {
        "whole request (handler)": ("django/core/handlers/base.py", "get_response"),
        "authentication (token, scope)": ("rest_framework/views.py", "perform_authentication"),
        "input validation": ("problems/api.py", "_valid"),
        "problem_report (service)": ("problems/services.py", "problem_report"),
        "  of which routing": ("problems/routing.py", "route"),
        "201 response (built from the rows written)": ("problems/api.py", "_created"),
        "201 response (read back)": ("problems/api.py", "_detail"),
        "notification delivery task (on commit)": ("django_tasks/base.py", "enqueue"),
        "SQL execution (driver)": ("django/db/backends/utils.py", "_execute"),
    }
    raw_stats: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    found = {
        label: sum(v[3] for k, v in raw_stats.items() if k[0].endswith(f) and k[2] == fn) for label, (f, fn) in parts.items()
    }
    whole = found["whole request (handler)"] or 1.0
    breakdown = {label: round(100 * t / whole, 1) for label, t in found.items()}
    return {
        "queries": len(queries),
        "by_kind": kinds,
        "ms_per_request": in_process_ms,
        "breakdown": breakdown,
        "profile": out.getvalue()[-9000:],
    }


# --- the load generator (its own process) ----------------------------------------------------------------


def _payload(region: int) -> dict[str, Any]:
    return {"category": "other", "region": region, "description": "门店入口未设测温点，顾客未佩戴口罩", "source": "visit"}


def load(
    port: int,
    path: str,
    body: bytes,
    headers: dict[str, str],
    total: int,
    warmup: int,
    concurrency: int,
    limit: float,
    warmup_limit: float,
) -> dict[str, Any]:
    import http.client

    def one() -> tuple[int, float]:
        t0 = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            return resp.status, time.perf_counter() - t0
        finally:
            conn.close()

    def run(n: int, limit: float) -> tuple[list[float], dict[int, int], float]:
        lock = threading.Lock()
        state = {"left": n}
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        deadline = time.monotonic() + limit

        def worker() -> None:
            while time.monotonic() < deadline:
                with lock:
                    if state["left"] <= 0:
                        return
                    state["left"] -= 1
                try:
                    status, seconds = one()
                except OSError:
                    status, seconds = 0, 0.0
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    if 200 <= status < 300:
                        latencies.append(seconds)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return latencies, statuses, time.perf_counter() - t0

    run(warmup, warmup_limit)
    latencies, statuses, wall = run(total, limit)
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0.0

    return {
        "ok": len(latencies),
        "statuses": statuses,
        "seconds": wall,
        "rps": len(latencies) / wall if wall else 0.0,
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "timed_out": len(latencies) + sum(v for k, v in statuses.items() if not 200 <= k < 300) < total,
    }


# --- orchestration -----------------------------------------------------------------------------------------


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(url: str, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAIZHANG_DEBUG")}
    env.update(
        {
            "DATABASE_URL": url,
            "BENCH_RAW_URL": url,
            "TAIZHANG_VAR": str(work / "var"),
            "TAIZHANG_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "taizhang.config.settings.local",
            "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT),
        }
    )
    return env


def _sub(args: list[str], env: dict[str, str], timeout: float = 600) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_problem_api", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[7:]))
    raise SystemExit(f"{args[0]} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")


class Server:
    """gunicorn on 127.0.0.1:<free port> with `workers` sync workers; stopped (by its own pid) on exit."""

    def __init__(self, app: str, env: dict[str, str], workers: int) -> None:
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                app,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn {app} exited: {self.proc.stderr.read() if self.proc.stderr else ''}")
            with closing(socket.socket()) as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"gunicorn {app} did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _pg(admin: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql)


def machine(pg_admin: str | None) -> dict[str, str]:
    cpu = "unknown"
    with suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    import django
    import gunicorn

    info = {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "load average at start": f"{os.getloadavg()[0]:.1f}",
    }
    if pg_admin:
        try:
            import psycopg

            with psycopg.connect(pg_admin, connect_timeout=3) as conn:
                info["postgresql"] = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
                info["psycopg"] = psycopg.__version__
        except Exception as exc:
            info["postgresql"] = f"unavailable ({type(exc).__name__})"
    return info


def bench_database(vendor: str, args: argparse.Namespace, work: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    if vendor == "postgresql":
        _pg(args.pg, f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")
        _pg(args.pg, f"CREATE DATABASE {SCRATCH}")
        url = args.pg.rsplit("/", 1)[0] + "/" + SCRATCH
    else:
        url = f"sqlite:///{work / (SCRATCH + '.sqlite3')}"
    env = _env(url, work)
    try:
        world = _sub(["setup"], env)
        json_body = json.dumps(_payload(world["region"]))
        form_body = urlencode(
            {
                "api_key": world["open311_key"],
                "service_code": "other",
                "address_string": "文峰区光华路街道官园社区",
                "description": _payload(0)["description"],
            }
        )
        apps = [
            ("raw", "bench.bench_problem_api:raw_app", "/raw", {"Content-Type": "application/json"}, json_body),
            (
                "api",
                "taizhang.config.wsgi:application",
                "/api/v1/problems/",
                {"Content-Type": "application/json", "Authorization": f"Token {world['token']}"},
                json_body,
            ),
        ]
        if args.open311:
            apps.append(
                (
                    "open311",
                    "taizhang.config.wsgi:application",
                    "/open311/v2/requests.json",
                    {"Content-Type": "application/x-www-form-urlencoded"},
                    form_body,
                )
            )
        limits = [
            "--requests",
            str(args.requests),
            "--warmup",
            str(args.warmup),
            "--concurrency",
            str(args.concurrency),
            "--time-limit",
            str(args.time_limit),
            "--warmup-limit",
            str(args.warmup_limit),
        ]
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in apps}
        for i in range(args.rounds):
            for name, app, path, headers, body in apps:
                with Server(app, env, args.workers) as server:
                    r = _sub(
                        [
                            "load",
                            "--port",
                            str(server.port),
                            "--path",
                            path,
                            "--headers",
                            json.dumps(headers),
                            "--body",
                            body,
                            *limits,
                        ],
                        env,
                        timeout=args.time_limit + args.warmup_limit + 120,
                    )
                rounds[name].append(r)
                bad = {k: v for k, v in r["statuses"].items() if not 200 <= int(k) < 300}
                print(
                    f"  [{vendor}] round {i + 1} {name:7}: {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms"
                    f"  ({r['ok']} ok{', errors ' + json.dumps(bad) if bad else ''}{', time limit reached' if r['timed_out'] else ''};"
                    f" load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
        rps = {name: statistics.median(r["rps"] for r in rs) for name, rs in rounds.items()}
        p99 = {name: statistics.median(r["p99_ms"] for r in rs) for name, rs in rounds.items()}
        baseline = (
            f"raw WSGI + {'psycopg' if vendor == 'postgresql' else 'sqlite3'}: one SELECT + one INSERT per request "
            f"(same gunicorn, {args.workers} sync workers)"
        )
        entries: list[dict[str, Any]] = []
        for name, label in (("api", "problems.api.create"), ("open311", "problems.open311.create")):
            if name not in rps:
                continue
            n = sum(r["ok"] for r in rounds[name]) // len(rounds[name])
            entries.append(
                _entry(f"{label}.throughput", vendor, n, rps[name], "requests/s", baseline, rps["raw"], f">= {TARGET_THROUGHPUT}")
            )
            entries.append(
                _entry(f"{label}.p99", vendor, n, p99[name], "ms (p99 latency)", baseline, p99["raw"], f"<= {TARGET_P99}")
            )
        extra: dict[str, Any] = {}
        if args.profile or not all(_met(e) for e in entries):
            extra = _sub(
                [
                    "profile",
                    "--token",
                    world["token"],
                    "--region",
                    str(world["region"]),
                    "--requests",
                    str(args.profile_requests),
                ],
                env,
            )
        return entries, extra
    finally:
        if vendor == "postgresql":
            _pg(args.pg, f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")


def _entry(
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


def _met(e: dict[str, Any]) -> bool:
    op, _, number = e["target"].partition(" ")
    return bool(e["ratio"] >= float(number)) if op == ">=" else bool(e["ratio"] <= float(number))


def save(entries: list[dict[str, Any]]) -> None:
    """Append to var/bench/results.json, replacing this benchmark's earlier entries for the same database."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    try:
        existing = json.loads(RESULTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        existing = []
    keys = {(e["name"], e["database"]) for e in entries}
    kept = [e for e in existing if isinstance(e, dict) and (e.get("name"), e.get("database")) not in keys]
    RESULTS.write_text(json.dumps(kept + entries, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def main_run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_problem_api")
    parser.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_API_REQUESTS", "2000")))
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--time-limit", type=float, default=60.0, help="seconds per measured run (it stops there, counted honestly)"
    )
    parser.add_argument("--warmup-limit", type=float, default=15.0, help="seconds per warm-up")
    parser.add_argument("--no-open311", dest="open311", action="store_false", help="skip the Open311 POST figure")
    parser.add_argument("--databases", default=os.environ.get("BENCH_DATABASES", "sqlite,postgresql"))
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--profile", action="store_true", help="always print where the API's time goes")
    parser.add_argument("--profile-requests", type=int, default=300)
    args = parser.parse_args(argv)
    if shutil.which("gunicorn") is None and not (Path(sys.executable).parent / "gunicorn").exists():
        raise SystemExit("gunicorn is not installed in this environment")
    info = machine(args.pg if "postgresql" in args.databases else None)
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    print(
        f"load: {args.requests} requests after {args.warmup} warm-up, concurrency {args.concurrency}, gunicorn {args.workers} sync workers, "
        f"{args.rounds} alternating rounds (median reported)",
        flush=True,
    )
    entries: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="taizhang-bench-api-") as tmp:
        for vendor in [v.strip() for v in args.databases.split(",") if v.strip()]:
            if vendor == "postgresql" and info.get("postgresql", "").startswith("unavailable"):
                print(f"  [postgresql] skipped: {info['postgresql']} at {args.pg} (set BENCH_PG_URL)", flush=True)
                continue
            found, extra = bench_database(vendor, args, Path(tmp))
            entries += found
            if extra:
                print(
                    f"\n  [{vendor}] where the API's time goes: in process (no server, one connection) {extra['ms_per_request']:.1f} ms per request, "
                    f"{extra['queries']} SQL statements per request {extra['by_kind']}; cProfile, cumulative:"
                )
                print("\n".join("    " + line for line in extra["profile"].splitlines() if line.strip()))
                print(f"  [{vendor}] share of the API request's time (cProfile, cumulative):")
                for label, pct in extra["breakdown"].items():
                    print(f"    {label:42} {pct:5.1f} %")
    print()
    print(f"{'figure':34} {'db':10} {'API':>10} {'raw':>10} {'ratio':>7} {'target':>8}  result")
    for e in entries:
        print(
            f"{e['name']:34} {e['database']:10} {e['value']:>10,.1f} {e['baseline_value']:>10,.1f} {e['ratio']:>7.2f} {e['target']:>8}  "
            f"{'met' if _met(e) else 'MISSED'}"
        )
    save([{**e, "machine": info} for e in entries])
    print(f"\nwritten {RESULTS.relative_to(ROOT)}")


def main(argv: list[str]) -> None:
    if argv and argv[0] == "setup":
        print("RESULT " + json.dumps(setup()))
    elif argv and argv[0] == "profile":
        p = argparse.ArgumentParser()
        p.add_argument("what")
        p.add_argument("--token")
        p.add_argument("--region", type=int)
        p.add_argument("--requests", type=int, default=300)
        a = p.parse_args(argv)
        print("RESULT " + json.dumps(profile(a.requests, a.token, a.region)))
    elif argv and argv[0] == "load":
        p = argparse.ArgumentParser()
        p.add_argument("what")
        p.add_argument("--port", type=int)
        p.add_argument("--path")
        p.add_argument("--headers", default="{}")
        p.add_argument("--body")
        p.add_argument("--requests", type=int)
        p.add_argument("--warmup", type=int)
        p.add_argument("--concurrency", type=int)
        p.add_argument("--time-limit", type=float)
        p.add_argument("--warmup-limit", type=float)
        a = p.parse_args(argv)
        result = load(
            a.port,
            a.path,
            a.body.encode(),
            json.loads(a.headers),
            a.requests,
            a.warmup,
            a.concurrency,
            a.time_limit,
            a.warmup_limit,
        )
        print("RESULT " + json.dumps(result))
    else:
        main_run(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
