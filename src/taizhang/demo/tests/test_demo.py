from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.core.roles import ALL_ROLES, Role
from taizhang.dashboards.models import DailyReport
from taizhang.demo import scenario
from taizhang.establishments.models import Establishment, Status
from taizhang.filings.models import Filing
from taizhang.filings.models import State as FilingState
from taizhang.inspections.models import Visit
from taizhang.problems.models import OPEN_STATES, Problem
from taizhang.regions.models import Level, Region
from taizhang.rollups.models import RollupState


def test_demo_builds_the_article_scenario(db, tmp_path):
    ctx = scenario.build(today=date(2020, 3, 19))
    path = scenario.write_logins(ctx, tmp_path)
    logins = json.loads(path.read_text(encoding="utf-8"))
    assert OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT).count() == 16
    assert OrgUnit.objects.filter(kind=OrgUnit.Kind.INSPECTION_TEAM).count() == 7
    ziwei = Region.objects.get(name="紫薇大道街道")
    communities = Region.objects.filter(parent=ziwei)
    assert communities.count() == 11
    assert all(c.children.filter(level=Level.GRID).exists() for c in communities)
    guanyuan = Region.objects.get(short_name="官园社区")
    assert Region.objects.subtree(guanyuan).filter(level=Level.COMPOUND).count() == 39
    assert Region.objects.subtree(guanyuan).filter(level=Level.UNIT).count() == 120
    # every role except the enterprise contact (added with the establishments) has a login
    assert set(logins) >= ALL_ROLES - {Role.ENTERPRISE}
    for role in (Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY):
        scopes = {e["scope"] for e in logins[role]}
        assert len(logins[role]) >= 2
        assert len(scopes) >= 2
    for role in (Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR):
        assert len(logins[role][0]["totp_secret"]) == 32
    assert isinstance(logins["open311_api_key"], str)
    for entries in logins.values():
        if not isinstance(entries, list):
            continue
        for e in entries:
            assert User.objects.get(username=e["username"]).check_password(e["password"])
    # the README's shared demo password works without a forced change (docs/adr/0012-must-change-password.md)
    assert not User.objects.filter(must_change_password=True).exists()


# Deadlines and plans lie ahead of today by design; every other date and time the scenario holds is in its past.
AHEAD = {"due_at", "next_escalation_at", "rectification_due", "planned_date", "ends_on", "valid_to", "expires_at"}
# Stamped by the build itself: when the configuration, the people and the audit trail were entered (now, not in the story).
BUILD_STAMPS = {"created_at", "updated_at", "date_joined", "rebuilt_at", "at"}
CONFIGURATION = {
    "accounts.OrgUnit",
    "accounts.Post",
    "accounts.User",
    "audit.AuditEvent",
    "dashboards.ReportTemplate",
    "duties.Assignment",
    "establishments.EnterpriseAccount",
    "filings.FilingTemplate",
    "industries.ServiceCategory",
    "inspections.ChecklistTemplate",
    "problems.Open311Client",
    "problems.Open311Service",
    "problems.ServiceAttribute",
    "regions.Region",
    "regions.RoadSection",
    "rollups.RollupState",
}


def _latest(*, story_only: bool = False) -> dict[str, Any]:
    """The latest value of every date and time field of the project's models (but deadlines and plans; with
    `story_only`, but the build's own stamps on configuration records too)."""
    out: dict[str, Any] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("taizhang."):
            continue
        for f in model._meta.concrete_fields:
            if not isinstance(f, models.DateField) or f.name in AHEAD:
                continue
            if story_only and model._meta.label in CONFIGURATION and f.name in BUILD_STAMPS:
                continue
            value = model._default_manager.aggregate(m=Max(f.name))["m"]
            if value is not None:
                out[f"{model._meta.label}.{f.name}"] = value
    return out


