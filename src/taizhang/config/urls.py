from django.urls import include, path

from taizhang.accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("taizhang.accounts.urls")),
    path("regions/", include("taizhang.regions.urls")),
    path("audit/", include("taizhang.audit.urls")),
    path("notifications/", include("taizhang.notifications.urls")),
    path("establishments/", include("taizhang.establishments.urls")),
    path("filings/", include("taizhang.filings.urls")),
    path("problems/", include("taizhang.problems.urls")),
    path("inspections/", include("taizhang.inspections.urls")),
    path("transfer/", include("taizhang.transfer.urls")),
    path("dashboard/", include("taizhang.dashboards.urls")),
    path("api/v1/", include("taizhang.api.urls")),
    path("open311/v2/", include("taizhang.problems.open311.urls")),
]

handler404 = "taizhang.core.views.not_found"
handler403 = "taizhang.core.views.forbidden"
handler500 = "taizhang.core.views.server_error"
