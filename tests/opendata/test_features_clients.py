"""OGC API – Features read by the real clients GIS users have: GDAL/OGR's OAPIF driver
(`ogrinfo`, what QGIS uses underneath), OWSLib, and a phone-sized Chromium for the HTML pages.

They run against pytest-django's live server: a real HTTP server on this machine, holding every
kind of public and private data (`open_site`).
"""

import json
import os
import subprocess

import pytest
from owslib.ogcapi.features import Features

from tests.e2e.test_accessibility import AXE, BLOCKING, axe_violations, describe, settle
from tests.opendata.conftest import EXACT_POINTS

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
COLLECTIONS = {"areas", "concerns", "walk-stops", "problems", "commitments"}


def ogr(*args: str) -> str:
    environment = {
        **os.environ,
        # No proxy for the local server, and no attempt to reach anything else.
        "NO_PROXY": "*",
        "no_proxy": "*",
        "GDAL_HTTP_TIMEOUT": "30",
        "CPL_DEBUG": "OFF",
    }
    result = subprocess.run(  # noqa: S603
        ["ogrinfo", *args],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def public_concerns(open_site):
    shown = [
        *open_site["shown"],
        open_site["asset"],
        open_site["with_photo"],
        *open_site["diagnosed"]["concerns"],
    ]
    for concern in shown:
        concern.refresh_from_db()
    return shown


def test_gdal_lists_the_collections_and_reads_the_concerns(live_server, open_site):
    url = f"OAPIF:{live_server.url}/api/features"
    summary = ogr("-ro", "-so", url)
    for collection in COLLECTIONS:
        assert f": {collection} " in summary or f": {collection}\n" in summary, summary

    listing = ogr("-ro", "-oo", "PAGE_SIZE=4", url, "concerns")
    shown = public_concerns(open_site)
    assert f"Feature Count: {len(shown)}" in listing or listing.count("OGRFeature(") == len(shown)
    assert listing.count("OGRFeature(concerns)") == len(shown)
    for concern in shown:
        assert concern.public_id in listing
        if concern.public_point is not None:
            lon, lat = round(concern.public_point.x, 5), round(concern.public_point.y, 5)
            assert f"POINT ({lon:g} {lat:g})" in listing or f"POINT ({lon} {lat})" in listing
    for concern in open_site["private_concerns"]:
        assert concern.reference not in listing
    for lon, lat in EXACT_POINTS:
        assert f"{lon:.6f}" not in listing and f"{lat:.6f}" not in listing
    for concern in (open_site["pending"], open_site["rejected"], *open_site["sensitive"]):
        assert concern.public_id not in listing


def test_gdal_reads_every_collection(live_server, open_site):
    url = f"OAPIF:{live_server.url}/api/features"
    expected = {"areas": 3, "walk-stops": 1, "problems": 2, "commitments": 1}
    for collection, count in expected.items():
        listing = ogr("-ro", url, collection)
        assert listing.count(f"OGRFeature({collection})") == count, listing


def test_owslib_lists_collections_and_reads_their_items(live_server, open_site):
    api = Features(f"{live_server.url}/api/features/")
    assert "conf/core" in " ".join(api.conformance()["conformsTo"])
    ids = {c["id"] for c in api.collections()["collections"]}
    assert ids == COLLECTIONS
    shown = public_concerns(open_site)
    for collection in ids:
        info = api.collection(collection)
        assert info["id"] == collection
        items = api.collection_items(collection, limit=1000)
        assert items["type"] == "FeatureCollection"
        assert items["numberReturned"] == len(items["features"]) > 0
    concerns = api.collection_items("concerns", limit=2)
    assert concerns["numberMatched"] == len(shown)
    assert concerns["numberReturned"] == 2
    bbox = api.collection_items("concerns", bbox=[-74.06, 4.66, -74.04, 4.68])
    assert all(feature["geometry"] for feature in bbox["features"])
    one = api.collection_item("concerns", shown[0].public_id)
    assert one["id"] == shown[0].public_id
    assert json.dumps(one).count(shown[0].reference) == 0


def test_items_page_fits_a_phone_and_passes_axe(browser, live_server, open_site):
    assert AXE.exists(), "axe-core is missing: run `make node-tools` (npm ci --ignore-scripts)"
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="en-GB", extra_http_headers={}
    )
    page = context.new_page()
    external = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith(live_server.url) or request.url.startswith("data:")
            else external.append(request.url)
        ),
    )
    found = []
    for path in (
        "/api/features/",
        "/api/features/collections",
        "/api/features/collections/concerns/items?limit=5",
        "/api/features/collections/commitments/items",
        "/api/features/docs",
    ):
        response = page.goto(live_server.url + path)
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/html"), path
        settle(page)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 360px"
        found += [(path, v) for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert not found, describe(found)
    # The table pages through its items with a Next link, in the reader's language.
    page.goto(live_server.url + "/api/features/collections/concerns/items?limit=5")
    assert page.get_by_role("table").is_visible()
    page.get_by_role("link", name="Next").click()
    assert "offset=5" in page.url
    assert page.get_by_role("link", name="Previous").is_visible()
    assert not external
    context.close()
