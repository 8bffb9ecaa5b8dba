from datetime import timedelta

from django.apps import AppConfig


class FilingsConfig(AppConfig):
    name = "taizhang.filings"
    label = "filings"
    verbose_name = "复工备案"

    def ready(self) -> None:
        from taizhang.core import periodic
        from taizhang.core.nav import NavItem, register
        from taizhang.core.roles import Role
        from taizhang.establishments import timeline

        from . import selectors, tasks
        from .scoping import READ_ROLES, REVIEW_ROLES

        timeline.register(selectors.timeline_entries)
        periodic.register(periodic.Job("filings.resume_on_planned_date", tasks.resume_due_filings, timedelta(hours=1)))
        periodic.register(periodic.Job("filings.flag_overdue_reviews", tasks.flag_overdue_reviews, timedelta(minutes=30)))
        staff = READ_ROLES - {Role.ENTERPRISE}
        register(
            NavItem("我的单位与备案", "filings:portal", frozenset({Role.ENTERPRISE}), section="企业服务", order=10),
            NavItem("备案审核", "filings:queue", REVIEW_ROLES, section="复工备案", order=30),
            NavItem("逾期未审", "filings:overdue", frozenset({Role.DEPARTMENT, Role.LEADER}), section="复工备案", order=31),
            NavItem("备案台账", "filings:list", staff, section="复工备案", order=32),
            NavItem("复工统计", "filings:figures", staff, section="复工备案", order=33),
            NavItem(
                "企业账号",
                "filings:accounts",
                frozenset({Role.COMMUNITY, Role.SUBDISTRICT, Role.DEPARTMENT}),
                section="复工备案",
                order=34,
            ),
        )