def _shape(ctx: scenario.Context) -> dict[str, Any]:
    today, now = ctx.today, ctx.now
    problems = Problem.objects.filter(state__in=OPEN_STATES)
    waiting = Filing.objects.filter(state=FilingState.SUBMITTED)
    return {
        "open": problems.count(),
        "open_overdue": problems.filter(due_at__lt=now).count() / problems.count(),
        "open_flagged": problems.filter(overdue_since__isnull=False).count() / problems.count(),
        "waiting": waiting.count(),
        "waiting_overdue": waiting.filter(due_at__lt=now).count() / waiting.count(),
        "waiting_flagged": waiting.filter(overdue_flagged_at__isnull=False).count() / waiting.count(),
        "reported_this_week": Problem.objects.filter(created_at__gt=now - timedelta(days=7)).count(),
        "visits_this_week": Visit.objects.filter(visited_at__gt=now - timedelta(days=7)).count(),
        "resumed": Establishment.objects.filter(status=Status.RESUMED, resumed_on__lte=today).count(),
        "as_of": RollupState.objects.get(pk=1).as_of,
    }


def _in_the_past(latest: dict[str, Any], *, now: datetime, today: date) -> list[tuple[str, Any]]:
    """The fields whose latest value is later than `now` (times) or `today` (dates)."""
    return [(k, v) for k, v in latest.items() if (v > now if isinstance(v, datetime) else v > today)]


def _build(today: date) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """Build the scenario for `today` in a savepoint that is rolled back: its shape and what is dated too late."""
    with transaction.atomic():
        ctx = scenario.build(today=today)
        shape, late = _shape(ctx), _in_the_past(_latest(story_only=True), now=ctx.now, today=today)
        transaction.set_rollback(True)
    return shape, late


def test_the_scenario_keeps_its_shape_on_another_today(db):
    """The article's days moved to another today (a Thursday like 2020-03-19, so that the working-day deadlines
    fall alike): the same shares of open problems and waiting filings past their deadlines, as much reported and
    inspected in the last week, the same establishments resumed — and nothing in the story dated after it."""
    article, article_late = _build(date(2020, 3, 19))
    moved, moved_late = _build(date(2026, 11, 26))
    assert article_late == [] and moved_late == []
    assert article["as_of"] == date(2020, 3, 19) and moved["as_of"] == date(2026, 11, 26)
    assert moved["resumed"] == article["resumed"]
    assert abs(moved["open"] - article["open"]) <= 0.05 * article["open"]
    assert moved["waiting"] == article["waiting"]
    for share in ("open_overdue", "open_flagged", "waiting_overdue", "waiting_flagged"):
        assert 0 < article[share] < 1, share
        assert abs(moved[share] - article[share]) <= 0.05, (share, moved[share], article[share])
    for recent in ("reported_this_week", "visits_this_week"):
        assert abs(moved[recent] - article[recent]) <= 0.1 * article[recent], (recent, moved[recent], article[recent])


def test_the_demo_command_builds_for_the_real_today(db, settings, tmp_path):
    """By default the scenario's today is the real date: live data (no as-of day on the dashboards), its first day
    59 days back, and nothing in the database — story or build — dated after today or later than the present."""
    settings.TAIZHANG_DEMO_DIR = tmp_path
    out = StringIO()
    call_command("demo", "--keep", stdout=out)
    today, present = timezone.localdate(), timezone.now()
    assert f"“今天”为 {today:%Y-%m-%d}" in out.getvalue()
    assert (tmp_path / "logins.json").exists()
    assert RollupState.objects.get(pk=1).as_of is None
    assert set(Post.objects.filter(user__username="leader").values_list("valid_from", flat=True)) == {today - timedelta(days=59)}
    assert _in_the_past(_latest(), now=present, today=today) == []
    assert Problem.objects.filter(state__in=OPEN_STATES, created_at__date=today - timedelta(days=1)).exists()
    assert Visit.objects.filter(visited_at__gt=present - timedelta(days=7)).exists()
    assert DailyReport.objects.filter(kind=DailyReport.Kind.SCHEDULED, day__gte=today - timedelta(days=1)).exists()


def test_the_demo_command_refuses_a_day_after_today(db):
    with pytest.raises(CommandError, match="不能晚于"):
        call_command("demo", "--keep", "--today", (timezone.localdate() + timedelta(days=1)).isoformat())
    with pytest.raises(CommandError, match="年-月-日"):
        call_command("demo", "--keep", "--today", "19.3.2020")
