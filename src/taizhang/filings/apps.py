from django.apps import AppConfig


class FilingsConfig(AppConfig):
    name = "taizhang.filings"
    label = "filings"
    verbose_name = "复工备案"
