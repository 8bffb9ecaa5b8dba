"""GeoReport v2 routes under /open311/v2/. `requests/{id}` is the spec's path; `request/{id}` (singular) is
also answered because the published swagger document uses it. Anything else gets the spec's 404 document."""

from django.urls import path, register_converter

from . import views


class FormatConverter:
    regex = "json|xml"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class IdConverter(FormatConverter):
    regex = "[A-Za-z0-9_-]{1,64}"


register_converter(FormatConverter, "o311fmt")
register_converter(IdConverter, "o311id")

app_name = "open311"
urlpatterns = [
    path("", views.not_found, name="root"),
    path("discovery.<o311fmt:fmt>", views.discovery, name="discovery"),
    path("services.<o311fmt:fmt>", views.service_list, name="services"),
    path("services/<o311id:service_code>.<o311fmt:fmt>", views.service_definition, name="service"),
    path("requests.<o311fmt:fmt>", views.requests, name="requests"),
    path("requests/<o311id:service_request_id>.<o311fmt:fmt>", views.request_detail, name="request"),
    path("request/<o311id:service_request_id>.<o311fmt:fmt>", views.request_detail),
    path("tokens/<o311id:token>.<o311fmt:fmt>", views.token, name="token"),
    path("<path:rest>", views.not_found),
]
