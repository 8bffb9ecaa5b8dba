"""API routes of this app, included under /api/v1/ by taizhang.api.urls."""

from django.urls import URLPattern, URLResolver, path

from . import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("filings/", api.FilingListApi.as_view(), name="filings"),
    path("filings/queue", api.ReviewQueueApi.as_view(), name="filing-queue"),
    path("filings/figures", api.FiguresApi.as_view(), name="filing-figures"),
    path("filings/templates", api.TemplateListApi.as_view(), name="filing-templates"),
    path("filings/<int:pk>", api.FilingDetailApi.as_view(), name="filing"),
    path("filings/<int:pk>/attachments", api.FilingAttachmentListApi.as_view(), name="filing-attachments"),
    path("filings/<int:pk>/attachments/<int:aid>", api.FilingAttachmentApi.as_view(), name="filing-attachment"),
    path("filings/<int:pk>/submit", api.FilingSubmitApi.as_view(), name="filing-submit"),
    path("filings/<int:pk>/withdraw", api.FilingWithdrawApi.as_view(), name="filing-withdraw"),
    path("filings/<int:pk>/rulings", api.FilingRulingsApi.as_view(), name="filing-rulings"),
    path("filings/<int:pk>/approve", api.FilingApproveApi.as_view(), name="filing-approve"),
    path("filings/<int:pk>/return", api.FilingReturnApi.as_view(), name="filing-return"),
    path("filings/<int:pk>/review", api.FilingReviewApi.as_view(), name="filing-review"),
]
