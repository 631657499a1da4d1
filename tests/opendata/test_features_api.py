"""OGC API – Features at /api/features/: the standard's structure, paging, filters, errors and
the data rules, through the Django test client against a site holding every kind of public and
private data (`open_site`)."""

import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.opendata.conftest import (
    EXACT_POINTS,
    SECRET_DESCRIPTION,
    SECRET_EMAIL,
    SECRET_NAME,
    SECRET_NOTES_PENDING,
    SECRET_PHONE,
    approve,
    at,
)

BASE = "/api/features"
CONFORMANCE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
COLLECTIONS = ("areas", "concerns", "walk-stops", "problems", "commitments")


def get(client, url, **headers):
    return client.get(url, **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})


def rels(document):
    return {link["rel"] for link in document["links"]}


def link(document, rel, type_=None):
    return next(
        x["href"]
        for x in document["links"]
        if x["rel"] == rel and (type_ is None or x["type"] == type_)
    )


def test_landing_page_links_everything_a_client_needs(client, open_site):
    response = client.get(f"{BASE}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    landing = response.json()
    assert landing["title"] and landing["description"]
    assert {"self", "alternate", "conformance", "data", "service-desc", "service-doc"} <= rels(
        landing
    )
    assert "license" in rels(landing)
    desc = next(x for x in landing["links"] if x["rel"] == "service-desc")
    assert desc["href"] == "http://testserver/api/schema/"
    assert desc["type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = client.get(link(landing, "service-doc"))
    assert doc.status_code == 200
    assert b"ogrinfo" in doc.content


def test_conformance_lists_core_geojson_html_and_oas30(client, db):
    classes = client.get(f"{BASE}/conformance").json()["conformsTo"]
    assert {CONFORMANCE + name for name in ("core", "geojson", "html", "oas30")} <= set(classes)


def test_collections_have_extent_crs_and_links(client, open_site):
    document = client.get(f"{BASE}/collections").json()
    assert {"self", "alternate"} <= rels(document)
    by_id = {c["id"]: c for c in document["collections"]}
    assert set(by_id) == set(COLLECTIONS)
    for info in by_id.values():
        assert info["itemType"] == "feature"
        assert info["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
        assert {"items", "self", "alternate", "license"} <= rels(info)
        assert info["title"] and info["description"]
    west, south, east, north = by_id["concerns"]["extent"]["spatial"]["bbox"][0]
    assert west <= -74.04 and east >= -74.06 and 4.66 < south <= north < 4.69
    interval = by_id["concerns"]["extent"]["temporal"]["interval"][0]
    assert interval[0] < interval[1]
    assert len(by_id["areas"]["extent"]["spatial"]["bbox"][0]) == 4
    one = client.get(f"{BASE}/collections/concerns").json()
    assert one["id"] == "concerns"
    assert one["extent"] == by_id["concerns"]["extent"]


def test_titles_follow_the_request_language(client, db):
    spanish = get(client, f"{BASE}/collections", accept_language="es").json()
    english = get(client, f"{BASE}/collections", accept_language="en").json()
    assert [c["id"] for c in spanish["collections"]] == [c["id"] for c in english["collections"]]
    assert english["collections"][1]["title"] == "Concerns residents reported"


def items(client, collection, **params):
    response = client.get(f"{BASE}/collections/{collection}/items", params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/geo+json"
    assert response["Access-Control-Allow-Origin"] == "*"
    return response.json()


def test_concerns_are_public_points_and_days_only(client, open_site):
    document = items(client, "concerns")
    shown = {
        c.public_id
        for c in [*open_site["shown"], open_site["asset"], open_site["with_photo"]]
        + open_site["diagnosed"]["concerns"]
    }
    assert {f["id"] for f in document["features"]} == shown
    assert document["numberMatched"] == document["numberReturned"] == len(shown)
    assert document["timeStamp"].endswith("Z")
    by_id = {f["id"]: f for f in document["features"]}
    for concern in open_site["shown"]:
        concern.refresh_from_db()
        feature = by_id[concern.public_id]
        assert feature["geometry"]["coordinates"] == [
            round(concern.public_point.x, 5),
            round(concern.public_point.y, 5),
        ]
        assert feature["properties"]["category"] == "poor-lighting"
        assert feature["properties"]["date"] == timezone.localdate(concern.submitted_at).isoformat()
    # Placed by area only: listed without a geometry.
    harassment = [f for f in document["features"] if f["properties"]["category"] != "poor-lighting"]
    assert any(f["geometry"] is None for f in harassment)


def everything(client):
    """Every JSON and HTML answer of the API, as one text."""
    texts = []
    for url in (f"{BASE}/", f"{BASE}/collections"):
        texts.append(client.get(url).content.decode())
    for collection in COLLECTIONS:
        document = items(client, collection, limit=1000)
        texts.append(json.dumps(document, ensure_ascii=False))
        texts.append(
            client.get(f"{BASE}/collections/{collection}/items", {"f": "html"}).content.decode()
        )
        for feature in document["features"]:
            texts.append(
                client.get(
                    f"{BASE}/collections/{collection}/items/{feature['id']}"
                ).content.decode()
            )
    return "\n".join(texts)


def test_nothing_private_leaves(client, open_site):
    text = everything(client)
    for secret in (
        SECRET_DESCRIPTION,
        SECRET_EMAIL,
        SECRET_PHONE,
        SECRET_NAME,
        SECRET_NOTES_PENDING,
        "La calle está muy oscura",  # every concern's description in the fixtures
        "Laura Gómez",
    ):
        assert secret not in text
    for concern in open_site["private_concerns"]:
        assert concern.reference not in text
    for lon, lat in EXACT_POINTS:
        for value in (lon, lat):
            assert f"{value:.6f}" not in text
        # Rounded, a single coordinate may match a fuzzed point or a boundary vertex by chance;
        # the pair must never appear.
        assert f"[{lon:.5f},{lat:.5f}]" not in text
        assert f"{lat:.5f}, {lon:.5f}" not in text  # the HTML table's "lat, lon"
    hidden = [open_site["pending"], open_site["rejected"], *open_site["sensitive"]]
    for concern in hidden:
        assert concern.public_id not in text
    assert "domestic-violence" not in items(client, "concerns", limit=1000)["features"].__repr__()


def test_unpublished_concerns_are_404(client, open_site):
    for concern in (open_site["pending"], open_site["rejected"], open_site["sensitive"][0]):
        response = client.get(f"{BASE}/collections/concerns/items/{concern.public_id}")
        assert response.status_code == 404
        assert response.json()["description"]
    shown = open_site["shown"][0].public_id
    feature = client.get(f"{BASE}/collections/concerns/items/{shown}").json()
    assert feature["id"] == shown
    assert {"self", "alternate", "collection"} <= rels(feature)


def test_paging_follows_next_links_to_the_end(client, open_site, submit):
    more = [submit(point=at(EXACT_POINTS[0])) for _ in range(5)]
    approve(*more)
    total = items(client, "concerns")["numberMatched"]
    seen = []
    url = f"{BASE}/collections/concerns/items?limit=4"
    pages = 0
    while url:
        document = client.get(url).json()
        assert document["numberMatched"] == total
        seen += [f["id"] for f in document["features"]]
        pages += 1
        if pages > 1:
            assert "prev" in rels(document)
        url = next((x["href"] for x in document["links"] if x["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == total
    assert pages == -(-total // 4)


def test_limit_above_the_maximum_is_clamped(client, open_site):
    document = items(client, "concerns", limit=5000)
    assert "limit=1000" in link(document, "self")


@pytest.mark.parametrize(
    ("params", "english"),
    [
        ({"limit": "0"}, "limit must be a whole number"),
        ({"limit": "ten"}, "limit must be a whole number"),
        ({"offset": "-1"}, "offset must be"),
        ({"bbox": "1,2,3"}, "bbox must be four numbers"),
        ({"bbox": "-74,4,-75,5"}, "antimeridian"),
        ({"bbox": "-74,95,-73,96"}, "outside the world"),
        ({"bbox": "nan,1,2,3"}, "bbox must be four numbers"),
        ({"datetime": "yesterday"}, "datetime must be"),
        ({"datetime": "2026-03-01/2026-01-01"}, "ends before it starts"),
        ({"f": "xml"}, "Unknown format"),
        ({"colour": "red"}, "Unknown parameter: colour"),
    ],
)
def test_bad_parameters_get_400_with_a_message_in_the_readers_language(
    client, open_site, params, english
):
    response = get(
        client,
        f"{BASE}/collections/concerns/items?" + "&".join(f"{k}={v}" for k, v in params.items()),
        accept_language="en",
    )
    assert response.status_code == 400
    assert english in response.json()["description"]


def test_datetime_is_refused_where_a_collection_has_no_dates(client, open_site):
    response = client.get(f"{BASE}/collections/areas/items", {"datetime": "2026-01-01"})
    assert response.status_code == 400


def test_unknown_collection_and_feature_are_404(client, db):
    assert client.get(f"{BASE}/collections/crimes").status_code == 404
    assert client.get(f"{BASE}/collections/crimes/items").status_code == 404
    assert client.get(f"{BASE}/collections/areas/items/{10**20}").status_code == 404
    response = client.get(f"{BASE}/collections/concerns/items/nope")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_bbox_keeps_what_is_inside(client, open_site):
    everything_ = items(client, "concerns")["numberMatched"]
    inside = items(client, "concerns", bbox="-74.06,4.66,-74.04,4.68")
    pointed = [f for f in items(client, "concerns")["features"] if f["geometry"]]
    assert inside["numberMatched"] == len(pointed) < everything_
    assert items(client, "concerns", bbox="10,10,11,11")["numberMatched"] == 0
    areas = items(client, "areas", bbox="-74.0515,4.6730,-74.0510,4.6740")
    assert [f["properties"]["code"] for f in areas["features"]] == ["008308"]
    # A box without width or height (a click) still finds the area under it.
    click = items(client, "areas", bbox="-74.0512,4.6735,-74.0512,4.6735")
    assert [f["properties"]["code"] for f in click["features"]] == ["008308"]


def test_datetime_filters_on_days(client, open_site):
    concern = open_site["shown"][0]
    day = timezone.localdate(concern.submitted_at)
    total = items(client, "concerns")["numberMatched"]
    assert items(client, "concerns", datetime=day.isoformat())["numberMatched"] == total
    assert items(client, "concerns", datetime=f"../{day.isoformat()}")["numberMatched"] == total
    assert items(client, "concerns", datetime="2001-01-01/2001-12-31")["numberMatched"] == 0
    assert items(client, "concerns", datetime="2001-01-01T10:00:00Z")["numberMatched"] == 0


def test_days_are_local_days_of_the_site_not_utc_days(client, open_site):
    """A concern sent at 22:00 in Bogotá is stored as 03:00 UTC the next day; readers see, and
    filter on, the day the resident lived, whatever hour the suite runs at."""
    from datetime import UTC, datetime

    from diagnosis.models import Concern

    concern = open_site["shown"][0]
    Concern.objects.filter(pk=concern.pk).update(
        submitted_at=datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    )
    cache.clear()
    on_ninth = items(client, "concerns", datetime="2026-03-09")
    assert [f["id"] for f in on_ninth["features"]] == [concern.public_id]
    assert on_ninth["features"][0]["properties"]["date"] == "2026-03-09"
    assert items(client, "concerns", datetime="2026-03-10")["numberMatched"] == 0


def test_areas_carry_population_and_published_totals(client, open_site):
    document = items(client, "areas")
    chico = next(f for f in document["features"] if f["properties"]["code"] == "008308")
    assert chico["geometry"]["type"] == "MultiPolygon"
    properties = chico["properties"]
    assert properties["name"] == "El Chico"
    assert "population_total" in properties
    # Sensitive: five approved, k = 5, so the total is published.
    assert properties["concerns_domestic-violence"] == 5
    assert properties["concerns_poor-lighting"] >= 2


def test_sensitive_totals_below_k_are_absent(client, public_concerns_data, submit, categories):
    # Below k after rejecting one.
    from tests.opendata.conftest import decide

    decide("rejected", public_concerns_data["sensitive"][0])
    document = items(client, "areas")
    for feature in document["features"]:
        assert "concerns_domestic-violence" not in feature["properties"]


def test_walk_stops_problems_and_commitments(client, open_site):
    stops = items(client, "walk-stops")
    assert stops["numberMatched"] == 1
    stop = stops["features"][0]
    assert stop["geometry"]["type"] == "Point"
    assert stop["properties"]["notes"] == "Poste roto."
    problems = items(client, "problems")
    titles = {f["properties"]["title"]: f for f in problems["features"]}
    assert set(titles) == {"Calles oscuras en El Chico", "Acoso al salir del metro"}
    dark = titles["Calles oscuras en El Chico"]
    assert dark["geometry"]["type"] == "MultiPolygon"
    assert dark["properties"]["areas"] == ["El Chico"]
    # The published cell of the results page, as text (a number here: at least k).
    (evidence,) = dark["properties"]["evidence"]
    assert evidence["category"] == "Alumbrado deficiente"
    assert evidence["area"] == "El Chico"
    assert evidence["count"].isdigit() and int(evidence["count"]) >= 6
    assert titles["Acoso al salir del metro"]["geometry"] is None
    commitments = items(client, "commitments")
    assert commitments["numberMatched"] == 1
    commitment = commitments["features"][0]
    assert commitment["properties"]["title"] == "Luminarias en El Chico"
    assert commitment["properties"]["problems"] == ["Calles oscuras en El Chico"]
    assert commitment["properties"]["areas"] == ["El Chico"]
    assert commitment["geometry"]["type"] == "MultiPolygon"
    assert commitment["properties"]["status"]
    assert (
        client.get(f"{BASE}/collections/commitments/items/{commitment['id']}").json()["properties"][
            "title"
        ]
        == "Luminarias en El Chico"
    )


def test_browsers_get_html_and_programs_get_json(client, open_site):
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = get(client, f"{BASE}/collections/concerns/items", accept=browser_accept)
    assert page["Content-Type"].startswith("text/html")
    assert b"<table" in page.content
    forced = get(client, f"{BASE}/collections/concerns/items?f=json", accept=browser_accept)
    assert forced["Content-Type"] == "application/geo+json"
    assert client.get(f"{BASE}/?f=html")["Content-Type"].startswith("text/html")
    english = get(client, f"{BASE}/collections?f=html", accept_language="en")
    assert b"Concerns residents reported" in english.content


def test_query_count_does_not_grow_with_rows(client, open_site, submit, make_commitment):
    def count(collection):
        cache.clear()  # published numbers are cached briefly; count the cold path each time
        with CaptureQueriesContext(connection) as queries:
            items(client, collection, limit=1000)
        return len(queries)

    before = {name: count(name) for name in COLLECTIONS}
    approve(*[submit(point=at(EXACT_POINTS[1])) for _ in range(3)])
    make_commitment("Poda", problems=[open_site["diagnosed"]["harassment"]], status="planned")
    make_commitment(
        "Cámaras", areas=[open_site["diagnosed"]["chico"]], status="planned", slug="camaras"
    )
    after = {name: count(name) for name in COLLECTIONS}
    assert after == before


def test_every_door_names_the_licence_the_operator_configured(client, open_site, settings):
    settings.CONVIVE_OPEN_DATA_LICENCE = "ODbL 1.0"
    settings.CONVIVE_OPEN_DATA_LICENCE_URL = "https://opendatacommons.org/licenses/odbl/1-0/"
    cache.clear()
    wanted = {"href": settings.CONVIVE_OPEN_DATA_LICENCE_URL, "title": "ODbL 1.0"}
    landing = client.get(f"{BASE}/?f=json").json()
    collection = client.get(f"{BASE}/collections/concerns?f=json").json()
    for document in (landing, collection):
        licence = next(x for x in document["links"] if x["rel"] == "license")
        assert {k: licence[k] for k in ("href", "title")} == wanted
    info = client.get("/api/schema/").json()["info"]
    assert info["license"] == {"name": "ODbL 1.0", "url": wanted["href"]}
    page = client.get("/es/open-data/").content.decode()
    assert "ODbL 1.0" in page and wanted["href"] in page
