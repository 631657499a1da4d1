"""OGC API – Features at /api/features/ (views in `cms.features_api`)."""

from django.urls import path

from . import features_api

app_name = "features"

urlpatterns = [
    path("", features_api.landing, name="landing"),
    path("conformance", features_api.conformance, name="conformance"),
    path("docs", features_api.docs, name="docs"),
    path("collections", features_api.collections, name="collections"),
    path("collections/<str:collection_id>", features_api.collection, name="collection"),
    path("collections/<str:collection_id>/items", features_api.items, name="items"),
    path(
        "collections/<str:collection_id>/items/<str:feature_id>",
        features_api.item,
        name="item",
    ),
]
