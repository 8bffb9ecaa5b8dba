"""API wiring only: every endpoint is defined in its app's api.py and calls that app's services."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from taizhang.accounts import api as accounts_api
from taizhang.core.drf import PublicPermission
from taizhang.regions import api as regions_api

app_name = "api"


class SchemaView(SpectacularAPIView):
    permission_classes = [PublicPermission]


urlpatterns = [
    path("schema", SchemaView.as_view(), name="schema"),
    path("me", accounts_api.MeApi.as_view(), name="me"),
    # open to a user who must change their password (accounts.middleware.CHANGE_REQUIRED_ALLOWED names it)
    path("accounts/password/", accounts_api.PasswordChangeApi.as_view(), name="password"),
    path("regions/", regions_api.RegionListApi.as_view(), name="regions"),
    path("regions/<int:pk>", regions_api.RegionDetailApi.as_view(), name="region"),
    path("", include("taizhang.establishments.api_urls")),
    path("", include("taizhang.filings.api_urls")),
    path("", include("taizhang.problems.api_urls")),
    path("", include("taizhang.inspections.api_urls")),
    path("", include("taizhang.dashboards.api_urls")),
    path("", include("taizhang.transfer.api_urls")),
]
