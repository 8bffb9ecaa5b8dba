"""The demo's Open311 part: one registered client (its key goes to var/demo/logins.json as
`open311_api_key`), service groups and keywords, and a "community" question on every service so that a
reporter who does not know the address can still say where."""

from __future__ import annotations

from typing import Any, cast

from taizhang.problems.defaults import ensure_default_categories
from taizhang.problems.models import ProblemCategory
from taizhang.regions.models import Level

from .services import attribute_define, client_register, service_configure

DEMO_CLIENT = "演示：市民随手拍（Open311）"
SETTINGS = {
    "ppe_shortage": ("疫情防控", "口罩,消毒液,测温枪,防疫物资"),
    "measures_inadequate": ("疫情防控", "测温,登记,消毒,口罩,一米线"),
    "staff_loss": ("复工复产", "返岗,用工,员工"),
    "policy_request": ("复工复产", "政策,补贴,申报"),
    "supply_request": ("疫情防控", "物资,调拨"),
    "other": ("其他", ""),
}


def build_open311(ctx: Any) -> None:
    """Register the demo client and configure the services; its api_key goes to ctx.logins["open311_api_key"]."""
    ensure_default_categories()
    for category in ProblemCategory.objects.filter(is_active=True):
        group, keywords = SETTINGS.get(category.code, ("", ""))
        service_configure(category=category, group=group, keywords=keywords)
        attribute_define(
            category=category,
            code="community",
            description="问题发生在哪个社区（村）？",
            datatype="singlevaluelist",
            datatype_description="不清楚详细地址时请选择所在社区（村），便于转交属地办理",
            order=1,
            region_level=Level.COMMUNITY,
        )
    registered = client_register(name=DEMO_CLIENT, organisation="文峰区（高新区）指挥部", note="演示用接入应用")
    # logins.json is keyed by role; this one top-level entry is a plain string (the api_key).
    cast(dict[str, Any], ctx.logins)["open311_api_key"] = registered.key
