from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "taizhang.inspections"
    label = "inspections"
    verbose_name = "走访巡查"
