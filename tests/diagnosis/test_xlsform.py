"""Reading XLSForms: every mapping rule and every refusal, on small forms built here with openpyxl.

The real UNHCR forms are read in test_xlsform_rms.py; the admin flow is in test_xlsform_admin.py.
"""

import io

import pytest
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import Workbook

from diagnosis.questionnaire_blocks import QuestionnaireBlock, questionnaire_stream
from diagnosis.xlsform import (
    IMPORTED,
    LAYOUT,
    NOTED,
    SKIPPED,
    XLSFormError,
    XLSFormImport,
    xlsform_parse,
)

EN, ES, FR = "label::English (en)", "label::Español (es)", "label::Français (fr)"

YES_NO = [
    {"list_name": "yesno", "name": "1", EN: "Yes", ES: "Sí", FR: "Oui"},
    {"list_name": "yesno", "name": "0", EN: "No", ES: "No", FR: "Non"},
]


def sheet(workbook, title, rows, *, header=None):
    worksheet = workbook.create_sheet(title)
    columns = header or list(dict.fromkeys(key for row in rows for key in row))
    worksheet.append(columns)
    for row in rows:
        worksheet.append([row.get(column) for column in columns])
    return worksheet


def xlsform(survey, choices=(), settings=None, *, survey_header=None, names=None) -> bytes:
    """An .xlsx XLSForm: `survey` and `choices` rows as dicts of column -> cell."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    names = names or {}
    sheet(workbook, names.get("survey", "survey"), survey, header=survey_header)
    if choices:
        sheet(workbook, names.get("choices", "choices"), list(choices))
    if settings:
        sheet(workbook, "settings", [settings])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parse(survey, choices=(), settings=None, **kwargs) -> XLSFormImport:
    kwargs.setdefault("page_language", "es")
    with translation.override("en"):
        return xlsform_parse(io.BytesIO(xlsform(survey, choices, settings)), **kwargs)


def q(kind, name, en="", es="", **extra):
    row = {"type": kind, "name": name}
    if en:
        row[EN] = en
    if es:
        row[ES] = es
    row.update(extra)
    return row


def entry(result, name):
    return next(e for e in result.report if e.name == name)


def block(result, code, language=None):
    blocks = result.blocks[language or result.source_language]
    return next(b for b in blocks if b["value"]["code"] == code)


def reasons(result, name) -> str:
    return " ".join(entry(result, name).reasons)


def assert_editor_accepts(result):
    for blocks in result.blocks.values():
        QuestionnaireBlock().clean(questionnaire_stream(blocks))


# --- Question types -----------------------------------------------------------------------


def test_select_one_becomes_a_single_choice_in_every_language():
    result = parse(
        [q("select_one yesno", "walks", "Do you walk alone?", "¿Camina sola/o?", **{FR: "Seul ?"})],
        YES_NO,
    )
    assert result.languages == ["en", "es", "fr"]
    assert result.source_language == "es"
    walks = block(result, "walks")
    assert walks["type"] == "single_choice"
    assert walks["value"]["question"] == "¿Camina sola/o?"
    assert walks["value"]["choices"] == [
        {"value": "1", "label": "Sí"},
        {"value": "0", "label": "No"},
    ]
    assert block(result, "walks", "fr")["value"]["choices"][0]["label"] == "Oui"
    assert result.translations["¿Camina sola/o?"] == {"en": "Do you walk alone?", "fr": "Seul ?"}
    assert result.translations["Sí"] == {"en": "Yes", "fr": "Oui"}
    assert entry(result, "walks").outcome == IMPORTED
    assert_editor_accepts(result)


def test_likert_appearance_makes_a_scale_and_a_long_list_stays_a_single_choice():
    scale = [
        {"list_name": "safe", "name": str(n), ES: label}
        for n, label in enumerate(["Muy seguro", "Seguro", "Inseguro", "Muy inseguro"], 1)
    ]
    many = [{"list_name": "many", "name": str(n), ES: f"Punto {n}"} for n in range(12)]
    result = parse(
        [
            q("select_one safe", "feel", es="¿Qué tan seguro?", appearance="likert"),
            q("select_one many", "wide", es="¿Cuánto?", appearance="likert"),
        ],
        scale + many,
    )
    assert block(result, "feel")["type"] == "likert"
    assert block(result, "wide")["type"] == "single_choice"
    assert entry(result, "wide").outcome == NOTED
    assert "11" in reasons(result, "wide")


def test_select_multiple_integer_decimal_and_text_types():
    result = parse(
        [
            q("select_multiple yesno", "places", es="¿Qué lugares?"),
            q("integer", "age", es="¿Edad?"),
            q("decimal", "km", es="¿Kilómetros?"),
            q("text", "street", es="¿Calle?"),
            q("text", "ideas", es="¿Ideas?", appearance="multiline"),
        ],
        YES_NO,
    )
    assert block(result, "places")["type"] == "multiple_choice"
    assert block(result, "age")["type"] == "number"
    assert block(result, "age")["value"]["decimal"] is False
    assert block(result, "km")["value"]["decimal"] is True
    assert block(result, "street")["type"] == "short_text"
    assert block(result, "ideas")["type"] == "long_text"
    assert {e.outcome for e in result.report} == {IMPORTED}
    assert_editor_accepts(result)


def test_xlsform_aliases_are_understood():
    result = parse(
        [
            q("select one yesno", "a", es="¿A?"),
            q("select all that apply yesno", "b", es="¿B?"),
            q("begin group", "g", es="Grupo"),
            q("int", "c", es="¿C?"),
            q("end group", "g"),
        ],
        YES_NO,
    )
    assert [b["type"] for b in result.questions] == ["single_choice", "multiple_choice", "number"]


@pytest.mark.parametrize(
    ("cell", "required"),
    [("yes", True), ("true", True), ("TRUE", True), (True, True), ("no", False), ("", False)],
)
def test_required_values(cell, required):
    result = parse([q("text", "street", es="¿Calle?", required=cell)])
    assert block(result, "street")["value"]["required"] is required
    assert entry(result, "street").outcome == IMPORTED


def test_required_on_a_condition_is_imported_as_optional_and_said():
    result = parse([q("text", "street", es="¿Calle?", required="${age} > 18")])
    assert block(result, "street")["value"]["required"] is False
    assert "${age} > 18" in reasons(result, "street")


# --- Number limits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "constraint", "limits"),
    [
        ("integer", ". >= 0 and . <= 120", (0, 120)),
        ("integer", ".<=10", (None, 10)),
        ("integer", ". > 0", (1, None)),
        ("integer", ". > 0 and . < 10", (1, 9)),
        ("integer", "(${n} >= 0 and ${n} <= 110)", (0, 110)),
        ("integer", "18 <= .", (18, None)),
        ("decimal", ". >= 0.5 and . <= 2.5", (0.5, 2.5)),
    ],
)
def test_simple_number_constraints_become_limits(kind, constraint, limits):
    result = parse([q(kind, "n", es="¿Cuántos?", constraint=constraint)])
    value = block(result, "n")["value"]
    assert (value["min_value"], value["max_value"]) == limits
    assert entry(result, "n").outcome == IMPORTED


@pytest.mark.parametrize(
    ("kind", "constraint"),
    [
        ("decimal", ". > 0"),  # a strict bound has no equivalent for decimals
        ("integer", ". != 5"),
        ("integer", ". < 5 or . > 10"),
        ("integer", ". <= ${other}"),
        ("integer", ". > 10 and . < 5"),
    ],
)
def test_other_number_constraints_are_reported_not_imported(kind, constraint):
    result = parse([q(kind, "n", es="¿Cuántos?", constraint=constraint)])
    value = block(result, "n")["value"]
    assert (value["min_value"], value["max_value"]) == (None, None)
    assert entry(result, "n").outcome == NOTED
    assert constraint in reasons(result, "n")


def test_a_constraint_on_text_is_reported():
    result = parse([q("text", "id", es="¿Código?", constraint="regex(., '^[0-9]+$')")])
    assert entry(result, "id").outcome == NOTED
    assert "regex" in reasons(result, "id")


# --- Conditions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "relevant",
    ["${walks} = '1'", "${walks}='1'", 'selected(${walks}, "1")', "${walks} = 1", "(${walks}='1')"],
)
def test_simple_relevant_becomes_a_condition_on_an_earlier_choice_question(relevant):
    result = parse(
        [
            q("select_one yesno", "walks", es="¿Camina?"),
            q("text", "where", es="¿Dónde?", relevant=relevant),
        ],
        YES_NO,
    )
    assert block(result, "where")["value"]["condition"] == {"question": "walks", "answer": "1"}
    assert entry(result, "where").outcome == IMPORTED
    assert_editor_accepts(result)


@pytest.mark.parametrize(
    ("relevant", "words"),
    [
        ("${walks} = '1' and ${age} > 10", "and / or / not"),
        ("${walks} = '1' or ${walks} = '0'", "and / or / not"),
        ("not(${walks} = '1')", "and / or / not"),
        ("count-selected(${walks}) > 1", "counts"),
        ("${walks} != '0'", "not equal"),
        ("${total} = '3'", "row 3"),  # a calculation, not imported
        ("${later} = '1'", "not an earlier question"),
        ("${age} = '3'", "not a choice question"),
        ("${walks} = '7'", "not one of the choices"),
    ],
)
def test_other_relevant_is_dropped_and_the_question_shown_to_everyone(relevant, words):
    result = parse(
        [
            q("select_one yesno", "walks", es="¿Camina?"),
            q("calculate", "total", calculation="1 + 2"),
            q("integer", "age", es="¿Edad?"),
            q("text", "where", es="¿Dónde?", relevant=relevant),
            q("select_one yesno", "later", es="¿Luego?"),
        ],
        YES_NO,
    )
    where = entry(result, "where")
    assert block(result, "where")["value"]["condition"] == {"question": "", "answer": ""}
    assert where.outcome == NOTED
    text = " ".join(where.reasons)
    assert relevant in text and words in text
    assert "shown to everyone" in where.reasons[-1]


def test_equals_on_a_multiple_choice_question_is_kept_and_the_difference_said():
    result = parse(
        [
            q("select_multiple yesno", "places", es="¿Lugares?"),
            q("text", "why", es="¿Por qué?", relevant="${places} = '1'"),
        ],
        YES_NO,
    )
    assert block(result, "why")["value"]["condition"] == {"question": "places", "answer": "1"}
    assert "among the answers ticked" in reasons(result, "why")


def test_groups_are_flattened_and_a_simple_group_condition_reaches_its_questions():
    result = parse(
        [
            q("select_one yesno", "walks", es="¿Camina?"),
            q("begin_group", "night", es="De noche", relevant="${walks} = '1'"),
            q("note", "intro", es="Unas preguntas más."),
            q("select_one yesno", "lit", es="¿Hay luz?"),
            q("text", "why", es="¿Por qué?", relevant="${lit} = '0'"),
            q("end_group", "night"),
        ],
        YES_NO,
    )
    assert [b["value"]["code"] for b in result.questions] == ["walks", "lit", "why"]
    assert block(result, "lit")["value"]["condition"] == {"question": "walks", "answer": "1"}
    # Its own condition wins: Convive keeps one condition per question.
    assert block(result, "why")["value"]["condition"] == {"question": "lit", "answer": "0"}
    assert "row 3" in reasons(result, "why") and "“lit” is answered “0”" in reasons(result, "why")
    group = entry(result, "night")
    assert group.outcome == LAYOUT and group.row == 3
    assert "De noche" in group.reasons[0] and "2 of its 3 rows" in group.reasons[0]
    assert [e.outcome for e in result.report if e.name == "night"] == [LAYOUT, LAYOUT]


def test_a_group_condition_that_cannot_be_kept_is_said_on_the_group_and_its_questions():
    result = parse(
        [
            q("select_one yesno", "consent", es="¿Acepta?"),
            q("begin_group", "part", es="Parte", relevant="${consent} = '1' and ${consent} != ''"),
            q("select_one yesno", "lit", es="¿Hay luz?"),
            q("end_group", "part"),
        ],
        YES_NO,
    )
    assert "not imported" in reasons(result, "part")
    assert block(result, "lit")["value"]["condition"]["question"] == ""
    assert "shown to everyone" in reasons(result, "lit")


def test_questions_inside_a_repeat_are_not_imported():
    result = parse(
        [
            q("begin_repeat", "roster", es="Miembros del hogar"),
            q("text", "member", es="Nombre"),
            q("begin_group", "details", es="Detalles"),
            q("integer", "age", es="Edad"),
            q("end_group", "details"),
            q("end_repeat", "roster"),
            q("text", "street", es="¿Calle?", relevant="${age} = '3'"),
        ]
    )
    assert [b["value"]["code"] for b in result.questions] == ["street"]
    assert entry(result, "member").outcome == SKIPPED
    assert entry(result, "age").outcome == SKIPPED
    assert "row 2" in reasons(result, "age")
    roster = entry(result, "roster")
    assert roster.outcome == LAYOUT
    assert "one questionnaire answer is one person" in roster.reasons[0]
    assert "4 rows" in roster.reasons[0]
    assert "not imported" in reasons(result, "street")


NOT_IMPORTED = [
    "note",
    "calculate",
    "date",
    "time",
    "datetime",
    "geopoint",
    "geotrace",
    "geoshape",
    "image",
    "audio",
    "video",
    "file",
    "barcode",
    "acknowledge",
    "rank yesno",
    "range",
    "select_one_from_file places.csv",
    "start",
    "end",
    "today",
    "deviceid",
    "username",
    "audit",
    "phonenumber",
    "hidden",
    "xml-external",
    "selfie",
]


@pytest.mark.parametrize("kind", NOT_IMPORTED)
def test_types_convive_cannot_ask_are_listed_with_row_name_type_and_reason(kind):
    result = parse([q("text", "first", es="¿Primera?"), q(kind, "thing", es="Algo")], YES_NO)
    thing = entry(result, "thing")
    assert (thing.row, thing.name, thing.type, thing.outcome) == (3, "thing", kind, SKIPPED)
    assert thing.reasons and len(thing.reasons[0]) > 20
    assert [b["value"]["code"] for b in result.questions] == ["first"]


def test_unknown_types_say_so():
    result = parse([q("selfie", "me", es="Foto")])
    assert "selfie" in reasons(result, "me")


def test_choices_from_earlier_answers_and_missing_lists_are_not_imported():
    result = parse(
        [
            q("select_one ${members}", "who", es="¿Quién?"),
            q("select_one nolist", "what", es="¿Qué?"),
            q("select_one single", "one", es="¿Uno?"),
            q("select_one yesno", "table", appearance="label"),
        ],
        [*YES_NO, {"list_name": "single", "name": "a", ES: "Solo una"}],
    )
    assert result.questions == []
    assert "earlier answers" in reasons(result, "who")
    assert "nolist" in reasons(result, "what")
    assert "fewer than 2" in reasons(result, "one")
    assert "header row" in reasons(result, "table")


def test_or_other_choice_filter_and_piping_are_imported_and_reported():
    result = parse(
        [
            q("text", "name", es="¿Su nombre?"),
            q("select_one yesno or_other", "walks", es="¿Camina, ${name}?", choice_filter="x=1"),
        ],
        YES_NO,
    )
    walks = block(result, "walks")["value"]
    assert [c["value"] for c in walks["choices"]] == ["1", "0", "other"]
    assert walks["question"] == "¿Camina, ${name}?"
    text = reasons(result, "walks")
    assert "or_other" in text and "x=1" in text and "${name}" in text
    assert entry(result, "walks").outcome == NOTED


def test_table_rows_get_the_table_question_as_help_text():
    result = parse(
        [
            q("note", "stem", es="¿Sabría dónde acudir?"),
            q("select_one yesno", "head", appearance="label"),
            q("select_one yesno", "health", es="Salud", appearance="list-nolabel"),
            q("select_one yesno", "police", es="Policía", appearance="list-nolabel"),
            q("text", "after", es="¿Algo más?"),
        ],
        YES_NO,
    )
    assert block(result, "police")["value"]["help_text"] == "¿Sabría dónde acudir?"
    assert "row 2" in reasons(result, "police")
    assert block(result, "after")["value"]["help_text"] == ""


# --- Codes and values -------------------------------------------------------------------------


def test_codes_are_slugs_unique_and_renames_are_reported():
    long_name = "how_safe_do_you_feel_walking_alone_after_dark_in_the_area"
    result = parse(
        [
            q("text", "SAF01", es="¿A?"),
            q("text", "saf01", es="¿B?"),
            q("text", "q.1", es="¿C?"),
            q("text", long_name, es="¿D?"),
            q("text", "walk", es="¿E?"),
        ],
        existing_codes=["walk"],
    )
    codes = [b["value"]["code"] for b in result.questions]
    assert codes == ["saf01", "saf01-2", "q-1", long_name[:40], "walk-2"]
    assert entry(result, "SAF01").outcome == IMPORTED  # only lower-cased: not a rename
    assert "saf01-2" in reasons(result, "saf01")
    assert "q-1" in reasons(result, "q.1")
    assert "already used in this questionnaire" in reasons(result, "walk")
    assert_editor_accepts(result)


def test_choice_values_come_from_names_numbers_included():
    choices = [
        {"list_name": "codes", "name": 1, ES: "Uno"},
        {"list_name": "codes", "name": 98, ES: "No sabe"},
        {"list_name": "codes", "name": "Prefer Not", ES: "Prefiere no decir"},
        {"list_name": "codes", "name": "prefer_not", ES: "Otra vez"},
    ]
    result = parse([q("select_one codes", "c", es="¿C?")], choices)
    values = [c["value"] for c in block(result, "c")["value"]["choices"]]
    assert values == ["1", "98", "prefer-not", "prefer_not"]
    assert "prefer-not" in reasons(result, "c")


# --- Texts --------------------------------------------------------------------------------------


def test_too_long_texts_are_not_cut_but_reported():
    result = parse(
        [
            q("text", "long", es="x" * 301),
            q("select_one big", "choice", es="¿Cuál?"),
            q("text", "hint", es="¿Calle?", **{"hint::Español (es)": "y" * 301}),
            q("text", "fr_long", es="¿Corto?", **{FR: "z" * 400}),
        ],
        [
            {"list_name": "big", "name": "a", ES: "a" * 201},
            {"list_name": "big", "name": "b", ES: "b"},
        ],
    )
    assert [b["value"]["code"] for b in result.questions] == ["hint", "fr_long"]
    assert "301" in reasons(result, "long") and "300" in reasons(result, "long")
    assert "201" in reasons(result, "choice")
    assert block(result, "hint")["value"]["help_text"] == ""
    assert entry(result, "hint").outcome == NOTED
    assert "¿Corto?" not in result.translations
    assert "Français" in reasons(result, "fr_long")
    assert_editor_accepts(result)


def test_formatting_is_removed_and_the_words_kept():
    result = parse(
        [
            q(
                "text",
                "a",
                es="¿Cuántas **personas** viven<br>en <span style='color:red'>casa</span>?",
            )
        ]
    )
    assert block(result, "a")["value"]["question"] == "¿Cuántas personas viven en casa?"
    assert "Formatting" in reasons(result, "a")


def test_a_question_without_text_or_name_is_not_imported():
    result = parse([q("text", "empty"), {"type": "text", ES: "¿Sin nombre?"}, {"name": "typeless"}])
    assert result.questions == []
    assert [e.outcome for e in result.report] == [SKIPPED, SKIPPED, SKIPPED]


# --- Languages ----------------------------------------------------------------------------------


def test_language_columns_by_name_code_and_the_plain_label_column():
    survey = [
        {
            "type": "select_one yesno",
            "name": "a",
            "label": "¿Camina?",
            "label::English": "Do you walk?",
            "label::Français": "Marchez-vous ?",
            "hint::English": "At night",
        }
    ]
    choices = [
        {"list_name": "yesno", "name": "1", "label": "Sí", "label::English": "Yes"},
        {"list_name": "yesno", "name": "0", "label": "No", "label::English": "No"},
    ]
    result = parse(survey, choices, {"default_language": "Español (es)"}, page_language="en")
    assert set(result.languages) == {"es", "en", "fr"}
    assert result.source_language == "en"
    assert block(result, "a")["value"]["question"] == "Do you walk?"
    assert block(result, "a")["value"]["help_text"] == "At night"
    assert block(result, "a", "es")["value"]["question"] == "¿Camina?"
    # French choices are missing: the French blocks fall back, nothing is offered for them.
    assert block(result, "a", "fr")["value"]["choices"][0]["label"] == "Yes"
    assert result.translations["Yes"] == {"es": "Sí"}
    assert result.translations["Do you walk?"] == {"es": "¿Camina?", "fr": "Marchez-vous ?"}


def test_plain_label_without_settings_is_the_page_language():
    result = parse([{"type": "text", "name": "a", "label": "Do you walk?"}], page_language="en")
    assert result.languages == ["en"]
    assert block(result, "a")["value"]["question"] == "Do you walk?"


def test_a_page_language_missing_from_the_form_falls_back_and_says_so():
    survey = [q("text", "a", "Street?", "¿Calle?", **{FR: "Rue ?"})]
    result = parse(survey, page_language="pt")
    assert result.source_language == "en"
    assert block(result, "a")["value"]["question"] == "Street?"
    assert "English" in result.notes[0]
    chosen = parse(survey, page_language="pt", language="fr")
    assert chosen.source_language == "fr"
    assert block(chosen, "a")["value"]["question"] == "Rue ?"
    assert chosen.translations["Rue ?"] == {"en": "Street?", "es": "¿Calle?"}


def test_an_empty_cell_falls_back_and_is_reported():
    result = parse([q("text", "a", en="Street?"), q("text", "b", "Why?", "¿Por qué?")])
    assert block(result, "a")["value"]["question"] == "Street?"
    assert entry(result, "a").outcome == NOTED
    assert "English" in reasons(result, "a")


def test_messages_are_translated():
    with translation.override("es"):
        result = xlsform_parse(io.BytesIO(xlsform([q("note", "n", es="Hola")])), page_language="es")
    assert result.report[0].reasons[0] == gettext(
        "A note shows text and asks nothing. Convive has no notes between questions; put what "
        "matters in a question's help text or in the consultation's introduction."
    )


# --- The report as a whole --------------------------------------------------------------------


def test_every_row_has_one_entry_and_the_counts_add_up():
    survey = [
        q("start", "start"),
        q("begin_group", "g", es="G"),
        q("select_one yesno", "a", es="¿A?"),
        q("text", "b", es="¿B?", relevant="${a} = '1' and ${a} = '0'"),
        q("end_group", "g"),
        q("calculate", "c", calculation="1"),
    ]
    result = parse(survey, YES_NO)
    counts = result.counts()
    assert [e.row for e in result.report] == [2, 3, 4, 5, 6, 7]
    assert counts == {
        IMPORTED: 1,
        NOTED: 1,
        SKIPPED: 2,
        LAYOUT: 2,
        "rows": 6,
        "questions": 2,
    }


def test_the_result_survives_a_round_trip_through_data():
    result = parse([q("select_one yesno", "a", "A?", "¿A?")], YES_NO)
    again = XLSFormImport.from_data(result.to_data())
    assert again == result


# --- Files that are not XLSForms --------------------------------------------------------------


def refusal(data: bytes) -> str:
    with pytest.raises(XLSFormError) as caught, translation.override("en"):
        xlsform_parse(io.BytesIO(data), page_language="es")
    return caught.value.message


def test_a_file_that_is_not_a_spreadsheet_is_refused():
    assert ".xlsx" in refusal(b"name,type\nwalks,text\n")
    assert ".xlsx" in refusal(b"PK\x03\x04 not really a zip")


def test_a_spreadsheet_without_a_survey_sheet_is_refused():
    message = refusal(xlsform([q("text", "a", es="¿A?")], names={"survey": "Preguntas"}))
    assert "survey" in message and "Preguntas" in message


def test_a_survey_sheet_is_found_whatever_its_case():
    data = xlsform(
        [q("text", "a", es="¿A?")], YES_NO, names={"survey": "Survey", "choices": "CHOICES"}
    )
    result = xlsform_parse(io.BytesIO(data), page_language="es")
    assert len(result.questions) == 1


def test_a_survey_sheet_without_type_and_name_columns_is_refused():
    message = refusal(xlsform([{"question": "¿A?", "kind": "text"}]))
    assert "type" in message and "name" in message and "question" in message
