"""The results page in real headless Chromium: the area map, its fetched squares and the charts
are drawn, nothing scrolls sideways on a 320 px phone, and axe-core finds no WCAG 2.1 A/AA
violation, in Spanish and English. Screenshots go to test-results/results-page/ for people to
look at."""

from pathlib import Path

import pytest

from tests.cms.test_results_page import results_page
from tests.cms.test_results_publication import (  # noqa: F401  (fixtures)
    approved,
    facilitator,
    moderator,
    snapshot,
)
from tests.e2e.test_accessibility import (
    LOCALES,
    NARROW,
    OVERFLOW,
    PHONE,
    axe_violations,
    describe,
    settle,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Squares drawn on the cells map, and the east-west side in Mercator metres of the first one.
CELLS_DRAWN = """() => {
  const map = document.getElementById("results-map-cells").leafletMap;
  const squares = [];
  map.eachLayer((layer) => {
    if (layer instanceof L.Polygon && layer.options.renderer) squares.push(layer);
  });
  const ring = squares.length ? squares[0].getLatLngs()[0] : null;
  const west = ring ? L.CRS.EPSG3857.project(ring[0]).x : 0;
  const east = ring ? L.CRS.EPSG3857.project(ring[1]).x : 0;
  return { count: squares.length, side: east - west };
}"""

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "results-page"


@pytest.fixture
def published(approved, snapshot, locales, categories):  # noqa: F811
    page = results_page(approved, snapshot)
    lighting = categories["lighting"].copy_for_translation(locales["en"])
    lighting.name = "Poor lighting"
    lighting.save()
    translated = page.copy_for_translation(locales["en"], copy_parents=True)
    translated.title = "Diagnosis results"
    translated.save_revision().publish()
    return {"es": page, "en": type(page).objects.get(pk=translated.pk)}


@pytest.mark.parametrize("lang", ["es", "en"])
def test_results_page_draws_its_map_and_charts_and_passes_axe(
    browser, live_server, published, lang
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    url = live_server.url + published[lang].url
    found = []
    for name, options in (("phone", PHONE), ("narrow", NARROW)):
        context = browser.new_context(locale=LOCALES[lang], **options)
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#results-map-areas.leaflet-container")
        page.wait_for_selector("#results-map-areas path.leaflet-interactive")
        # The squares come from the map/ route as indices and are drawn on a canvas renderer.
        page.wait_for_selector("#results-map-cells.leaflet-container canvas")
        squares = page.evaluate(CELLS_DRAWN)
        assert squares["count"] > 0
        assert squares["side"] == pytest.approx(150, rel=0.01)  # one cell of the public grid
        settle(page)
        assert page.locator("svg.results-chart__svg").count() >= 3
        assert page.locator("svg.results-chart__svg title").first.text_content()
        assert page.locator(".results-table table").count() >= 3
        page.screenshot(path=SHOTS / f"{name}-{lang}.png", full_page=True)
        if name == "narrow":
            overflow = page.evaluate(OVERFLOW)
            assert overflow["width"] <= 320, overflow["culprits"]
        found += [(f"{lang}/{name}", v) for v in axe_violations(page)]
        context.close()
    assert not found, "axe-core found violations:\n" + describe(found)


def test_without_javascript_the_tables_tell_the_same(browser, live_server, published):
    context = browser.new_context(java_script_enabled=False, **NARROW)
    page = context.new_page()
    page.goto(live_server.url + published["es"].url)
    assert not page.locator("#results-map-areas").is_visible()
    assert page.locator("#results-area-table-heading").is_visible()
    assert "Alumbrado deficiente" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    context.close()
