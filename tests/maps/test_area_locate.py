"""Reading territory: which area a point is in, and areas as light GeoJSON for the public map."""

import json

from django.contrib.gis.geos import GEOSGeometry, Point

from maps.models import Area
from maps.selectors import area_locate, areas_geojson
from tests.conftest import EL_CHICO_POINT, OUTSIDE_POINT

from .conftest import CHAPINERO_BARRIOS


def test_a_point_inside_a_barrio_is_located_in_it(barrios):
    area = area_locate(point=Point(*EL_CHICO_POINT, srid=4326))

    assert area is not None
    assert (area.code, area.name) == ("008308", "El Chico")


def test_the_barrio_wins_over_its_localidad(barrios, chapinero_localidad):
    point = Point(*EL_CHICO_POINT, srid=4326)
    assert chapinero_localidad.geometry.contains(point)

    assert area_locate(point=point).code == "008308"
    assert area_locate(point=point, among=[chapinero_localidad.pk]) == chapinero_localidad


def test_a_point_outside_every_area_is_located_nowhere(barrios, chapinero_localidad):
    assert area_locate(point=Point(*OUTSIDE_POINT, srid=4326)) is None


def test_a_point_in_a_barrio_outside_the_consultation_is_not_located(barrios):
    others = [area.pk for area in barrios if area.code != "008308"]

    assert area_locate(point=Point(*EL_CHICO_POINT, srid=4326), among=others) is None


def test_areas_geojson_is_small_valid_and_carries_only_public_properties(import_areas):
    import_areas(CHAPINERO_BARRIOS, "--name-field=SCANOMBRE", "--code-field=SCACODIGO")
    areas = {area.pk: area for area in Area.objects.order_by("code")}

    collection = areas_geojson(areas=areas.values())

    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 74
    el_chico = next(f for f in collection["features"] if f["properties"]["code"] == "008308")
    assert el_chico["properties"] == {
        "id": Area.objects.get(code="008308").pk,
        "name": "EL CHICO",
        "code": "008308",
        "level": "neighbourhood",
    }
    payload = json.dumps(collection, separators=(",", ":"))
    original = sum(len(area.geometry.geojson) for area in areas.values())
    assert len(payload) < original / 10
    for item in collection["features"]:
        assert item["geometry"]["type"] == "MultiPolygon"
        simplified = GEOSGeometry(json.dumps(item["geometry"]), srid=4326)
        original = areas[item["id"]].geometry
        assert simplified.valid, item["properties"]["name"]
        assert simplified.num_coords <= original.num_coords
        # Within about 6 m of the published line everywhere (tolerance plus rounding).
        assert original.buffer(0.00006).contains(simplified)
        assert simplified.buffer(0.00006).contains(original)
