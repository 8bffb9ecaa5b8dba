from datetime import timedelta

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "taizhang.core"
    label = "core"
    verbose_name = "基础"

    def ready(self) -> None:
        from . import periodic, protected, tasks  # noqa: F401 - protected registers the key check

        periodic.register(periodic.Job("clear_expired_sessions", tasks.clear_expired_sessions, timedelta(hours=1)))
