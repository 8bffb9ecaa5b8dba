"""Campaigns: target rules, sharing targets out among teams, starting, refreshing, closing (see docs/adr/0009)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from taizhang.accounts.models import OrgUnit
from taizhang.audit.services import Action, audit_record
from taizhang.core.errors import ApplicationError, NotVisible
from taizhang.core.paths import subtree_q
from taizhang.core.scoping import scope_of
from taizhang.establishments.models import Establishment, EstablishmentKind, Status
from taizhang.industries.models import ServiceCategory
from taizhang.notifications.services import notify
from taizhang.regions.models import Region
from taizhang.rollups import facts as rollup_facts
from taizhang.rollups import services as rollups

from ..models import (
    CAMPAIGN_TRANSITIONS,
    Campaign,
    CampaignState,
    CampaignTarget,
    CampaignTeam,
    ShareRule,
    SubjectType,
    TemplateVersion,
)
from ..scoping import MANAGER_ROLES, acting_unit_ids, is_read_only

TEAM_UNIT_KINDS = (
    OrgUnit.Kind.INSPECTION_TEAM,
    OrgUnit.Kind.DEPARTMENT,
    OrgUnit.Kind.SUBDISTRICT_OFFICE,
    OrgUnit.Kind.COMMUNITY_COMMITTEE,
)


# --- campaigns ------------------------------------------------------------------------------------

RULE_KEYS = {"regions", "kinds", "categories", "statuses", "above_size", "key_target"}


def clean_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise a target rule; unknown codes are refused (a typo must not silently select nothing)."""
    extra = set(rule) - RULE_KEYS
    if extra:
        raise ApplicationError(f"对象范围中有无法识别的条件：{'、'.join(sorted(extra))}", code="invalid")
    kinds = sorted({str(k) for k in rule.get("kinds") or []})
    unknown = set(kinds) - set(EstablishmentKind.objects.filter(code__in=kinds).values_list("code", flat=True))
    if unknown:
        raise ApplicationError(f"单位类型不存在：{'、'.join(sorted(unknown))}", code="invalid")
    categories = sorted({str(c) for c in rule.get("categories") or []})
    unknown = set(categories) - set(ServiceCategory.objects.filter(code__in=categories).values_list("code", flat=True))
    if unknown:
        raise ApplicationError(f"行业类别不存在：{'、'.join(sorted(unknown))}", code="invalid")
    statuses = sorted({str(s) for s in rule.get("statuses") or []})
    if set(statuses) - set(Status.values):
        raise ApplicationError("单位状态无效", code="invalid")
    regions = sorted({str(r) for r in rule.get("regions") or []})
    unknown = set(regions) - set(Region.objects.filter(code__in=regions).values_list("code", flat=True))
    if unknown:
        raise ApplicationError(f"区划不存在：{'、'.join(sorted(unknown))}", code="invalid")
    out: dict[str, Any] = {"regions": regions, "kinds": kinds, "categories": categories, "statuses": statuses}
    for flag in ("above_size", "key_target"):
        out[flag] = True if rule.get(flag) in (True, "1", "true", "on") else None
    return out


def selection_paths(campaign: Campaign) -> list[str]:
    """The region subtrees the campaign selects from: the rule's regions, else the campaign's region."""
    codes = (campaign.rule or {}).get("regions") or []
    paths = list(Region.objects.filter(code__in=codes).values_list("path", flat=True)) if codes else []
    return paths or [campaign.region.path]


def group_depth(campaign: Campaign) -> int:
    """Targets are shared out and progress is shown by the regions one level below the highest selected region
    (the districts → their sub-districts; a sub-district → its communities)."""
    return min(len([p for p in path.split("/") if p]) for path in selection_paths(campaign)) + 1


