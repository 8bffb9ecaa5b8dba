"""The categories the article names (the shipped configuration; districts edit and add their own).

"有的企业防疫物资匮乏，有的企业员工流失严重，有的企业防疫措施不到位" — plus policy questions (扶持政策),
supply requests and everything else. Migration 0002 loads a frozen copy; the demo calls
`ensure_default_categories()` after `flush` has emptied the table.
"""

from __future__ import annotations

from typing import Any

DEFAULT_CATEGORIES: list[dict[str, Any]] = [
    {
        "code": "ppe_shortage",
        "name": "防疫物资匮乏",
        "description": "口罩、消毒液、测温枪等防疫物资不足，需协调解决",
        "sla_days": 2,
        "routing": "sectoral_then_territorial",
        "rectification_template": "请于整改期限内配齐口罩、消毒液、测温枪等防疫物资，建立物资出入库台账，并上传物资照片。",
        "sort": 10,
    },
    {
        "code": "staff_loss",
        "name": "员工流失",
        "description": "员工无法返岗或流失严重，影响复工复产",
        "sla_days": 5,
        "routing": "sectoral_then_territorial",
        "rectification_template": "",
        "sort": 20,
    },
    {
        "code": "measures_inadequate",
        "name": "防疫措施不到位",
        "description": "测温登记、消毒通风、佩戴口罩、人员间隔等防控措施未落实",
        "sla_days": 3,
        "routing": "territorial",
        "rectification_template": "请对照复工复产疫情防控要求，落实进出测温登记、每日消毒通风、员工佩戴口罩、保持安全间隔等措施，"
        "明确防控责任人，于整改期限内报告整改情况并附现场照片。",
        "sort": 30,
    },
    {
        "code": "policy_request",
        "name": "政策咨询",
        "description": "财政补贴、劳动保障、金融服务等扶持政策的咨询与申报",
        "sla_days": 3,
        "routing": "sectoral",
        "rectification_template": "",
        "sort": 40,
    },
    {
        "code": "supply_request",
        "name": "物资申请",
        "description": "申请调拨防疫或生活物资",
        "sla_days": 2,
        "routing": "territorial",
        "rectification_template": "",
        "sort": 50,
    },
    {
        "code": "other",
        "name": "其他",
        "description": "其他需要协调解决的问题",
        "sla_days": 5,
        "routing": "territorial",
        "rectification_template": "",
        "sort": 90,
    },
]


def ensure_default_categories() -> int:
    """Create the shipped categories that are missing (by code); never changes existing ones. Returns how many."""
    from .models import ProblemCategory

    existing = set(ProblemCategory.objects.values_list("code", flat=True))
    new = [ProblemCategory(**c) for c in DEFAULT_CATEGORIES if c["code"] not in existing]
    ProblemCategory.objects.bulk_create(new)
    return len(new)
