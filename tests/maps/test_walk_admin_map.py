"""The route of a safety walk really draws, and can be redrawn, on the admin's Leaflet map.

Real headless Chromium against the live server. Tiles are blocked (tests never fetch them); what
matters is that Leaflet starts with a size, draws the stored route, and that Leaflet.draw's
polyline tool makes a new route that the form saves. Screenshots go to test-results/walk-admin/.
"""

import uuid
from pathlib import Path

import pytest
from django.contrib.gis.geos import LineString
from django.urls import reverse

from maps.models import SafetyWalk
from maps.walks import walk_stop_record
from tests.conftest import WALK_ROUTE, along_route

from .test_area_admin_map import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RESULTS = Path(__file__).resolve().parents[2] / "test-results" / "walk-admin"


@pytest.fixture
def tab(page, request):
    """The maps tests' browser tab (live server only, never tiles), saving screenshots here."""
    page.output_dir = RESULTS / request.node.name
    page.output_dir.mkdir(parents=True, exist_ok=True)
    return page


@pytest.fixture
def planned_walk(walk):
    walk.save()  # commit the fixture's areas (a ParentalManyToManyField is saved with the walk)
    return walk


def edit_url(live_server, walk) -> str:
    return live_server.url + reverse("wagtailsnippets_maps_safetywalk:edit", args=[walk.pk])


def test_the_edit_form_draws_the_stored_route(tab, live_server, planned_walk, django_user_model):
    log_in(tab, live_server, django_user_model)

    tab.goto(edit_url(live_server, planned_walk))
    route_map = tab.locator("#id_route-map")
    line = route_map.locator(".leaflet-overlay-pane svg path")
    line.first.wait_for(state="visible")
    route_map.scroll_into_view_if_needed()
    tab.screenshot(path=tab.output_dir / "edit.png", full_page=True)
    route_map.screenshot(path=tab.output_dir / "route-map.png")

    box = route_map.bounding_box()
    assert box["width"] > 300 and box["height"] > 250
    assert line.count() == 1
    assert line.first.get_attribute("d").startswith("M")
    drawn = line.first.bounding_box()
    assert drawn["width"] > 40 and drawn["height"] > 20  # fitted into view, not a dot
    assert box["x"] <= drawn["x"] and drawn["x"] + drawn["width"] <= box["x"] + box["width"]
    # The polyline tool (and no polygon tool) is offered for a LineString field.
    assert route_map.locator(".leaflet-draw-draw-polyline").count() == 1
    assert route_map.locator(".leaflet-draw-draw-polygon").count() == 0
    # The meeting point has its own map with its marker.
    assert tab.locator("#id_meeting_point-map .leaflet-marker-icon").count() == 1
    assert tab.errors == []


def test_a_facilitator_draws_a_new_route_and_saves_it(
    tab, live_server, planned_walk, django_user_model
):
    log_in(tab, live_server, django_user_model)
    tab.goto(edit_url(live_server, planned_walk))
    route_map = tab.locator("#id_route-map")
    route_map.locator(".leaflet-overlay-pane svg path").first.wait_for(state="visible")
    route_map.scroll_into_view_if_needed()

    route_map.locator(".leaflet-draw-draw-polyline").click()
    box = route_map.bounding_box()
    clicks = [(0.25, 0.75), (0.45, 0.35), (0.75, 0.25)]
    for fx, fy in clicks:
        tab.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        tab.wait_for_timeout(150)
    # Leaflet.draw finishes a line when its last point is clicked again.
    last = clicks[-1]
    tab.mouse.click(box["x"] + box["width"] * last[0], box["y"] + box["height"] * last[1])
    tab.wait_for_timeout(200)
    route_map.screenshot(path=tab.output_dir / "drawn.png")

    value = tab.locator("textarea[name=route]").input_value()
    assert '"LineString"' in value
    tab.click("button[type=submit]:has-text('Guardar'), button[type=submit]:has-text('Save')")
    tab.wait_for_url(live_server.url + reverse("wagtailsnippets_maps_safetywalk:list"))
    tab.screenshot(path=tab.output_dir / "saved.png")

    planned_walk.refresh_from_db()
    route = planned_walk.route
    assert route.geom_type == "LineString"
    assert len(route.coords) == 3
    assert not route.equals(LineString(WALK_ROUTE, srid=4326))
    # Clicked left to right and bottom to top: the line runs east and north.
    (x0, y0), (x2, y2) = route.coords[0], route.coords[-1]
    assert x2 > x0 and y2 > y0
    assert tab.errors == []


def test_the_walk_page_and_a_stop_look_right_on_desktop_and_phone(
    tab, live_server, planned_walk, django_user_model
):
    stop = walk_stop_record(
        walk=planned_walk,
        idempotency_key=uuid.uuid4(),
        point=along_route(0.4),
        located_by="gps",
        feeling="frightening",
        scores={"lighting": 0, "openness": 1, "people": 3},
        hazards=["entrapment", "no_help"],
        notes="Un muro largo sin ventanas y nadie alrededor.",
    ).stop
    log_in(tab, live_server, django_user_model)
    inspect = live_server.url + reverse(
        "wagtailsnippets_maps_safetywalk:inspect", args=[planned_walk.pk]
    )
    stop_page = live_server.url + reverse("wagtailsnippets_maps_walkstop:inspect", args=[stop.pk])
    queue = live_server.url + reverse("wagtailsnippets_maps_walkstop:list")

    for name, size in (("desktop", (1400, 1000)), ("phone", (390, 780))):
        tab.set_viewport_size({"width": size[0], "height": size[1]})
        tab.goto(inspect)
        tab.locator("#walk-admin-map .leaflet-overlay-pane svg path").first.wait_for()
        tab.screenshot(path=tab.output_dir / f"walk-{name}.png", full_page=True)
        code = tab.locator("[data-walk-access-code]")
        assert code.inner_text() == planned_walk.access_code
        assert float(code.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 32
        tab.goto(stop_page)
        tab.locator("#walk-admin-map .leaflet-overlay-pane svg path").first.wait_for()
        tab.screenshot(path=tab.output_dir / f"stop-{name}.png", full_page=True)
        tab.locator("#walk-admin-map").screenshot(path=tab.output_dir / f"stop-map-{name}.png")
        tab.goto(queue)
        tab.screenshot(path=tab.output_dir / f"queue-{name}.png", full_page=True)

    tab.goto(inspect)
    tab.click(".walk-code__renew button[type=submit]")
    tab.wait_for_load_state()
    planned_walk.refresh_from_db()
    assert tab.locator("[data-walk-access-code]").inner_text() == planned_walk.access_code
    assert SafetyWalk.objects.get(pk=planned_walk.pk).access_code == planned_walk.access_code
    assert tab.errors == []
