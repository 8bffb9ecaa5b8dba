from django.urls import path

from . import views

app_name = "transfer"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:ledger>/template.xlsx", views.template, name="template"),
    path("<slug:ledger>/import", views.upload, name="upload"),
    path("<slug:ledger>/export", views.export, name="export"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/progress", views.job_progress, name="progress"),
    path("jobs/<int:pk>/commit", views.job_commit, name="commit"),
    path("jobs/<int:pk>/cancel", views.job_cancel, name="cancel"),
    path("jobs/<int:pk>/download", views.job_download, name="download"),
]
