"""The checklists of the article, published as version 1 of each template.

- 复工企业日常巡查: "企业复工后，区商务局加强事后监管，查看企业各项制度的落实情况，建立日常巡查问题台账";
  the items are the article's prevention measures (测温、口罩、消毒、通风、人员间隔、员工健康台账、防疫物资).
- 学校复学疫情防控督导: the 7 督导组 "重点督促防疫物质、防控制度落实、开学前后准备情况", and the results they
  checked ("值班进班登记测温程序 … 规范了观察室 … 模拟开学演练").
- 入户排查: "请问家里有境外返安人员吗?" (紫薇大道街道).
- 复工复产帮扶走访: the commerce bureau's visits ("有的企业防疫物资匮乏，有的企业员工流失严重，有的企业防疫措施不到位").

`taizhang.inspections.shipped.ensure_shipped_checklists()` runs `forwards` again after the demo's `flush`.
Each template is created only when its code is missing; existing ones (and their versions) are never touched.
"""

from django.db import migrations
from django.utils import timezone

ENTERPRISE_KINDS = ["enterprise", "shop", "supermarket", "mall", "public_venue"]
SCHOOL_KINDS = ["school", "kindergarten", "tutoring"]

# (code, label, type, required, help_text, options, min, max, unit, fail_op, fail_value, problem category code)
TEMPLATES = [
    {
        "code": "enterprise-daily",
        "name": "复工企业日常巡查",
        "subject_type": "establishment",
        "subject_kinds": ENTERPRISE_KINDS,
        "visit_kind": "inspection",
        "description": "企业复工后的日常巡查：查看防疫措施和各项制度的落实情况，发现的问题进入日常巡查问题台账",
        "items": [
            (
                "temperature",
                "体温检测：进出人员是否逐一测温并登记",
                "yes_no",
                True,
                "查看测温点和体温登记表",
                [],
                None,
                None,
                "",
                "eq",
                False,
                "measures_inadequate",
            ),
            (
                "max_temperature",
                "抽测员工体温最高值",
                "number",
                False,
                "37.3℃以上须立即按规定处置并报告",
                [],
                34,
                43,
                "℃",
                "gt",
                37.3,
                None,
            ),
            (
                "masks",
                "佩戴口罩：员工和顾客是否规范佩戴口罩",
                "yes_no",
                True,
                "",
                [],
                None,
                None,
                "",
                "eq",
                False,
                "measures_inadequate",
            ),
            (
                "disinfection",
                "消毒记录：是否按要求消毒并记录",
                "yes_no",
                True,
                "查看当日消毒记录",
                [],
                None,
                None,
                "",
                "eq",
                False,
                "measures_inadequate",
            ),
            (
                "ventilation",
                "通风：营业场所是否定时开窗通风",
                "yes_no",
                True,
                "",
                [],
                None,
                None,
                "",
                "eq",
                False,
                "measures_inadequate",
            ),
            (
                "density",
                "人员密度：现场人员是否保持安全间隔",
                "single",
                True,
                "收银台、电梯口等处是否有人员聚集",
                ["间隔正常", "局部较密", "人员聚集"],
                None,
                None,
                "",
                "in",
                ["人员聚集"],
                "measures_inadequate",
            ),
            (
                "health_ledger",
                "员工健康台账：是否建立并每日更新",
                "yes_no",
                True,
                "包括返岗员工14天行程排查",
                [],
                None,
                None,
                "",
                "eq",
                False,
                "measures_inadequate",
            ),
            (
                "ppe_stock",
                "防疫物资储备：口罩、消毒液等够用几天",
                "single",
                True,
                "",
                ["7天以上", "3至7天", "不足3天"],
                None,
                None,
                "",
                "in",
                ["不足3天"],
                "ppe_shortage",
            ),
            ("scene", "现场照片", "photo", False, "拍摄测温点、消毒记录或发现的问题", [], None, None, "", "", None, None),
        ],
    },
    {
        "code": "school-reopening",
        "name": "学校复学疫情防控督导",
        "subject_type": "establishment",
        "subject_kinds": SCHOOL_KINDS,
        "visit_kind": "supervision",
        "description": "督导组到学校、幼儿园、辅导学校督导：防疫物资、防控制度落实、开学前后准备情况",
        "items": [
            (
                "supplies",
                "防疫物资：已备好的物资",
                "multiple",
                True,
                "口罩、消毒液、测温仪三样缺一即不合格",
                ["口罩", "洗手液", "消毒液", "测温仪"],
                None,
                None,
                "",
                "lacks",
                ["口罩", "消毒液", "测温仪"],
                "ppe_shortage",
            ),
            (
                "systems",
                "防控制度落实：已建立的制度",
                "multiple",
                True,
                "",
                ["疫情应急预案", "联防联控制度", "复学查验制度", "环境卫生制度", "信息日报制度"],
                None,
                None,
                "",
                "lacks",
                ["疫情应急预案", "联防联控制度", "复学查验制度", "环境卫生制度", "信息日报制度"],
                "measures_inadequate",
            ),
            (
                "preparation",
                "开学前后准备：是否制定开学工作方案并明确责任人",
                "yes_no",
                True,
                "",
                [],
                None,
                None,
                "",
                "eq",
                False,
                "measures_inadequate",
            ),
            (
                "duty_check",
                "值班进班登记测温：是否严格执行值班、进班登记测温程序",
                "yes_no",
                True,
                "查看值班表和进班登记测温记录",
                [],
                None,
                None,
                "",
                "eq",
                False,
                "measures_inadequate",
            ),
            (
                "observation_room",
                "观察室：是否设置规范的临时观察室",
                "yes_no",
                True,
                "位置相对独立、通风良好，配备体温计、口罩、消毒用品",
                [],
                None,
                None,
                "",
                "eq",
                False,
                "measures_inadequate",
            ),
            (
                "key_people",
                "重点人员日排查：是否每日排查师生及家庭成员健康状况",
                "yes_no",
                True,
                "",
                [],
                None,
                None,
                "",
                "eq",
                False,
                "measures_inadequate",
            ),
            (
                "drill",
                "模拟开学演练：是否已开展",
                "yes_no",
                True,
                "尚未开展的请督促在开学前完成",
                [],
                None,
                None,
                "",
                "eq",
                False,
                None,
            ),
            ("drill_date", "演练日期", "date", False, "", [], None, None, "", "", None, None),
            ("scene", "现场照片", "photo", False, "拍摄物资、观察室或发现的问题", [], None, None, "", "", None, None),
            ("remarks", "其他情况", "text", False, "", [], None, None, "", "", None, None),
        ],
    },
    {
        "code": "household-visit",
        "name": "入户排查",
        "subject_type": "household",
        "subject_kinds": [],
        "visit_kind": "visit",
        "description": "以网格为单位逐户走访，排查境外返安人员，登记并宣传防控要求",
        "items": [
            (
                "overseas",
                "请问家里有境外返安人员吗？",
                "yes_no",
                True,
                "包括在境外居住、工作、学习的家庭成员",
                [],
                None,
                None,
                "",
                "",
                None,
                None,
            ),
            ("overseas_count", "境外人员人数", "number", False, "", [], 0, 20, "人", "", None, None),
            ("where", "所在国家和城市", "text", False, "如：意大利 米兰", [], None, None, "", "", None, None),
            (
                "returned",
                "是否已返安",
                "single",
                False,
                "",
                ["尚未返安", "已返安（14天内）", "已返安（超过14天）"],
                None,
                None,
                "",
                "",
                None,
                None,
            ),
            ("contacted", "是否已与境外人员取得联系并劝导做好防范", "yes_no", False, "", [], None, None, "", "", None, None),
            (
                "symptoms",
                "家中是否有发热、咳嗽等症状人员",
                "yes_no",
                True,
                "有则立即报告社区并按规定处置",
                [],
                None,
                None,
                "",
                "eq",
                True,
                "other",
            ),
            (
                "leaflet",
                "是否已发放《致境外返安人员一封信》等宣传材料",
                "yes_no",
                True,
                "",
                [],
                None,
                None,
                "",
                "eq",
                False,
                None,
            ),
        ],
    },
    {
        "code": "enterprise-help-visit",
        "name": "复工复产帮扶走访",
        "subject_type": "establishment",
        "subject_kinds": ENTERPRISE_KINDS,
        "visit_kind": "visit",
        "description": "下沉一线走访企业：了解复工复产情况和困难，讲解政策，协调解决问题",
        "items": [
            ("resumed", "复工情况", "single", True, "", ["已复工", "准备复工", "暂未复工"], None, None, "", "", None, None),
            (
                "ppe_enough",
                "防疫物资（口罩、酒精、消毒液）是否充足",
                "yes_no",
                True,
                "不足的直接上报，由商务局协调",
                [],
                None,
                None,
                "",
                "eq",
                False,
                "ppe_shortage",
            ),
            (
                "staff_back",
                "员工是否基本返岗",
                "yes_no",
                True,
                "员工因封村等原因回不来的，上报后按地域交相关镇办协调",
                [],
                None,
                None,
                "",
                "eq",
                False,
                "staff_loss",
            ),
            ("measures_ok", "防疫措施是否落实到位", "yes_no", True, "", [], None, None, "", "eq", False, "measures_inadequate"),
            (
                "policy",
                "是否需要扶持政策辅导（补贴、社保、金融）",
                "yes_no",
                True,
                "",
                [],
                None,
                None,
                "",
                "eq",
                True,
                "policy_request",
            ),
            ("difficulty", "企业反映的其他困难", "text", False, "", [], None, None, "", "", None, None),
            ("scene", "现场照片", "photo", False, "", [], None, None, "", "", None, None),
        ],
    },
]


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Template = apps.get_model("inspections", "ChecklistTemplate")
    Version = apps.get_model("inspections", "TemplateVersion")
    Item = apps.get_model("inspections", "ChecklistItem")
    Category = apps.get_model("problems", "ProblemCategory")
    categories = {c.code: c for c in Category.objects.all()}
    existing = set(Template.objects.values_list("code", flat=True))
    now = timezone.now()
    for t in TEMPLATES:
        if t["code"] in existing:
            continue
        template = Template.objects.create(
            code=t["code"],
            name=t["name"],
            subject_type=t["subject_type"],
            subject_kinds=t["subject_kinds"],
            visit_kind=t["visit_kind"],
            description=t["description"],
        )
        version = Version.objects.create(template=template, number=1, note="随系统提供", created_at=now)
        Item.objects.bulk_create(
            [
                Item(
                    version=version,
                    position=i,
                    code=code,
                    label=label,
                    type=kind,
                    required=required,
                    help_text=help_text,
                    options=options,
                    min_value=lo,
                    max_value=hi,
                    unit=unit,
                    fail_op=op,
                    fail_value=ref,
                    problem_category=categories.get(category) if category else None,
                )
                for i, (code, label, kind, required, help_text, options, lo, hi, unit, op, ref, category) in enumerate(
                    t["items"], start=1
                )
            ]
        )
        Version.objects.filter(pk=version.pk).update(published_at=now)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Template = apps.get_model("inspections", "ChecklistTemplate")
    Version = apps.get_model("inspections", "TemplateVersion")
    Item = apps.get_model("inspections", "ChecklistItem")
    Visit = apps.get_model("inspections", "Visit")
    Campaign = apps.get_model("inspections", "Campaign")
    codes = [t["code"] for t in TEMPLATES]
    used = set(Visit.objects.values_list("version__template__code", flat=True)) | set(
        Campaign.objects.values_list("version__template__code", flat=True)
    )
    unused = [c for c in codes if c not in used]
    Item.objects.filter(version__template__code__in=unused).delete()
    Version.objects.filter(template__code__in=unused).delete()
    Template.objects.filter(code__in=unused).delete()


class Migration(migrations.Migration):
    dependencies = [("inspections", "0001_initial"), ("problems", "0002_shipped_categories")]
    operations = [migrations.RunPython(forwards, backwards)]
