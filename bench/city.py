"""A city-scale data set for the dashboard benchmark, generated inside PostgreSQL (INSERT … SELECT over
generate_series: no rows travel through Python).

    python -m bench.city generate --url postgres://…/bench_tz_city --scale 1.0
    python -m bench.city rebuild  --url …
    python -m bench.city measure  --url … --runs 50 --raw-runs 10

At scale 1.0 (issue 8): the NBS tree of Anyang plus 9 districts × 12 sub-districts × 30 communities × 5 grids
(16,200 grids), 1,000,000 establishments (≈70% resumed), 1,000,000 problems with 10 events each (10,000,000
ProblemEvent rows, the real table), 50,000 filings, a running campaign over every tenth establishment with a
visit to two of three targets. Rows use the application's own tables, so that the rollups rebuild and the
dashboard read what the application would. Every count scales linearly with --scale.

Each sub-command runs in its own process with DATABASE_URL set by the caller (bench/bench_dashboard.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import date
from typing import Any

AS_OF = date(2020, 7, 17)  # the data's last day: problems were reported over the 180 days before it
SPAN_DAYS = 180
EVENTS_PER_PROBLEM = 10


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.config.settings.local")
    import django

    django.setup()


def shape(scale: float) -> dict[str, int]:
    big = scale >= 0.1
    districts, subs = (9, 12) if big else (3, 4)
    communities = max(1, round(3240 * scale / (districts * subs)))
    return {
        "districts": districts,
        "subdistricts": subs,
        "communities": communities,
        "grids": 5,
        "establishments": max(1000, round(1_000_000 * scale)),
        "problems": max(1000, round(1_000_000 * scale)),
        "filings": max(50, round(50_000 * scale)),
        "units": 200 if big else 40,
    }


def _exec(cur: Any, sql: str, params: Any = None, label: str = "") -> float:
    t0 = time.perf_counter()
    cur.execute(sql, params)
    seconds = time.perf_counter() - t0
    if label:
        print(f"    {label}: {seconds:.1f} s", flush=True)
    return seconds


def _drop_indexes(cur: Any, table: str) -> list[tuple[str, str]]:
    """Drop a table's secondary indexes before a bulk load (one sort per index afterwards is much faster than
    maintaining five B-trees row by row); returns their definitions for _restore_indexes()."""
    cur.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname "
        "JOIN pg_index x ON x.indexrelid = c.oid WHERE i.tablename = %s AND NOT x.indisprimary AND NOT x.indisunique",
        [table],
    )
    definitions = list(cur.fetchall())
    for name, _definition in definitions:
        cur.execute(f'DROP INDEX "{name}"')
    return definitions


def _restore_indexes(cur: Any, table: str, definitions: list[tuple[str, str]]) -> None:
    t0 = time.perf_counter()
    for _name, definition in definitions:
        cur.execute(definition)
    print(f"    {len(definitions)} indexes of {table} built: {time.perf_counter() - t0:.1f} s", flush=True)


def generate(scale: float) -> dict[str, Any]:
    """Migrate, write the reference rows with the ORM and the bulk rows with SQL; returns the counts."""
    _django()
    from django.core.management import call_command
    from django.db import connection

    from taizhang.accounts.models import OrgUnit, Post, User
    from taizhang.core.roles import Role
    from taizhang.filings.models import FilingTemplate
    from taizhang.industries.models import ServiceCategory
    from taizhang.inspections.models import TemplateVersion
    from taizhang.problems.defaults import ensure_default_categories
    from taizhang.problems.models import ProblemCategory
    from taizhang.regions.models import Region
    from taizhang.regions.services import load_nbs_divisions

    started = time.perf_counter()
    s = shape(scale)
    call_command("migrate", verbosity=0, interactive=False)
    load_nbs_divisions()
    ensure_default_categories()
    city = Region.objects.get(code="410500000000")
    majors = [ServiceCategory.objects.create(code=f"B{m:02d}", name=f"大类{m}", level="major", sort=m) for m in range(1, 18)]
    for i in range(81):
        ServiceCategory.objects.create(
            code=f"B{i % 17 + 1:02d}{i:02d}", name=f"小类{i}", level="minor", parent=majors[i % 17], sort=i
        )
    command = OrgUnit.objects.create(code="BENCH-ZHB", name="市指挥部", kind=OrgUnit.Kind.COMMAND, region=city)
    for u in range(s["units"]):
        OrgUnit.objects.create(
            code=f"BENCH-U{u:04d}", name=f"承办单位{u}", kind=OrgUnit.Kind.DEPARTMENT, region=city, parent=command
        )
    team = OrgUnit.objects.create(
        code="BENCH-TEAM", name="日常巡查组", kind=OrgUnit.Kind.INSPECTION_TEAM, region=city, parent=command
    )
    user = User.objects.create_user(username="bench", password=None, display_name="基准测试")
    Post.objects.create(user=user, unit=command, region=city, role=Role.LEADER, valid_from=date(2020, 1, 1))
    filing_template = FilingTemplate.objects.order_by("id").first()
    version = TemplateVersion.objects.filter(published_at__isnull=False).order_by("id").first()
    if filing_template is None or version is None:
        raise SystemExit("the shipped filing templates and checklists are missing (migrations 0002)")
    from taizhang.establishments.models import EstablishmentKind

    kind_id = EstablishmentKind.objects.order_by("id").values_list("id", flat=True).first()
    if kind_id is None:
        raise SystemExit("the shipped establishment kinds are missing (migration 0002)")
    problem_categories = list(ProblemCategory.objects.order_by("id").values_list("id", flat=True))
    print(f"  reference rows: {time.perf_counter() - started:.1f} s", flush=True)

    n_est, n_prob = s["establishments"], s["problems"]
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET work_mem = '256MB'")
        cur.execute("SET maintenance_work_mem = '1GB'")
        # --- the region tree below the city ------------------------------------------------------------
        _exec(
            cur,
            """
            INSERT INTO regions_region (created_at, updated_at, code, name, short_name, level, parent_id, path, depth, is_local, source)
            SELECT now(), now(), c, '基准区' || d, '', 'district', %(city)s, %(path)s || c || '/', 2, false, 'bench'
            FROM generate_series(60, 60 + %(n)s - 1) d, LATERAL (SELECT '4105' || lpad(d::text, 2, '0') || '000000' AS c) x
        """,
            {"city": city.pk, "path": city.path, "n": s["districts"]},
        )
        _exec(
            cur,
            """
            INSERT INTO regions_region (created_at, updated_at, code, name, short_name, level, parent_id, path, depth, is_local, source)
            SELECT now(), now(), c, r.name || '街道' || k, '', 'subdistrict', r.id, r.path || c || '/', 3, false, 'bench'
            FROM regions_region r, generate_series(1, %(n)s) k,
                 LATERAL (SELECT substr(r.code, 1, 6) || lpad(k::text, 3, '0') || '000' AS c) x
            WHERE r.source = 'bench' AND r.level = 'district'
        """,
            {"n": s["subdistricts"]},
        )
        _exec(
            cur,
            """
            INSERT INTO regions_region (created_at, updated_at, code, name, short_name, level, parent_id, path, depth, is_local, source)
            SELECT now(), now(), c, r.name || '社区' || k, '', 'community', r.id, r.path || c || '/', 4, false, 'bench'
            FROM regions_region r, generate_series(1, %(n)s) k,
                 LATERAL (SELECT substr(r.code, 1, 9) || lpad(k::text, 3, '0') AS c) x
            WHERE r.source = 'bench' AND r.level = 'subdistrict'
        """,
            {"n": s["communities"]},
        )
        _exec(
            cur,
            """
            INSERT INTO regions_region (created_at, updated_at, code, name, short_name, level, parent_id, path, depth, is_local, source)
            SELECT now(), now(), c, '第' || k || '网格', '', 'grid', r.id, r.path || c || '/', 5, true, 'bench'
            FROM regions_region r, generate_series(1, %(n)s) k, LATERAL (SELECT r.code || 'G' || lpad(k::text, 3, '0') AS c) x
            WHERE r.source = 'bench' AND r.level = 'community'
        """,
            {"n": s["grids"]},
        )
        cur.execute(
            "CREATE TEMP TABLE g AS SELECT (row_number() OVER (ORDER BY id) - 1)::int AS i, id, path FROM regions_region "
            "WHERE source = 'bench' AND level = 'grid'"
        )
        cur.execute("CREATE UNIQUE INDEX ON g (i)")
        cur.execute("SELECT count(*) FROM g")
        n_grids = cur.fetchone()[0]
        cur.execute(
            "CREATE TEMP TABLE c AS SELECT (row_number() OVER (ORDER BY id) - 1)::int AS i, id FROM industries_servicecategory "
            "WHERE level = 'minor' AND code LIKE 'B%%'"
        )
        cur.execute(
            "CREATE TEMP TABLE u AS SELECT (row_number() OVER (ORDER BY id) - 1)::int AS i, id FROM accounts_orgunit "
            "WHERE code LIKE 'BENCH-U%%'"
        )

        # --- establishments ------------------------------------------------------------------------------
        deferred = _drop_indexes(cur, "establishments_establishment")
        _exec(
            cur,
            """
            INSERT INTO establishments_establishment (created_at, updated_at, credit_code, name, name_initials, kind_id, category_id,
                industry_id, region_id, region_path, road_section_id, address, legal_representative, contact_name, contact_mobile,
                contact_mobile_bidx, employees, above_size, key_target, status, status_since, resumed_on, version, created_by_id)
            SELECT now(), now(), NULL, '基准单位' || s, 'jzdw', %(kind)s, c.id, NULL, g.id, g.path, NULL, '', '', '', '', '',
                   s %% 50, s %% 197 = 0, false, st, date '2020-01-20', CASE WHEN st = 'resumed' THEN date '2020-02-10' + (s %% 60)::int END, 1, NULL
            FROM generate_series(1::bigint, %(n)s::bigint) s
            JOIN g ON g.i = (s * 7919) %% %(ng)s
            JOIN c ON c.i = (s * 31) %% 81,
            LATERAL (SELECT CASE WHEN (s * 37) %% 1000 < 700 THEN 'resumed' WHEN (s * 37) %% 1000 < 760 THEN 'filing'
                                 WHEN (s * 37) %% 1000 < 800 THEN 'approved' WHEN (s * 37) %% 1000 < 850 THEN 'suspended'
                                 WHEN (s * 37) %% 1000 < 990 THEN 'not_resumed' ELSE 'closed' END AS st) x
        """,
            {"kind": kind_id, "n": n_est, "ng": n_grids},
            label=f"{n_est:,} establishments",
        )
        _restore_indexes(cur, "establishments_establishment", deferred)
        cur.execute(
            "CREATE TEMP TABLE e AS SELECT (row_number() OVER (ORDER BY id) - 1)::int AS i, id, region_id, region_path, status "
            "FROM establishments_establishment"
        )
        cur.execute("CREATE UNIQUE INDEX ON e (i)")

        # --- problems and their events --------------------------------------------------------------------
        cats = "ARRAY[" + ",".join(str(c) for c in problem_categories) + "]::bigint[]"
        deferred = _drop_indexes(cur, "problems_problem")
        _exec(
            cur,
            f"""
            INSERT INTO problems_problem (code, source, category_id, establishment_id, region_id, region_path, description, severity,
                reporter_id, contact_name, contact_phone, contact_email, address, state, state_changed_at, unit_id, assignee_id, due_at,
                overdue_since, escalation_level, escalated_unit_id, next_escalation_at, rectification, rectification_due,
                rectification_overdue_notified, resolved_at, resolved_by_unit_id, verifier_unit_id, verified_at, closed_at, merged_into_id,
                version, idempotency_key, external_ref, created_at, updated_at)
            SELECT 'B-' || s, 'visit', ({cats})[1 + s %% {len(problem_categories)}], e.id, e.region_id, e.region_path, '基准问题', 'normal',
                   NULL, '', '', '', '', st, created, u.id, NULL, created + interval '3 days',
                   CASE WHEN st IN ('reported','assigned','in_progress','returned','reopened') AND s %% 3 = 0
                        AND created + interval '3 days' < timestamptz '{AS_OF.isoformat()} 00:00+08' THEN created + interval '3 days 1 hour' END,
                   0, NULL, NULL, '', NULL, false,
                   CASE WHEN st IN ('resolved','verified','closed') THEN created + ((s %% 5) || ' days')::interval END,
                   NULL, NULL, NULL, NULL, NULL, 1, NULL, '', created, created
            FROM generate_series(1::bigint, %(n)s::bigint) s
            JOIN e ON e.i = (s * 104729) %% %(ne)s
            JOIN u ON u.i = (s * 13) %% %(nu)s,
            LATERAL (SELECT timestamptz '{AS_OF.isoformat()} 18:00+08' - ((s %% {SPAN_DAYS}) || ' days')::interval
                            - (((s * 7) %% 600) || ' minutes')::interval AS created,
                            CASE WHEN s %% 100 < 5 THEN 'reported' WHEN s %% 100 < 15 THEN 'assigned' WHEN s %% 100 < 30 THEN 'in_progress'
                                 WHEN s %% 100 < 32 THEN 'returned' WHEN s %% 100 < 35 THEN 'reopened' WHEN s %% 100 < 45 THEN 'resolved'
                                 WHEN s %% 100 < 60 THEN 'verified' ELSE 'closed' END AS st) x
        """,
            {"n": n_prob, "ne": n_est, "nu": s["units"]},
            label=f"{n_prob:,} problems",
        )
        _restore_indexes(cur, "problems_problem", deferred)
        deferred = _drop_indexes(cur, "problems_problemevent")
        _exec(
            cur,
            """
            INSERT INTO problems_problemevent (problem_id, at, kind, actor_id, actor_name, unit_id, from_state, to_state, note, data)
            SELECT p.id,
                   CASE WHEN k = 9 AND p.resolved_at IS NOT NULL THEN p.resolved_at ELSE p.created_at + (k || ' hours')::interval END,
                   CASE k WHEN 1 THEN 'reported' WHEN 2 THEN 'routed' WHEN 3 THEN 'accepted' WHEN 5 THEN 'task_added'
                          WHEN 6 THEN 'task_replied'
                          WHEN 9 THEN CASE WHEN p.resolved_at IS NOT NULL THEN 'resolved' ELSE 'comment' END
                          WHEN 10 THEN CASE WHEN p.state = 'closed' THEN 'closed' ELSE 'comment' END
                          ELSE 'comment' END,
                   NULL, '', p.unit_id, '', '', '', '{}'::jsonb
            FROM problems_problem p CROSS JOIN generate_series(1, %(k)s) k
        """,
            {"k": EVENTS_PER_PROBLEM},
            label=f"{n_prob * EVENTS_PER_PROBLEM:,} problem events",
        )
        _restore_indexes(cur, "problems_problemevent", deferred)

        # --- filings, a campaign, visits --------------------------------------------------------------------
        _exec(
            cur,
            """
            INSERT INTO filings_filing (created_at, updated_at, establishment_id, template_id, state, version, revision, planned_date,
                answers_data, submitted_at, due_at, overdue_flagged_at, reviewer_unit_id, decided_at, decided_by_id, created_by_id)
            SELECT now(), now(), e.id, %(tpl)s, st, 1, 1, date '2020-03-01', '',
                   CASE WHEN st <> 'draft' THEN timestamptz '2020-02-20 10:00+08' END,
                   CASE WHEN st <> 'draft' THEN timestamptz '2020-02-22 18:00+08' END,
                   CASE WHEN st = 'submitted' AND e.i %% 4 = 0 THEN timestamptz '2020-02-23 09:00+08' END, NULL, NULL, NULL, NULL
            FROM e, LATERAL (SELECT CASE e.status WHEN 'filing' THEN CASE WHEN e.i %% 3 = 0 THEN 'draft' ELSE 'submitted' END
                                                  WHEN 'not_resumed' THEN 'returned' ELSE 'approved' END AS st) x
            WHERE e.i %% (%(ne)s / %(n)s) = 0
        """,
            {"tpl": filing_template.pk, "ne": n_est, "n": s["filings"]},
            label="filings",
        )
        cur.execute(
            """
            INSERT INTO inspections_campaign (created_at, updated_at, name, description, version_id, unit_id, region_id, standing, starts_on,
                ends_on, rule, share, state, started_at, closed_at, created_by_id)
            VALUES (now(), now(), '复工单位日常巡查', '', %s, %s, %s, true, date '2020-03-01', NULL, '{}'::jsonb, 'region', 'active', now(),
                NULL, %s) RETURNING id
        """,
            [version.pk, command.pk, city.pk, user.pk],
        )
        campaign_id = cur.fetchone()[0]
        _exec(
            cur,
            """
            INSERT INTO inspections_campaigntarget (campaign_id, establishment_id, region_id, region_path, team_id, active, added_at,
                removed_at, covered_at, last_visit_at, last_result, visits_count, findings_count)
            SELECT %(c)s, e.id, e.region_id, e.region_path, %(team)s, true, timestamptz '2020-03-01 08:00+08', NULL,
                   CASE WHEN e.i %% 3 <> 0 THEN timestamptz '{d} 09:00+08' - ((e.i %% 60) || ' days')::interval END,
                   CASE WHEN e.i %% 3 <> 0 THEN timestamptz '{d} 09:00+08' - ((e.i %% 60) || ' days')::interval END,
                   CASE WHEN e.i %% 3 <> 0 THEN 'passed' ELSE '' END, (e.i %% 3 <> 0)::int, 0
            FROM e WHERE e.i %% 10 = 0 AND e.status = 'resumed'
        """.replace("{d}", AS_OF.isoformat()),
            {"c": campaign_id, "team": team.pk},
            label="campaign targets",
        )
        _exec(
            cur,
            """
            INSERT INTO inspections_visit (key, kind, version_id, campaign_id, target_id, subject_type, establishment_id, region_id,
                region_path, place, unit_id, created_by_id, extra_people, staff_count, visited_at, created_at, result, failed_count,
                helped, help_note, note)
            SELECT 'bench-' || t.id, 'inspection', %(v)s, t.campaign_id, t.id, 'establishment', t.establishment_id, t.region_id,
                   t.region_path, '', %(team)s, %(user)s, 0, 1 + t.id %% 3, t.covered_at, t.covered_at, 'passed', 0, t.id %% 7 = 0, '', ''
            FROM inspections_campaigntarget t WHERE t.covered_at IS NOT NULL
        """,
            {"v": version.pk, "team": team.pk, "user": user.pk},
            label="visits",
        )
        _exec(cur, "ANALYZE", label="analyze")
    counts: dict[str, Any] = {}
    with connection.cursor() as cur:
        for table in (
            "regions_region",
            "establishments_establishment",
            "problems_problem",
            "problems_problemevent",
            "filings_filing",
            "inspections_campaigntarget",
            "inspections_visit",
        ):
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
        cur.execute("SELECT pg_database_size(current_database())")
        counts["database_bytes"] = cur.fetchone()[0]
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def rebuild() -> dict[str, Any]:
    _django()
    from taizhang.rollups.services import rebuild as do_rebuild

    result = do_rebuild(as_of=AS_OF)
    return {"tallies": result.tallies, "flows": result.flows, "members": result.members, "seconds": round(result.seconds, 1)}


def measure(runs: int, raw_runs: int, seed: int = 8) -> dict[str, Any]:
    """p50/p95 of the dashboard's selector calls (rollups) and of the same figures by GROUP BY over the base rows,
    for regions drawn in turn from each level (city, district, sub-district, community); numbers asserted equal."""
    _django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from taizhang.dashboards.scope import Part, View
    from taizhang.dashboards.selectors import numbers, raw_numbers
    from taizhang.regions.models import Region

    rng = random.Random(seed)
    city = Region.objects.get(code="410500000000")
    levels = {
        "city": [city],
        "district": list(Region.objects.filter(source="bench", level="district")),
        "subdistrict": list(Region.objects.filter(source="bench", level="subdistrict")),
        "community": list(Region.objects.filter(source="bench", level="community")),
    }
    order = list(levels)
    today = timezone.localdate()

    def view(r: Region) -> View:
        parts = (Part(r.path, r.depth),)
        return View(r, (r,), parts, parts, parts, parts, parts, parts)

    samples = [rng.choice(levels[order[i % len(order)]]) for i in range(runs)]
    for r in samples[:4]:  # warm the caches the same way for both sides
        numbers(view(r), on=AS_OF, today=today)
    fast: list[tuple[str, float]] = []
    queries = 0
    for r in samples:
        t0 = time.perf_counter()
        numbers(view(r), on=AS_OF, today=today)
        fast.append((r.level, time.perf_counter() - t0))
    for r in samples[: len(order)]:
        with CaptureQueriesContext(connection) as captured:
            numbers(view(r), on=AS_OF, today=today)
        queries = max(queries, len(captured.captured_queries))
    raw: list[tuple[str, float]] = []
    mismatches = []
    for r in samples[:raw_runs]:
        t0 = time.perf_counter()
        expected = raw_numbers(r.path, r.depth, on=AS_OF, today=today)
        raw.append((r.level, time.perf_counter() - t0))
        got = numbers(view(r), on=AS_OF, today=today)
        if got.comparable() != expected.comparable():
            mismatches.append(r.path)
    if mismatches:
        raise SystemExit(f"rollups differ from the direct count for {mismatches[:5]}")

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]

    per_level = {
        level: {
            "fast_ms": round(statistics.median([t for lv, t in fast if lv == level]) * 1000, 1),
            "raw_ms": round(statistics.median([t for lv, t in raw if lv == level]) * 1000, 1)
            if any(lv == level for lv, _ in raw)
            else None,
        }
        for level in order
    }
    return {
        "runs": runs,
        "raw_runs": len(raw),
        "fast_p50_ms": round(pct([t for _, t in fast], 0.5) * 1000, 2),
        "fast_p95_ms": round(pct([t for _, t in fast], 0.95) * 1000, 2),
        "raw_p50_ms": round(pct([t for _, t in raw], 0.5) * 1000, 2),
        "raw_p95_ms": round(pct([t for _, t in raw], 0.95) * 1000, 2),
        "per_level": per_level,
        "max_queries": queries,
        "checked_equal": len(raw),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.city")
    parser.add_argument("what", choices=["generate", "rebuild", "measure"])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--raw-runs", type=int, default=12)
    args = parser.parse_args(argv)
    if args.what == "generate":
        result = generate(args.scale)
    elif args.what == "rebuild":
        result = rebuild()
    else:
        result = measure(args.runs, args.raw_runs)
    print("RESULT " + json.dumps(result, ensure_ascii=False, default=str), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
