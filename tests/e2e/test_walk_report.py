"""A published safety-walk report in real headless Chromium, on a phone and a desktop: the map draws
the route and every approved stop from the GeoJSON export without any tile server, the colour
control recolours the stops by one condition, and nothing breaks in the page's script.

Screenshots are saved under test-results/walk-report/ for people to look at.
"""

import datetime
import uuid
from pathlib import Path

import pytest
from django.utils import timezone

from maps.models import ModerationStatus, SafetyWalk, WalkParticipants, WalkStop
from maps.walks import walk_stop_record
from tests.conftest import along_route

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "walk-report"
PHONE = {"viewport": {"width": 390, "height": 780}, "device_scale_factor": 2, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}

DAY_STOPS = [
    ("comfortable", {"lighting": 3, "openness": 2, "visibility": 3, "people": 3, "walk_path": 2}),
    ("comfortable", {"lighting": 3, "openness": 3, "visibility": 2, "people": 2, "transport": 3}),
    ("uncomfortable", {"lighting": 2, "openness": 1, "visibility": 1, "people": 1}),
    ("comfortable", {"lighting": 2, "openness": 2, "visibility": 2, "people": 2, "security": 1}),
    ("comfortable", {"lighting": 3, "openness": 2, "visibility": 3, "people": 3}),
    ("uncomfortable", {"lighting": 2, "openness": 1, "visibility": 1, "people": 1}),
]
NIGHT_STOPS = [
    ("uncomfortable", {"lighting": 1, "openness": 2, "visibility": 1, "people": 1}),
    ("frightening", {"lighting": 0, "openness": 1, "visibility": 0, "people": 0}),
    ("frightening", {"lighting": 0, "openness": 1, "visibility": 1, "people": 0}),
    ("comfortable", {"lighting": 3, "openness": 2, "visibility": 2, "people": 2, "transport": 3}),
    ("uncomfortable", {"lighting": 1, "openness": 1, "visibility": 1, "people": 1}),
    ("frightening", {"lighting": 1, "openness": 0, "visibility": 0}),
]


def fill(walk, stops):
    for index, (feeling, scores) in enumerate(stops):
        stop = walk_stop_record(
            walk=walk,
            idempotency_key=uuid.uuid4(),
            point=along_route((index + 0.5) / len(stops)),
            located_by=WalkStop.Located.GPS,
            feeling=feeling,
            scores=scores,
            hazards=["entrapment"] if feeling == "frightening" else [],
            notes="Muro largo sin ventanas." if feeling != "comfortable" else "",
            recorded_at=timezone.now() - datetime.timedelta(minutes=60 - index),
        ).stop
        WalkStop.objects.filter(pk=stop.pk).update(
            status=ModerationStatus.APPROVED, moderated_at=timezone.now()
        )


def test_report_map_draws_route_and_stops_without_tiles(browser, live_server, walk, night_walk):
    SHOTS.mkdir(parents=True, exist_ok=True)
    fill(walk, DAY_STOPS)
    fill(night_walk, NIGHT_STOPS)
    for gender, age, count in [("women", "18-29", 6), ("women", "30-44", 5), ("men", "45-64", 2)]:
        WalkParticipants.objects.create(walk=night_walk, gender=gender, age_band=age, count=count)
    SafetyWalk.objects.filter(pk__in=[walk.pk, night_walk.pk]).update(
        report_published_at=timezone.now(), status=SafetyWalk.Status.DONE
    )
    path = f"{live_server.url}/es/walks/{night_walk.uuid}/"

    for name, options in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(locale="es-CO", **options)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        page.goto(path)
        page.wait_for_selector("[data-walk-map-ready='6']")
        markers = page.locator("#walk-map-canvas .walk-mark")
        assert markers.count() == 6
        assert (
            page.locator("#walk-map-canvas path.leaflet-interactive, #walk-map-canvas path").count()
            >= 1
        )
        # No tile server in tests: the plain background and its notice, data still drawn.
        page.wait_for_selector(".walk-map__canvas--plain", timeout=10000)
        assert page.locator("[data-walk-map-legend] li").count() == 4  # 3 feelings + route
        page.screenshot(path=SHOTS / f"{name}-report.png", full_page=True)
        page.locator("#walk-map-canvas").screenshot(path=SHOTS / f"{name}-map-feeling.png")

        page.select_option("[data-walk-map-colour]", "lighting")
        assert page.locator("[data-walk-map-legend] li").count() == 6  # 0–3, not observed, route
        titles = page.eval_on_selector_all(
            "#walk-map-canvas .leaflet-marker-icon", "els => els.map(e => e.title)"
        )
        assert any(":" in t and "0" in t for t in titles)
        page.locator("#walk-map-canvas").screenshot(path=SHOTS / f"{name}-map-lighting.png")
        page.locator("#comparisons").screenshot(path=SHOTS / f"{name}-comparison.png")
        assert errors == []
        context.close()
