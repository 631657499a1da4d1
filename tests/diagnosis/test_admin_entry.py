"""Facilitators enter concerns on a resident's behalf in the Wagtail admin."""

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.models import ModelLogEntry

from diagnosis.models import Concern, ConsultationPage
from diagnosis.services import MODERATORS
from tests.conftest import EL_CHICO_POINT, OUTSIDE_POINT, gps_exif, jpeg_bytes
from tests.diagnosis.conftest import staff

ADD_URL = "wagtailsnippets_diagnosis_concern:add"


@pytest.fixture
def closed_consultation(consultation):
    """Paper forms arrive after the consultation stopped listening."""
    consultation.phase = ConsultationPage.Phase.DIAGNOSIS
    consultation.save_revision().publish()
    return consultation


def geojson_point(lon_lat) -> str:
    return json.dumps({"type": "Point", "coordinates": list(lon_lat)})


def entry(consultation, category, **overrides):
    data = {
        "entry_key": str(uuid.uuid4()),
        "consultation": consultation.pk,
        "category": category.pk,
        "description": "En la reunión del salón comunal dijeron que el parque no tiene luz.",
        "point": geojson_point(EL_CHICO_POINT),
        "area": "",
        "place_description": "Parque de la 93",
        "time_band": "night",
        "day_type": "both",
        "frequency": "often",
        "affected": ["women", "older"],
        "gender": "woman",
        "gender_description": "",
        "age_band": "",
        "source": "paper",
        "language": "es",
    }
    data.update(overrides)
    return data


def test_add_form_renders_with_a_map(client, facilitator, consultation):
    client.force_login(facilitator)
    response = client.get(reverse(ADD_URL))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="entry_key"' in html
    assert "leaflet" in html.lower()
    assert 'value="paper"' in html


def test_facilitator_enters_a_paper_form_after_closing(
    client, facilitator, closed_consultation, categories, barrios
):
    client.force_login(facilitator)
    photo = SimpleUploadedFile("scan.jpg", jpeg_bytes(exif=gps_exif()), "image/jpeg")

    response = client.post(
        reverse(ADD_URL),
        {**entry(closed_consultation, categories["lighting"], area=barrios[2].pk), "photo": photo},
    )

    assert response.status_code == 302
    concern = Concern.objects.get()
    assert concern.source == Concern.Source.PAPER
    assert concern.entered_by == facilitator
    assert concern.area == barrios[0]  # from the pin, not the (wrong) area chosen in the form
    assert concern.status == Concern.Status.PENDING
    assert concern.affected == ["older", "women"]
    assert concern.photo  # stored re-encoded by the same service residents use
    assert ModelLogEntry.objects.filter(object_id=str(concern.pk), action="wagtail.create").exists()


def test_entry_without_pin_uses_the_chosen_area(
    client, facilitator, consultation, categories, barrios
):
    client.force_login(facilitator)
    data = entry(consultation, categories["harassment"], point="", area=barrios[1].pk)
    data["source"] = "facilitator"

    response = client.post(reverse(ADD_URL), data)

    assert response.status_code == 302
    concern = Concern.objects.get()
    assert concern.area == barrios[1]
    assert concern.point is None
    assert concern.source == Concern.Source.FACILITATOR


def test_pin_outside_the_consultation_is_a_form_error(
    client, facilitator, consultation, categories
):
    client.force_login(facilitator)
    data = entry(consultation, categories["lighting"], point=geojson_point(OUTSIDE_POINT))

    response = client.post(reverse(ADD_URL), data)

    assert response.status_code == 400
    assert Concern.objects.count() == 0
    assert response.context["form"].errors["point"]


def test_double_submit_stores_one_concern(client, facilitator, consultation, categories):
    client.force_login(facilitator)
    data = entry(consultation, categories["lighting"])

    client.post(reverse(ADD_URL), data)
    client.post(reverse(ADD_URL), data)

    assert Concern.objects.count() == 1


def test_moderators_cannot_enter_concerns(client, consultation, categories):
    client.force_login(staff("mara", MODERATORS))
    response = client.post(reverse(ADD_URL), entry(consultation, categories["lighting"]))
    assert response.status_code in (302, 403)
    assert Concern.objects.count() == 0


def test_facilitator_lists_categories_under_participation(client, facilitator, categories):
    client.force_login(facilitator)
    response = client.get(reverse("wagtailsnippets_diagnosis_concerncategory:list"))
    assert response.status_code == 200
    assert categories["lighting"].name in response.content.decode()
