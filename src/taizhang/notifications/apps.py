from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "taizhang.notifications"
    label = "notifications"
    verbose_name = "消息通知"

    def ready(self) -> None:
        from taizhang.core.nav import NavItem, register
        from taizhang.core.roles import ALL_ROLES

        register(NavItem("消息通知", "notifications:list", ALL_ROLES, section="个人", order=98))
