"""The questionnaire builder: StreamField blocks for a consultation's survey questions.

Each question is a StructBlock with a **code** (a slug that editors see, unique in the
questionnaire, used by conditions and exports) and, for choice questions, a list of choices whose
**values** are slugs too. Codes and values are `CodeBlock`s, not `CharBlock`s, on purpose:
wagtail-localize extracts every CharBlock/TextBlock as a string to translate and ignores other
field blocks, so a translation keeps the source's codes, values, required flags, number limits and
conditions, and only the question text, help text, units and choice labels are translated. The
StreamField block ids are kept by the translation too, which is what lets answers given in any
language count together (see `diagnosis.services.questionnaires`).

The checks that span questions (unique codes, conditions that name an earlier choice question and
one of its values) live in `questionnaire_problems`, a plain function over plain dicts, so the
question bank and the XLSForm import can run the same rules on what they build.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail import blocks
from wagtail.blocks.list_block import ListBlockValidationError
from wagtail.blocks.stream_block import StreamBlockValidationError
from wagtail.blocks.struct_block import StructBlockValidationError

CODE_MAX_LENGTH = 40
QUESTION_MAX_LENGTH = 300
SHORT_TEXT_LIMIT = 500
LONG_TEXT_LIMIT = 5000
LIKERT_MIN_POINTS, LIKERT_MAX_POINTS = 2, 11

SINGLE_CHOICE = "single_choice"
MULTIPLE_CHOICE = "multiple_choice"
LIKERT = "likert"
NUMBER = "number"
SHORT_TEXT = "short_text"
LONG_TEXT = "long_text"
TIME_BAND = "time_band"
# Question types whose answers are choice values, and so can drive a condition.
CHOICE_TYPES = frozenset({SINGLE_CHOICE, MULTIPLE_CHOICE, LIKERT, TIME_BAND})


def time_band_choices() -> list[tuple[str, str]]:
    """The time bands of concerns, so answers and concerns can be read side by side.

    Imported late: `diagnosis.models` imports the page types, which import these blocks.
    """
    from .models import Concern

    return list(Concern.TimeBand.choices)


class CodeBlock(blocks.FieldBlock):
    """A stable slug (question code or choice value): synchronised, never translated.

    Deliberately not a CharBlock subclass (see the module docstring).
    """

    def __init__(self, required=True, help_text=None, max_length=CODE_MAX_LENGTH, **kwargs):
        self.field = forms.SlugField(
            required=required,
            help_text=help_text,
            max_length=max_length,
            error_messages={
                "invalid": _(
                    "Use only lower-case letters, numbers, hyphens and underscores, "
                    "for example walk-alone-night."
                )
            },
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        return (value or "").strip()

    def get_searchable_content(self, value):
        return []

    class Meta:
        icon = "code"
        default = ""


class ChoiceOptionBlock(blocks.StructBlock):
    """One answer a resident can pick: a stable value and a translatable label."""

    value = CodeBlock(
        label=_("Value"),
        help_text=_("Stable code stored with the answer, e.g. very-safe. Do not reuse it."),
    )
    label = blocks.CharBlock(label=_("Label"), max_length=200)

    class Meta:
        icon = "radio-full"


class ConditionBlock(blocks.StructBlock):
    """Show a question only if an earlier choice question was answered with one value."""

    question = CodeBlock(
        required=False,
        label=_("Show only if the answer to question (code)"),
        help_text=_("The code of an earlier choice question. Leave empty to always show."),
    )
    # Not named "value": wagtail-localize 1.14 reads a nested StructBlock's raw data through a key
    # "value" and fails when a child block has that name.
    answer = CodeBlock(
        required=False,
        label=_("is (choice value)"),
        help_text=_("The value of one of that question's choices."),
    )

    class Meta:
        icon = "view"
        label = pgettext_lazy("questionnaire", "Condition")
        collapsed = True


def _code_block():
    return CodeBlock(
        label=_("Question code"),
        help_text=_(
            "A short, stable code unique in this questionnaire, e.g. walk-alone-night. Used in "
            "conditions and exports; the same in every language."
        ),
    )


def _required_block():
    return blocks.BooleanBlock(
        required=False,
        default=False,
        label=_("Answer required"),
        help_text=_("When the question is shown, residents must answer it."),
    )


def _choices_block(*, min_num=2, max_num=None, label=None):
    return blocks.ListBlock(
        ChoiceOptionBlock(),
        min_num=min_num,
        max_num=max_num,
        label=label or _("Choices"),
        collapsed=False,
    )


def _values_unique(choices) -> dict[int, ValidationError]:
    """Errors for choices whose value repeats an earlier one, by list index."""
    errors, seen = {}, set()
    for index, choice in enumerate(choices or []):
        value = choice["value"]
        if value in seen:
            errors[index] = StructBlockValidationError(
                block_errors={
                    "value": ValidationError(
                        _("The value “%(value)s” is used by another choice of this question.")
                        % {"value": value}
                    )
                }
            )
        seen.add(value)
    return errors


class QuestionBlock(blocks.StructBlock):
    """What every question type has in common; concrete types add their own settings."""

    code = _code_block()
    question = blocks.CharBlock(label=_("Question"), max_length=QUESTION_MAX_LENGTH)
    help_text = blocks.CharBlock(required=False, label=_("Help text"), max_length=300)

    question_type = ""

    def clean(self, value):
        value = super().clean(value)
        errors = self.extra_errors(value)
        if errors:
            raise StructBlockValidationError(block_errors=errors)
        return value

    def extra_errors(self, value) -> dict:
        """Type-specific checks on one question, as StructBlock errors by child name."""
        if "choices" in value.keys():
            duplicates = _values_unique(value["choices"])
            if duplicates:
                return {"choices": ListBlockValidationError(block_errors=duplicates)}
        return {}

    def choice_values(self, value) -> list[str]:
        """The values a resident can answer with (empty for questions without choices)."""
        if "choices" in value.keys():
            return [choice["value"] for choice in value["choices"]]
        return []


class SingleChoiceBlock(QuestionBlock):
    choices = _choices_block()
    required = _required_block()
    condition = ConditionBlock()

    question_type = SINGLE_CHOICE

    class Meta:
        icon = "radio-full"
        label = _("Single choice")


class MultipleChoiceBlock(QuestionBlock):
    choices = _choices_block()
    required = _required_block()
    condition = ConditionBlock()

    question_type = MULTIPLE_CHOICE

    class Meta:
        icon = "tasks"
        label = _("Multiple choice")


class LikertBlock(QuestionBlock):
    """An ordered scale whose every point has a label (e.g. very safe … very unsafe).

    The points are stored in order; "don't know / prefer not to say" belongs in a separate
    question or as the last point, which analysis must then leave out of any average.
    """

    choices = _choices_block(
        min_num=LIKERT_MIN_POINTS,
        max_num=LIKERT_MAX_POINTS,
        label=_("Points of the scale, in order"),
    )
    required = _required_block()
    condition = ConditionBlock()

    question_type = LIKERT

    class Meta:
        icon = "list-ol"
        label = _("Likert scale")


class NumberBlock(QuestionBlock):
    min_value = blocks.FloatBlock(required=False, label=_("Smallest allowed"))
    max_value = blocks.FloatBlock(required=False, label=_("Largest allowed"))
    decimal = blocks.BooleanBlock(
        required=False, default=False, label=_("Allow decimals (otherwise whole numbers only)")
    )
    unit = blocks.CharBlock(
        required=False, max_length=40, label=_("Unit"), help_text=_("For example: minutes.")
    )
    required = _required_block()
    condition = ConditionBlock()

    question_type = NUMBER

    class Meta:
        icon = "order"
        label = _("Number")

    def extra_errors(self, value) -> dict:
        low, high = value.get("min_value"), value.get("max_value")
        if low is not None and high is not None and low > high:
            return {
                "max_value": ValidationError(
                    _("The largest allowed number must not be smaller than the smallest.")
                )
            }
        return {}


class ShortTextBlock(QuestionBlock):
    max_length = blocks.IntegerBlock(
        default=200, min_value=1, max_value=SHORT_TEXT_LIMIT, label=_("Maximum length")
    )
    required = _required_block()
    condition = ConditionBlock()

    question_type = SHORT_TEXT

    class Meta:
        icon = "pilcrow"
        label = _("Short text")


class LongTextBlock(QuestionBlock):
    max_length = blocks.IntegerBlock(
        default=2000, min_value=1, max_value=LONG_TEXT_LIMIT, label=_("Maximum length")
    )
    required = _required_block()
    condition = ConditionBlock()

    question_type = LONG_TEXT

    class Meta:
        icon = "doc-full"
        label = _("Long text")


class TimeBandBlock(QuestionBlock):
    """A time of day, with the same bands as concerns (morning … night, at any time)."""

    multiple = blocks.BooleanBlock(
        required=False, default=False, label=_("Residents can choose several bands")
    )
    required = _required_block()
    condition = ConditionBlock()

    question_type = TIME_BAND

    class Meta:
        icon = "time"
        label = _("Time of day")

    def choice_values(self, value) -> list[str]:
        return [band for band, _label in time_band_choices()]


QUESTION_BLOCKS = {
    SINGLE_CHOICE: SingleChoiceBlock,
    MULTIPLE_CHOICE: MultipleChoiceBlock,
    LIKERT: LikertBlock,
    NUMBER: NumberBlock,
    SHORT_TEXT: ShortTextBlock,
    LONG_TEXT: LongTextBlock,
    TIME_BAND: TimeBandBlock,
}


def questionnaire_problems(questions: list[dict]) -> dict[int, dict[str, str]]:
    """What is wrong across the questions of one questionnaire, by question index and field.

    `questions` are plain dicts with `type`, `code`, `choices` (the values) and `condition`
    (`{"question": code, "answer": choice value}` or empty). Fields named in the result: `code`,
    and `condition.question` / `condition.answer`. Conditions must point back, never forward:
    residents without JavaScript read the questions in order, and it rules out cycles.
    """
    problems: dict[int, dict[str, str]] = {}
    earlier: dict[str, dict] = {}
    for index, question in enumerate(questions):
        code = question.get("code") or ""
        condition = question.get("condition") or {}
        target, wanted = condition.get("question") or "", condition.get("answer") or ""
        errors = {}
        if code and code in earlier:
            errors["code"] = str(
                _(
                    "The code “%(code)s” is already used by question %(number)d. Each question "
                    "needs its own code."
                )
                % {"code": code, "number": earlier[code]["number"]}
            )
        if target or wanted:
            later = {q.get("code") for q in questions[index:]}
            if not target:
                errors["condition.question"] = str(
                    _("Name the question whose answer decides, or clear the value.")
                )
            elif target == code:
                errors["condition.question"] = str(_("A question cannot depend on its own answer."))
            elif target not in earlier:
                errors["condition.question"] = str(
                    _(
                        "Question “%(code)s” comes after this one. A condition can only name an "
                        "earlier question."
                    )
                    if target in later
                    else _("There is no question with the code “%(code)s” in this questionnaire.")
                ) % {"code": target}
            elif earlier[target]["type"] not in CHOICE_TYPES:
                errors["condition.question"] = str(
                    _(
                        "Question “%(code)s” has no choices. A condition needs a single choice, "
                        "multiple choice, scale or time of day question."
                    )
                    % {"code": target}
                )
            elif not wanted:
                errors["condition.answer"] = str(
                    _("Choose the value of question “%(code)s” that shows this question.")
                    % {"code": target}
                )
            elif wanted not in earlier[target]["choices"]:
                errors["condition.answer"] = str(
                    _(
                        "Question “%(code)s” has no choice with the value “%(value)s”. Its values "
                        "are: %(values)s."
                    )
                    % {
                        "code": target,
                        "value": wanted,
                        "values": ", ".join(earlier[target]["choices"]),
                    }
                )
        if errors:
            problems[index] = errors
        if code and code not in earlier:
            earlier[code] = {
                "number": index + 1,
                "type": question.get("type"),
                "choices": list(question.get("choices") or []),
            }
    return problems


class QuestionnaireBlock(blocks.StreamBlock):
    """The whole questionnaire: questions in the order residents read them."""

    single_choice = SingleChoiceBlock()
    multiple_choice = MultipleChoiceBlock()
    likert = LikertBlock()
    number = NumberBlock()
    short_text = ShortTextBlock()
    long_text = LongTextBlock()
    time_band = TimeBandBlock()

    def clean(self, value):
        value = super().clean(value)
        problems = questionnaire_problems(
            [
                {
                    "type": child.block_type,
                    "code": child.value["code"],
                    "choices": child.block.choice_values(child.value),
                    "condition": dict(child.value["condition"]),
                }
                for child in value
            ]
        )
        if problems:
            raise StreamBlockValidationError(
                block_errors={index: _struct_errors(errors) for index, errors in problems.items()}
            )
        return value


def _struct_errors(errors: dict[str, str]) -> StructBlockValidationError:
    """Turn `questionnaire_problems` fields into nested StructBlock errors for the editor."""
    top, condition = {}, {}
    for field, message in errors.items():
        if field.startswith("condition."):
            condition[field.split(".", 1)[1]] = ValidationError(message)
        else:
            top[field] = ValidationError(message)
    if condition:
        top["condition"] = StructBlockValidationError(block_errors=condition)
    return StructBlockValidationError(block_errors=top)


def questionnaire_stream(raw: list[dict]):
    """A questionnaire StreamValue from raw block data (`[{"type": ..., "value": {...}}]`).

    For code that builds questionnaires (the question bank, the XLSForm import, tests): every block
    is bound, so saving writes Wagtail's current format — list items with their own ids, which
    wagtail-localize needs to offer choice labels for translation — and new blocks get ids.
    """
    value = QuestionnaireBlock().to_python(raw)
    for _child in value:  # bind each block, so get_prep_value normalises it
        pass
    return value
