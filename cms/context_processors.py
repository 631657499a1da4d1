"""Template context every public page needs (tile server, language list)."""

from django.conf import settings


def convive(request):
    return {
        "CONVIVE_TILE_URL": settings.CONVIVE_TILE_URL,
        "CONVIVE_TILE_ATTRIBUTION": settings.CONVIVE_TILE_ATTRIBUTION,
    }
