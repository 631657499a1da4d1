"""The resident's concern form, through the site as a resident's browser reaches it."""

import pytest
from django.test import Client
from django.utils import translation

from diagnosis.models import Concern
from tests.conftest import EL_CHICO_POINT, OUTSIDE_POINT
from tests.diagnosis.conftest import form_data

ENGLISH_NAMES = {
    "lighting": "Poor lighting",
    "harassment": "Street harassment",
    "domestic": "Domestic violence",
    "centre": "Community centre",
}


@pytest.fixture
def english(consultation, categories, locales):
    """The consultation and its categories translated to English, as editors would do."""
    for key, category in categories.items():
        translated = category.copy_for_translation(locales["en"])
        translated.name = ENGLISH_NAMES[key]
        translated.save()
    with translation.override("es"):
        page = consultation.copy_for_translation(locales["en"], copy_parents=True)
    page.title = "Chapinero looks after itself"
    page.save_revision().publish()
    return page


def test_form_lists_every_category_and_area_in_spanish(client, consultation, categories, barrios):
    response = client.get("/es/chapinero/report/")
    assert response.status_code == 200
    html = response.content.decode()
    for category in categories.values():
        assert category.name in html
    for area in barrios:
        assert f'<option value="{area.pk}">{area.name}</option>' in html
    assert 'name="idempotency_key"' in html
    assert 'accept="image/*"' in html
    assert 'lang="es"' in html


def test_form_shows_categories_in_english_under_en(client, english, categories):
    response = client.get("/en/chapinero/report/")
    assert response.status_code == 200
    html = response.content.decode()
    for key, category in categories.items():
        assert ENGLISH_NAMES[key] in html
        assert category.name not in html
    assert "Report a concern" in html


def test_each_get_gets_a_fresh_idempotency_key(client, consultation):
    first = client.get("/es/chapinero/report/").context["form"]["idempotency_key"].value()
    second = client.get("/es/chapinero/report/").context["form"]["idempotency_key"].value()
    assert first and second and first != second


def test_pin_creates_one_pending_concern_and_shows_its_reference(
    client, consultation, categories, barrios
):
    response = client.post("/es/chapinero/report/", form_data(categories))
    assert response.status_code == 303
    assert response["Location"] == "/es/chapinero/report/thanks/"
    concern = Concern.objects.get()
    assert concern.area == barrios[0]
    assert concern.status == Concern.Status.PENDING
    assert concern.language == "es"
    assert concern.time_band == "night"
    assert concern.affected == ["older", "women"]
    assert concern.point.x == pytest.approx(EL_CHICO_POINT[0])
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert concern.reference in thanks.content.decode()


def test_reference_is_shown_only_to_the_submitter(client, consultation, categories):
    client.post("/es/chapinero/report/", form_data(categories))
    reference = Concern.objects.get().reference
    stranger = Client().get("/es/chapinero/report/thanks/")
    assert stranger.status_code == 200
    assert reference not in stranger.content.decode()


def test_english_submission_records_english(client, english, categories, barrios):
    response = client.post("/en/chapinero/report/", form_data(categories))
    assert response.status_code == 303
    assert response["Location"] == "/en/chapinero/report/thanks/"
    assert Concern.objects.get().language == "en"


def test_translated_category_of_an_enabled_one_is_accepted(client, english, categories):
    english_lighting = categories["lighting"].get_translation(english.locale)
    response = client.post(
        "/en/chapinero/report/", form_data(categories, category=str(english_lighting.pk))
    )
    assert response.status_code == 303
    concern = Concern.objects.get()
    assert concern.category_key == categories["lighting"].translation_key


def test_without_javascript_the_area_select_is_enough(client, consultation, categories, barrios):
    data = form_data(categories, latitude="", longitude="", area=str(barrios[1].pk))
    response = client.post("/es/chapinero/report/", data)
    assert response.status_code == 303
    concern = Concern.objects.get()
    assert concern.area == barrios[1]
    assert concern.point is None


def test_a_description_of_the_place_is_enough(client, consultation, categories):
    data = form_data(categories, latitude="", longitude="", place_description="El puente de la 63")
    assert client.post("/es/chapinero/report/", data).status_code == 303
    assert Concern.objects.get().place_description == "El puente de la 63"


