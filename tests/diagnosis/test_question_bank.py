"""The question bank: its items in four languages, and adding them to a consultation's draft."""

import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from diagnosis.models import ConsultationPage, QuestionnaireResponse
from diagnosis.question_bank import (
    BANK,
    BANK_BY_CODE,
    CODE_PREFIX,
    LANGUAGES,
    THEMES,
    bank_blocks,
    bank_language,
    bank_translations,
)
from diagnosis.questionnaire_blocks import (
    CHOICE_TYPES,
    QUESTION_MAX_LENGTH,
    TIME_BAND,
    QuestionnaireBlock,
    questionnaire_problems,
    questionnaire_stream,
    time_band_choices,
)
from tests.diagnosis.test_questionnaire_submit import QUESTIONS, question, questionnaire_set

# The real wagtail-localize machinery, no segment translated by hand.
from tests.diagnosis.test_translation_prefill import translate

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SDG_EN = "How safe do you feel walking alone around the area you live after dark?"


# --- The items ----------------------------------------------------------------------------------


def _structure(raw: list[dict]) -> list[dict]:
    """Raw blocks with every text blanked: what must not differ between languages."""
    stripped = []
    for block in raw:
        value = dict(block["value"], question="", help_text="")
        if "choices" in value:
            value["choices"] = [dict(c, label="") for c in value["choices"]]
        stripped.append({"type": block["type"], "value": value})
    return stripped


def test_every_item_is_complete_in_the_four_languages():
    for item in BANK:
        for language in LANGUAGES:
            text = item.text[language]
            assert text.strip() == text and text, (item.code, language)
            assert len(text) <= QUESTION_MAX_LENGTH, (item.code, language)
            assert text.endswith("?"), (item.code, language)
            for choice in item.choices:
                assert choice.label[language].strip(), (item.code, choice.value, language)
                assert len(choice.label[language]) <= 200
        # Help text: in every language or in none.
        assert len({bool(item.help_text[language]) for language in LANGUAGES}) == 1, item.code
        assert item.note and str(item.note).strip(), item.code
        assert item.theme in THEMES
        if item.type in CHOICE_TYPES and item.type != TIME_BAND:
            assert len(item.choices) >= 2, item.code


def test_every_language_builds_the_same_structure():
    reference = _structure(bank_blocks(BANK, "es"))
    for language in LANGUAGES:
        assert _structure(bank_blocks(BANK, language)) == reference, language


def test_codes_and_values_are_stable_slugs_that_cannot_clash():
    codes = [item.code for item in BANK]
    assert len(codes) == len(set(codes))
    for item in BANK:
        assert item.code.startswith(CODE_PREFIX) and SLUG.match(item.code), item.code
        assert len(item.code) <= 40
        values = [choice.value for choice in item.choices]
        assert len(values) == len(set(values)), item.code
        assert all(SLUG.match(value) for value in values), item.code


def test_the_whole_bank_passes_the_editors_checks_in_every_language():
    for language in LANGUAGES:
        raw = bank_blocks(BANK, language)
        problems = questionnaire_problems(
            [
                {
                    "type": block["type"],
                    "code": block["value"]["code"],
                    "choices": (
                        [band for band, _label in time_band_choices()]
                        if block["type"] == TIME_BAND
                        else [c["value"] for c in block["value"]["choices"]]
                    ),
                    "condition": block["value"]["condition"],
                }
                for block in raw
            ]
        )
        assert problems == {}, language
        QuestionnaireBlock().clean(questionnaire_stream(raw))  # raises if anything is wrong


def test_the_methodology_conditions():
    assert BANK_BY_CODE["bank-avoid-why"].condition == ("bank-avoid-places", "yes")
    assert BANK_BY_CODE["bank-avoid-which"].condition == ("bank-avoid-places", "yes")
    assert BANK_BY_CODE["bank-reported"].condition == ("bank-victim", "yes")
    assert BANK_BY_CODE["bank-not-reported-why"].condition == ("bank-reported", "no")
    # The SDG item is asked of everyone, not only of those who walk alone.
    assert BANK_BY_CODE["bank-safe-night"].condition is None


