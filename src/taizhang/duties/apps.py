from django.apps import AppConfig


class DutiesConfig(AppConfig):
    name = "taizhang.duties"
    label = "duties"
    verbose_name = "包联责任"
