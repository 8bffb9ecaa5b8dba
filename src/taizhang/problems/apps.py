from datetime import timedelta

from django.apps import AppConfig


class ProblemsConfig(AppConfig):
    name = "taizhang.problems"
    label = "problems"
    verbose_name = "问题台账"

    def ready(self) -> None:
        from taizhang.core import periodic
        from taizhang.core.nav import NavItem, register
        from taizhang.core.roles import Role
        from taizhang.establishments import timeline

        from . import tasks
        from .scoping import ACTING_ROLES, READER_ROLES
        from .timeline import problem_entries

        periodic.register(periodic.Job("problems_escalate_overdue", tasks.escalate_overdue_problems, timedelta(minutes=15)))
        timeline.register(problem_entries)
        register(
            NavItem("我的待办", "problems:mine", ACTING_ROLES, section="问题台账", order=10),
            NavItem("本单位待办", "problems:unit", ACTING_ROLES, section="问题台账", order=11),
            NavItem("超期督办", "problems:overdue", READER_ROLES - {Role.ENTERPRISE}, section="问题台账", order=12),
            NavItem("问题台账", "problems:list", READER_ROLES, section="问题台账", order=13),
            NavItem("我的关注", "problems:watch", READER_ROLES, section="问题台账", order=14),
            NavItem("上报问题", "problems:new", ACTING_ROLES | {Role.ENTERPRISE}, section="问题台账", order=15),
            NavItem("工作日历", "problems:calendar", frozenset({Role.SYSADMIN}), section="系统管理", order=85),
        )
