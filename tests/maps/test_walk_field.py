"""Recording a safety walk in the field: joining with the code, who may record on which walk, the
page without JavaScript, the stops endpoint the offline queue replays to, and the service worker."""

import io
import json
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.translation import gettext, ngettext
from PIL import Image

from maps.models import ModerationStatus, WalkStop
from maps.walks import walk_access_code_renew, walk_stop_record
from tests.conftest import OUTSIDE_POINT, along_route, gps_exif, jpeg_bytes

ACCESS_COOKIE = "convive-walks"


def record_url(walk, lang="es"):
    return f"/{lang}/walks/{walk.uuid}/record/"


def stops_url(walk, lang="es"):
    return f"/{lang}/walks/{walk.uuid}/stops/"


def join(client, walk, lang="es"):
    response = client.post(f"/{lang}/walks/join/", {"code": walk.access_code})
    assert response.status_code == 303
    return response


def facilitator_user(username="fede"):
    """A user with the one permission the field page asks for (the groups are set up elsewhere)."""
    user = get_user_model().objects.create_user(username, f"{username}@example.org", "pw")
    user.user_permissions.add(
        Permission.objects.get(codename="add_walkstop", content_type__app_label="maps")
    )
    return user


def stop_data(fraction=0.5, **overrides):
    """What the phone's queue sends for one stop."""
    point = along_route(fraction)
    data = {
        "idempotency_key": str(uuid.uuid4()),
        "latitude": f"{point.y:.7f}",
        "longitude": f"{point.x:.7f}",
        "located_by": "route",
        "accuracy_m": "",
        "recorded_at": "2026-11-20T15:04:05.000Z",
        "feeling": "uncomfortable",
        "lighting": "1",
        "openness": "2",
        "visibility": "",
        "people": "0",
        "security": "",
        "walk_path": "3",
        "transport": "",
        "gender_diversity": "",
        "hazards": ["entrapment", "no_help"],
        "notes": "Muro largo sin ventanas.",
    }
    data.update(overrides)
    return data


def nojs_data(**overrides):
    """The form as a phone without JavaScript posts it: the place from the along-route list."""
    data = stop_data(latitude="", longitude="", located_by="", recorded_at="", along="0.5")
    data.update(overrides)
    return data


# --- Joining with the code ---------------------------------------------------------------------


