from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "dashboards"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("screen/", views.screen, name="screen"),
    path("reports/", views.report_list, name="reports"),
    path("reports/templates/<int:pk>/generate/", views.report_generate, name="report-generate"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
    path("reports/<int:pk>/xlsx/", views.report_download, {"fmt": "xlsx"}, name="report-xlsx"),
    path("reports/<int:pk>/pdf/", views.report_download, {"fmt": "pdf"}, name="report-pdf"),
    path("reports/file/", views.report_file, name="file"),
    path("reports/config/", views.template_list, name="templates"),
    path("reports/config/new/", views.template_edit, name="template-new"),
    path("reports/config/<int:pk>/", views.template_edit, name="template-edit"),
]
