"""Writes for checklists, campaigns and visits. Pages, the API, the demo and the periodic job all come through here.

Every service is keyword-only and atomic, checks before it writes, and writes the audit log. See
docs/adr/0009-checklists-and-campaigns.md for the decisions (versions, target sharing, idempotent visits, the
problems opened from failed items).
"""

from .campaigns import (
    TEAM_UNIT_KINDS,
    Refresh,
    campaign_close,
    campaign_create,
    campaign_refresh_targets,
    campaign_set_version,
    campaign_start,
    clean_rule,
    common_root,
    describe_rule,
    group_depth,
    group_key,
    refresh_standing_campaigns,
    selection_paths,
    share_out,
    target_queryset,
)
from .checklists import template_create, template_discard_draft, template_publish, template_revise, template_save_draft
from .visits import MAX_VISIT_AGE_DAYS, Submitted, bulk_record_visits, recount_targets, visit_submit

__all__ = [
    "MAX_VISIT_AGE_DAYS",
    "TEAM_UNIT_KINDS",
    "Refresh",
    "Submitted",
    "bulk_record_visits",
    "campaign_close",
    "campaign_create",
    "campaign_refresh_targets",
    "campaign_set_version",
    "campaign_start",
    "clean_rule",
    "common_root",
    "describe_rule",
    "group_depth",
    "group_key",
    "recount_targets",
    "refresh_standing_campaigns",
    "selection_paths",
    "share_out",
    "target_queryset",
    "template_create",
    "template_discard_draft",
    "template_publish",
    "template_revise",
    "template_save_draft",
    "visit_submit",
]
