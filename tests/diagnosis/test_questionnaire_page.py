"""The resident's questionnaire page without JavaScript, as a phone browser reaches it."""

import uuid

import pytest
from django.test import override_settings

from diagnosis.models import ConsultationPage, QuestionnaireResponse
from tests.diagnosis.test_questionnaire_submit import questionnaire_set


@pytest.fixture
def surveyed(consultation):
    return questionnaire_set(consultation)


def post_data(**overrides):
    data = {
        "idempotency_key": str(uuid.uuid4()),
        "q-walk-alone": "yes",
        "q-feel-safe": "unsafe",
        "q-avoid": ["park", "bus-stop"],
        "q-minutes": "12",
        "q-street": "Carrera 7",
        "q-ideas": "Más luz.",
        "q-avoid-time": ["night"],
        "gender": "woman",
        "gender_description": "",
        "age_band": "30-44",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_page_shows_every_question_with_fieldsets_and_required_in_words(client, surveyed):
    response = client.get("/es/chapinero/questionnaire/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<fieldset") >= 5  # four choice questions and "about you"
    assert '<legend class="group__legend">¿Camina sola o solo' in html
    assert '<label for="q-minutes" class="group__legend">' in html
    assert "(required)" in html or "(obligatoria)" in html
    # Without JavaScript the conditional question is shown, saying what it depends on.
    assert 'id="question-feel-safe"' in html
    assert "“Sí” to “¿Camina sola o solo" in html or "«Sí»" in html or "“Sí”" in html
    assert 'name="idempotency_key"' in html
    assert 'inputmode="numeric"' in html
    assert 'lang="es"' in html


def test_valid_answers_redirect_to_thanks(client, surveyed):
    response = client.post("/es/chapinero/questionnaire/", post_data())
    assert response.status_code == 303
    assert response["Location"] == "/es/chapinero/questionnaire/thanks/"
    stored = QuestionnaireResponse.objects.get()
    assert stored.language == "es"
    assert stored.gender == "woman"
    assert dict(stored.answers.values_list("question_code", "value"))["avoid"] == [
        "park",
        "bus-stop",
    ]
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert "/es/chapinero/" in thanks.content.decode()


def test_double_submit_stores_one_response(client, surveyed):
    data = post_data()
    assert client.post("/es/chapinero/questionnaire/", data).status_code == 303
    assert client.post("/es/chapinero/questionnaire/", data).status_code == 303
    assert QuestionnaireResponse.objects.count() == 1


def test_invalid_answers_show_the_error_summary_linked_to_questions(client, surveyed):
    data = post_data(**{"q-feel-safe": None, "q-minutes": "mil", "q-street": "Calle 9"})
    response = client.post("/es/chapinero/questionnaire/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert 'href="#q-feel-safe-1"' in html  # the first point of the scale
    assert 'href="#q-minutes"' in html
    assert 'aria-invalid="true"' in html
    # What the resident typed is kept.
    assert 'value="Calle 9"' in html
    assert 'value="park" id="q-avoid-1" checked' in html
    assert not QuestionnaireResponse.objects.exists()


def test_hidden_question_answer_is_ignored_without_javascript(client, surveyed):
    data = post_data(**{"q-walk-alone": "no", "q-feel-safe": "very-safe"})
    assert client.post("/es/chapinero/questionnaire/", data).status_code == 303
    codes = set(QuestionnaireResponse.objects.get().answers.values_list("question_code", flat=True))
    assert "feel-safe" not in codes


def test_tampered_idempotency_key_still_stores(client, surveyed):
    data = post_data(idempotency_key="not-a-uuid")
    assert client.post("/es/chapinero/questionnaire/", data).status_code == 303
    assert QuestionnaireResponse.objects.count() == 1


def test_closed_consultation_refuses_politely(client, surveyed):
    surveyed.phase = ConsultationPage.Phase.CLOSED
    surveyed.save_revision().publish()
    assert client.get("/es/chapinero/questionnaire/").status_code == 200
    response = client.post("/es/chapinero/questionnaire/", post_data())
    assert response.status_code == 403
    assert 'role="alert"' in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_consultation_page_links_to_the_questionnaire_only_when_it_has_questions(
    client, consultation
):
    assert "/questionnaire/" not in client.get("/es/chapinero/").content.decode()
    questionnaire_set(consultation)
    html = client.get("/es/chapinero/").content.decode()
    assert 'href="/es/chapinero/questionnaire/"' in html


def test_page_without_questions_says_so(client, consultation):
    response = client.get("/es/chapinero/questionnaire/")
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert client.post("/es/chapinero/questionnaire/", {}).status_code == 403


@override_settings(CONVIVE_RATE_LIMIT_ENABLED=True, CONVIVE_RATE_LIMIT="2/3600")
def test_many_submissions_are_rate_limited(client, surveyed):
    for _ in range(2):
        assert client.post("/es/chapinero/questionnaire/", post_data()).status_code == 303
    response = client.post("/es/chapinero/questionnaire/", post_data())
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert QuestionnaireResponse.objects.count() == 2
