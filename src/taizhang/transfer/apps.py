from datetime import timedelta

from django.apps import AppConfig


class TransferConfig(AppConfig):
    name = "taizhang.transfer"
    label = "transfer"
    verbose_name = "导入导出"

    def ready(self) -> None:
        from taizhang.core import periodic
        from taizhang.core.nav import NavItem, register

        from . import tasks
        from .views import TRANSFER_ROLES

        periodic.register(periodic.Job("transfer_purge", tasks.purge_transfer_files, timedelta(hours=1)))
        register(NavItem("导入导出", "transfer:index", TRANSFER_ROLES, section="基础台账", order=30))
