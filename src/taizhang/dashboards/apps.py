from datetime import timedelta

from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "taizhang.dashboards"
    label = "dashboards"
    verbose_name = "数据看板"

    def ready(self) -> None:
        from taizhang.core import periodic
        from taizhang.core.nav import NavItem, register

        from . import sources, tasks
        from .scope import DASHBOARD_ROLES, REPORT_ADMIN_ROLES, REPORT_FILER_ROLES

        sources.register()
        periodic.register(periodic.Job("dashboards.daily_reports", tasks.generate_due_reports, timedelta(minutes=10)))
        periodic.register(periodic.Job("rollups.verify", tasks.verify_rollups, timedelta(days=1)))
        register(
            NavItem("数据看板", "dashboards:home", DASHBOARD_ROLES, section="数据看板", order=1),
            NavItem("大屏", "dashboards:screen", DASHBOARD_ROLES, section="数据看板", order=2),
            NavItem("信息日报", "dashboards:reports", DASHBOARD_ROLES, section="数据看板", order=3),
            NavItem("填报日报", "dashboards:file", REPORT_FILER_ROLES, section="数据看板", order=4),
            NavItem("日报模板", "dashboards:templates", REPORT_ADMIN_ROLES, section="数据看板", order=5),
        )
