"""Open311 GeoReport v2 under /open311/ (included by cms/urls.py; views in diagnosis.open311).

The format is part of each address (`services.json`, `services.xml`); an unknown format or an
unknown address under /open311/ gets the standard Open311 error rather than an HTML page.
"""

from django.urls import re_path

from . import open311

FORMAT = r"\.(?P<format>[A-Za-z0-9]+)$"

app_name = "open311"
urlpatterns = [
    re_path(r"^discovery" + FORMAT, open311.discovery, name="discovery"),
    re_path(r"^v2/services" + FORMAT, open311.services, name="services"),
    re_path(
        r"^v2/services/(?P<service_code>[^/]+)" + FORMAT,
        open311.service_definition,
        name="service-definition",
    ),
    re_path(r"^v2/requests" + FORMAT, open311.service_requests, name="requests"),
    # The spec's address, and the one the Open311 Swagger file uses (/request/{id}).
    re_path(
        r"^v2/requests/(?P<service_request_id>[^/]+)" + FORMAT,
        open311.service_request,
        name="request",
    ),
    re_path(
        r"^v2/request/(?P<service_request_id>[^/]+)" + FORMAT,
        open311.service_request,
        name="request-swagger",
    ),
    re_path(r"^v2/tokens/(?P<token>[^/]+)" + FORMAT, open311.token, name="token"),
    re_path(r"^.*$", open311.not_found, name="not-found"),
]
