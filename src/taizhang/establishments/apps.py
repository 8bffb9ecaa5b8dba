from django.apps import AppConfig


class EstablishmentsConfig(AppConfig):
    name = "taizhang.establishments"
    label = "establishments"
    verbose_name = "单位台账"
