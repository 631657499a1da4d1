"""The public map: what residents reported, at fuzzed places, under the data rules.

Concerns are created through the real submit service and decided through the real moderation
service, which also keeps the map's summary counts (diagnosis.services.map_counts).
"""

import gzip

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.cache import cache

from diagnosis import selectors
from diagnosis.models import Concern
from diagnosis.services import concern_moderate_bulk

# Two exact points inside El Chico, written with more decimals than anything published, so the
# test can look for their 5-decimal rounding in the responses.
EXACT_POINTS = [(-74.051234, 4.673456), (-74.049871, 4.672219)]
CHAPINERO_BBOX = "-74.08,4.63,-74.02,4.70"
ELSEWHERE_BBOX = "-74.20,4.50,-74.15,4.55"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Responses are cached for 60 s; each test starts from what is in the database.
    cache.clear()
    yield
    cache.clear()


def decide(status, *concerns):
    moderator, _ = get_user_model().objects.get_or_create(
        username="moderator", defaults={"is_superuser": True, "is_staff": True}
    )
    reason = "" if status == "approved" else "Test decision."
    concern_moderate_bulk(concerns=concerns, user=moderator, status=status, reason=reason)


def approve(*concerns):
    decide("approved", *concerns)


def at(lon_lat):
    return Point(*lon_lat, srid=4326)


def route(page, name):
    return page.get_url() + page.reverse_subpage(name)


def features(client, page, *, bbox=CHAPINERO_BBOX, zoom=13, accept_encoding="", **params):
    response = client.get(
        route(page, "map_features"),
        {"bbox": bbox, "zoom": zoom, **params},
        HTTP_ACCEPT_ENCODING=accept_encoding,
    )
    assert response.status_code == 200, response.content
    return response


def counts(data):
    """(category code, count) of every count on the map, resolved through meta.categories."""
    categories = data["meta"]["categories"]
    return [
        (categories[index]["code"], count)
        for feature in data["features"]
        for index, count in feature["properties"]["counts"]
    ]


def total(data):
    return sum(count for _code, count in counts(data))


def area_rows(data, name="area_counts"):
    """(area, category code, count) for the per-area counts of a response."""
    categories = data["meta"]["categories"]
    return [
        (row["area"], categories[index]["code"], count)
        for row in data["meta"][name]
        for index, count in row["counts"]
    ]


@pytest.mark.parametrize("zoom", [11, 13, 17])
def test_only_approved_concerns_are_shown(client, consultation, submit, zoom):
    shown = submit()
    submit()  # pending
    decide("rejected", submit())
    hidden = submit()
    approve(shown, hidden)
    decide("hidden", hidden)
    data = features(client, consultation, zoom=zoom).json()
    assert total(data) == 1
    assert area_rows(data) == [("El Chico", "poor-lighting", 1)]


def test_sensitive_concern_is_never_a_point_or_a_cell(client, consultation, submit, categories):
    approve(*[submit(category=categories["domestic"]) for _ in range(3)])
    for zoom in (11, 14, 16, 18):
        data = features(client, consultation, zoom=zoom).json()
        assert data["features"] == []
        assert data["meta"]["sensitive_area_totals"] == []
    # Filtering on the sensitive category itself does not bring it onto the map either.
    data = features(client, consultation, zoom=17, category="domestic-violence").json()
    assert data["features"] == []


def test_sensitive_area_total_appears_only_from_five(client, consultation, submit, categories):
    approve(*[submit(category=categories["domestic"]) for _ in range(4)])
    cache.clear()
    assert features(client, consultation).json()["meta"]["sensitive_area_totals"] == []
    response_text = features(client, consultation).content.decode()
    assert "domestic-violence" not in response_text  # not even as a zero

    approve(submit(category=categories["domestic"]))
    cache.clear()
    data = features(client, consultation).json()
    assert data["features"] == []
    assert area_rows(data, "sensitive_area_totals") == [("El Chico", "domestic-violence", 5)]
    assert data["meta"]["categories"] == [
        {
            "key": str(categories["domestic"].translation_key),
            "code": "domestic-violence",
            "name": "Violencia intrafamiliar",
            "kind": "risk",
        }
    ]


