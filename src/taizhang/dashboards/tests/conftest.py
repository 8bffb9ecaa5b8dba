"""A small district with every kind of row the dashboards count: establishments in each status (one 限上), a
filing waiting past its deadline, problems open / overdue / resolved in time / late, their events, a campaign
with targets and visits. Rows the domain services would write are written directly here and the rollups rebuilt:
these tests are about what the dashboards read, not about the hooks (rollups/tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from taizhang.accounts.models import OrgUnit
from taizhang.establishments.models import Establishment, Status
from taizhang.establishments.services import establishment_transition
from taizhang.filings.models import Filing, FilingTemplate
from taizhang.inspections.models import Campaign, CampaignTarget, ChecklistTemplate, Visit
from taizhang.problems.defaults import ensure_default_categories
from taizhang.problems.models import Problem, ProblemCategory, ProblemEvent
from taizhang.rollups.services import rebuild

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2020, 3, 19)


def at(d: date, h: int = 10) -> datetime:
    return datetime(d.year, d.month, d.day, h, tzinfo=SH)


@dataclass
class DWorld:
    w: Any
    est: dict[str, Establishment] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    campaign: Campaign | None = None

    @property
    def regions(self) -> dict[str, Any]:
        return self.w.regions

    def u(self, key: str) -> Any:
        return self.w.users[key]


@pytest.fixture
def dw(world: Any) -> DWorld:
    d = DWorld(world)
    specs = [
        ("a", "光华路超市", "官园第1网格", "超市", Status.RESUMED, DAY, True),
        ("b", "官园便利店", "官园第2网格", "便利店", Status.RESUMED, DAY - timedelta(days=3), False),
        ("c", "官园辅导学校", "官园社区", "辅导学校", Status.FILING, None, False),
        ("d", "乔家巷超市", "乔家巷第1网格", "超市", Status.RESUMED, DAY - timedelta(days=10), False),
        ("e", "乔家巷便利店", "乔家巷社区", "便利店", Status.NOT_RESUMED, None, False),
        ("f", "乔家巷书店", "乔家巷社区", "辅导学校", Status.SUSPENDED, None, False),
    ]
    for key, name, place, cat, status, resumed_on, above in specs:
        kind = "tutoring" if cat == "辅导学校" else "supermarket"
        e = world.establishment(name, place, category=cat, kind=kind, above_size=above)
        path = {
            Status.RESUMED: [Status.FILING, Status.APPROVED, Status.RESUMED],
            Status.FILING: [Status.FILING],
            Status.SUSPENDED: [Status.SUSPENDED],
        }.get(status, [])
        for to in path:
            e = establishment_transition(establishment=e, to=to, actor=None, on=resumed_on if to == Status.RESUMED else None)
        d.est[key] = Establishment.objects.get(pk=e.pk)

    template = FilingTemplate.objects.filter(audience="enterprise").first() or FilingTemplate.objects.create(
        code="t", name="复工备案"
    )
    Filing.objects.create(
        establishment=d.est["c"],
        template=template,
        state="submitted",
        submitted_at=at(DAY - timedelta(days=4)),
        due_at=at(DAY - timedelta(days=2)),
        overdue_flagged_at=at(DAY - timedelta(days=1)),
    )
    Filing.objects.create(establishment=d.est["a"], template=template, state="approved")

    ensure_default_categories()
    cats = list(ProblemCategory.objects.order_by("sort", "code")[:2])
    unit = world.units["官园社区"]
    other = world.units["乔家巷社区"]
    rows: list[tuple[Any, ...]] = [
        # (establishment, category, state, unit, created, due, resolved, overdue_since)
        ("a", 0, "assigned", unit, DAY - timedelta(days=1), DAY + timedelta(days=2), None, None),
        ("a", 1, "in_progress", unit, DAY - timedelta(days=9), DAY - timedelta(days=6), None, DAY - timedelta(days=5)),
        ("b", 0, "closed", unit, DAY - timedelta(days=8), DAY - timedelta(days=5), DAY - timedelta(days=6), None),
        ("d", 1, "verified", other, DAY - timedelta(days=7), DAY - timedelta(days=4), DAY - timedelta(days=1), None),
        ("e", 0, "reported", None, DAY, DAY + timedelta(days=3), None, None),
    ]
    for n, (key, cat, state, u, created, due, resolved, overdue) in enumerate(rows, start=1):
        e = d.est[key]
        p = Problem.objects.create(
            code=f"WF-T-{n:04d}",
            source="visit",
            category=cats[cat],
            establishment=e,
            region=e.region,
            region_path=e.region_path,
            description="测试问题",
            state=state,
            unit=u,
            created_at=at(created),
            due_at=at(due),
            resolved_at=at(resolved) if resolved else None,
            overdue_since=at(overdue) if overdue else None,
        )
        d.problems.append(p)
        events = [("reported", created), ("routed", created)]
        if resolved:
            events.append(("resolved", resolved))
        ProblemEvent.objects.bulk_create([ProblemEvent(problem=p, kind=k, at=at(day, 11)) for k, day in events])

    team = OrgUnit.objects.create(
        code="DDZ1",
        name="第1督导组",
        kind=OrgUnit.Kind.INSPECTION_TEAM,
        region=world.regions["文峰区"],
        parent=world.units["JYJ"],
    )
    checklist = ChecklistTemplate.objects.filter(versions__published_at__isnull=False).first()
    if checklist is None:
        from taizhang.inspections.shipped import ensure_shipped_checklists

        ensure_shipped_checklists()
        checklist = ChecklistTemplate.objects.filter(versions__published_at__isnull=False).first()
    assert checklist is not None
    version = checklist.versions.filter(published_at__isnull=False).first()
    assert version is not None
    campaign = Campaign.objects.create(
        name="复工企业日常巡查",
        version=version,
        unit=world.units["SWJ"],
        region=world.regions["文峰区"],
        starts_on=DAY - timedelta(days=10),
        state="active",
    )
    d.campaign = campaign
    for key in ("a", "b", "d"):
        e = d.est[key]
        t = CampaignTarget.objects.create(
            campaign=campaign,
            establishment=e,
            region=e.region,
            region_path=e.region_path,
            team=team,
            covered_at=at(DAY) if key != "d" else None,
        )
        if key != "d":
            Visit.objects.create(
                key=f"v-{key}",
                kind="inspection",
                version=version,
                campaign=campaign,
                target=t,
                establishment=e,
                region=e.region,
                region_path=e.region_path,
                unit=team,
                created_by=world.users["swj_staff"],
                staff_count=2 + (key == "a"),
                visited_at=at(DAY, 9),
                helped=key == "a",
            )
    rebuild()
    return d
