from django.apps import AppConfig


class IndustriesConfig(AppConfig):
    name = "taizhang.industries"
    label = "industries"
    verbose_name = "行业分类"