def common_root(regions: Sequence[Region]) -> Region:
    """The deepest region that holds all of `regions`."""
    parts = [[p for p in r.path.split("/") if p] for r in regions]
    shared: list[str] = []
    for segments in zip(*parts, strict=False):
        if len(set(segments)) != 1:
            break
        shared.append(segments[0])
    root = Region.objects.filter(path="/" + "/".join(shared) + "/").first() if shared else None
    if root is None:
        raise ApplicationError("所选区划没有共同的上级区划", code="invalid")
    return root


def target_queryset(campaign: Campaign) -> QuerySet[Establishment]:
    """The establishments the campaign's rule selects now (not scoped: the rule is the campaign's definition)."""
    rule = campaign.rule or {}
    qs = Establishment.objects.filter(subtree_q(selection_paths(campaign), "region_path")).exclude(status=Status.CLOSED)
    if rule.get("kinds"):
        qs = qs.filter(kind__code__in=rule["kinds"])
    if rule.get("categories"):
        qs = qs.filter(Q(category__code__in=rule["categories"]) | Q(category__parent__code__in=rule["categories"]))
    if rule.get("statuses"):
        qs = qs.filter(status__in=rule["statuses"])
    if rule.get("above_size"):
        qs = qs.filter(above_size=True)
    if rule.get("key_target"):
        qs = qs.filter(key_target=True)
    kinds = campaign.version.template.subject_kinds
    if kinds:
        qs = qs.filter(kind__code__in=kinds)
    return qs.order_by("region_path", "name", "id")


def describe_rule(campaign: Campaign) -> str:
    rule = campaign.rule or {}
    parts = []
    if rule.get("kinds"):
        names = dict(EstablishmentKind.objects.filter(code__in=rule["kinds"]).values_list("code", "name"))
        parts.append("、".join(names.get(k, k) for k in rule["kinds"]))
    if rule.get("categories"):
        names = dict(ServiceCategory.objects.filter(code__in=rule["categories"]).values_list("code", "name"))
        parts.append("行业：" + "、".join(names.get(c, c) for c in rule["categories"]))
    if rule.get("statuses"):
        parts.append("状态：" + "、".join(str(Status(s).label) for s in rule["statuses"] if s in Status.values))
    if rule.get("above_size"):
        parts.append("限上企业")
    if rule.get("key_target"):
        parts.append("重点帮扶")
    codes = rule.get("regions") or []
    places = (
        [r.display_name for r in Region.objects.filter(code__in=codes).order_by("path")]
        if codes
        else [campaign.region.display_name]
    )
    return f"{'、'.join(places)}范围内" + ("：" + "；".join(parts) if parts else "全部单位")


def _require_manager(actor: Any, unit: OrgUnit) -> None:
    if is_read_only(actor) or not scope_of(actor).has_role(*MANAGER_ROLES):
        raise ApplicationError("只有职能部门工作人员可以组织专项行动", code="not_allowed")
    if unit.pk not in acting_unit_ids(actor):
        raise ApplicationError(f"您不在“{unit}”任职，不能以该单位名义组织行动", code="not_allowed")


def _check_version(version: TemplateVersion) -> None:
    if version.published_at is None:
        raise ApplicationError("请选择已发布的检查表版本", code="invalid")
    if not version.template.is_active:
        raise ApplicationError(f"检查表“{version.template}”已停用", code="invalid")
    if version.template.subject_type != SubjectType.ESTABLISHMENT:
        raise ApplicationError("住户、卡点的检查将随人员台账提供；目前专项行动只能检查单位", code="not_supported")


