"""Questionnaires: reading a consultation's questions, versioning them, storing answers.

`questionnaire_submit` is the one path by which questionnaire answers enter the database (the
resident page, and later facilitators' and paper entry). Answers are kept per question block id
against a `QuestionnaireVersion`, the structure the resident actually saw, so an editor can change
a live questionnaire without changing what earlier answers meant.

Languages: a translation made by wagtail-localize (or Wagtail's `copy_for_translation`) keeps the
source's StreamField block ids, codes and choice values, so the Spanish and English pages of one
consultation have the same structure, share versions, and their answers count together. If a
translation's question has a block id the default-language page does not (a translation that has
not been synchronised since a question was replaced), it is matched to the default-language
question of the same code and type.
"""

import datetime
import hashlib
import json
import math
import re
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.models import Locale

from ..models import Answer, Concern, QuestionnaireResponse, QuestionnaireVersion
from ..pages import ConsultationPage
from ..questionnaire_blocks import (
    CHOICE_TYPES,
    LIKERT,
    LONG_TEXT,
    MULTIPLE_CHOICE,
    NUMBER,
    SHORT_TEXT,
    SINGLE_CHOICE,
    TIME_BAND,
    time_band_choices,
)

# Bumped when the shape of `definition` changes, so readers of old versions can tell.
DEFINITION_FORMAT = 1
# Longest text accepted for a number: anything longer is not a number a resident typed.
NUMBER_MAX_CHARS = 30
# Control characters other than tab and newline: PostgreSQL refuses NUL in text and JSON, and
# none of them is something a resident meant to type.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NON_FIELD = "__all__"


class QuestionnaireRejected(Exception):
    """Answers that cannot be stored, with messages already in the resident's language.

    `errors` maps a question code (or `gender`, `age_band`, `__all__`) to one message.
    """

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Question:
    """One question as a page shows it: structure plus texts in that page's language."""

    block_id: str
    type: str
    code: str
    text: str
    help_text: str = ""
    required: bool = False
    condition: tuple[str, str] | None = None  # (question code, choice value)
    choices: tuple[tuple[str, str], ...] = ()  # (value, label), in order
    multiple: bool = False
    min_value: float | None = None
    max_value: float | None = None
    decimal: bool = False
    unit: str = ""
    max_length: int = 0

    @property
    def is_choice(self) -> bool:
        return self.type in CHOICE_TYPES

    @property
    def takes_many(self) -> bool:
        return self.type == MULTIPLE_CHOICE or (self.type == TIME_BAND and self.multiple)

    @property
    def choice_values(self) -> list[str]:
        return [value for value, _label in self.choices]

    def choice_label(self, value: str) -> str:
        return dict(self.choices).get(value, value)

    def structure(self) -> dict:
        """What an answer's meaning depends on: everything but the wording."""
        data = {
            "id": self.block_id,
            "type": self.type,
            "code": self.code,
            "required": self.required,
            "condition": (
                {"question": self.condition[0], "value": self.condition[1]}
                if self.condition
                else None
            ),
        }
        if self.is_choice:
            data["choices"] = self.choice_values
        if self.type == TIME_BAND:
            data["multiple"] = self.multiple
        if self.type == NUMBER:
            data.update(min=self.min_value, max=self.max_value, decimal=self.decimal)
        if self.type in (SHORT_TEXT, LONG_TEXT):
            data["max_length"] = self.max_length
        return data


@dataclass(frozen=True)
class QuestionnaireResult:
    response: QuestionnaireResponse
    created: bool  # False when the idempotency key had already been used (a double submit)
    answers: dict[str, object] = field(default_factory=dict)


# --- Reading the page -----------------------------------------------------------------------


