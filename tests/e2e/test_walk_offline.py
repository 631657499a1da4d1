"""The safety-walk acceptance test, in real headless Chromium on a phone-sized screen.

A participant joins a walk with its code, the page installs its service worker, the phone loses its
connection, three stops are recorded by tapping the route, the page is reloaded with no connection
(and opens from the service worker with the three stops still queued), the connection comes back,
and exactly three stops reach the database and the map. Sending the same queue again changes
nothing. Screenshots of each step are saved under test-results/walk-field/.
"""

import json
from pathlib import Path

import pytest
from django.contrib.gis.geos import LineString

from maps.models import WalkStop
from tests.conftest import WALK_ROUTE, along_route

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "walk-field"
PHONE = {"viewport": {"width": 390, "height": 780}, "device_scale_factor": 2, "has_touch": True}
# Where the three stops are made (fraction of the route), how they felt and two of their scores.
STOPS = [
    (0.15, "comfortable", {"lighting": "3", "people": "2"}),
    (0.5, "uncomfortable", {"lighting": "1", "openness": "0"}),
    (0.85, "frightening", {"lighting": "0", "security": "0"}),
]


def pending(page) -> int:
    return int(page.get_attribute("#walk-pending", "data-pending-count"))


def tap_route(page, fraction: float) -> None:
    """Tap a few pixels beside the route: the stop must snap onto it."""
    point = along_route(fraction)
    page.locator("#walk-map").scroll_into_view_if_needed()
    x, y = page.evaluate(
        "([lat, lon]) => { const p = document.getElementById('walk-map').leafletMap"
        ".latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        [point.y, point.x],
    )
    page.locator("#walk-map").tap(position={"x": x + 6, "y": y + 4})
    page.wait_for_function("document.getElementById('id_located_by').value === 'route'")


def record_stop(page, fraction: float, feeling: str, scores: dict[str, str]) -> None:
    tap_route(page, fraction)
    page.locator(
        f"label[for=id_feeling_{['comfortable', 'uncomfortable', 'frightening'].index(feeling)}]"
    ).tap()
    for name, value in scores.items():
        page.locator(f"input[name={name}][value='{value}'] + label").tap()
    page.locator("input[name=hazards][value=no_help] + label").tap()
    page.fill("#id_notes", f"Parada al {int(fraction * 100)} %")
    page.locator("#stop-save").tap()
    page.wait_for_function("document.getElementById('id_latitude').value === ''")  # form reset


def route_distance_m(stop: WalkStop) -> float:
    route = LineString(WALK_ROUTE, srid=4326)
    route.transform(3857)
    point = stop.point.clone()
    point.transform(3857)
    return route.distance(point)


