"""End to end in real headless Chromium: a resident reports from a phone, a moderator approves in
the Wagtail admin, and the public map shows the concern — at a fuzzed location, never the exact one.

Screenshots of every step are saved under test-results/e2e/ for people to look at.
"""

import io
import json
import math
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from PIL import Image

from diagnosis.models import Concern
from tests.conftest import EL_CHICO_POINT, gps_exif, jpeg_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "e2e"
PHONE = {"viewport": {"width": 390, "height": 780}, "device_scale_factor": 2, "has_touch": True}


def metres_between(a, b):
    """Equirectangular distance; plenty for points a few hundred metres apart."""
    lat = math.radians((a[1] + b[1]) / 2)
    dx = math.radians(b[0] - a[0]) * math.cos(lat) * 6371000
    dy = math.radians(b[1] - a[1]) * 6371000
    return math.hypot(dx, dy)


def test_resident_reports_moderator_approves_public_sees_fuzzed(
    browser, live_server, consultation, categories, tmp_path
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    lon, lat = EL_CHICO_POINT

    # --- A resident on a phone drops a pin, attaches a photo and submits. ---------------------
    resident = browser.new_context(locale="es-CO", **PHONE)
    page = resident.new_page()
    page.goto(f"{live_server.url}/es/chapinero/report/")
    page.wait_for_selector("#concern-map.leaflet-container")
    page.wait_for_selector("#concern-map .leaflet-overlay-pane path")  # area boundaries drawn
    page.locator("#concern-map").scroll_into_view_if_needed()
    x, y = page.evaluate(
        "([lat, lon]) => { const p = document.getElementById('map-block').leafletMap"
        ".latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        [lat, lon],
    )
    page.locator("#concern-map").click(position={"x": x, "y": y})
    page.wait_for_function("document.getElementById('id_latitude').value !== ''")
    pinned = (
        float(page.input_value("#id_longitude")),
        float(page.input_value("#id_latitude")),
    )
    assert metres_between(pinned, EL_CHICO_POINT) < 30  # the pin lands where the resident tapped
    radio = f"input[name=category][value='{categories['lighting'].pk}']"
    page.locator(f"label[for='{page.get_attribute(radio, 'id')}']").click()
    assert page.is_checked(radio)
    page.fill("#id_description", "El parque queda a oscuras desde las seis de la tarde.")
    photo = tmp_path / "IMG_2041.jpg"
    photo.write_bytes(jpeg_bytes(exif=gps_exif()))
    page.set_input_files("#id_photo", str(photo))
    page.screenshot(path=SHOTS / "1-resident-form.png", full_page=True)
    page.click("#concern-form button[type=submit]")
    page.wait_for_url("**/es/chapinero/report/thanks/")
    concern = Concern.objects.get()
    assert concern.reference in page.inner_text(".reference__code")
    page.screenshot(path=SHOTS / "2-resident-thanks.png", full_page=True)

    assert concern.status == Concern.Status.PENDING
    assert metres_between((concern.point.x, concern.point.y), EL_CHICO_POINT) < 30
    with concern.photo.open("rb") as handle:
        stored = handle.read()
    assert b"Exif" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()

    # Nothing is public before moderation.
    features_url = (
        f"{live_server.url}/es/chapinero/map/features/"
        f"?bbox={lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}&zoom=17"
    )
    assert page.request.get(features_url).json()["features"] == []
    resident.close()

    # --- A moderator logs into the Wagtail admin and approves. ---------------------------------
    moderator = get_user_model().objects.create_user(
        "moderadora", "moderadora@example.org", "una-clave-larga-2026"
    )
    moderator.groups.add(Group.objects.get(name="Moderators"))
    admin = browser.new_context(locale="es-CO", viewport={"width": 1280, "height": 900})
    page = admin.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "moderadora")
    page.fill("input[name=password]", "una-clave-larga-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/snippets/diagnosis/concern/")
    page.click(f"text={concern.reference}")
    page.wait_for_selector(".concern-decision form")
    page.check("input[name=status][value=approved]")
    page.screenshot(path=SHOTS / "3-moderator-inspect.png", full_page=True)
    page.click(".concern-decision button[type=submit]")
    page.wait_for_load_state("networkidle")
    concern.refresh_from_db()
    assert concern.status == Concern.Status.APPROVED
    page.screenshot(path=SHOTS / "4-moderator-after.png", full_page=True)
    admin.close()

    # --- The public sees it on the map, at a location that is not the exact point. -------------
    public = browser.new_context(locale="es-CO", **PHONE)
    page = public.new_page()
    page.goto(f"{live_server.url}/es/chapinero/")
    page.wait_for_selector("#public-map-canvas.leaflet-container")
    with page.expect_response(lambda r: "/map/features/" in r.url and "zoom=17" in r.url) as info:
        page.evaluate(
            "([lat, lon]) => document.getElementById('public-map-canvas').leafletMap"
            ".setView([lat, lon], 17)",
            [lat, lon],
        )
    payload = json.loads(info.value.body())
    page.wait_for_selector("#public-map-canvas .map-mark")
    page.locator("#public-map-canvas").scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "5-public-map.png", full_page=True)

    points = [f for f in payload["features"] if f["geometry"]["type"] == "Point"]
    assert len(points) == 1
    shown = tuple(points[0]["geometry"]["coordinates"])
    assert shown != (concern.point.x, concern.point.y)
    distance = metres_between(shown, (concern.point.x, concern.point.y))
    assert 0 < distance < 250  # inside its ~150 m public cell, never on the spot
    html = page.content()
    assert f"{concern.point.x:.5f}" not in html and f"{concern.point.y:.5f}" not in html
    assert concern.description not in html  # moderated text is not published in this release
    public.close()
