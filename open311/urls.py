"""GeoReport v2, included at /open311/v2/: each resource with its format as the URL's suffix."""

from django.urls import path, re_path, register_converter

from . import views


class Format:
    regex = "xml|json"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(Format, "open311fmt")

app_name = "open311"
urlpatterns = [
    path("discovery.<open311fmt:fmt>", views.discovery, name="discovery"),
    path("services.<open311fmt:fmt>", views.service_list, name="services"),
    # An empty code in the path: the spec's "400 - service_code ... was not provided".
    path("services/.<open311fmt:fmt>", views.not_provided, {"what": "service_code"}),
    path(
        "services/<str:service_code>.<open311fmt:fmt>",
        views.service_definition,
        name="service-definition",
    ),
    path("requests.<open311fmt:fmt>", views.requests, name="requests"),
    path(
        "requests/<str:service_request_id>.<open311fmt:fmt>",
        views.single_request,
        name="request",
    ),
    path("tokens/.<open311fmt:fmt>", views.not_provided, {"what": "token"}),
    path("tokens/<str:token>.<open311fmt:fmt>", views.token, name="token"),
    re_path(r"^(?P<rest>.*)$", views.not_found),
]