def test_no_response_contains_an_exact_point(client, consultation, submit):
    approve(*[submit(point=at(point)) for point in EXACT_POINTS for _ in range(2)])
    references = list(Concern.objects.values_list("reference", flat=True))
    for zoom in (10, 12, 14, 15, 16, 17, 19):
        response = features(client, consultation, zoom=zoom)
        text = response.content.decode()
        shown = set()
        for feature in response.json()["features"]:
            coordinates = feature["geometry"]["coordinates"]
            rings = coordinates if feature["geometry"]["type"] == "Polygon" else [[coordinates]]
            shown |= {tuple(round(c, 5) for c in position) for ring in rings for position in ring}
        for lon, lat in EXACT_POINTS:
            # A fuzzed longitude *or* latitude may coincide with the exact one by chance; the
            # exact position (both together) must never be shown.
            assert (round(lon, 5), round(lat, 5)) not in shown
            assert f"{lon:.5f},{lat:.5f}" not in text
        # Nor the description, the reference code, or who the resident is.
        assert "La calle" not in text
        assert not any(reference in text for reference in references)
        assert "gender" not in text and "age_band" not in text


def test_a_view_elsewhere_returns_nothing(client, consultation, submit):
    approve(submit(), submit())
    for zoom in (12, 17):
        data = features(client, consultation, bbox=ELSEWHERE_BBOX, zoom=zoom).json()
        assert data["features"] == []
        assert data["meta"]["area_counts"] == []


def test_low_zoom_groups_concerns_per_cell_and_category(client, consultation, submit, categories):
    approve(*[submit(point=at(EXACT_POINTS[0])) for _ in range(3)])
    approve(submit(point=at(EXACT_POINTS[0]), category=categories["centre"]))
    data = features(client, consultation, zoom=12).json()
    # One feature for the cell, with a count per category.
    assert len(data["features"]) == 1
    assert sorted(counts(data)) == [("community-centre", 1), ("poor-lighting", 3)]
    # Assets come beside concerns, flagged so the map draws them differently.
    kinds = {entry["code"]: entry["kind"] for entry in data["meta"]["categories"]}
    assert kinds == {"poor-lighting": "risk", "community-centre": "asset"}
    assert data["meta"]["mode"] == "cells" and data["meta"]["level"] > 0


def test_cells_group_the_same_way_on_every_database(consultation, submit):
    """The grid indices west of Greenwich are negative: coarser cells must floor, not truncate."""
    concerns = [submit(point=at(point)) for point in EXACT_POINTS]
    approve(*concerns)
    assert all(c.cell_x < 0 for c in concerns)
    for zoom in range(10, 16):
        data = selectors.public_concern_features(
            consultation_key=consultation.translation_key,
            bbox=(-74.08, 4.63, -74.02, 4.70),
            zoom=zoom,
        )
        level = data["meta"]["level"]
        expected = {(c.cell_x >> level, c.cell_y >> level) for c in concerns}
        assert {tuple(f["properties"]["cell"]) for f in data["features"]} == expected


def test_high_zoom_shows_each_concern_at_a_fuzzed_place(client, consultation, submit):
    approve(*[submit(point=at(EXACT_POINTS[0])) for _ in range(3)])
    data = features(client, consultation, zoom=17).json()
    assert data["meta"]["mode"] == "points"
    places = [tuple(f["geometry"]["coordinates"]) for f in data["features"]]
    assert len(places) == 3 and len(set(places)) == 3
    exact = tuple(round(v, 5) for v in EXACT_POINTS[0])
    assert exact not in places
    for lon, lat in places:
        # Still inside the 150 m public cell around the exact point (within ~110 m).
        assert abs(lon - exact[0]) < 0.002 and abs(lat - exact[1]) < 0.002