@transaction.atomic
def campaign_create(*, actor: Any, data: Mapping[str, Any], teams: Sequence[OrgUnit]) -> Campaign:
    """A campaign in draft: name, period, checklist version, organising unit, regions (one or several subtrees,
    e.g. 文峰区 and 高新区), rule, teams, sharing."""
    unit: OrgUnit = data["unit"]
    _require_manager(actor, unit)
    version: TemplateVersion = data["version"]
    _check_version(version)
    regions: list[Region] = list(data.get("regions") or ([data["region"]] if data.get("region") else []))
    if not regions:
        raise ApplicationError("请选择行动范围（区划）", code="required")
    visible = set(Region.objects.visible_to(actor).filter(pk__in=[r.pk for r in regions]).values_list("pk", flat=True))
    if any(r.pk not in visible for r in regions):
        raise NotVisible("区划")
    region = common_root(regions)
    name = str(data.get("name") or "").strip()
    if not name:
        raise ApplicationError("请填写行动名称", code="required")
    starts_on: date = data["starts_on"]
    ends_on: date | None = data.get("ends_on")
    standing = bool(data.get("standing"))
    if ends_on is not None and ends_on < starts_on:
        raise ApplicationError("结束日期不能早于开始日期", code="invalid")
    share = data.get("share") or ShareRule.REGION
    if share not in ShareRule.values:
        raise ApplicationError("分配方式无效", code="invalid")
    team_list = list(dict.fromkeys(teams))
    if not team_list:
        raise ApplicationError("请至少选择一个检查组", code="required")
    for t in team_list:
        if not t.is_active or t.kind not in TEAM_UNIT_KINDS:
            raise ApplicationError(f"“{t}”不能作为检查组", code="invalid")
    campaign = Campaign.objects.create(
        name=name[:100],
        description=str(data.get("description") or "").strip(),
        version=version,
        unit=unit,
        region=region,
        standing=standing,
        starts_on=starts_on,
        ends_on=ends_on,
        rule=clean_rule({**(data.get("rule") or {}), "regions": [r.code for r in regions] if len(regions) > 1 else []}),
        share=share,
        created_by=actor,
    )
    CampaignTeam.objects.bulk_create([CampaignTeam(campaign=campaign, unit=t, position=i) for i, t in enumerate(team_list)])
    audit_record(
        action=Action.CREATE, actor=actor, target=campaign, detail={"teams": [t.pk for t in team_list], "rule": campaign.rule}
    )
    return campaign


def group_key(path: str, depth: int) -> str:
    """The path of the region `depth` segments deep that holds `path` (the district → its sub-districts …)."""
    parts = [p for p in path.split("/") if p]
    return "/" + "/".join(parts[:depth]) + "/" if len(parts) >= depth else path


def share_out(*, campaign: Campaign, establishments: Sequence[Establishment], teams: Sequence[OrgUnit]) -> list[int]:
    """The team id for each establishment (in order).

    - region: the establishments are grouped by the region one level below the highest selected region (the
      sub-districts of a district, the communities of a sub-district); the largest groups are dealt first, each to the team with the fewest
      targets so far, so that a team covers whole sub-districts and the loads stay even. With fewer groups than
      teams, round robin.
    - round robin: in region order, team 1, 2, …, n, 1, 2 …
    - territory (属地): each establishment to the team whose own region holds it (the deepest one: a sub-district
      office inspects its sub-district); those outside every team's region to the team with the fewest.
    """
    team_ids = [t.pk for t in teams]
    if not establishments:
        return []
    if campaign.share == ShareRule.TERRITORY:
        return _share_by_territory(establishments, teams)
    depth = group_depth(campaign)
    keys = [group_key(e.region_path, depth) for e in establishments]
    groups = Counter(keys)
    if campaign.share == ShareRule.ROUND_ROBIN or len(groups) < len(team_ids):
        return [team_ids[i % len(team_ids)] for i in range(len(establishments))]
    load = dict.fromkeys(team_ids, 0)
    owner: dict[str, int] = {}
    for key, n in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0])):
        team = min(team_ids, key=lambda t: (load[t], team_ids.index(t)))
        owner[key] = team
        load[team] += n
    return [owner[k] for k in keys]


def _territory_owner(path: str, territories: Sequence[tuple[str, int]]) -> int | None:
    """The team whose region path is the longest prefix of `path` (territories sorted longest first)."""
    return next((team for prefix, team in territories if path.startswith(prefix)), None)


