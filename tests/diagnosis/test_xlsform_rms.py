"""The real UNHCR Results Monitoring Survey XLSForms (CAPI and CATI, en/es/fr/ar), imported.

The expected facts are read from the spreadsheets themselves, with openpyxl, so the tests say what
the import must do with whatever the file contains: the SDG 16.1.4 question SAF01 and its answer
list, a real `relevant`, the household roster repeat, and every row accounted for. The files are
used read-only where they are kept (../shared/data/questionnaires-unhcr-rms/, SOURCE.md: MIT).
"""

import re
import time
import uuid
import warnings
from pathlib import Path

import pytest
from django.utils import translation
from openpyxl import load_workbook

from diagnosis.models import ConsultationPage, QuestionnaireResponse
from diagnosis.questionnaire_blocks import QuestionnaireBlock, questionnaire_stream
from diagnosis.services.questionnaires import questionnaire_questions
from diagnosis.xlsform import IMPORTED, LAYOUT, NOTED, SKIPPED, xlsform_parse
from tests.diagnosis.test_xlsform_admin import confirm_url, payload, upload_file, upload_url

DATA = Path("/work/shared/data/questionnaires-unhcr-rms")
CAPI = DATA / "RMS_CAPI_v3.xlsx"
CATI = DATA / "RMS_CATI_v3.xlsx"
LABELS = {"en": "label::English (en)", "es": "label::Español (es)", "fr": "label::Français (fr)"}


