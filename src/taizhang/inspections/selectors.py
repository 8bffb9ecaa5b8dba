"""Reads of checklists, campaigns and visits, always from the scoped querysets (scoping.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.core.errors import NotVisible
from taizhang.core.paths import subtree_q
from taizhang.establishments.models import Establishment
from taizhang.problems.models import OPEN_STATES
from taizhang.regions.models import Region

from .models import (
    Answer,
    Campaign,
    CampaignState,
    CampaignTarget,
    ChecklistItem,
    ChecklistTemplate,
    TemplateVersion,
    Visit,
    VisitPhoto,
)
from .scoping import ACTING_ROLES, acting_unit_ids, inspector_unit_ids

# --- checklists -----------------------------------------------------------------------------------


def template_list(*, include_inactive: bool = False) -> QuerySet[ChecklistTemplate]:
    """Templates are configuration without personal data: the same list for every reader."""
    qs = ChecklistTemplate.objects.all() if include_inactive else ChecklistTemplate.objects.filter(is_active=True)
    return qs.prefetch_related(Prefetch("versions", queryset=TemplateVersion.objects.order_by("-number"))).order_by("code")


def access_template(template_id: Any) -> ChecklistTemplate:
    try:
        return ChecklistTemplate.objects.get(pk=int(template_id))
    except (ChecklistTemplate.DoesNotExist, ValueError, TypeError):
        raise NotVisible("检查表") from None


def access_version(version_id: Any) -> TemplateVersion:
    try:
        return TemplateVersion.objects.select_related("template").get(pk=int(version_id))
    except (TemplateVersion.DoesNotExist, ValueError, TypeError):
        raise NotVisible("检查表版本") from None


def latest_version(template: ChecklistTemplate) -> TemplateVersion | None:
    return template.versions.filter(published_at__isnull=False).order_by("-number").first()


def draft_version(template: ChecklistTemplate) -> TemplateVersion | None:
    return template.versions.filter(published_at__isnull=True).first()


def version_items(version: TemplateVersion) -> list[ChecklistItem]:
    return list(version.items.select_related("problem_category").order_by("position"))


def published_versions(*, subject_type: str | None = None, kind_code: str | None = None) -> list[TemplateVersion]:
    """The newest published version of each active template (for a new visit or campaign)."""
    templates = ChecklistTemplate.objects.filter(is_active=True)
    if subject_type:
        templates = templates.filter(subject_type=subject_type)
    result = []
    for t in templates.order_by("code"):
        if kind_code is not None and not t.applies_to_kind(kind_code):
            continue
        v = latest_version(t)
        if v is not None:
            v.template = t
            result.append(v)
    return result


# --- campaigns and targets ------------------------------------------------------------------------


def campaign_list(*, user: Any, state: str = "") -> QuerySet[Campaign]:
    qs = Campaign.objects.visible_to(user).select_related("unit", "region", "version__template")
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("state", "-starts_on", "-id")


def access_campaign(user: Any, campaign_id: Any) -> Campaign:
    try:
        return (
            Campaign.objects.visible_to(user)
            .select_related("unit", "region", "version__template", "created_by")
            .get(pk=int(campaign_id))
        )
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise NotVisible("专项行动") from None


def campaign_teams(campaign: Campaign) -> list[OrgUnit]:
    return [link.unit for link in campaign.team_links.select_related("unit").order_by("position", "unit_id")]


TARGET_FILTERS = ("team", "status", "region", "q")


def target_list(
    *, user: Any, campaign: Campaign | None = None, filters: dict[str, Any] | None = None
) -> QuerySet[CampaignTarget]:
    """Targets the user may see (of one campaign, or of every active one), with the list filters:
    team (unit id), status ("todo" not yet covered / "done" covered / "today" covered today), region, q (name)."""
    f = filters or {}
    qs = CampaignTarget.objects.visible_to(user).filter(active=True)
    qs = qs.filter(campaign=campaign) if campaign is not None else qs.filter(campaign__state=CampaignState.ACTIVE)
    if team := f.get("team"):
        qs = qs.filter(team_id=team)
    status = f.get("status")
    if status == "done":
        qs = qs.filter(covered_at__isnull=False)
    elif status == "todo":
        qs = qs.filter(covered_at__isnull=True)
    elif status in ("today", "not_today"):
        start, end = day_bounds(f.get("day") or timezone.localdate())
        today = Q(last_visit_at__gte=start, last_visit_at__lt=end)
        qs = qs.filter(today) if status == "today" else qs.exclude(today)
    if region := f.get("region"):
        qs = qs.filter(subtree_q([region.path if isinstance(region, Region) else str(region)], "region_path"))
    if text := str(f.get("q") or "").strip():
        qs = qs.filter(Q(establishment__name__icontains=text) | Q(establishment__address__icontains=text))
    return qs.select_related("campaign", "team", "region", "establishment__kind").order_by(
        "region_path", "establishment__name", "id"
    )


def access_target(user: Any, target_id: Any) -> CampaignTarget:
    try:
        return (
            CampaignTarget.objects.visible_to(user)
            .select_related(
                "campaign__version__template", "campaign__unit", "team", "region", "establishment__kind", "establishment__region"
            )
            .get(pk=int(target_id))
        )
    except (CampaignTarget.DoesNotExist, ValueError, TypeError):
        raise NotVisible("检查对象") from None


def my_campaigns(*, user: Any) -> list[dict[str, Any]]:
    """The active campaigns in which the user's units hold targets (as a team), with their own counts: the
    inspector's start page."""
    units = sorted(acting_unit_ids(user))
    if not units:
        return []
    rows = (
        CampaignTarget.objects.filter(team_id__in=units, active=True, campaign__state=CampaignState.ACTIVE)
        .values("campaign_id", "team_id")
        .annotate(total=Count("id"), covered=Count("id", filter=Q(covered_at__isnull=False)))
        .order_by("campaign_id", "team_id")
    )
    campaigns = {
        c.pk: c for c in Campaign.objects.filter(pk__in={r["campaign_id"] for r in rows}).select_related("version__template")
    }
    teams = {u.pk: u for u in OrgUnit.objects.filter(pk__in={r["team_id"] for r in rows})}
    today_start, today_end = day_bounds(timezone.localdate())
    today = dict(
        CampaignTarget.objects.filter(
            team_id__in=units,
            active=True,
            campaign_id__in=list(campaigns),
            last_visit_at__gte=today_start,
            last_visit_at__lt=today_end,
        )
        .values("campaign_id")
        .annotate(n=Count("id"))
        .values_list("campaign_id", "n")
    )
    return [
        {
            "campaign": campaigns[r["campaign_id"]],
            "team": teams[r["team_id"]],
            "total": r["total"],
            "covered": r["covered"],
            "today": today.get(r["campaign_id"], 0),
            "percent": percent(r["covered"], r["total"]),
        }
        for r in rows
    ]


