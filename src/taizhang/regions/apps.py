from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "taizhang.regions"
    label = "regions"
    verbose_name = "区划"

    def ready(self) -> None:
        from taizhang.core.nav import NavItem, register
        from taizhang.core.roles import REGION_READERS

        register(NavItem("区划网格", "regions:list", REGION_READERS, section="基础台账", order=20))