def sheet_rows(path: Path, name: str) -> list[dict]:
    """The rows of one sheet as dicts, read independently of the importer."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        workbook = load_workbook(path, read_only=True)
        rows = list(workbook[name].iter_rows(values_only=True))
        workbook.close()
    header = [str(cell) if cell is not None else "" for cell in rows[0]]
    table = []
    for number, values in enumerate(rows[1:], start=2):
        if any(cell not in (None, "") for cell in values):
            row = dict(zip(header, values, strict=False))
            row["_row"] = number
            table.append(row)
    return table


def text(value) -> str:
    return " ".join(str(value).split()) if value is not None else ""


@pytest.fixture(scope="module")
def survey():
    return sheet_rows(CAPI, "survey")


@pytest.fixture(scope="module")
def choices():
    return sheet_rows(CAPI, "choices")


@pytest.fixture(scope="module")
def capi():
    with translation.override("en"):
        return xlsform_parse(CAPI, page_language="es")


def row_named(rows, name):
    return next(row for row in rows if row["name"] == name)


def question(result, code, language):
    return next(b for b in result.blocks[language] if b["value"]["code"] == code)


def test_saf01_becomes_a_single_choice_with_its_answer_list_in_three_languages(
    capi, survey, choices
):
    saf01 = row_named(survey, "SAF01")
    kind, list_name = saf01["type"].split()
    assert kind == "select_one"
    answer_list = [row for row in choices if row["list_name"] == list_name]
    assert len(answer_list) == 6
    for language, column in LABELS.items():
        block = question(capi, "saf01", language)
        assert block["type"] == "single_choice"
        assert block["value"]["question"] == text(saf01[column])
        assert block["value"]["choices"] == [
            {"value": str(row["name"]), "label": text(row[column])} for row in answer_list
        ]
    assert capi.translations[text(saf01[LABELS["es"]])] == {
        "en": text(saf01[LABELS["en"]]),
        "fr": text(saf01[LABELS["fr"]]),
        "ar": text(saf01["label::العربية (ar)"]),
    }


def simple_relevant(row) -> tuple[str, str] | None:
    match = re.fullmatch(r"\$\{(\w+)\}\s*=\s*'(\w+)'", text(row.get("relevant")))
    return match.groups() if match else None


def test_a_simple_relevant_becomes_a_condition_and_a_compound_one_is_reported(capi, survey):
    # The first question outside any repeat whose relevant names a select_one with one value.
    depth, candidates = 0, []
    names = {row["name"]: row for row in survey}
    for row in survey:
        kind = text(row["type"])
        depth += kind == "begin_repeat"
        depth -= kind == "end_repeat"
        relevant = simple_relevant(row)
        asks = kind.split()[0] in ("select_one", "select_multiple", "integer", "text")
        if depth == 0 and asks and relevant:
            if text(names[relevant[0]]["type"]).startswith("select_one"):
                candidates.append((row, relevant))
    row, (target, value) = candidates[0]
    block = question(capi, row["name"].lower(), "es")
    assert block["value"]["condition"] == {"question": target.lower(), "answer": value}

    compound = next(r for r in survey if " or " in text(r.get("relevant")))
    entry = next(e for e in capi.report if e.row == compound["_row"])
    assert entry.outcome == NOTED
    assert any(text(compound["relevant"]) in reason for reason in entry.reasons)
    assert "shown to everyone" in entry.reasons[-1]


def test_household_roster_questions_are_reported_not_imported(capi, survey):
    by_row = {entry.row: entry for entry in capi.report}
    inside, depth = [], 0
    for row in survey:
        kind = text(row["type"])
        if kind == "end_repeat":
            depth -= 1
        if depth > 0:
            inside.append(row)
        if kind == "begin_repeat":
            depth += 1
    assert len(inside) > 100
    assert {by_row[row["_row"]].outcome for row in inside} <= {SKIPPED, LAYOUT}
    hh04 = row_named(survey, "HH04")  # the sex of each household member
    assert by_row[hh04["_row"]].outcome == SKIPPED
    roster = next(r for r in survey if text(r["type"]) == "begin_repeat" and r["name"] == "S1")
    assert "one questionnaire answer is one person" in by_row[roster["_row"]].reasons[0]
    codes = {b["value"]["code"] for b in capi.questions}
    assert "hh04" not in codes


def test_every_survey_row_is_counted_once(capi, survey):
    counts = capi.counts()
    assert [entry.row for entry in capi.report] == [row["_row"] for row in survey]
    assert counts[IMPORTED] + counts[NOTED] + counts[SKIPPED] + counts[LAYOUT] == len(survey)
    assert counts[IMPORTED] + counts[NOTED] == counts["questions"] == len(capi.questions)
    assert capi.languages == ["en", "es", "fr", "ar"]


@pytest.mark.parametrize("path", [CAPI, CATI], ids=["CAPI", "CATI"])
def test_both_rms_forms_pass_the_editor_checks_in_every_language(path):
    result = xlsform_parse(path, page_language="es")
    assert len(result.questions) > 100
    for blocks in result.blocks.values():
        QuestionnaireBlock().clean(questionnaire_stream(blocks))


def test_a_portuguese_page_gets_english_wording_and_is_told_why():
    with translation.override("en"):
        result = xlsform_parse(CAPI, page_language="pt")
    assert result.source_language == "en"  # the form's default_language: English (en)
    assert "Português" in result.notes[0]


# --- Through the admin, to a resident's answer ----------------------------------------------


def answer_for(q) -> object:
    """A valid answer to any imported question (the first choice; a number within limits)."""
    if q.is_choice:
        return [q.choice_values[0]] if q.takes_many else q.choice_values[0]
    if q.type == "number":
        return str(int(q.min_value if q.min_value is not None else 1))
    return "Sí"


def test_rms_imports_quickly_publishes_and_residents_can_answer(client, facilitator, consultation):
    client.force_login(facilitator)
    started = time.perf_counter()
    response = client.post(
        upload_url(consultation),
        {"file": upload_file(CAPI.read_bytes(), CAPI.name), "mode": "append", "language": ""},
    )
    assert response.status_code == 200
    assert time.perf_counter() - started < 2.0  # read, map and render the preview
    response = client.post(confirm_url(consultation), {"payload": payload(response)})
    assert response.status_code == 302
    page = ConsultationPage.objects.get(pk=consultation.pk)
    page.get_latest_revision().publish()
    page = ConsultationPage.objects.get(pk=consultation.pk)

    client.logout()
    url = page.url + page.reverse_subpage("questionnaire")
    started = time.perf_counter()
    form = client.get(url)
    assert form.status_code == 200
    assert time.perf_counter() - started < 2.0
    assert "¿Qué grado de seguridad siente al caminar sin compañía" in form.content.decode()

    questions = questionnaire_questions(page)
    data = {"idempotency_key": str(uuid.uuid4())}
    for q in questions:
        data[f"q-{q.code}"] = answer_for(q)
    response = client.post(url, data)
    assert response.status_code == 303, response.content.decode()[:2000]
    stored = QuestionnaireResponse.objects.get()
    answers = dict(stored.answers.values_list("question_code", "value"))
    assert answers["saf01"] == "1"
    assert stored.language == "es"


def test_the_cati_form_in_french():
    with translation.override("en"):
        result = xlsform_parse(CATI, page_language="es", language="fr")
    saf01 = next(b["value"] for b in result.questions if b["value"]["code"] == "saf01")
    cati_saf01 = row_named(sheet_rows(CATI, "survey"), "SAF01")
    assert saf01["question"] == text(cati_saf01[LABELS["fr"]])
    assert result.source_language == "fr"
    assert "es" not in {code for texts in result.translations.values() for code in texts}
