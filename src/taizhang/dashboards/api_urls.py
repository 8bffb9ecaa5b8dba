"""API routes of this app, included under /api/v1/ by taizhang.api.urls."""

from django.urls import URLPattern, URLResolver, path

from . import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("dashboard", api.DashboardApi.as_view(), name="dashboard"),
]