def test_too_many_markers_fall_back_to_cells(client, consultation, submit, monkeypatch):
    monkeypatch.setattr(selectors, "POINTS_CAP", 2)
    approve(*[submit(point=at(EXACT_POINTS[0])) for _ in range(3)])
    data = features(client, consultation, zoom=17).json()
    assert data["meta"]["mode"] == "cells"
    assert counts(data) == [("poor-lighting", 3)]


def test_category_filter_by_code_or_translation_key(client, consultation, submit, categories):
    approve(submit(), submit(category=categories["harassment"]))
    by_code = features(client, consultation, category="street-harassment").json()
    assert counts(by_code) == [("street-harassment", 1)]
    key = str(categories["lighting"].translation_key)
    by_key = features(client, consultation, category=key).json()
    assert counts(by_key) == [("poor-lighting", 1)]
    both = features(client, consultation, category=["poor-lighting", "street-harassment"]).json()
    assert total(both) == 2
    assert features(client, consultation, category="no-such-thing").json()["features"] == []


def test_concerns_in_every_language_count_together(
    client, consultation, submit, categories, locales
):
    english_category = categories["lighting"].copy_for_translation(locales["en"])
    english_category.name = "Poor lighting"
    english_category.save()
    english = consultation.copy_for_translation(locales["en"], copy_parents=True)
    english.title = "Chapinero looks after itself"
    english.save_revision().publish()
    english.refresh_from_db()
    approve(
        submit(point=at(EXACT_POINTS[0])),
        submit(
            consultation=english,
            category=english_category,
            language="en",
            point=at(EXACT_POINTS[0]),
        ),
    )
    spanish = features(client, consultation, zoom=12).json()
    assert counts(spanish) == [("poor-lighting", 2)]
    assert [entry["name"] for entry in spanish["meta"]["categories"]] == ["Alumbrado deficiente"]
    response = client.get(route(english, "map_features"), {"bbox": CHAPINERO_BBOX, "zoom": 12})
    assert english.get_url().startswith("/en/")
    in_english = response.json()
    assert counts(in_english) == [("poor-lighting", 2)]
    assert [entry["name"] for entry in in_english["meta"]["categories"]] == ["Poor lighting"]


