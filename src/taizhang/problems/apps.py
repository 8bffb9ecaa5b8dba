from django.apps import AppConfig


class ProblemsConfig(AppConfig):
    name = "taizhang.problems"
    label = "problems"
    verbose_name = "问题台账"
