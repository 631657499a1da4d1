"""Published safety-walk reports and their exports, under /<lang>/walks/ (cms/urls.py)."""

from django.urls import path

from . import report_views

app_name = "walk_reports"
urlpatterns = [
    path("", report_views.walk_report_index, name="index"),
    path("<uuid:uuid>/", report_views.walk_report_page, name="report"),
    path("<uuid:uuid>/stops.geojson", report_views.walk_stops_geojson_view, name="geojson"),
    path("<uuid:uuid>/stops.csv", report_views.walk_stops_csv_view, name="csv"),
]
