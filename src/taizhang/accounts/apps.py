from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "taizhang.accounts"
    label = "accounts"
    verbose_name = "账户与岗位"

    def ready(self) -> None:
        from taizhang.core.nav import NavItem, register
        from taizhang.core.scoping import set_resolver

        from .scope import compute_scope

        set_resolver(compute_scope)

        from taizhang.core.roles import ALL_ROLES, Role

        register(
            NavItem("首页", "home", ALL_ROLES, section="工作台", order=0),
            NavItem("用户管理", "accounts:users", frozenset({Role.SYSADMIN}), section="系统管理", order=80),
            NavItem("岗位授权", "accounts:posts", frozenset({Role.SECADMIN}), section="安全管理", order=81),
            NavItem("登录锁定", "accounts:lockouts", frozenset({Role.SECADMIN}), section="安全管理", order=82),
            NavItem("我的账户", "accounts:me", ALL_ROLES, section="个人", order=99),
        )