def test_the_sdg_item_keeps_the_official_wording_and_scale():
    item = BANK_BY_CODE["bank-safe-night"]
    assert item.text["en"] == SDG_EN
    assert [choice.value for choice in item.choices] == [
        "very-safe",
        "safe",
        "unsafe",
        "very-unsafe",
        "dont-know",
        "prefer-not",
    ]
    assert item.choices[0].label["es"] == "Muy seguro/a"  # as in UNHCR's SAF01
    assert "te sientes" in item.text["es"] and "se siente " not in item.text["es"]  # tú
    assert "vous" in item.text["fr"] and "você" in item.text["pt"]


def test_the_same_text_always_has_the_same_translation():
    """One source text can only be offered one translation per language (e.g. "Sí" → "Yes")."""
    for language in LANGUAGES:
        seen: dict[str, dict[str, str]] = {}
        for item in BANK:
            for texts in item.texts():
                others = {other: texts[other] for other in LANGUAGES if other != language}
                assert seen.setdefault(texts[language], others) == others, texts[language]
    offered = bank_translations([BANK_BY_CODE["bank-safe-night"]], "es")
    assert offered["Muy seguro/a"] == {
        "en": "Very safe",
        "fr": "Très en sécurité",
        "pt": "Muito seguro/a",
    }


def test_a_page_language_the_bank_lacks_falls_back_to_spanish():
    assert bank_language("pt") == "pt"
    assert bank_language("de") == "es"


# --- Adding through the admin -------------------------------------------------------------------


@pytest.fixture
def surveyed(consultation):
    """The consultation with the facilitator's own questions, published."""
    return questionnaire_set(consultation)


@pytest.fixture
def facilitator_client(client, facilitator):
    client.force_login(facilitator)
    return client


def bank_url(page) -> str:
    return reverse("questionnaire_bank:add", args=[page.pk])


def draft_of(page) -> ConsultationPage:
    return ConsultationPage.objects.get(pk=page.pk).get_latest_revision_as_object()


def codes_of(page) -> list[str]:
    return [child.value["code"] for child in page.questionnaire]


def test_screen_lists_the_bank_by_theme_in_the_pages_language(facilitator_client, surveyed):
    response = facilitator_client.get(bank_url(surveyed))
    assert response.status_code == 200
    html = response.content.decode()
    with translation.override("es"):
        for theme in THEMES:
            assert str(theme.title) in html
        assert gettext("Add the selected questions") in html
        assert str(BANK_BY_CODE["bank-safe-night"].note)[:40] in html
    for item in BANK:
        assert f'value="{item.code}"' in html
    # Question and choices in Spanish, the page's language.
    assert BANK_BY_CODE["bank-safe-night"].text["es"] in html
    assert "Bastante seguro/a" in html
    assert SDG_EN not in html