def _page_questions(page: ConsultationPage) -> list[Question]:
    """The questions stored in one page's StreamField, ids as stored."""
    questions = []
    for child in page.questionnaire:
        value = child.value
        condition = value.get("condition") or {}
        target, wanted = condition.get("question") or "", condition.get("answer") or ""
        common = {
            "block_id": str(child.id),
            "type": child.block_type,
            "code": value.get("code") or "",
            "text": value.get("question") or "",
            "help_text": value.get("help_text") or "",
            "required": bool(value.get("required")),
            "condition": (target, wanted) if target and wanted else None,
        }
        if child.block_type in (SINGLE_CHOICE, MULTIPLE_CHOICE, LIKERT):
            common["choices"] = tuple(
                (choice["value"], choice["label"]) for choice in value.get("choices") or []
            )
        elif child.block_type == TIME_BAND:
            common["choices"] = tuple((band, str(label)) for band, label in time_band_choices())
            common["multiple"] = bool(value.get("multiple"))
        elif child.block_type == NUMBER:
            common.update(
                min_value=value.get("min_value"),
                max_value=value.get("max_value"),
                decimal=bool(value.get("decimal")),
                unit=value.get("unit") or "",
            )
        elif child.block_type in (SHORT_TEXT, LONG_TEXT):
            common["max_length"] = int(value.get("max_length") or 0)
        questions.append(Question(**common))
    return questions


def _default_language_page(page: ConsultationPage) -> ConsultationPage | None:
    """The consultation in the site's default language, or None when `page` is that page."""
    default_code = Locale.get_default().language_code
    if page.locale.language_code == default_code:
        return None
    return (
        ConsultationPage.objects.filter(
            translation_key=page.translation_key, locale__language_code=default_code
        )
        .exclude(pk=page.pk)
        .first()
    )


def questionnaire_questions(page: ConsultationPage) -> list[Question]:
    """The page's questions in its language, with block ids of the default-language page.

    Remembered on the page object for the request: the view and the service both ask.
    """
    remembered = getattr(page, "_convive_questions", None)
    if remembered is not None:
        return remembered
    questions = _page_questions(page)
    default_page = _default_language_page(page) if questions else None
    if default_page is not None:
        default_questions = _page_questions(default_page)
        known_ids = {q.block_id for q in default_questions}
        by_code = {(q.code, q.type): q.block_id for q in default_questions}
        questions = [
            q
            if q.block_id in known_ids or (q.code, q.type) not in by_code
            else replace(q, block_id=by_code[(q.code, q.type)])
            for q in questions
        ]
    page._convive_questions = questions
    return questions


def _structure_hash(questions: list[Question]) -> str:
    payload = json.dumps(
        [q.structure() for q in questions], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def questionnaire_definition(page: ConsultationPage) -> dict:
    """The questionnaire as this page shows it: structure, texts in the page's language, hash.

    The shape stored (merged over languages) in `QuestionnaireVersion.definition`: each question's
    structure plus `text`, `help_text`, `unit` and choice `label`s as `{language: text}`.
    """
    questions = questionnaire_questions(page)
    language = page.locale.language_code
    return {
        "format": DEFINITION_FORMAT,
        "consultation_key": str(page.translation_key),
        "structure_hash": _structure_hash(questions),
        "languages": [language],
        "questions": [_question_definition(q, language) for q in questions],
    }


def _question_definition(question: Question, language: str) -> dict:
    data = question.structure()
    data["text"] = {language: question.text}
    data["help_text"] = {language: question.help_text}
    if question.is_choice:
        if question.type == TIME_BAND:
            # The bands' labels come from the interface catalogue, not the page.
            with translation.override(language):
                labels = {band: str(label) for band, label in time_band_choices()}
        else:
            labels = dict(question.choices)
        data["choices"] = [
            {"value": value, "label": {language: labels.get(value, value)}}
            for value in question.choice_values
        ]
    if question.type == NUMBER:
        data["unit"] = {language: question.unit}
    return data


def _definition_merge(definition: dict, other: dict) -> bool:
    """Add the texts of `other` (same structure, another language) to `definition`.

    Never overwrites: the first wording captured for a language is the one residents answered.
    Returns whether anything was added.
    """
    added = False
    for question, extra in zip(definition["questions"], other["questions"], strict=True):
        for key in ("text", "help_text", "unit"):
            if key in extra:
                for language, text in extra[key].items():
                    if language not in question.setdefault(key, {}):
                        question[key][language] = text
                        added = True
        for choice, extra_choice in zip(
            question.get("choices", []), extra.get("choices", []), strict=True
        ):
            for language, text in extra_choice["label"].items():
                if language not in choice["label"]:
                    choice["label"][language] = text
                    added = True
    for language in other["languages"]:
        if language not in definition["languages"]:
            definition["languages"].append(language)
            added = True
    return added


def questionnaire_version_for(page: ConsultationPage) -> QuestionnaireVersion:
    """The version matching the page's current structure, created the first time it is needed.

    A new version captures the texts of every live translation with the same structure, so an
    export has each question in each language; a language translated later is added to the
    version when its first answer arrives.
    """
    definition = questionnaire_definition(page)
    key = page.translation_key
    digest = definition["structure_hash"]
    version = QuestionnaireVersion.objects.filter(
        consultation_key=key, structure_hash=digest
    ).first()
    if version is None:
        for other in page.get_translations().live().specific().order_by("locale__language_code"):
            other_definition = questionnaire_definition(other)
            if other_definition["structure_hash"] == digest:
                _definition_merge(definition, other_definition)
        try:
            with transaction.atomic():
                version = QuestionnaireVersion.objects.create(
                    consultation_key=key, structure_hash=digest, definition=definition
                )
        except IntegrityError:
            # Another request created it a moment ago.
            version = QuestionnaireVersion.objects.get(consultation_key=key, structure_hash=digest)
    if page.locale.language_code not in version.definition.get("languages", []):
        with transaction.atomic():
            version = QuestionnaireVersion.objects.select_for_update().get(pk=version.pk)
            if _definition_merge(version.definition, definition):
                version.save(update_fields=["definition"])
    return version


# --- Checking answers -----------------------------------------------------------------------


def _blank(raw) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple):
        return not any(not _blank(item) for item in raw)
    return False


