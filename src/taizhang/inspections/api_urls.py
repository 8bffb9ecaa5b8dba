"""API routes of this app, included under /api/v1/ by taizhang.api.urls."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
