"""The open-data page, under the language prefix (docs/open-data.md): /<lang>/open-data/…"""

from django.urls import path

from . import open_data_views

urlpatterns = [
    path("", open_data_views.open_data_page, name="open-data"),
    path("exports/<str:export_id>/", open_data_views.open_data_job_page, name="open-data-job"),
]
