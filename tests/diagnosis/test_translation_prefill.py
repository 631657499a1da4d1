"""Wording we already have in other languages reaches wagtail-localize before anyone translates."""

import pytest
from django.test import TestCase
from django.utils import translation
from wagtail_localize.models import StringTranslation, Translation, TranslationSource

from diagnosis.models import ConsultationPage
from diagnosis.translation_prefill import offer_translations
from tests.diagnosis.test_questionnaire_submit import QUESTIONS, questionnaire_set

OFFERED = {
    "¿Camina sola o solo por su barrio después del anochecer?": {
        "en": "Do you walk alone in your area after dark?",
        "fr": "Marchez-vous seul·e dans votre quartier une fois la nuit tombée ?",
        "pt": "Você anda sozinho/a no seu bairro depois que escurece?",
        "ar": "not a locale of this site",
    },
    "Muy seguro/a": {"en": "Very safe & sound", "fr": "Très en sécurité"},
    "A text that is not on the page": {"en": "ignored"},
}


def translate(page: ConsultationPage, locale) -> ConsultationPage:
    """What a facilitator's "Translate this page" does, with no segment translated by hand."""
    source, _created = TranslationSource.get_or_create_from_instance(page)
    source.update_from_db()
    job, _created = Translation.objects.get_or_create(source=source, target_locale=locale)
    with translation.override("es"), TestCase.captureOnCommitCallbacks(execute=True):
        job.save_target(publish=True)
    return ConsultationPage.objects.get(translation_key=page.translation_key, locale=locale)


@pytest.fixture
def draft(consultation):
    """A questionnaire the facilitator has inserted but not yet published."""
    return questionnaire_set(consultation, publish=False)


def test_offered_wording_arrives_when_the_page_is_translated(draft, locales, facilitator):
    assert offer_translations(draft, OFFERED, user=facilitator, tool="Question bank") == 5
    draft.get_latest_revision().publish()
    page = ConsultationPage.objects.get(pk=draft.pk)

    english = translate(page, locales["en"])
    first = next(iter(english.questionnaire)).value
    assert first["question"] == "Do you walk alone in your area after dark?"
    labels = [
        choice["label"]
        for block in english.questionnaire
        for choice in block.value.get("choices", [])
    ]
    assert "Very safe & sound" in labels
    french = translate(page, locales["fr"])
    assert next(iter(french.questionnaire)).value["question"].startswith("Marchez-vous seul·e")

    # The translator sees where the wording came from, and can edit it like any other.
    offered = StringTranslation.objects.get(locale=locales["en"], data="Very safe &amp; sound")
    assert offered.tool_name == "Question bank"
    assert offered.last_translated_by == facilitator


def test_a_translation_already_made_is_never_replaced(draft, locales):
    offer_translations(draft, {"Muy seguro/a": {"en": "Very safe"}})
    StringTranslation.objects.filter(locale=locales["en"], data="Very safe").update(
        data="Completely safe"
    )

    assert offer_translations(draft, {"Muy seguro/a": {"en": "Very safe"}}) == 0
    draft.get_latest_revision().publish()
    english = translate(ConsultationPage.objects.get(pk=draft.pk), locales["en"])
    labels = [
        choice["label"]
        for block in english.questionnaire
        for choice in block.value.get("choices", [])
    ]
    assert "Completely safe" in labels


def test_nothing_to_offer_records_nothing(draft):
    assert offer_translations(draft, {"Muy seguro/a": {"ar": "x", "en": "  "}}) == 0
    assert not StringTranslation.objects.exists()


def test_a_page_translated_earlier_gets_the_wording_when_synchronised(consultation, locales):
    page = questionnaire_set(consultation, QUESTIONS[:1])
    english = translate(page, locales["en"])
    assert next(iter(english.questionnaire)).value["question"] == (
        "¿Camina sola o solo por su barrio después del anochecer?"
    )  # not translated yet: wagtail-localize shows the source

    draft = questionnaire_set(page, QUESTIONS[:2], publish=False)
    offer_translations(draft, {"Muy seguro/a": {"en": "Very safe"}})
    draft.get_latest_revision().publish()
    english = translate(ConsultationPage.objects.get(pk=page.pk), locales["en"])

    second = list(english.questionnaire)[1].value
    assert second["choices"][0]["label"] == "Very safe"