def _as_list(raw) -> list[str]:
    items = raw if isinstance(raw, list | tuple) else [raw]
    return [str(item).strip() for item in items if not _blank(item)]


def _number_text(value: float) -> str:
    return f"{value:g}"


def _clean_answer(question: Question, raw):
    """The stored form of one answer, or ValueError with the message for the resident."""
    if question.is_choice:
        values = _as_list(raw)
        allowed = question.choice_values
        if any(value not in allowed for value in values):
            raise ValueError(_("Please choose one of the answers listed."))
        if question.takes_many:
            chosen = set(values)
            return [value for value in allowed if value in chosen]
        if len(set(values)) > 1:
            raise ValueError(_("Please choose only one answer."))
        return values[0]

    if isinstance(raw, list | tuple):
        values = _as_list(raw)
        if len(values) > 1:
            raise ValueError(_("Please give only one answer."))
        raw = values[0]

    if question.type == NUMBER:
        return _clean_number(question, raw)

    text = CONTROL_CHARACTERS.sub("", str(raw)).strip()
    if question.type == SHORT_TEXT:
        text = " ".join(text.split())
    limit = question.max_length or (200 if question.type == SHORT_TEXT else 2000)
    if len(text) > limit:
        raise ValueError(
            ngettext(
                "Please keep your answer to %(limit)d character (it has %(count)d).",
                "Please keep your answer to %(limit)d characters (it has %(count)d).",
                limit,
            )
            % {"limit": limit, "count": len(text)}
        )
    return text


def _clean_number(question: Question, raw):
    text = str(raw).strip().replace(" ", "").replace("\u00a0", "")
    # Residents write decimals with a comma in Spanish, French and Portuguese.
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        if len(text) > NUMBER_MAX_CHARS:
            raise InvalidOperation
        number = Decimal(text)
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise ValueError(
            _("Please write a whole number, for example 3.")
            if not question.decimal
            else _("Please write a number, for example 2.5.")
        ) from None
    if not question.decimal and number != number.to_integral_value():
        raise ValueError(_("Please write a whole number, without decimals."))
    low, high = question.min_value, question.max_value
    if (low is not None and number < Decimal(str(low))) or (
        high is not None and number > Decimal(str(high))
    ):
        if low is not None and high is not None:
            message = _("Please write a number from %(min)s to %(max)s.")
        elif low is not None:
            message = _("Please write a number of at least %(min)s.")
        else:
            message = _("Please write a number of at most %(max)s.")
        raise ValueError(
            message
            % {
                "min": _number_text(low) if low is not None else "",
                "max": _number_text(high) if high is not None else "",
            }
        )
    if not question.decimal:
        return int(number)
    value = float(number)
    if not math.isfinite(value):
        raise ValueError(_("Please write a number, for example 2.5."))
    return value


