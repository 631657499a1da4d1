"""Storing questionnaire answers: types, conditions, idempotency and versions."""

import copy
import uuid

import pytest
from django.utils import translation
from django.utils.translation import gettext

from diagnosis.models import Answer, ConsultationPage, QuestionnaireResponse, QuestionnaireVersion
from diagnosis.questionnaire_blocks import questionnaire_stream
from diagnosis.services import QuestionnaireRejected, questionnaire_submit


def choices(*pairs):
    return [{"value": value, "label": label} for value, label in pairs]


def question(kind, code, text, *, required=False, condition=None, **extra):
    value = {
        "code": code,
        "question": text,
        "help_text": "",
        "required": required,
        "condition": {"question": condition[0], "answer": condition[1]}
        if condition
        else {"question": "", "answer": ""},
        **extra,
    }
    return {"type": kind, "value": value}


# The SDG 16.1.4 perception question and a few others, in Spanish (the default language).
QUESTIONS = [
    question(
        "single_choice",
        "walk-alone",
        "¿Camina sola o solo por su barrio después del anochecer?",
        required=True,
        choices=choices(("yes", "Sí"), ("no", "No, nunca")),
    ),
    question(
        "likert",
        "feel-safe",
        "¿Qué tan seguro/a se siente caminando solo/a por su barrio después del anochecer?",
        required=True,
        condition=("walk-alone", "yes"),
        choices=choices(
            ("very-safe", "Muy seguro/a"),
            ("safe", "Seguro/a"),
            ("unsafe", "Inseguro/a"),
            ("very-unsafe", "Muy inseguro/a"),
        ),
    ),
    question(
        "multiple_choice",
        "avoid",
        "¿Qué lugares evita?",
        choices=choices(
            ("park", "El parque"), ("bridge", "El puente"), ("bus-stop", "El paradero")
        ),
    ),
    question(
        "number",
        "minutes",
        "¿Cuántos minutos camina hasta el transporte?",
        min_value=0,
        max_value=180,
        decimal=False,
        unit="minutos",
    ),
    question("short_text", "street", "¿En qué calle vive?", max_length=80),
    question("long_text", "ideas", "¿Qué mejoraría la seguridad?", max_length=500),
    question("time_band", "avoid-time", "¿A qué horas evita salir?", multiple=True),
]


def questionnaire_set(page: ConsultationPage, questions=None, *, publish=True) -> ConsultationPage:
    """Give the page a questionnaire (raw StreamField data, as an import would) and publish it."""
    page.questionnaire = questionnaire_stream(copy.deepcopy(questions or QUESTIONS))
    revision = page.save_revision()
    if publish:
        revision.publish()
    return ConsultationPage.objects.get(pk=page.pk)


@pytest.fixture
def surveyed(consultation):
    return questionnaire_set(consultation)


def submit(page, answers, **kwargs):
    kwargs.setdefault("language", "es")
    kwargs.setdefault("idempotency_key", uuid.uuid4())
    return questionnaire_submit(consultation=page, answers=answers, **kwargs)


VALID = {
    "walk-alone": "yes",
    "feel-safe": "unsafe",
    "avoid": ["bridge", "park"],
    "minutes": "15",
    "street": "  Calle   63  ",
    "ideas": "Más luz en el parque.\nY vigilancia.",
    "avoid-time": ["night", "evening"],
}


def stored(response) -> dict:
    return dict(response.answers.values_list("question_code", "value"))


def test_valid_answers_are_stored_with_their_block_ids_and_version(surveyed):
    result = submit(surveyed, VALID, gender="woman", age_band="30-44")
    assert result.created
    response = QuestionnaireResponse.objects.get()
    assert response.consultation_key == surveyed.translation_key
    assert response.language == "es"
    assert response.gender == "woman"
    assert stored(response) == {
        "walk-alone": "yes",
        "feel-safe": "unsafe",
        "avoid": ["park", "bridge"],  # in the order of the choices
        "minutes": 15,
        "street": "Calle 63",
        "ideas": "Más luz en el parque.\nY vigilancia.",
        "avoid-time": ["evening", "night"],
    }
    ids = {child.value["code"]: child.id for child in surveyed.questionnaire}
    assert dict(response.answers.values_list("question_code", "block_id")) == ids
    version = response.version
    assert [q["code"] for q in version.questions] == [q["value"]["code"] for q in QUESTIONS]
    assert version.questions[1]["choices"][0] == {
        "value": "very-safe",
        "label": {"es": "Muy seguro/a"},
    }
    assert version.questions[6]["choices"][-1]["label"] == {"es": "A cualquier hora"}


def test_optional_questions_may_be_left_empty(surveyed):
    result = submit(surveyed, {"walk-alone": "yes", "feel-safe": "safe"})
    assert stored(result.response) == {"walk-alone": "yes", "feel-safe": "safe"}


def test_hidden_question_answer_is_dropped_and_not_required(surveyed):
    result = submit(surveyed, {"walk-alone": "no", "feel-safe": "very-unsafe"})
    assert stored(result.response) == {"walk-alone": "no"}
    # When shown it is required.
    with pytest.raises(QuestionnaireRejected) as refusal:
        submit(surveyed, {"walk-alone": "yes"})
    assert set(refusal.value.errors) == {"feel-safe"}


def test_condition_on_a_multiple_choice_answer(consultation):
    page = questionnaire_set(
        consultation,
        [
            QUESTIONS[2],
            question("short_text", "why-park", "¿Por qué el parque?", condition=("avoid", "park")),
        ],
    )
    shown = submit(page, {"avoid": ["park", "bridge"], "why-park": "Oscuro"}).response
    hidden = submit(page, {"avoid": ["bridge"], "why-park": "Oscuro"}).response
    assert stored(shown) == {"avoid": ["park", "bridge"], "why-park": "Oscuro"}
    assert stored(hidden) == {"avoid": ["bridge"]}