def test_adding_creates_a_draft_with_the_items_and_their_conditions(facilitator_client, surveyed):
    live_before = codes_of(ConsultationPage.objects.get(pk=surveyed.pk))
    revisions_before = surveyed.revisions.count()
    response = facilitator_client.post(
        bank_url(surveyed), {"items": ["bank-safe-night", "bank-not-reported-why"]}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_pages:edit", args=[surveyed.pk])

    draft = draft_of(surveyed)
    # Appended at the end, the follow-up after the questions it depends on.
    assert codes_of(draft) == [
        *live_before,
        "bank-safe-night",
        "bank-victim",
        "bank-reported",
        "bank-not-reported-why",
    ]
    blocks = {child.value["code"]: child for child in draft.questionnaire}
    assert dict(blocks["bank-reported"].value["condition"]) == {
        "question": "bank-victim",
        "answer": "yes",
    }
    assert dict(blocks["bank-not-reported-why"].value["condition"]) == {
        "question": "bank-reported",
        "answer": "no",
    }
    assert blocks["bank-safe-night"].block_type == "likert"
    assert blocks["bank-safe-night"].value["question"] == BANK_BY_CODE["bank-safe-night"].text["es"]
    # Every block has its own id (so answers and translations can follow it).
    assert all(child.id for child in draft.questionnaire)

    # A draft only: the live page is unchanged and has unpublished changes.
    live = ConsultationPage.objects.get(pk=surveyed.pk)
    assert codes_of(live) == live_before
    assert live.has_unpublished_changes
    assert surveyed.revisions.count() == revisions_before + 1
    assert live.latest_revision.user.username == "fede"

    with translation.override("es"):
        message = str(next(iter(get_messages(response.wsgi_request))))
        to_do = gettext(
            "Residents see nothing yet: review the questions in the Questionnaire tab, then "
            "publish the page."
        )
    assert message.startswith("4 ")
    assert to_do in message
    assert BANK_BY_CODE["bank-victim"].text["es"] in message  # added though not ticked: said so
    assert BANK_BY_CODE["bank-reported"].text["es"] in message


def test_published_bank_questions_are_answered_by_residents(client, facilitator_client, surveyed):
    facilitator_client.post(
        bank_url(surveyed), {"items": ["bank-safe-night", "bank-avoid-why", "bank-avoid-when"]}
    )
    ConsultationPage.objects.get(pk=surveyed.pk).latest_revision.publish()

    client.logout()
    page = client.get("/es/chapinero/questionnaire/")
    html = page.content.decode()
    assert page.status_code == 200
    assert BANK_BY_CODE["bank-safe-night"].text["es"] in html
    assert BANK_BY_CODE["bank-avoid-why"].text["es"] in html
    assert "Hay poca gente" in html

    answers = {
        "idempotency_key": str(uuid.uuid4()),
        "q-walk-alone": "yes",
        "q-feel-safe": "unsafe",
        "q-bank-safe-night": "very-unsafe",
        "q-bank-avoid-places": "yes",
        "q-bank-avoid-why": ["poor-lighting", "few-people"],
        "q-bank-avoid-when": ["night"],
    }
    response = client.post("/es/chapinero/questionnaire/", answers)
    assert response.status_code == 303
    stored = dict(QuestionnaireResponse.objects.get().answers.values_list("question_code", "value"))
    assert stored["bank-safe-night"] == "very-unsafe"
    assert stored["bank-avoid-why"] == ["poor-lighting", "few-people"]
    assert stored["bank-avoid-when"] == ["night"]


def test_follow_up_answers_are_dropped_when_their_condition_is_not_met(
    client, facilitator_client, surveyed
):
    facilitator_client.post(bank_url(surveyed), {"items": ["bank-avoid-why"]})
    ConsultationPage.objects.get(pk=surveyed.pk).latest_revision.publish()
    client.logout()
    answers = {
        "idempotency_key": str(uuid.uuid4()),
        "q-walk-alone": "no",
        "q-bank-avoid-places": "no",
        "q-bank-avoid-why": ["poor-lighting"],
    }
    assert client.post("/es/chapinero/questionnaire/", answers).status_code == 303
    stored = dict(QuestionnaireResponse.objects.get().answers.values_list("question_code", "value"))
    assert stored == {"walk-alone": "no", "bank-avoid-places": "no"}


def test_questions_already_added_are_not_added_again(facilitator_client, surveyed):
    facilitator_client.post(bank_url(surveyed), {"items": ["bank-safe-night", "bank-victim"]})
    screen = facilitator_client.get(bank_url(surveyed)).content.decode()
    assert re.search(r'value="bank-safe-night"[^>]*checked disabled', screen)
    with translation.override("es"):
        assert gettext("Already in the questionnaire") in screen

    response = facilitator_client.post(
        bank_url(surveyed), {"items": ["bank-safe-night", "bank-victim-types"]}
    )
    assert response.status_code == 302
    codes = codes_of(draft_of(surveyed))
    assert codes.count("bank-safe-night") == 1 and codes.count("bank-victim") == 1
    assert codes[-1] == "bank-victim-types"

    revisions = surveyed.revisions.count()
    again = facilitator_client.post(bank_url(surveyed), {"items": ["bank-safe-night"]})
    assert again.status_code == 400
    with translation.override("es"):
        already = ngettext(
            "That question is already in the questionnaire.",
            "Those questions are already in the questionnaire.",
            1,
        )
        assert already in again.content.decode()
    assert surveyed.revisions.count() == revisions


def test_adding_builds_on_the_facilitators_unpublished_draft(facilitator_client, surveyed):
    extra = question("short_text", "barrio", "¿En qué barrio vives?", max_length=80)
    questionnaire_set(surveyed, [*QUESTIONS, extra], publish=False)
    facilitator_client.post(bank_url(surveyed), {"items": ["bank-trust-police"]})
    codes = codes_of(draft_of(surveyed))
    assert codes[-2:] == ["barrio", "bank-trust-police"]


def test_nothing_selected_is_refused_with_a_message(facilitator_client, surveyed):
    revisions = surveyed.revisions.count()
    response = facilitator_client.post(bank_url(surveyed), {})
    assert response.status_code == 400
    with translation.override("es"):
        assert gettext("Choose at least one question to add.") in response.content.decode()
    assert surveyed.revisions.count() == revisions


def test_unknown_codes_are_refused(facilitator_client, surveyed):
    response = facilitator_client.post(bank_url(surveyed), {"items": ["walk-alone", "bank-nope"]})
    assert response.status_code == 400
    assert "bank-nope" in response.content.decode()
    assert codes_of(draft_of(surveyed)) == [q["value"]["code"] for q in QUESTIONS]


def test_a_result_the_editor_would_refuse_is_not_saved(facilitator_client, surveyed):
    """A facilitator's own question took a bank code with other choices: the follow-up's
    condition would name a value it lacks, so nothing is added and the editor's message says why."""
    own = question(
        "single_choice",
        "bank-avoid-places",
        "¿Evitas lugares?",
        choices=[{"value": "si", "label": "Sí"}, {"value": "no", "label": "No"}],
    )
    questionnaire_set(surveyed, [*QUESTIONS, own])
    revisions = surveyed.revisions.count()
    response = facilitator_client.post(bank_url(surveyed), {"items": ["bank-avoid-why"]})
    assert response.status_code == 400
    html = response.content.decode()
    with translation.override("es"):
        expected = gettext(
            "Question “%(code)s” has no choice with the value “%(value)s”. Its values are: "
            "%(values)s."
        ) % {"code": "bank-avoid-places", "value": "yes", "values": "si, no"}
    assert expected in html
    assert surveyed.revisions.count() == revisions


def test_a_draft_the_editor_would_refuse_is_reported_by_question(facilitator_client, surveyed):
    """A draft saved without the editor's checks (one choice where two are needed) blocks the
    addition, and the message names the question."""
    broken = question(
        "single_choice", "solo", "¿Una sola opción?", choices=[{"value": "a", "label": "A"}]
    )
    questionnaire_set(surveyed, [*QUESTIONS, broken], publish=False)
    revisions = surveyed.revisions.count()
    response = facilitator_client.post(bank_url(surveyed), {"items": ["bank-trust-police"]})
    assert response.status_code == 400
    assert f"{len(QUESTIONS) + 1}:" in response.content.decode()  # "Question 8: …"
    assert surveyed.revisions.count() == revisions


def test_a_page_locked_by_someone_else_is_not_changed(facilitator_client, surveyed, moderator):
    surveyed.locked, surveyed.locked_by, surveyed.locked_at = True, moderator, timezone.now()
    surveyed.save(update_fields=["locked", "locked_by", "locked_at"])
    revisions = surveyed.revisions.count()
    response = facilitator_client.post(bank_url(surveyed), {"items": ["bank-trust-police"]})
    assert response.status_code == 409
    assert "mara" in response.content.decode()  # who holds the lock
    assert surveyed.revisions.count() == revisions


def test_without_edit_permission_the_screen_is_forbidden(client, surveyed):
    """Staff who may use the admin but not edit pages (here: only the admin access permission)."""
    reader = get_user_model().objects.create_user("rita", "rita@example.org", "pw")
    reader.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(reader)
    forbidden = client.get(bank_url(surveyed))
    assert forbidden.status_code == 403
    with translation.override("es"):
        assert gettext("Back to the dashboard") in forbidden.content.decode()
    revisions = surveyed.revisions.count()
    assert client.post(bank_url(surveyed), {"items": ["bank-safe-night"]}).status_code == 403
    assert surveyed.revisions.count() == revisions


def test_a_consultation_that_does_not_exist_is_not_found(facilitator_client, surveyed):
    # The admin's 404 goes through the locale middleware's redirect to /es/admin/…, then 404.
    missing = reverse("questionnaire_bank:add", args=[99999])
    assert facilitator_client.get(missing, follow=True).status_code == 404
    home = bank_url(surveyed.get_parent())  # a page, but not a consultation
    assert facilitator_client.get(home, follow=True).status_code == 404


def test_a_page_in_another_language_gets_that_languages_wording(
    facilitator_client, surveyed, locales
):
    """A page created in Portuguese (not a localize translation) is written in Portuguese."""
    portuguese = surveyed.copy_for_translation(locales["pt"], copy_parents=True)
    portuguese.save_revision().publish()
    facilitator_client.post(bank_url(portuguese), {"items": ["bank-safe-night"]})
    draft = draft_of(portuguese)
    assert draft.questionnaire[-1].value["question"] == BANK_BY_CODE["bank-safe-night"].text["pt"]
    assert draft.questionnaire[-1].value["choices"][0]["label"] == "Muito seguro/a"
    # The Spanish page is untouched.
    assert "bank-safe-night" not in codes_of(draft_of(surveyed))


# --- Translation with wagtail-localize ---------------------------------------------------------


def test_translating_the_page_brings_the_banks_own_wording(facilitator_client, surveyed, locales):
    facilitator_client.post(
        bank_url(surveyed), {"items": ["bank-safe-night", "bank-not-reported-why"]}
    )
    ConsultationPage.objects.get(pk=surveyed.pk).latest_revision.publish()
    spanish = ConsultationPage.objects.get(pk=surveyed.pk)

    for language in ("en", "fr"):
        translated = translate(spanish, locales[language])
        blocks = {child.value["code"]: child.value for child in translated.questionnaire}
        for code in ("bank-safe-night", "bank-victim", "bank-reported", "bank-not-reported-why"):
            item = BANK_BY_CODE[code]
            assert blocks[code]["question"] == item.text[language], (language, code)
            assert [c["label"] for c in blocks[code]["choices"]] == [
                c.label[language] for c in item.choices
            ]
        assert (
            blocks["bank-safe-night"]["help_text"]
            == BANK_BY_CODE["bank-safe-night"].help_text[language]
        )
        # The facilitator's own question has no bank wording: it keeps the Spanish source.
        assert blocks["walk-alone"]["question"] == QUESTIONS[0]["value"]["question"]

    english = ConsultationPage.objects.get(
        translation_key=spanish.translation_key, locale=locales["en"]
    )
    response = facilitator_client.get("/en/chapinero/questionnaire/")
    assert response.status_code == 200
    assert SDG_EN in response.content.decode()
    assert english.live


def test_the_bank_of_a_translation_adds_to_its_source_page(facilitator_client, surveyed, locales):
    english = translate(surveyed, locales["en"])
    screen = facilitator_client.get(bank_url(english))
    assert screen.status_code == 200
    assert BANK_BY_CODE["bank-safe-night"].text["es"] in screen.content.decode()

    response = facilitator_client.post(bank_url(english), {"items": ["bank-trust-police"]})
    assert response["Location"] == reverse("wagtailadmin_pages:edit", args=[surveyed.pk])
    assert codes_of(draft_of(surveyed))[-1] == "bank-trust-police"
    assert "bank-trust-police" not in codes_of(draft_of(english))

    ConsultationPage.objects.get(pk=surveyed.pk).latest_revision.publish()
    synced = translate(ConsultationPage.objects.get(pk=surveyed.pk), locales["en"])
    assert (
        synced.questionnaire[-1].value["question"]
        == "How much do you trust the police in your area?"
    )