def test_three_stops_recorded_offline_reach_the_server_exactly_once(browser, live_server, walk):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="es-CO", **PHONE)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # --- Join with the code the facilitator wrote on the whiteboard. ---------------------------
    page.goto(f"{live_server.url}/es/walks/join/")
    page.fill("#id_code", f"{walk.access_code[:4].lower()} {walk.access_code[4:].lower()}")
    page.screenshot(path=SHOTS / "1-join.png", full_page=True)
    page.locator("button[type=submit]").tap()
    page.wait_for_url(f"**/es/walks/{walk.uuid}/record/")
    page.wait_for_selector("#walk-map.leaflet-container")
    page.wait_for_selector("#walk-map path.walk-route")  # the route draws with no tiles
    # The service worker controls the page and has kept it for offline use.
    page.wait_for_function(
        "document.documentElement.dataset.offlineReady === 'true'", timeout=20000
    )
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    assert pending(page) == 0
    page.screenshot(path=SHOTS / "2-record-online.png", full_page=True)

    # --- The connection drops; three stops are recorded along the route. ----------------------
    context.set_offline(True)
    page.wait_for_selector("#walk-connection[data-online=false]")
    for count, (fraction, feeling, scores) in enumerate(STOPS, start=1):
        record_stop(page, fraction, feeling, scores)
        page.wait_for_function(
            f"document.getElementById('walk-pending').dataset.pendingCount === '{count}'"
        )
        if count == 1:
            confirm = page.inner_text("#walk-confirm")
            assert confirm  # "Saved on this phone; it will be sent when you are online."
            page.screenshot(path=SHOTS / "3-first-stop-saved-offline.png", full_page=False)
    assert pending(page) == 3
    assert page.inner_text("#walk-pending-count") == "3"
    assert page.locator("#walk-map path.walk-mark--queued").count() == 3
    assert page.locator("#walk-queue-list li").count() == 3
    assert WalkStop.objects.count() == 0
    page.locator("#walk-pending").scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "4-three-stops-queued-offline.png", full_page=True)

    # --- Reload with no connection: the page opens from the service worker. -------------------
    probe = page.evaluate(
        "fetch('/es/walks/join/', {cache: 'no-store'}).then(r => r.status, () => 'failed')"
    )
    assert probe in ("failed", 503)  # the network really is gone, also for the worker
    response = page.reload()
    assert response is not None and response.from_service_worker
    assert response.status == 200
    page.wait_for_selector("#walk-map path.walk-route")
    page.wait_for_function("document.getElementById('walk-pending').dataset.pendingCount === '3'")
    assert page.locator("#walk-map path.walk-mark--queued").count() == 3
    assert page.get_attribute("#walk-connection", "data-online") == "false"
    page.screenshot(path=SHOTS / "5-reloaded-offline.png", full_page=True)

    # --- Back online: the queue is sent, each stop once. --------------------------------------
    context.set_offline(False)
    page.wait_for_function(
        "document.getElementById('walk-pending').dataset.pendingCount === '0'", timeout=30000
    )
    page.wait_for_function(
        "document.querySelectorAll('#walk-map path.walk-mark--sent').length === 3"
    )
    stops = list(WalkStop.objects.order_by("recorded_at"))
    assert len(stops) == 3
    assert [s.feeling for s in stops] == [feeling for _f, feeling, _s in STOPS]
    assert [s.lighting for s in stops] == [3, 1, 0]
    assert stops[1].openness == 0 and stops[1].people is None
    for stop in stops:
        assert stop.located_by == WalkStop.Located.ROUTE
        assert route_distance_m(stop) < 1.5  # snapped onto the route
        assert stop.source == WalkStop.Source.PARTICIPANT
        assert stop.hazards == ["no_help"]
        assert stop.language == "es"
    assert page.locator("#walk-map path.walk-mark--queued").count() == 0
    assert page.locator("#walk-queue").is_hidden()
    assert page.inner_text("#walk-stops-count") == "3"
    references = {s.reference for s in stops}
    listed = page.inner_text("#walk-stop-list")
    assert all(reference in listed for reference in references)
    page.locator("#walk-pending").scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "6-back-online-all-sent.png", full_page=True)

    # --- The same queue is sent again (a lost answer, a second tab): still three stops. -------
    replay = [
        {
            "key": str(s.idempotency_key),
            "walk": str(walk.uuid),
            "recordedAt": s.recorded_at.isoformat(),
            "seq": i,
            "lat": s.point.y,
            "lon": s.point.x,
            "locatedBy": "route",
            "accuracy": None,
            "feeling": s.feeling,
            "scores": {"lighting": str(s.lighting)},
            "hazards": s.hazards,
            "notes": s.notes,
            "photo": None,
            "photoName": None,
            "state": "pending",
            "errors": None,
        }
        for i, s in enumerate(stops)
    ]
    page.evaluate(
        "items => Promise.all(items.map(i => window.ConviveWalkQueue.put(i)))"
        ".then(() => window.dispatchEvent(new Event('online')))",
        replay,
    )
    # The queue on the phone empties again (each item answered 200, created: false).
    emptied = page.evaluate(
        """async walk => {
            for (let i = 0; i < 300; i++) {
                if (!(await window.ConviveWalkQueue.list(walk)).length) return true;
                await new Promise(resolve => setTimeout(resolve, 100));
            }
            return false;
        }""",
        str(walk.uuid),
    )
    assert emptied
    page.wait_for_function("document.getElementById('walk-pending').dataset.pendingCount === '0'")
    # And straight at the endpoint, as a phone whose answer was lost would.
    statuses = page.evaluate(
        """([url, items]) => Promise.all(items.map(item => {
            const body = new FormData();
            body.append('idempotency_key', item.key);
            body.append('latitude', item.lat);
            body.append('longitude', item.lon);
            body.append('located_by', 'route');
            body.append('feeling', item.feeling);
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            return fetch(url, {method: 'POST', body, headers: {'X-CSRFToken': token}})
              .then(r => r.json().then(data => [r.status, data]));
        }))""",
        [f"/es/walks/{walk.uuid}/stops/", replay],
    )
    assert [status for status, _data in statuses] == [200, 200, 200]
    assert {data["reference"] for _status, data in statuses} == references
    assert all(data["created"] is False for _status, data in statuses)
    assert WalkStop.objects.count() == 3
    assert {s.reference for s in WalkStop.objects.all()} == references
    page.reload()
    page.wait_for_function(
        "document.querySelectorAll('#walk-map path.walk-mark--sent').length === 3"
    )
    assert pending(page) == 0
    page.screenshot(path=SHOTS / "7-after-resend-still-three.png", full_page=True)
    assert errors == []
    context.close()


