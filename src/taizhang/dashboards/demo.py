"""The demo's dashboards: the rollups rebuilt from the bulk-written scenario, a daily report template per district,
the communities' filings of the day (most filed, some zero reports, some late, a few missing) and the day's report
generated as the scheduled job would.

A scenario built for an earlier day (`--today 2020-03-19`) describes that day: the rollups are marked as of it and
the dashboards default to it. One built for the real today is live data: nothing is marked, and what the scenario's
clock has not reached has not happened yet — before the 17:00 cut-off the communities are still filing today's
report (yesterday's is complete and generated), after it today's report is there."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from taizhang.accounts.models import Post
from taizhang.core.roles import Role
from taizhang.duties.demo import DAY_END, scenario_timestamps
from taizhang.regions.models import Level, Region
from taizhang.rollups.services import rebuild

from .models import CommunityReport, DailyReport, ReportTemplate
from .reports import cutoff_at, generate

FILED_SHARE, ZERO_SHARE = 0.78, 0.14  # the rest (about 8%) has not filed by the cut-off


def build_dashboards(ctx: Any) -> None:
    rebuild(as_of=ctx.today if ctx.today < timezone.localdate() else None)
    rng = random.Random(319)  # noqa: S311 - invented demo data
    staff = {p.region_id: p.user for p in Post.objects.filter(role=Role.COMMUNITY).select_related("user").order_by("user_id")}
    for district in (ctx.district, ctx.gaoxin):
        template = ReportTemplate.objects.create(name="信息日报", region=district, cutoff=time(17, 0))
        # the report of today once its cut-off has passed on the scenario's clock; else yesterday's, and today's filing so far
        before_cutoff = ctx.now < cutoff_at(template, ctx.today)
        days = [ctx.today - timedelta(days=1), ctx.today] if before_cutoff else [ctx.today]
        for day in days:
            cutoff = cutoff_at(template, day)
            horizon = min(ctx.now, timezone.make_aware(datetime.combine(day, DAY_END)))  # filed by then
            rows = []
            for c in Region.objects.filter(path__startswith=district.path, level=Level.COMMUNITY).order_by("path"):
                user = staff.get(c.pk)
                draw = rng.random()
                if user is None or draw > FILED_SHARE + ZERO_SHARE:
                    continue  # missing (未报)
                zero = draw > FILED_SHARE
                late = rng.random() < 0.06
                at = cutoff + timedelta(minutes=rng.randint(5, 90)) if late else cutoff - timedelta(minutes=rng.randint(20, 400))
                values = (
                    {}
                    if zero
                    else {
                        "households_visited": rng.randint(20, 260),
                        "returnees": rng.randint(0, 6),
                        "checkpoint_people": rng.randint(60, 900),
                    }
                )
                if at > horizon:
                    continue  # not filed yet
                rows.append(
                    CommunityReport(
                        template=template,
                        day=day,
                        community=c,
                        is_zero=zero,
                        values=values,
                        submitted_by=user,
                        submitted_at=at,
                        late=late,
                        note="无异常" if zero else "",
                        created_at=at,
                        updated_at=at,
                    )
                )
            with scenario_timestamps(CommunityReport):
                CommunityReport.objects.bulk_create(rows)
            if horizon >= cutoff:
                generate(template=template, day=day, kind=DailyReport.Kind.SCHEDULED, at=horizon)
