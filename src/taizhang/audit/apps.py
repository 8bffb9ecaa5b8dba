from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "taizhang.audit"
    label = "audit"
    verbose_name = "审计"

    def ready(self) -> None:
        from taizhang.core.nav import NavItem, register
        from taizhang.core.permissions import on_denied

        from .services import audit_denied

        on_denied(audit_denied)

        register(NavItem("审计日志", "audit:log", frozenset({"auditor"}), section="安全审计", order=90))
