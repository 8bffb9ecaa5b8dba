"""API routes of this app, included under /api/v1/ by taizhang.api.urls."""

from django.urls import URLPattern, URLResolver, path

from . import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("transfer/<slug:ledger>/template", api.TemplateApi.as_view(), name="transfer-template"),
    path("transfer/<slug:ledger>/imports", api.ImportApi.as_view(), name="transfer-import"),
    path("transfer/<slug:ledger>/exports", api.ExportApi.as_view(), name="transfer-export"),
    path("transfer/jobs/<int:pk>", api.JobApi.as_view(), name="transfer-job"),
    path("transfer/jobs/<int:pk>/commit", api.CommitApi.as_view(), name="transfer-commit"),
    path("transfer/jobs/<int:pk>/cancel", api.CancelApi.as_view(), name="transfer-cancel"),
    path("transfer/jobs/<int:pk>/download", api.DownloadApi.as_view(), name="transfer-download"),
]
