"""The two checklists of the 2020 scenario (SPEC §3.2 and the article). Districts edit or add their own.

复工备案: "要求企业在复工前,制订复工方案和应急预案,明确疫情防控工作组织架构" plus the commitment, PPE and the staff
screening ("排查了所有员工14天到1个月前的活动轨迹", temperature). 复学备案: the measures the inspection teams
checked in schools ("值班进班登记测温程序 … 疫情应急预案、联防联控制度、复学查验制度、环境卫生制度、信息日报 …
观察室 … 模拟开学演练").
"""

from django.db import migrations

TEMPLATES = [
    (
        "enterprise-resumption",
        "复工备案",
        "enterprise",
        "服务业企业、个体工商户复工前向行业主管部门备案，逐项审核通过后按计划日期复工。",
        [
            ("plan", "复工方案", "document", True, "复工时间安排、岗位与人员安排、分批复工措施；上传盖章的方案原件。"),
            ("emergency_plan", "应急预案", "document", True, "发现发热等可疑症状员工或顾客时的处置流程、隔离场所、报告对象。"),
            (
                "organisation",
                "疫情防控组织架构",
                "organisation",
                False,
                "明确企业主体责任：防控工作负责人、副组长和各成员的分工。",
            ),
            ("commitment", "承诺书", "commitment", True, "法定代表人或负责人签署并加盖公章的复工复产承诺书，上传扫描件或照片。"),
            ("supplies", "防疫物资", "supplies", False, "现有口罩、酒精、消毒液和测温设备的数量。"),
            ("staff", "员工排查", "staff", False, "员工总数、已返岗人数、已排查14天内行程并测量体温的人数。"),
        ],
    ),
    (
        "school-reopening",
        "复学备案",
        "school",
        "学校、幼儿园、辅导学校开学前向教育部门备案，逐项审核通过后按计划日期复学。",
        [
            ("duty_temperature", "值班进班登记测温", "measure", False, "值班制度、进校登记和晨午检测温程序。"),
            ("emergency_plan", "应急预案", "document", True, "校园疫情应急预案，上传原件。"),
            ("joint_control", "联防联控", "measure", False, "与属地社区、卫生院的联防联控制度和联系人。"),
            ("reopening_check", "复学查验", "measure", False, "师生返校前健康状况和行程查验制度。"),
            ("sanitation", "环境卫生", "measure", False, "教室、食堂、宿舍的清洁消毒制度和频次。"),
            ("daily_report", "信息日报", "measure", False, "师生健康情况每日报告制度和报送人。"),
            ("observation_room", "观察室", "measure", False, "临时观察室的位置、设施和值守安排。"),
            ("drill", "模拟开学演练", "measure", False, "演练日期、内容和发现问题的整改情况。"),
        ],
    ),
]


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    template_model = apps.get_model("filings", "FilingTemplate")
    item_model = apps.get_model("filings", "FilingItem")
    for code, name, audience, description, items in TEMPLATES:
        template, _ = template_model.objects.update_or_create(
            code=code,
            defaults={"name": name, "audience": audience, "description": description, "review_days": 2, "is_active": True},
        )
        for sort, (item_code, label, evidence, needs_attachment, help_text) in enumerate(items, start=1):
            item_model.objects.update_or_create(
                template=template,
                code=item_code,
                defaults={
                    "label": label,
                    "evidence": evidence,
                    "needs_attachment": needs_attachment,
                    "help": help_text,
                    "sort": sort * 10,
                    "required": True,
                },
            )


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("filings", "FilingTemplate").objects.filter(code__in=[t[0] for t in TEMPLATES]).delete()


class Migration(migrations.Migration):
    dependencies = [("filings", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