def team_members(unit_ids: Iterable[int], on: date | None = None) -> dict[int, list[User]]:
    """Active users holding an acting post in each unit (co-workers who can be put on a visit)."""
    ids = sorted(set(unit_ids))
    members: dict[int, list[User]] = {u: [] for u in ids}
    posts = Post.objects.active(on).filter(unit_id__in=ids, role__in=ACTING_ROLES, user__is_active=True).select_related("user")
    for post in posts.order_by("user__username"):
        if post.user not in members[post.unit_id]:
            members[post.unit_id].append(post.user)
    return members


def establishments_for_inspector(user: Any) -> QuerySet[Establishment]:
    """The establishments an inspector may open: the targets given to their teams in active campaigns.

    The registry's scope (establishments/scoping.py) should OR in `inspector_establishment_q(user)`; see
    docs/adr/0009-checklists-and-campaigns.md."""
    return Establishment.objects.filter(inspector_establishment_q(user))


def inspector_establishment_q(user: Any) -> Q:
    units = sorted(inspector_unit_ids(user))
    if not units:
        return Q(pk__in=[])
    return Q(
        pk__in=CampaignTarget.objects.filter(
            team_id__in=units, active=True, campaign__state=CampaignState.ACTIVE, establishment__isnull=False
        ).values("establishment_id")
    )


