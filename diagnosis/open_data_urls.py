"""Bulk open-data exports, JSON API (docs/open-data.md): /api/exports/…"""

from django.urls import path

from . import open_data_views

urlpatterns = [
    path("", open_data_views.api_export_create, name="open-data-export-list"),
    path("<str:export_id>", open_data_views.api_export_detail, name="open-data-export-detail"),
    path(
        "<str:export_id>/download",
        open_data_views.api_export_download,
        name="open-data-export-download",
    ),
]
