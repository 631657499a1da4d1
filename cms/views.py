"""Site-wide views that are not Wagtail pages."""

from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """Liveness for load balancers and `make demo`: answers once the database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