def establishments_for_visit(user: Any) -> QuerySet[Establishment]:
    """Establishments the user may visit without a campaign target: those the registry shows them, and an
    inspector's targets."""
    if not acting_unit_ids(user):
        return Establishment.objects.none()
    return Establishment.objects.filter(
        Q(pk__in=Establishment.objects.visible_to(user).values("pk")) | inspector_establishment_q(user)
    )


# --- progress -------------------------------------------------------------------------------------


def percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


@dataclass
class ProgressRow:
    key: Any
    label: str
    total: int = 0
    covered: int = 0
    findings: int = 0
    problems: int = 0
    problems_open: int = 0

    @property
    def percent(self) -> int:
        return percent(self.covered, self.total)

    @property
    def todo(self) -> int:
        return self.total - self.covered


@dataclass
class Progress:
    campaign: Campaign
    day: date | None  # standing campaigns: the day counted
    total: ProgressRow
    by_team: list[ProgressRow] = field(default_factory=list)
    by_region: list[ProgressRow] = field(default_factory=list)
    by_item: list[tuple[str, int]] = field(default_factory=list)  # (item label, failed answers)


def latest_visit_day(campaign: Campaign) -> date | None:
    last = Visit.objects.filter(campaign=campaign).order_by("-visited_at").values_list("visited_at", flat=True).first()
    return timezone.localtime(last).date() if last else None


def campaign_progress(*, campaign: Campaign, user: Any, day: date | None = None) -> Progress:
    """Targets covered / total, findings, problems opened and still open, per team and per region one level
    below the campaign's region — counting only the targets the user may see.

    A campaign is covered once per target (`covered_at`); a standing campaign (日常巡查) is covered per day:
    the targets with a visit on `day` (default: the latest day with a visit)."""
    targets = CampaignTarget.objects.visible_to(user).filter(campaign=campaign, active=True)
    if campaign.standing:
        day = day or latest_visit_day(campaign) or timezone.localdate()
        start, end = day_bounds(day)
        covered_q = Q(Exists(Visit.objects.filter(target=OuterRef("pk"), visited_at__gte=start, visited_at__lt=end)))
        visits = Visit.objects.filter(target__in=targets.values("pk"), visited_at__gte=start, visited_at__lt=end)
    else:
        day = None
        covered_q = Q(covered_at__isnull=False)
        visits = Visit.objects.filter(target__in=targets.values("pk"))
    counted = targets.annotate(is_covered=covered_q) if campaign.standing else targets

    def count_rows(group: str) -> dict[Any, tuple[int, int]]:
        flag = Q(is_covered=True) if campaign.standing else covered_q
        rows = counted.values(group).annotate(total=Count("id"), covered=Count("id", filter=flag)).order_by(group)
        return {r[group]: (r["total"], r["covered"]) for r in rows}

    answers = Answer.objects.filter(visit__in=visits.values("pk"), failed=True)

    def answer_rows(group: str) -> dict[Any, tuple[int, int, int]]:
        rows = (
            answers.values(f"visit__target__{group}")
            .annotate(
                findings=Count("id"),
                problems=Count("id", filter=Q(problem__isnull=False)),
                problems_open=Count("id", filter=Q(problem__state__in=list(OPEN_STATES))),
            )
            .order_by()
        )
        return {r[f"visit__target__{group}"]: (r["findings"], r["problems"], r["problems_open"]) for r in rows}

    by_team_counts, by_team_answers = count_rows("team_id"), answer_rows("team_id")
    teams = {u.pk: u for u in OrgUnit.objects.filter(pk__in=list(by_team_counts))}
    order = {link.unit_id: link.position for link in campaign.team_links.all()}
    by_team = []
    for team_id in sorted(by_team_counts, key=lambda t: (order.get(t, 999), t)):
        total, covered = by_team_counts[team_id]
        f, p, o = by_team_answers.get(team_id, (0, 0, 0))
        by_team.append(ProgressRow(team_id, str(teams[team_id]), total, covered, f, p, o))

    # regions: aggregate per target region in SQL, then fold into the level below the campaign's region
    region_counts, region_answers = count_rows("region_id"), answer_rows("region_id")
    from .services import group_depth, group_key

    paths = dict(Region.objects.filter(pk__in=list(region_counts)).values_list("pk", "path"))
    depth = group_depth(campaign)
    groups: dict[str, ProgressRow] = {}
    for region_id, (total, covered) in region_counts.items():
        key = group_key(paths.get(region_id, ""), depth)
        row = groups.setdefault(key, ProgressRow(key, ""))
        row.total += total
        row.covered += covered
        f, p, o = region_answers.get(region_id, (0, 0, 0))
        row.findings += f
        row.problems += p
        row.problems_open += o
    names = {r.path: r.display_name for r in Region.objects.filter(path__in=list(groups))}
    by_region = []
    for key in sorted(groups):
        groups[key].label = names.get(key, key)
        by_region.append(groups[key])

    total_row = ProgressRow(
        "all",
        "合计",
        sum(r.total for r in by_team),
        sum(r.covered for r in by_team),
        sum(r.findings for r in by_team),
        sum(r.problems for r in by_team),
        sum(r.problems_open for r in by_team),
    )
    by_item = [
        (row["item__label"], row["n"])
        for row in answers.values("item__label").annotate(n=Count("id")).order_by("-n", "item__label")[:10]
    ]
    return Progress(campaign, day, total_row, by_team, by_region, by_item)