def test_right_code_opens_the_walk_with_a_safe_cookie(client, walk):
    typed = f" {walk.access_code[:4].lower()} {walk.access_code[4:].lower()} "
    response = client.post("/es/walks/join/", {"code": typed})
    assert response.status_code == 303
    assert response["Location"] == record_url(walk)
    cookie = response.cookies[ACCESS_COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert walk.access_code not in cookie.value  # a hash of the code, never the code
    page = client.get(record_url(walk))
    assert page.status_code == 200
    assert walk.title in page.content.decode()


def test_a_qr_link_with_the_code_joins_in_one_step(client, walk):
    response = client.get(f"/en/walks/join/?code={walk.access_code}")
    assert response.status_code == 303
    assert response["Location"] == record_url(walk, "en")
    assert client.get(record_url(walk, "en")).status_code == 200


def test_join_page_asks_for_the_code(client, walk):
    response = client.get("/en/walks/join/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "The walk&#x27;s access code" in html or "The walk's access code" in html
    assert 'name="code"' in html


def test_wrong_code_is_refused_with_a_clear_message(client, walk):
    response = client.post("/en/walks/join/", {"code": "ZZZZ9999"})
    assert response.status_code == 400
    assert "This code does not open any walk" in response.content.decode()
    assert ACCESS_COOKIE not in response.cookies
    assert client.get(record_url(walk, "en")).status_code == 403


def test_empty_code_is_refused(client, walk):
    response = client.post("/en/walks/join/", {"code": "  "})
    assert response.status_code == 400
    assert "Type the access code the facilitator gave you." in response.content.decode()


def test_renewing_the_code_shuts_out_phones_that_joined_with_the_old_one(client, walk):
    join(client, walk, "en")
    old = walk.access_code
    walk_access_code_renew(walk=walk)
    page = client.get(record_url(walk, "en"))
    assert page.status_code == 403
    assert "access code of this walk was renewed" in page.content.decode()
    sent = client.post(stops_url(walk, "en"), stop_data())
    assert sent.status_code == 403
    assert sent.json()["error"] == "code_renewed"
    assert WalkStop.objects.count() == 0
    # The old code no longer opens it; the new one does.
    assert client.post("/en/walks/join/", {"code": old}).status_code == 400
    walk.refresh_from_db()
    join(client, walk, "en")
    assert client.get(record_url(walk, "en")).status_code == 200


def test_code_attempts_are_rate_limited_per_client(client, walk, settings):
    settings.CONVIVE_RATE_LIMIT_ENABLED = True
    for _ in range(10):
        assert client.post("/es/walks/join/", {"code": "ZZZZ9999"}).status_code == 400
    response = client.post("/es/walks/join/", {"code": walk.access_code})  # even the right one
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 600
    with translation.override("es"):
        expected = ngettext(
            "Too many codes were tried from this phone. Please wait %(minutes)d minute and try "
            "again.",
            "Too many codes were tried from this phone. Please wait %(minutes)d minutes and try "
            "again.",
            10,
        ) % {"minutes": 10}
    assert expected in response.content.decode()
    assert ACCESS_COOKIE not in response.cookies
    # Another client is not slowed down.
    other = client.__class__()
    assert other.post("/es/walks/join/", {"code": walk.access_code}, REMOTE_ADDR="198.51.100.9")[
        "Location"
    ] == record_url(walk)


# --- Who may record on which walk ----------------------------------------------------------------


def test_a_participant_cookie_opens_its_own_walk_only(client, walk, night_walk):
    join(client, walk)
    assert client.get(record_url(walk)).status_code == 200
    assert client.get(record_url(night_walk)).status_code == 403
    assert client.get(stops_url(night_walk)).status_code == 403
    refused = client.post(stops_url(night_walk), stop_data())
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden"
    assert WalkStop.objects.count() == 0


def test_one_phone_can_hold_the_day_and_the_night_walk(client, walk, night_walk):
    join(client, walk)
    join(client, night_walk)
    assert client.get(record_url(walk)).status_code == 200
    assert client.get(record_url(night_walk)).status_code == 200


def test_anonymous_visitor_is_sent_to_the_code_page(client, walk):
    response = client.get(record_url(walk, "en"))
    assert response.status_code == 403
    html = response.content.decode()
    assert 'href="/en/walks/join/"' in html
    assert "type the access code" in html
    assert "ZZ" not in html and walk.access_code not in html


def test_unknown_walk_is_404(client, db):
    assert client.get(f"/es/walks/{uuid.uuid4()}/record/").status_code == 404
    assert client.get(f"/es/walks/{uuid.uuid4()}/stops/").status_code == 404


def test_facilitator_with_the_permission_records_without_a_code(client, walk):
    user = facilitator_user()
    client.force_login(user)
    page = client.get(record_url(walk, "en"))
    assert page.status_code == 200
    assert "recording as facilitator" in page.content.decode()
    response = client.post(stops_url(walk, "en"), stop_data())
    assert response.status_code == 201
    stop = WalkStop.objects.get()
    assert stop.source == WalkStop.Source.FACILITATOR
    assert stop.recorded_by == user
    assert stop.language == "en"


def test_signed_in_user_without_the_permission_is_refused(client, walk):
    user = get_user_model().objects.create_user("vecina", "v@example.org", "pw")
    client.force_login(user)
    assert client.get(record_url(walk)).status_code == 403
    assert client.post(stops_url(walk), stop_data()).status_code == 403


# --- The page without JavaScript -----------------------------------------------------------------


def test_page_offers_the_form_and_a_place_along_the_route(client, walk):
    join(client, walk, "en")
    html = client.get(record_url(walk, "en")).content.decode()
    for label in ("Lighting", "Openness", "Gender diversity", "Not observed", "Frightening"):
        assert label in html
    assert 'capture="environment"' in html
    assert 'accept="image/*"' in html
    for value in ("0", "0.25", "0.5", "0.75", "1"):
        assert f'<option value="{value}"' in html
    assert "Halfway" in html
    assert "/en/jsi18n/" in html
    # "Not observed" is what each score starts at; no feeling is chosen for them.
    assert len(re.findall(r'<input type="radio" name="\w+" value="" [^>]*checked', html)) == 8
    assert not re.search(r'name="feeling" value="\w+"[^>]*checked', html)


def test_nojs_post_stores_the_stop_and_redirects_with_its_reference(client, walk):
    join(client, walk, "en")
    response = client.post(record_url(walk, "en"), nojs_data(along="0.75"))
    assert response.status_code == 303
    assert response["Location"] == record_url(walk, "en")
    stop = WalkStop.objects.get()
    assert stop.located_by == WalkStop.Located.ROUTE
    assert stop.point.distance(along_route(0.75)) < 1e-6
    assert stop.source == WalkStop.Source.PARTICIPANT
    assert stop.recorded_by is None
    assert stop.feeling == "uncomfortable"
    assert stop.lighting == 1 and stop.walk_path == 3 and stop.visibility is None
    assert stop.hazards == ["entrapment", "no_help"]
    page = client.get(response["Location"])
    assert f"Stop saved: reference {stop.reference}" in page.content.decode()
    assert stop.reference in page.content.decode()  # and it is in the list of the walk's stops


def test_bad_nojs_post_is_400_with_messages_by_the_fields_and_nothing_stored(client, walk):
    join(client, walk, "en")
    response = client.post(record_url(walk, "en"), nojs_data(along="", feeling="", lighting="7"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Mark where the stop is: use your location or tap the route." in html
    assert "Say how safe you felt here." in html
    assert "Each score is 0, 1, 2 or 3" in html
    assert 'href="#where"' in html and 'href="#feeling"' in html  # the summary links to fields
    assert "Muro largo sin ventanas." in html  # what they wrote is kept
    assert WalkStop.objects.count() == 0


def test_nojs_post_of_a_place_off_the_walk_is_refused(client, walk):
    join(client, walk, "en")
    lon, lat = OUTSIDE_POINT
    data = nojs_data(along="", latitude=str(lat), longitude=str(lon), located_by="map")
    response = client.post(record_url(walk, "en"), data)
    assert response.status_code == 400
    assert "too far from the walk" in response.content.decode()
    assert WalkStop.objects.count() == 0


# --- The stops endpoint (the offline queue) ------------------------------------------------------


def test_queue_item_is_stored_once_and_a_replay_gets_the_same_reference(client, walk):
    join(client, walk)
    data = stop_data(accuracy_m="12.4", located_by="gps")
    first = client.post(stops_url(walk), data)
    assert first.status_code == 201
    assert first.json()["created"] is True
    replay = client.post(stops_url(walk), data)
    assert replay.status_code == 200
    assert replay.json() == {"reference": first.json()["reference"], "created": False}
    stop = WalkStop.objects.get()
    assert stop.reference == first.json()["reference"]
    assert str(stop.idempotency_key) == data["idempotency_key"]
    assert stop.recorded_at.isoformat().startswith("2026-11-20T15:04:05")
    assert stop.accuracy_m == 12.4
    assert stop.located_by == "gps"
    assert stop.language == "es"


def test_refusals_are_400_in_the_page_language(client, walk):
    join(client, walk, "en")
    bad = stop_data(feeling="", idempotency_key="not-a-key")
    english = client.post(stops_url(walk, "en"), bad)
    spanish = client.post(stops_url(walk, "es"), bad)
    assert english.status_code == spanish.status_code == 400
    assert english.json()["errors"]["feeling"] == ["Say how safe you felt here."]
    with translation.override("es"):
        assert spanish.json()["errors"]["feeling"] == [gettext("Say how safe you felt here.")]
    # Django's own message for the key is translated already: the two answers differ.
    assert english.json()["errors"]["idempotency_key"] == ["Enter a valid UUID."]
    assert (
        spanish.json()["errors"]["idempotency_key"] != english.json()["errors"]["idempotency_key"]
    )
    assert WalkStop.objects.count() == 0


def test_a_stop_off_the_walk_is_refused_under_point(client, walk):
    join(client, walk, "en")
    lon, lat = OUTSIDE_POINT
    response = client.post(
        stops_url(walk, "en"), stop_data(latitude=str(lat), longitude=str(lon), located_by="map")
    )
    assert response.status_code == 400
    assert "too far from the walk" in response.json()["errors"]["point"][0]


@pytest.mark.parametrize("latitude", ["", "abc", "95", "nan"])
def test_a_missing_or_broken_place_is_refused_under_point(client, walk, latitude):
    join(client, walk, "en")
    response = client.post(stops_url(walk, "en"), stop_data(latitude=latitude))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["point"]


def test_a_queue_item_without_a_key_is_refused(client, walk):
    join(client, walk, "en")
    response = client.post(stops_url(walk, "en"), stop_data(idempotency_key=""))
    assert response.status_code == 400
    assert "idempotency_key" in response.json()["errors"]


def test_a_key_already_used_on_another_walk_is_refused(client, walk, night_walk):
    join(client, walk, "en")
    join(client, night_walk, "en")
    data = stop_data()
    assert client.post(stops_url(walk, "en"), data).status_code == 201
    response = client.post(stops_url(night_walk, "en"), data)
    assert response.status_code == 400
    assert response.json()["errors"]["__all__"] == ["This stop belongs to another walk."]


def test_stops_endpoint_without_access_is_403(client, walk):
    response = client.post(stops_url(walk, "en"), stop_data())
    assert response.status_code == 403
    assert response.json()["message"] == "Enter the walk's access code to record stops."
    assert client.get(stops_url(walk)).status_code == 403


def test_malformed_upload_is_400_not_500(client, walk):
    join(client, walk, "en")
    response = client.post(
        stops_url(walk, "en"),
        data=b'--broken\r\nContent-Disposition: form-data; name="x"\r\n\r\n',
        content_type="multipart/form-data; boundary=",
    )
    assert response.status_code == 400


def test_photo_through_the_endpoint_loses_its_gps_tags(client, walk):
    join(client, walk, "en")
    photo = SimpleUploadedFile("IMG_0001.jpg", jpeg_bytes(exif=gps_exif()), "image/jpeg")
    response = client.post(stops_url(walk, "en"), {**stop_data(), "photo": photo})
    assert response.status_code == 201
    stop = WalkStop.objects.get()
    with stop.photo.open("rb") as handle:
        stored = handle.read()
    assert b"Exif" not in stored
    assert b"SERIAL-1234" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()


def test_a_file_that_is_not_a_photo_is_refused_under_photo(client, walk):
    join(client, walk, "en")
    fake = SimpleUploadedFile("notes.jpg", b"not an image at all", "image/jpeg")
    response = client.post(stops_url(walk, "en"), {**stop_data(), "photo": fake})
    assert response.status_code == 400
    assert "not a photo we can read" in response.json()["errors"]["photo"][0]
    assert WalkStop.objects.count() == 0


def test_stops_geojson_gives_the_field_map_without_notes_or_photos(client, walk):
    join(client, walk)
    client.post(stops_url(walk), stop_data(0.2, feeling="frightening"))
    client.post(stops_url(walk), stop_data(0.8, feeling="comfortable"))
    hidden = walk_stop_record(
        walk=walk,
        idempotency_key=uuid.uuid4(),
        point=along_route(0.5),
        located_by="route",
        feeling="comfortable",
    ).stop
    WalkStop.objects.filter(pk=hidden.pk).update(status=ModerationStatus.HIDDEN)
    response = client.get(stops_url(walk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert "private" in response["Cache-Control"]
    data = response.json()
    assert data["type"] == "FeatureCollection"
    assert [f["properties"]["feeling"] for f in data["features"]] == [
        "frightening",
        "comfortable",
    ]
    first = data["features"][0]
    stop = WalkStop.objects.get(reference=first["properties"]["reference"])
    assert first["geometry"]["coordinates"] == pytest.approx([stop.point.x, stop.point.y])
    assert set(first["properties"]) == {"reference", "feeling", "recorded_at", "status"}
    assert "Muro largo" not in response.content.decode()
    assert hidden.reference not in response.content.decode()


def test_page_embeds_the_walk_for_the_offline_map(client, walk):
    join(client, walk)
    client.post(stops_url(walk), stop_data(0.3))
    response = client.get(record_url(walk))
    config = response.context["config"]
    assert config["route"][0] == pytest.approx([4.6735, -74.0512])
    assert config["meeting"] == pytest.approx([4.6735, -74.0512])
    assert config["stopsUrl"] == stops_url(walk)
    assert config["workerUrl"] == "/es/walks/sw.js"
    assert len(config["stops"]["features"]) == 1
    assert len(config["positions"]) == 5
    assert "private" in response["Cache-Control"]
    raw = response.content.decode()
    assert 'id="walk-config"' in raw
    assert json.loads(
        raw.split('id="walk-config" type="application/json">')[1].split("</script>")[0]
    )


# --- The service worker ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["es", "pt"])
def test_service_worker_is_served_for_its_scope(client, db, lang):
    response = client.get(f"/{lang}/walks/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Cache-Control"] == "no-cache"
    assert response["Service-Worker-Allowed"] == f"/{lang}/walks/"
    body = response.content.decode()
    config = json.loads(body.split("self.CONVIVE_WALKS = ", 1)[1].split(";\n", 1)[0])
    assert f"/{lang}/jsi18n/" in config["precache"]
    assert "/static/maps/walks/record.js" in config["precache"]
    assert "/static/leaflet/leaflet.js" in config["precache"]
    assert config["cache"].startswith(f"convive-walks-{lang}-")
    assert 'addEventListener("fetch"' in body


def test_service_worker_needs_no_login_and_only_answers_get(client, db):
    assert client.post("/es/walks/sw.js").status_code == 405
