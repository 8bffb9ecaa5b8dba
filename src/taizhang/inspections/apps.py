from datetime import timedelta

from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "taizhang.inspections"
    label = "inspections"
    verbose_name = "走访巡查"

    def ready(self) -> None:
        from taizhang.core import periodic
        from taizhang.core.nav import NavItem, register
        from taizhang.establishments import scoping as establishment_scoping
        from taizhang.establishments import timeline

        from . import tasks
        from .scoping import ACTING_ROLES, READER_ROLES, TEMPLATE_READER_ROLES
        from .selectors import inspector_establishment_q
        from .timeline import visit_entries

        timeline.register(visit_entries)
        periodic.register(periodic.Job("inspections_refresh_standing", tasks.refresh_standing_campaigns, timedelta(hours=6)))
        # The registry shows an inspector the active campaign targets of their teams (docs/adr/0009).
        establishment_scoping.register_scope(inspector_establishment_q)
        register(
            NavItem("检查任务", "inspections:home", ACTING_ROLES, section="走访巡查", order=20),
            NavItem("专项行动", "inspections:campaigns", READER_ROLES, section="走访巡查", order=21),
            NavItem("走访巡查记录", "inspections:visits", READER_ROLES, section="走访巡查", order=22),
            NavItem("出动帮扶统计", "inspections:figures", READER_ROLES, section="走访巡查", order=23),
            NavItem("检查表", "inspections:templates", TEMPLATE_READER_ROLES, section="走访巡查", order=24),
        )
