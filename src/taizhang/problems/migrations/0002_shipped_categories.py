"""The problem categories of the article (a frozen copy of problems/defaults.py at the time of writing)."""

from django.db import migrations

CATEGORIES = [
    (
        "ppe_shortage",
        "防疫物资匮乏",
        "口罩、消毒液、测温枪等防疫物资不足，需协调解决",
        2,
        "sectoral_then_territorial",
        "请于整改期限内配齐口罩、消毒液、测温枪等防疫物资，建立物资出入库台账，并上传物资照片。",
        10,
    ),
    ("staff_loss", "员工流失", "员工无法返岗或流失严重，影响复工复产", 5, "sectoral_then_territorial", "", 20),
    (
        "measures_inadequate",
        "防疫措施不到位",
        "测温登记、消毒通风、佩戴口罩、人员间隔等防控措施未落实",
        3,
        "territorial",
        "请对照复工复产疫情防控要求，落实进出测温登记、每日消毒通风、员工佩戴口罩、保持安全间隔等措施，"
        "明确防控责任人，于整改期限内报告整改情况并附现场照片。",
        30,
    ),
    ("policy_request", "政策咨询", "财政补贴、劳动保障、金融服务等扶持政策的咨询与申报", 3, "sectoral", "", 40),
    ("supply_request", "物资申请", "申请调拨防疫或生活物资", 2, "territorial", "", 50),
    ("other", "其他", "其他需要协调解决的问题", 5, "territorial", "", 90),
]


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    ProblemCategory = apps.get_model("problems", "ProblemCategory")
    for code, name, description, sla_days, routing, template, sort in CATEGORIES:
        ProblemCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "sla_days": sla_days,
                "routing": routing,
                "rectification_template": template,
                "sort": sort,
            },
        )


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    ProblemCategory = apps.get_model("problems", "ProblemCategory")
    Problem = apps.get_model("problems", "Problem")
    used = set(Problem.objects.values_list("category__code", flat=True))
    ProblemCategory.objects.filter(code__in=[c[0] for c in CATEGORIES]).exclude(code__in=used).delete()


class Migration(migrations.Migration):
    dependencies = [("problems", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