def preview_target_count(campaign: Campaign) -> int:
    """How many establishments the campaign's rule selects right now (before it starts)."""
    from .services import target_queryset

    return target_queryset(campaign).count()


# --- visits ---------------------------------------------------------------------------------------

VISIT_FILTERS = ("campaign", "unit", "result", "kind", "start", "end", "establishment", "q")


def visit_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[Visit]:
    f = filters or {}
    qs = Visit.objects.visible_to(user)
    if campaign := f.get("campaign"):
        qs = qs.filter(campaign_id=getattr(campaign, "pk", campaign))
    if unit := f.get("unit"):
        qs = qs.filter(unit_id=getattr(unit, "pk", unit))
    if result := f.get("result"):
        qs = qs.filter(result=result)
    if kind := f.get("kind"):
        qs = qs.filter(kind=kind)
    if establishment := f.get("establishment"):
        qs = qs.filter(establishment_id=getattr(establishment, "pk", establishment))
    if start := f.get("start"):
        qs = qs.filter(visited_at__gte=day_bounds(start)[0])
    if end := f.get("end"):
        qs = qs.filter(visited_at__lt=day_bounds(end)[1])
    if text := str(f.get("q") or "").strip():
        qs = qs.filter(Q(establishment__name__icontains=text) | Q(place__icontains=text))
    return qs.select_related("unit", "establishment", "version__template", "campaign", "created_by").order_by(
        "-visited_at", "-id"
    )


def access_visit(user: Any, visit_id: Any) -> Visit:
    try:
        return (
            Visit.objects.visible_to(user)
            .select_related(
                "unit", "establishment__kind", "region", "version__template", "campaign", "target__team", "created_by"
            )
            .get(pk=int(visit_id))
        )
    except (Visit.DoesNotExist, ValueError, TypeError):
        raise NotVisible("走访巡查记录") from None


def visit_answers(visit: Visit) -> list[Answer]:
    """The answers with the items of the version the visit was filled in (never the template's current one)."""
    return list(
        visit.answers.select_related("item", "problem__unit", "problem__category")
        .prefetch_related(Prefetch("photos", queryset=VisitPhoto.objects.order_by("id")))
        .order_by("item__position")
    )


def visit_staff(visit: Visit) -> list[User]:
    return [link.user for link in visit.staff_links.select_related("user").order_by("id")]


def general_photos(visit: Visit) -> list[VisitPhoto]:
    return list(visit.photos.filter(answer__isnull=True).order_by("id"))