def test_no_place_at_all_is_refused_with_a_linked_error(client, english, categories):
    data = form_data(categories, latitude="", longitude="")
    response = client.post("/en/chapinero/report/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert 'href="#id_place_description"' in html
    assert "Tell us where" in html
    assert Concern.objects.count() == 0


def test_point_outside_is_refused_in_english(client, english, categories):
    lon, lat = OUTSIDE_POINT
    data = form_data(categories, latitude=str(lat), longitude=str(lon))
    response = client.post("/en/chapinero/report/", data)
    assert response.status_code == 400
    assert "outside the area of this consultation" in response.content.decode()
    assert Concern.objects.count() == 0


def test_point_outside_is_refused_in_spanish(client, consultation, categories):
    lon, lat = OUTSIDE_POINT
    data = form_data(categories, latitude=str(lat), longitude=str(lon))
    response = client.post("/es/chapinero/report/", data)
    assert response.status_code == 400
    assert 'lang="es"' in response.content.decode()
    assert Concern.objects.count() == 0


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [("abc", "-74.05"), ("4.67", ""), ("95", "-74.05"), ("4.67", "-200"), ("nan", "inf")],
)
def test_invalid_pin_is_a_field_error(client, english, categories, latitude, longitude):
    data = form_data(categories, latitude=latitude, longitude=longitude)
    response = client.post("/en/chapinero/report/", data)
    assert response.status_code == 400
    assert "The position of the pin is not valid" in response.content.decode()
    assert Concern.objects.count() == 0


def test_missing_category_is_refused(client, english, categories):
    response = client.post("/en/chapinero/report/", form_data(categories, category=""))
    assert response.status_code == 400
    assert 'href="#category-group"' in response.content.decode()
    assert Concern.objects.count() == 0


def test_category_of_another_consultation_is_refused(client, english, categories, locales):
    from tests.conftest import make_category

    stranger = make_category(locales, "graffiti", "Grafitis")
    response = client.post("/en/chapinero/report/", form_data(categories, category=stranger.pk))
    assert response.status_code == 400
    assert "Please choose one of the categories listed." in response.content.decode()
    assert Concern.objects.count() == 0


def test_errors_keep_what_the_resident_wrote(client, english, categories):
    data = form_data(categories, latitude="", longitude="", description="Muy oscuro")
    response = client.post("/en/chapinero/report/", data)
    html = response.content.decode()
    assert "Muy oscuro" in html
    assert f'value="{data["idempotency_key"]}"' in html
    # The Spanish row was posted; the English one is shown, and it is the one ticked.
    shown = categories["lighting"].get_translation(english.locale).pk
    assert f'value="{shown}" id="id_category_{shown}" checked' in html


def test_double_submit_creates_one_concern_with_one_reference(client, consultation, categories):
    data = form_data(categories)
    first = client.post("/es/chapinero/report/", data)
    second = client.post("/es/chapinero/report/", data)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Concern.objects.count() == 1
    reference = Concern.objects.get().reference
    assert reference in client.get(second["Location"]).content.decode()


def test_double_submit_from_a_second_tab_shows_the_same_reference(client, consultation, categories):
    data = form_data(categories)
    client.post("/es/chapinero/report/", data)
    other_tab = Client()
    response = other_tab.post("/es/chapinero/report/", data)
    assert response.status_code == 303
    assert Concern.objects.count() == 1
    assert Concern.objects.get().reference in other_tab.get(response["Location"]).content.decode()


def test_gender_description_is_kept_only_for_other(client, consultation, categories):
    client.post(
        "/es/chapinero/report/",
        form_data(categories, gender="woman", gender_description="mujer trans", age_band="30-44"),
    )
    concern = Concern.objects.get()
    assert concern.gender == "woman" and concern.gender_description == ""
    assert concern.age_band == "30-44"
    client.post(
        "/es/chapinero/report/",
        form_data(categories, gender="other", gender_description="mujer trans"),
    )
    assert Concern.objects.filter(gender_description="mujer trans").count() == 1


def test_closed_consultation_shows_no_form(client, english, consultation, categories):
    for page in (consultation, english):
        page.phase = page.Phase.CLOSED
        page.save_revision().publish()
    response = client.get("/en/chapinero/report/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "not accepting reports" in html
    assert "<form" not in html.split('id="main"')[1]
    posted = client.post("/en/chapinero/report/", form_data(categories))
    assert posted.status_code == 403
    assert Concern.objects.count() == 0


def test_post_without_csrf_token_is_refused(consultation, categories):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/es/chapinero/report/", form_data(categories))
    assert response.status_code == 403
    assert Concern.objects.count() == 0


def test_post_with_csrf_token_from_the_form_works(consultation, categories):
    browser = Client(enforce_csrf_checks=True)
    browser.get("/es/chapinero/report/")
    token = browser.cookies["csrftoken"].value
    data = form_data(categories, csrfmiddlewaretoken=token)
    assert browser.post("/es/chapinero/report/", data).status_code == 303
    assert Concern.objects.count() == 1
