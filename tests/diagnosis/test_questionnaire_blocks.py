"""The questionnaire builder's checks, as an editor meets them in the page editor."""

import copy
import json

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext
from wagtail.blocks.stream_block import StreamBlockValidationError
from wagtail.coreutils import safe_snake_case

from diagnosis.questionnaire_blocks import QuestionnaireBlock, questionnaire_stream
from tests.diagnosis.test_questionnaire_submit import QUESTIONS, choices, question


def clean(raw):
    return QuestionnaireBlock().clean(questionnaire_stream(copy.deepcopy(raw)))


def errors_of(raw) -> dict:
    """{question index: {field path: message}} from the editor's validation."""
    with pytest.raises(StreamBlockValidationError) as caught:
        clean(raw)
    found = {}
    for index, error in caught.value.block_errors.items():
        found[index] = {}
        for name, child in error.block_errors.items():
            if hasattr(child, "block_errors"):
                for sub, sub_error in child.block_errors.items():
                    found[index][f"{name}.{sub}"] = _message(sub_error)
            else:
                found[index][name] = _message(child)
    return found


def _message(error) -> str:
    if hasattr(error, "block_errors"):
        return "; ".join(_message(e) for e in error.block_errors.values())
    return " ".join(error.messages)


def test_the_sample_questionnaire_is_valid():
    value = clean(QUESTIONS)
    assert [child.value["code"] for child in value][:2] == ["walk-alone", "feel-safe"]


def test_duplicate_codes_are_refused_on_the_second_question():
    raw = [QUESTIONS[0], question("short_text", "walk-alone", "Otra", max_length=50)]
    with translation.override("en"):
        found = errors_of(raw)
    assert list(found) == [1]
    assert "already used by question 1" in found[1]["code"]


@pytest.mark.parametrize(
    ("condition", "field", "fragment"),
    [
        (("nope", "yes"), "condition.question", "no question with the code “nope”"),
        (("later", "yes"), "condition.question", "comes after this one"),
        (("walk-alone", "perhaps"), "condition.answer", "no choice with the value “perhaps”"),
        (("street", "x"), "condition.question", "has no choices"),
        (("walk-alone", ""), "condition.answer", "Choose the value"),
        (("", "yes"), "condition.question", "Name the question"),
    ],
)
def test_bad_conditions_are_refused_with_a_clear_message(condition, field, fragment):
    raw = [
        QUESTIONS[0],
        question("short_text", "street", "¿Calle?", max_length=50),
        question("short_text", "dependent", "¿Por qué?", max_length=50, condition=condition),
        question(
            "single_choice", "later", "¿Después?", choices=choices(("yes", "Sí"), ("no", "No"))
        ),
    ]
    with translation.override("en"):
        found = errors_of(raw)
    assert list(found) == [2]
    assert fragment in found[2][field]


def test_a_question_cannot_depend_on_itself():
    raw = [
        question(
            "single_choice",
            "loop",
            "¿?",
            choices=choices(("a", "A"), ("b", "B")),
            condition=("loop", "a"),
        )
    ]
    with translation.override("en"):
        found = errors_of(raw)
    assert "its own answer" in found[0]["condition.question"]


def test_repeated_choice_values_and_reversed_number_limits_are_refused():
    raw = [
        question("single_choice", "dup", "¿?", choices=choices(("a", "A"), ("a", "Otra A"))),
        question("number", "n", "¿?", min_value=10, max_value=1, decimal=False, unit=""),
    ]
    with pytest.raises(StreamBlockValidationError) as caught:
        clean(raw)
    assert set(caught.value.block_errors) == {0, 1}


def test_codes_must_be_slugs():
    raw = [question("short_text", "Calle del barrio", "¿?", max_length=50)]
    with pytest.raises(StreamBlockValidationError) as caught:
        clean(raw)
    assert "code" in caught.value.block_errors[0].block_errors


CODE_HELP = (
    "A short, stable code unique in this questionnaire, e.g. walk-alone-night. Used in "
    "conditions and exports; the same in every language."
)


def test_page_editor_has_a_questionnaire_tab(client, consultation):
    admin = get_user_model().objects.create_superuser("ada", "ada@example.org", "pw")
    client.force_login(admin)
    response = client.get(f"/admin/pages/{consultation.pk}/edit/")
    assert response.status_code == 200
    html = response.content.decode()
    # Wagtail names a tab after its heading, in the editor's language (Spanish here).
    with translation.override("es"):
        tab = safe_snake_case(gettext("Questionnaire"))
        code_help = gettext(CODE_HELP)
    assert tab and f'href="#tab-{tab}"' in html
    assert f"panel-child-{tab}-questionnaire-section" in html
    # The code's help text, in the block definitions (JSON-escaped in the page).
    assert json.dumps(code_help)[1:-1] in html