def access_photo(user: Any, photo_id: Any) -> VisitPhoto:
    try:
        photo = VisitPhoto.objects.get(pk=int(photo_id))
    except (VisitPhoto.DoesNotExist, ValueError, TypeError):
        raise NotVisible("照片") from None
    if not Visit.objects.visible_to(user).filter(pk=photo.visit_id).exists():
        raise NotVisible("照片")
    return photo


def target_visits(target: CampaignTarget) -> list[Visit]:
    return list(target.visits.select_related("unit", "created_by").order_by("-visited_at", "-id")[:50])


# --- figures: 出动人员人次 and 帮扶企业 -------------------------------------------------------------


@dataclass
class FigureRow:
    key: Any
    label: str
    visits: int = 0
    person_times: int = 0  # 出动人员人次: the sum over visits of the number of staff on each
    helped: int = 0  # 帮扶企业: distinct establishments helped on the visits, or with a problem opened from one


@dataclass
class Figures:
    start: date
    end: date
    total: FigureRow
    rows: list[FigureRow]


def unit_and_descendants(unit_ids: Iterable[int]) -> list[int]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent in OrgUnit.objects.values_list("pk", "parent_id"):
        children[parent].append(pk)
    result: set[int] = set()
    stack = list(unit_ids)
    while stack:
        u = stack.pop()
        if u not in result:
            result.add(u)
            stack.extend(children.get(u, []))
    return sorted(result)


def dispatch_figures(*, user: Any, start: date, end: date, unit: OrgUnit | int | None = None, by: str = "unit") -> Figures:
    """出动人员人次 and 帮扶企业 from the visits the user may see, between two days (inclusive), for one unit (with
    the units under it) or all, grouped by unit or by day. The dashboard reuses this selector.

    "共出动人员200余人次,帮扶企业30余家": person-times = Σ staff on each visit (staff with accounts plus the other
    people who went along); an establishment is helped when a visit to it recorded help given on the spot
    (讲解政策、指导整改、协调物资) or opened a problem in the ledger (which is then followed until solved)."""
    visits = Visit.objects.visible_to(user).filter(visited_at__gte=day_bounds(start)[0], visited_at__lt=day_bounds(end)[1])
    if unit is not None:
        visits = visits.filter(unit_id__in=unit_and_descendants([unit.pk if isinstance(unit, OrgUnit) else int(unit)]))
    helped_visits = visits.filter(establishment__isnull=False).filter(
        Q(helped=True) | Q(pk__in=Answer.objects.filter(problem__isnull=False).values("visit_id"))
    )
    if by == "day":
        tz = timezone.get_current_timezone()
        group: Any = TruncDate("visited_at", tzinfo=tz)
        base = visits.annotate(g=group).values("g")
        helped_base = helped_visits.annotate(g=group).values("g")
    else:
        base = visits.annotate(g=F("unit_id")).values("g")
        helped_base = helped_visits.annotate(g=F("unit_id")).values("g")
    counts = {r["g"]: r for r in base.annotate(n=Count("id"), people=Sum("staff_count")).order_by("g")}
    helped = {r["g"]: r["n"] for r in helped_base.annotate(n=Count("establishment_id", distinct=True)).order_by("g")}
    labels: dict[Any, str] = {}
    if by != "day":
        labels = {u.pk: u.name for u in OrgUnit.objects.filter(pk__in=list(counts))}
    rows = [
        FigureRow(
            key,
            labels.get(key, "") if by != "day" else f"{key:%Y-%m-%d}",
            r["n"],
            int(r["people"] or 0),
            helped.get(key, 0),
        )
        for key, r in sorted(counts.items(), key=lambda kv: str(kv[0]) if by == "day" else labels.get(kv[0], ""))
    ]
    totals = visits.aggregate(n=Count("id"), people=Sum("staff_count"))
    total = FigureRow(
        "all",
        "合计",
        totals["n"] or 0,
        int(totals["people"] or 0),
        helped_visits.order_by().values("establishment_id").distinct().count(),
    )
    return Figures(start, end, total, rows)
