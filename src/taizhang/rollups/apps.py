from django.apps import AppConfig


class RollupsConfig(AppConfig):
    name = "taizhang.rollups"
    label = "rollups"
    verbose_name = "统计汇总"
