"""A questionnaire translated with wagtail-localize: texts translated, structure kept, answers
through every language counted together."""

import uuid

import pytest
from django.db.models import Count
from django.test import TestCase
from django.utils import translation
from wagtail_localize.models import StringSegment, StringTranslation, Translation, TranslationSource

from diagnosis.models import ConsultationPage, QuestionnaireResponse, QuestionnaireVersion
from diagnosis.services import questionnaire_submit
from tests.diagnosis.test_questionnaire_submit import QUESTIONS, VALID, questionnaire_set

ENGLISH = {
    "¿Camina sola o solo por su barrio después del anochecer?": (
        "Do you walk alone in your area after dark?"
    ),
    "Sí": "Yes",
    "No, nunca": "No, never",
    "Muy seguro/a": "Very safe",
    "Seguro/a": "Safe",
    "Inseguro/a": "Unsafe",
    "Muy inseguro/a": "Very unsafe",
    "minutos": "minutes",
}


def localize(page: ConsultationPage, locale) -> ConsultationPage:
    """Translate the page as an editor does in wagtail-localize, then publish the translation."""
    source, _created = TranslationSource.get_or_create_from_instance(page)
    source.update_from_db()
    job, _created = Translation.objects.get_or_create(source=source, target_locale=locale)
    for segment in StringSegment.objects.filter(source=source).select_related("string"):
        if segment.string.data in ENGLISH:
            StringTranslation.objects.update_or_create(
                translation_of=segment.string,
                locale=locale,
                context=segment.context,
                defaults={"data": ENGLISH[segment.string.data], "translation_type": "manual"},
            )
    # wagtail-localize publishes when the transaction commits; a test's transaction never does.
    with translation.override("es"), TestCase.captureOnCommitCallbacks(execute=True):
        job.save_target(publish=True)
    return ConsultationPage.objects.get(translation_key=page.translation_key, locale=locale)


@pytest.fixture
def surveyed(consultation):
    return questionnaire_set(consultation)


@pytest.fixture
def english(surveyed, locales):
    return localize(surveyed, locales["en"])


def test_only_texts_are_offered_for_translation(surveyed):
    source, _created = TranslationSource.get_or_create_from_instance(surveyed)
    strings = set(
        StringSegment.objects.filter(source=source).values_list("string__data", flat=True)
    )
    assert "Muy seguro/a" in strings and "minutos" in strings
    # Codes and choice values are not strings to translate.
    for code in ("walk-alone", "feel-safe", "very-safe", "bus-stop", "yes"):
        assert code not in strings


def test_translation_keeps_block_ids_codes_values_and_conditions(surveyed, english):
    source = list(surveyed.questionnaire)
    target = list(english.questionnaire)
    assert [c.id for c in target] == [c.id for c in source]
    assert [c.value["code"] for c in target] == [c.value["code"] for c in source]
    walk = target[0].value
    assert walk["question"] == "Do you walk alone in your area after dark?"
    assert [(c["value"], c["label"]) for c in walk["choices"]] == [
        ("yes", "Yes"),
        ("no", "No, never"),
    ]
    assert walk["required"] is True
    feel = target[1].value
    assert dict(feel["condition"]) == {"question": "walk-alone", "answer": "yes"}
    assert target[3].value["max_value"] == 180
    assert target[3].value["unit"] == "minutes"


def test_answers_in_spanish_and_english_count_together(client, surveyed, english):
    with translation.override("es"):
        es = questionnaire_submit(
            consultation=surveyed, answers=VALID, language="es", idempotency_key=uuid.uuid4()
        ).response
    with translation.override("en"):
        en = questionnaire_submit(
            consultation=english, answers=VALID, language="en", idempotency_key=uuid.uuid4()
        ).response
    assert es.consultation_id != en.consultation_id
    assert es.consultation_key == en.consultation_key == surveyed.translation_key
    assert es.version_id == en.version_id
    assert QuestionnaireVersion.objects.count() == 1
    assert dict(es.answers.values_list("question_code", "block_id")) == dict(
        en.answers.values_list("question_code", "block_id")
    )
    # The version holds the questions in both languages, for exports.
    walk = es.version.questions[0]
    assert walk["text"] == {
        "es": QUESTIONS[0]["value"]["question"],
        "en": "Do you walk alone in your area after dark?",
    }
    assert walk["choices"][1]["label"] == {"es": "No, nunca", "en": "No, never"}
    assert es.version.questions[6]["choices"][0]["label"]["en"] == "Morning (6–12 h)"
    assert sorted(es.version.definition["languages"]) == ["en", "es"]
    by_language = dict(
        QuestionnaireResponse.objects.filter(consultation_key=surveyed.translation_key)
        .values_list("language")
        .annotate(n=Count("pk"))
    )
    assert by_language == {"es": 1, "en": 1}


def test_a_language_translated_later_is_added_to_the_version(surveyed, locales):
    first = questionnaire_submit(
        consultation=surveyed, answers=VALID, language="es", idempotency_key=uuid.uuid4()
    ).response
    assert first.version.definition["languages"] == ["es"]
    english = localize(surveyed, locales["en"])
    questionnaire_submit(
        consultation=english, answers=VALID, language="en", idempotency_key=uuid.uuid4()
    )
    first.version.refresh_from_db()
    assert first.version.definition["languages"] == ["es", "en"]
    assert first.version.questions[0]["choices"][0]["label"] == {"es": "Sí", "en": "Yes"}


def test_unsynchronised_translation_answers_its_own_structure(surveyed, english):
    """The source gains a question; until the translation is synchronised, English residents
    answer the questions they see, under the version of that structure."""
    raws = []
    for raw, child in zip(QUESTIONS, surveyed.questionnaire, strict=True):
        raws.append({**raw, "id": child.id})
    raws.append(
        {
            "type": "short_text",
            "value": {
                "code": "extra",
                "question": "¿Algo más?",
                "help_text": "",
                "required": False,
                "condition": {"question": "", "answer": ""},
                "max_length": 100,
            },
        }
    )
    spanish = questionnaire_set(surveyed, raws)
    es = questionnaire_submit(
        consultation=spanish, answers=VALID, language="es", idempotency_key=uuid.uuid4()
    ).response
    en = questionnaire_submit(
        consultation=english, answers=VALID, language="en", idempotency_key=uuid.uuid4()
    ).response
    assert es.version_id != en.version_id
    assert es.consultation_key == en.consultation_key
    assert len(es.version.questions) == len(en.version.questions) + 1
    # Synchronising brings English onto the new structure.
    synced = localize(spanish, english.locale)
    again = questionnaire_submit(
        consultation=synced, answers=VALID, language="en", idempotency_key=uuid.uuid4()
    ).response
    assert again.version_id == es.version_id
