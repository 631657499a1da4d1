"""Site-wide views that are not Wagtail pages."""

from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """Liveness for load balancers and `make demo`: answers once the database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def openapi_schema(request):
    """GET /api/schema/: the OpenAPI document of every public JSON endpoint (cms.openapi)."""
    from .openapi import openapi_document

    document = openapi_document(server_url=request.build_absolute_uri("/").rstrip("/"))
    response = JsonResponse(document, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/vnd.oai.openapi+json;version=3.0"
    response["Access-Control-Allow-Origin"] = "*"
    return response