def _territories(teams: Sequence[OrgUnit]) -> list[tuple[str, int]]:
    paths = dict(Region.objects.filter(pk__in=[t.region_id for t in teams]).values_list("pk", "path"))
    return sorted(((paths[t.region_id], t.pk) for t in teams), key=lambda pt: -len(pt[0]))


def _share_by_territory(establishments: Sequence[Establishment], teams: Sequence[OrgUnit]) -> list[int]:
    territories = _territories(teams)
    team_ids = [t.pk for t in teams]
    owners = [_territory_owner(e.region_path, territories) for e in establishments]
    load = Counter(o for o in owners if o is not None)
    result = []
    for owner in owners:
        if owner is None:
            owner = min(team_ids, key=lambda t: (load[t], team_ids.index(t)))
            load[owner] += 1
        result.append(owner)
    return result


def _lock_campaign(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().select_related("region", "version__template", "unit").get(pk=campaign.pk)


@transaction.atomic
def campaign_start(*, actor: Any, campaign: Campaign, at: datetime | None = None) -> Campaign:
    """启动: write the targets the rule selects, each given to a team, and tell the teams."""
    c = _lock_campaign(campaign)
    _require_manager(actor, c.unit)
    if CampaignState.ACTIVE not in CAMPAIGN_TRANSITIONS[c.state]:
        raise ApplicationError(f"行动{CampaignState(c.state).label}，不能启动", code="invalid_transition")
    _check_version(c.version)
    teams = [link.unit for link in c.team_links.select_related("unit").order_by("position", "unit_id")]
    if not teams:
        raise ApplicationError("请至少选择一个检查组", code="required")
    now = at or timezone.now()
    establishments = list(target_queryset(c).only("pk", "region_id", "region_path", "name"))
    assigned = share_out(campaign=c, establishments=establishments, teams=teams)
    rows = CampaignTarget.objects.bulk_create(
        [
            CampaignTarget(
                campaign=c, establishment=e, region_id=e.region_id, region_path=e.region_path, team_id=team, added_at=now
            )
            for e, team in zip(establishments, assigned, strict=True)
        ],
        batch_size=2000,
    )
    rollups.targets_changed(after=rows)
    c.state, c.started_at = CampaignState.ACTIVE, now
    c.save(update_fields=["state", "started_at", "updated_at"])
    audit_record(action=Action.UPDATE, actor=actor, target=c, detail={"state": "active", "targets": len(rows)})
    per_team = Counter(assigned)
    from ..selectors import team_members

    members = team_members([t.pk for t in teams])
    for t in teams:
        notify(
            users=members.get(t.pk, []),
            title=f"新的检查任务：{c.name}",
            body=f"{t.name}负责 {per_team.get(t.pk, 0)} 个检查对象",
            url=f"/inspections/campaigns/{c.pk}/targets/?team={t.pk}",
            kind="inspection_campaign",
        )
    return c


@transaction.atomic
def campaign_close(*, actor: Any, campaign: Campaign) -> Campaign:
    c = _lock_campaign(campaign)
    _require_manager(actor, c.unit)
    if CampaignState.CLOSED not in CAMPAIGN_TRANSITIONS[c.state]:
        raise ApplicationError(f"行动{CampaignState(c.state).label}，不能结束", code="invalid_transition")
    c.state, c.closed_at = CampaignState.CLOSED, timezone.now()
    c.save(update_fields=["state", "closed_at", "updated_at"])
    audit_record(action=Action.UPDATE, actor=actor, target=c, detail={"state": "closed"})
    return c


@transaction.atomic
def campaign_set_version(*, actor: Any, campaign: Campaign, version: TemplateVersion) -> Campaign:
    """改用新版本: visits from now on use `version`; those already filled keep theirs."""
    c = _lock_campaign(campaign)
    _require_manager(actor, c.unit)
    if c.state == CampaignState.CLOSED:
        raise ApplicationError("行动已结束", code="invalid_state")
    _check_version(version)
    if version.template_id != c.version.template_id:
        raise ApplicationError("只能改用同一检查表的其他版本", code="invalid")
    old = c.version.number
    c.version = version
    c.save(update_fields=["version", "updated_at"])
    audit_record(action=Action.UPDATE, actor=actor, target=c, detail={"version": [old, version.number]})
    return c


@dataclass(frozen=True)
class Refresh:
    added: int
    removed: int
    restored: int


@transaction.atomic
def campaign_refresh_targets(*, campaign: Campaign, actor: Any = None, at: datetime | None = None) -> Refresh:
    """For a running campaign whose population moves (日常巡查 of resumed establishments): add the establishments
    that match the rule now, take out (keeping their history) those that no longer do. New targets go to the team
    that already covers their area, else to the team with the fewest."""
    c = _lock_campaign(campaign)
    if c.state != CampaignState.ACTIVE:
        return Refresh(0, 0, 0)
    if actor is not None:
        _require_manager(actor, c.unit)
    now = at or timezone.now()
    matching = {e.pk: e for e in target_queryset(c).only("pk", "region_id", "region_path", "name")}
    existing = {t.establishment_id: t for t in CampaignTarget.objects.filter(campaign=c, establishment__isnull=False)}
    gone = [t for eid, t in existing.items() if t.active and eid not in matching]
    back = [t for eid, t in existing.items() if not t.active and eid in matching]
    moved_before = [rollup_facts.campaign_target(t) for t in [*gone, *back]]
    if gone:
        CampaignTarget.objects.filter(pk__in=[t.pk for t in gone]).update(active=False, removed_at=now)
    if back:
        CampaignTarget.objects.filter(pk__in=[t.pk for t in back]).update(active=True, removed_at=None)
    for t in gone:
        t.active, t.removed_at = False, now
    for t in back:
        t.active, t.removed_at = True, None
    rollups.targets_changed(before=moved_before, after=[*gone, *back])
    new = [e for eid, e in matching.items() if eid not in existing]
    if new:
        teams = [link.unit_id for link in c.team_links.order_by("position", "unit_id")]
        depth = group_depth(c)
        owners: dict[str, Counter[int]] = defaultdict(Counter)
        load: Counter[int] = Counter(dict.fromkeys(teams, 0))
        for t in existing.values():
            owners[group_key(t.region_path, depth)][t.team_id] += 1
            if t.active:
                load[t.team_id] += 1
        rows = []
        territories = (
            _territories([link.unit for link in c.team_links.select_related("unit")]) if c.share == ShareRule.TERRITORY else []
        )
        for e in sorted(new, key=lambda e: (e.region_path, e.name, e.pk)):
            key = group_key(e.region_path, depth)
            own = _territory_owner(e.region_path, territories) if territories else None
            if own is not None:
                team = own
            elif c.share == ShareRule.REGION and owners[key]:
                team = owners[key].most_common(1)[0][0]
            else:
                team = min(teams, key=lambda t: (load[t], teams.index(t)))
            load[team] += 1
            rows.append(
                CampaignTarget(
                    campaign=c, establishment=e, region_id=e.region_id, region_path=e.region_path, team_id=team, added_at=now
                )
            )
        CampaignTarget.objects.bulk_create(rows, batch_size=2000)
        rollups.targets_changed(after=rows)
    result = Refresh(len(new), len(gone), len(back))
    if new or gone or back:
        audit_record(
            action=Action.UPDATE,
            actor=actor,
            target=c,
            detail={"refresh": {"added": len(new), "removed": len(gone), "restored": len(back)}},
        )
    return result


def refresh_standing_campaigns() -> dict[str, int]:
    """The periodic job: refresh the targets of every running standing campaign."""
    totals: Counter[str] = Counter()
    for c in Campaign.objects.filter(state=CampaignState.ACTIVE, standing=True):
        r = campaign_refresh_targets(campaign=c)
        totals.update({"campaigns": 1, "added": r.added, "removed": r.removed, "restored": r.restored})
    return dict(totals)
