"""The report import in the Wagtail admin with the Django test client: upload the real NYC 311
sample, read the mapping and preview, import, import again; refusals and permissions."""

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from wagtail.users.models import UserProfile

from diagnosis.models import Concern
from diagnosis.open311_csv_admin import upload_storage
from diagnosis.services.groups import FACILITATORS, MODERATORS
from tests.diagnosis.conftest import staff
from tests.opendata.test_open311_csv import NYC_BOX, NYC_FILE, make_consultation, read_nyc


@pytest.fixture
def nyc(home, locales):
    page, categories = make_consultation(home, locales, NYC_BOX)
    return {"consultation": page, "categories": categories}


@pytest.fixture
def facilitator(db):
    """A facilitator whose admin is in English (the messages asserted below are English)."""
    user = staff("fede", FACILITATORS)
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    return user


@pytest.fixture(autouse=True)
def no_uploads_kept():
    """Start with no kept upload (the private folder lives for the whole test session)."""
    storage = upload_storage()
    for name in stored_uploads():
        storage.delete(name)


def stored_uploads() -> list[str]:
    storage = upload_storage()
    if not Path(storage.location).exists():
        return []
    return storage.listdir("")[1]


def nyc_upload():
    return SimpleUploadedFile("nyc311.csv", NYC_FILE.read_bytes(), content_type="text/csv")


def upload(client, page, file=None, **data):
    payload = {"time_zone": "America/New_York", "source_system": "", **data}
    payload["file"] = file or nyc_upload()
    return client.post(reverse("open311_csv:upload", args=[page.pk]), payload)


def token_of(response) -> str:
    return parse_qs(urlparse(response["Location"]).query)["t"][0]


def number(html: str, element_id: str) -> int:
    match = re.search(rf'id="{element_id}">(\d+)<', html)
    assert match, element_id
    return int(match.group(1))


def mapping_post(nyc, token, *, action, changes=None, **extra):
    """The form as the page shows it (the suggestions), with `changes` by source category."""
    from diagnosis.open311_csv import open311_mapping_suggest

    source = read_nyc()
    suggestion = open311_mapping_suggest(consultation=nyc["consultation"], source=source)
    suggestion.update(changes or {})
    data = {"t": token, "action": action, "language": "en", **extra}
    for number_, category in enumerate(source.categories):
        key = suggestion.get(category.key)
        data[f"category_{number_}"] = str(key) if key else ""
    return data


