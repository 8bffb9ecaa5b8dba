"""API routes of this app, included under /api/v1/ by taizhang.api.urls."""

from django.urls import path

from . import api

urlpatterns = [
    path("checklists/", api.TemplateListApi.as_view(), name="checklists"),
    path("checklists/<int:pk>", api.TemplateDetailApi.as_view(), name="checklist"),
    path("checklist-versions/<int:pk>", api.VersionDetailApi.as_view(), name="checklist-version"),
    path("visits/", api.VisitListApi.as_view(), name="visits"),
    path("visits/<int:pk>", api.VisitDetailApi.as_view(), name="visit"),
    path("visit-figures", api.FiguresApi.as_view(), name="visit-figures"),
    path("campaigns/", api.CampaignListApi.as_view(), name="campaigns"),
    path("campaigns/<int:pk>", api.CampaignDetailApi.as_view(), name="campaign"),
    path("campaigns/<int:pk>/targets", api.CampaignTargetsApi.as_view(), name="campaign-targets"),
    path("campaigns/<int:pk>/start", api.CampaignStartApi.as_view(), name="campaign-start"),
    path("campaigns/<int:pk>/close", api.CampaignCloseApi.as_view(), name="campaign-close"),
    path("campaigns/<int:pk>/refresh", api.CampaignRefreshApi.as_view(), name="campaign-refresh"),
]
