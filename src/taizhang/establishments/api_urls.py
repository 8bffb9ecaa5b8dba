"""API routes of this app, included under /api/v1/ by taizhang.api.urls."""

from django.urls import path

from . import api

urlpatterns = [
    path("establishments/", api.EstablishmentListApi.as_view(), name="establishments"),
    path("establishments/<int:pk>", api.EstablishmentDetailApi.as_view(), name="establishment"),
    path("establishments/<int:pk>/transition", api.EstablishmentTransitionApi.as_view(), name="establishment-transition"),
    path("establishments/<int:pk>/reveal", api.EstablishmentRevealApi.as_view(), name="establishment-reveal"),
]