@pytest.mark.parametrize(
    "params",
    [
        {"zoom": 12},
        {"bbox": "", "zoom": 12},
        {"bbox": "1,2,3", "zoom": 12},
        {"bbox": "a,b,c,d", "zoom": 12},
        {"bbox": "-74.1,4.6,-74.0,nan", "zoom": 12},
        {"bbox": "-74.0,4.6,-74.1,4.7", "zoom": 12},
        {"bbox": "-74.1,4.7,-74.0,4.6", "zoom": 12},
        {"bbox": "-200,4.6,-74.0,4.7", "zoom": 12},
        {"bbox": "-74.1,-89,-74.0,4.7", "zoom": 12},
        {"bbox": "-120,-40,-30,40", "zoom": 12},
        {"bbox": CHAPINERO_BBOX},
        {"bbox": CHAPINERO_BBOX, "zoom": "twelve"},
        {"bbox": CHAPINERO_BBOX, "zoom": "21"},
        {"bbox": CHAPINERO_BBOX, "zoom": "-1"},
        {"bbox": CHAPINERO_BBOX, "zoom": "12.5"},
    ],
)
def test_bad_bbox_or_zoom_is_a_clear_400(client, consultation, params):
    response = client.get(route(consultation, "map_features"), params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


def test_error_names_the_parameter_to_fix(client, consultation):
    missing_bbox = client.get(route(consultation, "map_features"), {"zoom": 12}).json()
    assert "bbox" in missing_bbox["error"]
    bad_zoom = client.get(route(consultation, "map_features"), {"bbox": CHAPINERO_BBOX}).json()
    assert "zoom" in bad_zoom["error"]


def test_responses_are_small_cacheable_geojson(client, consultation, submit):
    approve(submit())
    response = features(client, consultation)
    assert response["Content-Type"] == "application/geo+json"
    assert response["Cache-Control"] == "public, max-age=60"
    assert "Accept-Language" in response["Vary"]
    assert b", " not in response.content and b": " not in response.content
    again = client.get(
        route(consultation, "map_features"),
        {"bbox": CHAPINERO_BBOX, "zoom": 13},
        HTTP_IF_NONE_MATCH=response["ETag"],
    )
    assert again.status_code == 304
    meta = response.json()["meta"]
    assert meta["suppression_k"] == 5 and meta["cell_metres"] >= 150


def test_responses_are_gzipped_for_clients_that_accept_it(client, consultation, submit):
    approve(*[submit() for _ in range(15)])  # 15 markers: over the 1 KB worth compressing
    plain = features(client, consultation, zoom=17)
    assert "Content-Encoding" not in plain and len(plain.content) > 1024
    zipped = features(client, consultation, zoom=17, accept_encoding="gzip, deflate")
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert gzip.decompress(zipped.content) == plain.content
    assert len(zipped.content) < len(plain.content)
    assert zipped["ETag"] != plain["ETag"]


def test_responses_are_cached_for_a_minute(client, consultation, submit):
    approve(submit())
    assert total(features(client, consultation).json()) == 1
    approve(submit())
    assert total(features(client, consultation).json()) == 1  # served from the cache
    cache.clear()
    assert total(features(client, consultation).json()) == 2


def test_area_boundaries_are_simplified_geojson(client, consultation, barrios):
    response = client.get(route(consultation, "map_areas"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    data = response.json()
    assert {f["properties"]["name"] for f in data["features"]} == {a.name for a in barrios}
    assert set(data["features"][0]["properties"]) == {"id", "name", "code", "level"}
    first = data["features"][0]
    area = next(a for a in barrios if a.pk == first["properties"]["id"])
    published = sum(len(ring) for polygon in first["geometry"]["coordinates"] for ring in polygon)
    assert published <= area.geometry.num_points


def test_consultation_page_shows_counts_without_javascript(
    client, consultation, submit, categories
):
    approve(*[submit(point=at(point)) for point in EXACT_POINTS])
    approve(submit(point=at(EXACT_POINTS[0]), category=categories["centre"]))
    approve(*[submit(category=categories["domestic"]) for _ in range(5)])
    response = client.get(consultation.get_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Chapinero se cuida" in html
    assert f'href="{route(consultation, "concern_form")}"' in html
    table = html[html.index('id="public-map-table"') :]
    table = table[: table.index("</table>")]
    assert "El Chico" in table and "Alumbrado deficiente" in table and "Centro comunitario" in table
    assert ">2<" in table  # two lighting concerns in El Chico
    assert "Violencia intrafamiliar" in html and ">5<" in html  # sensitive: area total only
    for concern in Concern.objects.all():
        for point in (concern.point, concern.public_point):
            if point is not None:
                assert f"{point.x:.5f}" not in html and f"{point.y:.5f}" not in html
                assert f"{point.x:.4f}" not in html and f"{point.y:.4f}" not in html
        assert concern.reference not in html
    assert "leaflet/leaflet.js" in html and route(consultation, "map_features") in html


def test_consultation_page_hides_small_sensitive_totals(client, consultation, submit, categories):
    approve(*[submit(category=categories["domestic"]) for _ in range(4)])
    html = client.get(consultation.get_url()).content.decode()
    assert "Violencia intrafamiliar" not in html.split('id="public-map-table"')[1]


def test_closed_consultation_page_has_no_report_button(client, consultation):
    consultation.phase = consultation.Phase.RESULTS
    consultation.save_revision().publish()
    html = client.get(consultation.get_url()).content.decode()
    assert route(consultation, "concern_form") not in html
