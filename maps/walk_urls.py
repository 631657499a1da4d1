"""Safety walks in the field: the recording page, its offline worker, and the stops endpoint.

Mounted under the language prefix at /<lang>/walks/ (cms/urls.py). The worker is served from here,
not from /static/, because a service worker only controls pages under its own path.
"""

from django.urls import path

from . import walk_views

app_name = "walks"
urlpatterns = [
    path("join/", walk_views.walk_join, name="join"),
    path("sw.js", walk_views.walk_worker, name="worker"),
    path("<uuid:uuid>/record/", walk_views.walk_record, name="record"),
    path("<uuid:uuid>/stops/", walk_views.walk_stops, name="stops"),
]