def test_facilitator_page_on_a_desktop_screen(browser, live_server, walk, django_user_model):
    """The same page for a signed-in facilitator on a laptop: screenshot for people to look at."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("fede", "fede@example.org", "una-clave-2026")
    user.user_permissions.add(
        Permission.objects.get(codename="add_walkstop", content_type__app_label="maps")
    )
    context = browser.new_context(locale="es-CO", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/es/walks/{walk.uuid}/record/")
    page.fill("input[name=username]", "fede")
    page.fill("input[name=password]", "una-clave-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/es/walks/{walk.uuid}/record/")
    page.wait_for_selector("#walk-map path.walk-route")
    # Keyboard: focus the map, pan with the arrow keys, place the stop at the centre.
    page.focus("#walk-map")
    centre = along_route(0.5)
    page.evaluate(
        "([lat, lon]) => document.getElementById('walk-map').leafletMap.setView([lat, lon], 18)",
        [centre.y, centre.x],
    )
    page.keyboard.press("ArrowRight")
    page.click("#stop-centre")
    located = page.input_value("#id_located_by")
    assert located in ("route", "map")
    page.check("#id_feeling_1")
    page.click("#stop-save")
    page.wait_for_function(
        "document.getElementById('walk-pending').dataset.pendingCount === '0' && "
        "document.querySelectorAll('#walk-map path.walk-mark--sent').length === 1",
        timeout=30000,
    )
    stop = WalkStop.objects.get()
    assert stop.source == WalkStop.Source.FACILITATOR
    assert stop.recorded_by == user
    confirm = page.inner_text("#walk-confirm")
    assert stop.reference in confirm
    page.screenshot(path=SHOTS / "8-facilitator-desktop.png", full_page=True)
    assert json.loads(page.text_content("#walk-config"))["source"] == "facilitator"
    context.close()


def test_refused_stops_wait_for_a_fix_and_a_renewed_code_stops_sending(browser, live_server, walk):
    """Nothing recorded is dropped silently: a refused stop stays with the server's message until
    it is fixed or discarded, and a renewed code pauses sending until the new one is entered."""
    from maps.walks import walk_access_code_renew
    from tests.conftest import OUTSIDE_POINT

    context = browser.new_context(locale="en-GB", **PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/en/walks/join/?code={walk.access_code}")
    page.wait_for_selector("#walk-map path.walk-route")

    # A stop placed far off the walk (say, recorded on a phone whose GPS jumped) reaches the
    # server, which refuses it: it stays on the phone, marked, with the server's words.
    lon, lat = OUTSIDE_POINT
    page.evaluate(
        """([walk, lat, lon]) => window.ConviveWalkQueue.put({
            key: crypto.randomUUID(), walk, recordedAt: new Date().toISOString(), seq: 1,
            lat, lon, locatedBy: 'gps', accuracy: 80, feeling: 'frightening', scores: {},
            hazards: [], notes: '', photo: null, photoName: null, state: 'pending', errors: null,
        }).then(() => window.dispatchEvent(new Event('online')))""",
        [str(walk.uuid), lat, lon],
    )
    page.wait_for_selector(".walk-queue__item--attention")
    assert "too far from the walk" in page.inner_text(".walk-queue__item--attention")
    assert pending(page) == 1
    assert "need" in page.inner_text("#walk-pending")  # "1 stop not sent yet · 1 needs attention"
    assert WalkStop.objects.count() == 0
    page.locator("#walk-queue").scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "9-needs-attention.png", full_page=False)

    # Fixing it: the form is filled again; tapping the route and saving sends it.
    page.get_by_role("button", name="Fix this stop").tap()
    page.wait_for_selector("#walk-editing:not([hidden])")
    assert page.is_checked("#id_feeling_2")
    assert "too far from the walk" in page.inner_text("#where")
    page.screenshot(path=SHOTS / "9b-fixing.png", full_page=False)
    tap_route(page, 0.4)
    page.locator("#stop-save").tap()
    page.wait_for_function(
        "document.getElementById('walk-pending').dataset.pendingCount === '0'", timeout=30000
    )
    stop = WalkStop.objects.get()
    assert stop.feeling == "frightening"
    assert stop.located_by == "route"

    # The facilitator renews the code: the next stop is kept, and the page says why it waits.
    walk_access_code_renew(walk=walk)
    tap_route(page, 0.7)
    page.locator("label[for=id_feeling_0]").tap()
    page.locator("#stop-save").tap()
    page.wait_for_selector("#walk-alert:not([hidden])")
    assert "renewed" in page.inner_text("#walk-alert")
    assert page.get_attribute("#walk-alert a", "href") == "/en/walks/join/"
    assert pending(page) == 1
    assert WalkStop.objects.count() == 1
    page.screenshot(path=SHOTS / "10-code-renewed.png", full_page=False)

    # With the new code the waiting stop goes through.
    walk.refresh_from_db()
    page.goto(f"{live_server.url}/en/walks/join/?code={walk.access_code}")
    page.wait_for_function(
        "document.getElementById('walk-pending').dataset.pendingCount === '0' && "
        "document.querySelectorAll('#walk-map path.walk-mark--sent').length === 2",
        timeout=30000,
    )
    assert WalkStop.objects.count() == 2
    context.close()


def test_without_javascript_a_stop_is_recorded_from_the_route_list(browser, live_server, walk):
    """A phone with JavaScript off: the code, the along-route list and a plain form post."""
    context = browser.new_context(locale="es-CO", java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/es/walks/join/")
    page.fill("#id_code", walk.access_code)
    page.locator("button[type=submit]").tap()
    page.wait_for_url(f"**/es/walks/{walk.uuid}/record/")
    assert page.is_hidden("#walk-map-block")
    page.select_option("#id_along", "0.25")
    page.locator("label[for=id_feeling_1]").tap()
    page.locator("input[name=walk_path][value='1'] + label").tap()
    page.screenshot(path=SHOTS / "11-no-javascript-form.png", full_page=True)
    with page.expect_navigation():
        page.locator("#stop-save").tap()
    stop = WalkStop.objects.get()
    assert stop.located_by == "route"
    assert stop.walk_path == 1
    assert stop.reference in page.inner_text(".messages")
    page.screenshot(path=SHOTS / "12-no-javascript-saved.png", full_page=False)
    context.close()