def test_upload_mapping_preview_and_import_end_to_end(client, nyc, facilitator):
    client.force_login(facilitator)
    page = nyc["consultation"]
    index = client.get(reverse("open311_csv:index"))
    assert index.status_code == 200
    assert reverse("open311_csv:upload", args=[page.pk]) in index.content.decode()
    assert client.get(reverse("open311_csv:upload", args=[page.pk])).status_code == 200

    response = upload(client, page)
    assert response.status_code == 302
    assert len(stored_uploads()) == 1
    token = token_of(response)
    mapping_page = client.get(response["Location"])
    html = mapping_page.content.decode()
    assert mapping_page.status_code == 200
    assert re.search(r"Noise - Residential</label>.*?<td[^>]*>392</td>", html, re.S)
    noise = str(nyc["categories"]["noise"].translation_key)
    assert re.search(rf'name="category_0"[^>]*>.*?<option value="{noise}" selected>', html, re.S)
    assert (
        "Violencia intrafamiliar (sensitive)" in html
    )  # sensitive categories may be targets, and say so
    assert number(html, "o311-accepted") == 861
    assert number(html, "o311-already") == 0
    assert number(html, "o311-skipped") == 139
    assert Concern.objects.count() == 0

    # Leaving out the street noise: the preview follows the mapping.
    changed = client.post(
        reverse("open311_csv:mapping", args=[page.pk]),
        mapping_post(nyc, token, action="preview", changes={"Noise - Street/Sidewalk": None}),
    )
    assert number(changed.content.decode(), "o311-accepted") == 861 - 269
    assert Concern.objects.count() == 0

    done = client.post(
        reverse("open311_csv:mapping", args=[page.pk]),
        mapping_post(nyc, token, action="import"),
    )
    assert done.status_code == 200
    result = done.content.decode()
    assert number(result, "o311-created") == 861
    assert number(result, "o311-already") == 0
    assert (
        Concern.objects.filter(
            source=Concern.Source.IMPORT, status=Concern.Status.PENDING, entered_by=facilitator
        ).count()
        == 861
    )
    assert stored_uploads() == []  # the kept file is gone once imported

    # The same page posted again (a reload): the upload is gone, nothing is added.
    again = client.post(
        reverse("open311_csv:mapping", args=[page.pk]),
        mapping_post(nyc, token, action="import"),
    )
    assert again.status_code == 400
    assert Concern.objects.count() == 861

    # The same file uploaded again: everything is already imported.
    second = client.get(upload(client, page)["Location"])
    html = second.content.decode()
    assert number(html, "o311-accepted") == 0
    assert number(html, "o311-already") == 861
    assert 'id="o311-import"' not in html


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"name,colour\nRosa,red\n", "does not look like a file of Open311 or 311"),
        ("unique_key,complaint_type,created_date\n1,Año,2024\n".encode("latin-1"), "UTF-8"),
    ],
)
def test_a_malformed_file_is_refused_on_the_upload_page(client, nyc, facilitator, content, message):
    client.force_login(facilitator)
    response = upload(
        client,
        nyc["consultation"],
        file=SimpleUploadedFile("bad.csv", content, content_type="text/csv"),
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert stored_uploads() == []
    assert Concern.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused(client, nyc, facilitator):
    client.force_login(facilitator)
    with override_settings(CONVIVE_OPEN311_IMPORT_MAX_BYTES=200_000):
        response = upload(client, nyc["consultation"])
    assert response.status_code == 400
    assert "0.19" in response.content.decode()
    assert stored_uploads() == []


def test_an_unknown_time_zone_is_refused(client, nyc, facilitator):
    client.force_login(facilitator)
    response = upload(client, nyc["consultation"], time_zone="New York")
    assert response.status_code == 400
    assert "America/New_York" in response.content.decode()


def test_a_changed_or_foreign_token_imports_nothing(client, nyc, facilitator):
    client.force_login(facilitator)
    page = nyc["consultation"]
    token = token_of(upload(client, page))
    url = reverse("open311_csv:mapping", args=[page.pk])
    tampered = client.post(url, mapping_post(nyc, token[:-2] + "xx", action="import"))
    assert tampered.status_code == 400
    other = staff("otra", FACILITATORS)
    client.force_login(other)
    foreign = client.post(url, mapping_post(nyc, token, action="import"))
    assert foreign.status_code == 400
    assert Concern.objects.count() == 0


def test_people_who_are_not_facilitators_get_a_403(client, nyc):
    reader = get_user_model().objects.create_user("lea", "l@example.org", "pw")
    reader.user_permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="view_concern"),
    )
    client.force_login(reader)
    page = nyc["consultation"]
    assert client.get(reverse("open311_csv:index")).status_code == 403
    assert client.get(reverse("open311_csv:upload", args=[page.pk])).status_code == 403
    assert upload(client, page).status_code == 403
    assert client.get(reverse("open311_csv:mapping", args=[page.pk]) + "?t=x").status_code == 403
    assert stored_uploads() == []


def test_approve_on_import_is_offered_to_moderators_only(client, nyc, facilitator):
    page = nyc["consultation"]
    client.force_login(facilitator)
    token = token_of(upload(client, page))
    html = client.get(reverse("open311_csv:mapping", args=[page.pk]) + f"?t={token}")
    assert 'name="approve"' not in html.content.decode()
    only_streets = {category.key: None for category in read_nyc().categories}
    only_streets["Street Condition"] = nyc["categories"]["street"].translation_key
    # Posting it anyway does nothing: the field is not there for a facilitator.
    client.post(
        reverse("open311_csv:mapping", args=[page.pk]),
        mapping_post(nyc, token, action="import", changes=only_streets, approve="on"),
    )
    assert set(Concern.objects.values_list("status", flat=True)) == {Concern.Status.PENDING}

    both = staff("ana", FACILITATORS, MODERATORS)
    client.force_login(both)
    token = token_of(upload(client, page, source_system="NYC Open Data"))
    html = client.get(reverse("open311_csv:mapping", args=[page.pk]) + f"?t={token}")
    assert 'name="approve"' in html.content.decode()
    client.post(
        reverse("open311_csv:mapping", args=[page.pk]),
        mapping_post(nyc, token, action="import", changes=only_streets, approve="on"),
    )
    approved = Concern.objects.filter(status=Concern.Status.APPROVED)
    assert approved.count() == 6
    assert set(approved.values_list("entered_by__username", flat=True)) == {"ana"}


def test_the_consultation_menu_offers_the_import(client, nyc, facilitator):
    client.force_login(facilitator)
    page = nyc["consultation"]
    editor = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    assert reverse("open311_csv:upload", args=[page.pk]) in editor.content.decode()
    dashboard = client.get(reverse("wagtailadmin_home"))
    assert reverse("open311_csv:index") in dashboard.content.decode()