def questionnaire_clean(
    *, questions: list[Question], answers: dict[str, object]
) -> tuple[dict[str, object], dict[str, str]]:
    """Apply the questionnaire's rules to raw answers (code → str or list of str).

    Returns the answers to store (code → value) and the errors (code → message). A question whose
    condition is not met is hidden: its answer is dropped and it is never required. A condition on
    a hidden question is not met either. Codes that are not questions are ignored (a form from
    before an edit may still carry them).
    """
    cleaned: dict[str, object] = {}
    errors: dict[str, str] = {}
    for question in questions:
        if question.condition:
            target, wanted = question.condition
            given = cleaned.get(target)
            shown = given == wanted or (isinstance(given, list) and wanted in given)
            if not shown:
                continue
        raw = answers.get(question.code)
        if _blank(raw):
            if question.required:
                errors[question.code] = (
                    _("Please choose an answer.")
                    if question.is_choice
                    else _("Please answer this question.")
                )
            continue
        try:
            value = _clean_answer(question, raw)
        except ValueError as problem:
            errors[question.code] = str(problem)
            continue
        if value in ("", []):
            if question.required:
                errors[question.code] = _("Please answer this question.")
            continue
        cleaned[question.code] = value
    return cleaned, errors


def _profile_errors(*, gender: str, age_band: str) -> dict[str, str]:
    errors = {}
    if gender and gender not in Concern.Gender.values:
        errors["gender"] = _("Please choose one of the answers listed.")
    age_values = {
        value for value, _label in QuestionnaireResponse._meta.get_field("age_band").choices
    }
    if age_band and age_band not in age_values:
        errors["age_band"] = _("Please choose one of the answers listed.")
    return errors


# --- Storing ----------------------------------------------------------------------------------


def questionnaire_submit(
    *,
    consultation: ConsultationPage,
    answers: dict[str, object],
    language: str,
    idempotency_key: uuid.UUID,
    gender: str = "",
    gender_description: str = "",
    age_band: str = "",
    source: str = Concern.Source.ONLINE,
    entered_by=None,
    enforce_open: bool = True,
    filled_on: datetime.date | None = None,
) -> QuestionnaireResult:
    """Store one resident's answers to the questionnaire of `consultation` (the page they saw).

    Checks required answers, types, choice values, number ranges and text lengths; applies
    conditions; refuses with `QuestionnaireRejected` (per-question messages in the active
    language) and stores nothing, or stores the response and all its answers in one transaction
    against the version of the structure the resident saw. A repeated idempotency key returns the
    response stored the first time, even if the questionnaire has changed since.
    """
    existing = QuestionnaireResponse.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return QuestionnaireResult(response=existing, created=False)

    if enforce_open and not consultation.accepts_concerns:
        raise QuestionnaireRejected(
            {NON_FIELD: _("This consultation is not accepting answers at the moment.")}
        )
    questions = questionnaire_questions(consultation)
    if not questions:
        raise QuestionnaireRejected({NON_FIELD: _("This consultation has no questionnaire.")})

    cleaned, errors = questionnaire_clean(questions=questions, answers=answers)
    errors.update(_profile_errors(gender=gender, age_band=age_band))
    if errors:
        raise QuestionnaireRejected(errors)

    version = questionnaire_version_for(consultation)
    by_code = {q.code: q for q in questions}
    response = QuestionnaireResponse(
        consultation=consultation,
        consultation_key=consultation.translation_key,
        version=version,
        language=language,
        submitted_at=timezone.now(),
        idempotency_key=idempotency_key,
        source=source,
        entered_by=entered_by,
        filled_on=filled_on,
        gender=gender,
        gender_description=(
            " ".join(CONTROL_CHARACTERS.sub("", gender_description).split())[:60]
            if gender == Concern.Gender.OTHER
            else ""
        ),
        age_band=age_band,
    )
    try:
        # A transaction (a savepoint inside a caller's): the response and its answers are stored
        # together or not at all.
        with transaction.atomic():
            response.save()
            Answer.objects.bulk_create(
                Answer(
                    response=response,
                    block_id=by_code[code].block_id,
                    question_code=code,
                    value=value,
                )
                for code, value in cleaned.items()
            )
    except IntegrityError:
        # The idempotency key was used a moment ago (a concurrent double submit).
        existing = QuestionnaireResponse.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return QuestionnaireResult(response=existing, created=False)
    return QuestionnaireResult(response=response, created=True, answers=cleaned)
