"""Reads over territory: which area a point falls in, areas as GeoJSON."""

from collections.abc import Iterable

from django.contrib.gis.geos import Point

from .models import Area


def area_locate(*, point: Point, among: Iterable[int] | None = None) -> Area | None:
    """The smallest area containing `point`, optionally only among the given area ids.

    Uses the spatial index (bounding-box prefilter, then an exact `contains`). Neighbourhoods win
    over districts and districts over cities, so a point gets the most local area on offer.
    """
    queryset = Area.objects.filter(geometry__contains=point)
    if among is not None:
        queryset = queryset.filter(pk__in=list(among))
    rank = {Area.Level.NEIGHBOURHOOD: 0, Area.Level.DISTRICT: 1, Area.Level.CITY: 2}
    candidates = sorted(queryset.only("id", "name", "level", "code"), key=lambda a: rank[a.level])
    return candidates[0] if candidates else None