CHOOSE = "Please choose one of the answers listed."
WHOLE = "Please write a whole number, for example 3."


@pytest.mark.parametrize(
    ("code", "raw", "message"),
    [
        ("walk-alone", "maybe", CHOOSE),
        ("walk-alone", ["yes", "no"], "Please choose only one answer."),
        ("avoid", ["park", "school"], CHOOSE),
        ("minutes", "quince", WHOLE),
        ("minutes", "2.5", "Please write a whole number, without decimals."),
        ("minutes", "181", "180"),
        ("minutes", "-1", "180"),
        ("minutes", "1e400", "180"),
        ("minutes", "1e-400", "Please write a whole number, without decimals."),
        ("minutes", "9" * 40, WHOLE),
        ("minutes", "Infinity", WHOLE),
        ("street", "x" * 81, "80"),
        ("ideas", "y" * 501, "500"),
        ("avoid-time", ["midnight"], CHOOSE),
    ],
)
def test_invalid_answer_is_refused_in_the_active_language_and_nothing_is_stored(
    surveyed, code, raw, message
):
    answers = {**VALID, code: raw}
    with translation.override("es"), pytest.raises(QuestionnaireRejected) as refusal:
        submit(surveyed, answers)
    assert list(refusal.value.errors) == [code]
    with translation.override("es"):
        expected = gettext(message)  # the Spanish text once the catalogue has it
    assert expected in refusal.value.errors[code]
    assert not QuestionnaireResponse.objects.exists()
    assert not Answer.objects.exists()


def test_decimal_numbers_accept_a_comma(consultation):
    page = questionnaire_set(
        consultation, [question("number", "km", "¿Cuántos km?", decimal=True, min_value=0)]
    )
    assert stored(submit(page, {"km": "2,5"}).response) == {"km": 2.5}
    with pytest.raises(QuestionnaireRejected):
        submit(page, {"km": "nan"})


def test_control_characters_are_removed_from_text(surveyed):
    response = submit(surveyed, {**VALID, "street": "Calle\x00 63", "ideas": "a\x07b"}).response
    assert stored(response)["street"] == "Calle 63"
    assert stored(response)["ideas"] == "ab"


def test_profile_choices_are_checked(surveyed):
    with pytest.raises(QuestionnaireRejected) as refusal:
        submit(surveyed, VALID, gender="robot", age_band="200")
    assert set(refusal.value.errors) == {"gender", "age_band"}


def test_repeated_idempotency_key_returns_the_first_response(surveyed):
    key = uuid.uuid4()
    first = submit(surveyed, VALID, idempotency_key=key)
    again = submit(surveyed, {"walk-alone": "no"}, idempotency_key=key)
    assert first.created and not again.created
    assert again.response.pk == first.response.pk
    assert QuestionnaireResponse.objects.count() == 1
    assert stored(again.response)["walk-alone"] == "yes"


def test_closed_consultation_refuses_answers(surveyed):
    surveyed.phase = ConsultationPage.Phase.CLOSED
    with pytest.raises(QuestionnaireRejected) as refusal:
        submit(surveyed, VALID)
    assert "__all__" in refusal.value.errors
    paper = submit(surveyed, VALID, enforce_open=False, source="paper")
    assert paper.response.source == "paper"


def test_editing_a_live_questionnaire_makes_a_new_version_and_keeps_old_answers(surveyed):
    first = submit(surveyed, VALID).response

    edited = copy.deepcopy(QUESTIONS)
    # Rename a label, remove a question, add one.
    edited[0]["value"]["choices"][1]["label"] = "No"
    removed = edited.pop(4)  # street
    assert removed["value"]["code"] == "street"
    edited.append(
        question("single_choice", "lit", "¿Hay luz?", choices=choices(("y", "Sí"), ("n", "No")))
    )
    # Keep the block ids of the questions that stay, as the editor does.
    ids = [child.id for child in surveyed.questionnaire]
    for raw, block_id in zip(edited, ids[:4] + ids[5:], strict=False):
        raw["id"] = block_id
    page = questionnaire_set(surveyed, edited)

    second = submit(page, {**VALID, "lit": "y"}).response
    assert QuestionnaireVersion.objects.count() == 2
    assert first.version_id != second.version_id
    assert "street" not in stored(second)
    assert stored(second)["lit"] == "y"

    # The first response still reads with its own questions and wording.
    first.refresh_from_db()
    old = {q["code"]: q for q in first.version.questions}
    assert "street" in old and "lit" not in old
    assert old["walk-alone"]["choices"][1]["label"] == {"es": "No, nunca"}
    assert stored(first)["street"] == "Calle 63"
    # The questions that stayed keep their block ids, so they can be compared across versions.
    new = {q["code"]: q for q in second.version.questions}
    assert new["walk-alone"]["id"] == old["walk-alone"]["id"]


def test_changing_only_wording_keeps_the_version(surveyed):
    submit(surveyed, VALID)
    edited = copy.deepcopy(QUESTIONS)
    edited[0]["value"]["question"] = "¿Sale a caminar sola o solo de noche?"
    for raw, child in zip(edited, surveyed.questionnaire, strict=True):
        raw["id"] = child.id
    page = questionnaire_set(surveyed, edited)
    submit(page, VALID)
    assert QuestionnaireVersion.objects.count() == 1
    assert QuestionnaireResponse.objects.filter(version__isnull=False).count() == 2


def test_page_without_questions_refuses(consultation):
    with pytest.raises(QuestionnaireRejected):
        submit(consultation, {"x": "y"})
