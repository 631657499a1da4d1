"""The resident's questionnaire page (served through ConsultationPage routes).

Works without JavaScript: every question is shown, and a conditional one says which earlier answer
it depends on (the service ignores its answer when the condition is not met). With JavaScript,
`questionnaire.js` hides conditional questions until their condition is met. The rules are the
submit service's; the view only gathers raw values and shows refusals next to the questions.

The facilitators' paper entry (`diagnosis.questionnaire_paper_admin`) shows the same questions with
the same partials (`questionnaire_fields.html`, `questionnaire_errors.html`) and helpers
(`_form_context`, `_posted_answers`, `_posted_profile`), so both pages ask and refuse alike.
"""

import math
import uuid

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from maps.ratelimit import rate_limit_hit

from .models import Concern, QuestionnaireResponse
from .pages import ConsultationPage
from .services.questionnaires import (
    NON_FIELD,
    Question,
    QuestionnaireRejected,
    questionnaire_questions,
    questionnaire_submit,
)
from .views import _page_path

FORM_TEMPLATE = "diagnosis/questionnaire.html"
THANKS_TEMPLATE = "diagnosis/questionnaire_thanks.html"
FIELD_PREFIX = "q-"


def _field_name(code: str) -> str:
    return f"{FIELD_PREFIX}{code}"


def _question_items(
    questions: list[Question], *, values: dict, errors: dict[str, str]
) -> list[dict]:
    """What the template needs for each question: ids, choices with checked state, the
    condition in words, and which later questions each one controls."""
    by_code = {q.code: q for q in questions}
    dependents: dict[str, list[str]] = {}
    for question in questions:
        if question.condition:
            dependents.setdefault(question.condition[0], []).append(f"question-{question.code}")
    items = []
    for number, question in enumerate(questions, start=1):
        name = _field_name(question.code)
        given = values.get(question.code)
        selected = set(given if isinstance(given, list) else [given] if given else [])
        condition_text = ""
        if question.condition:
            target = by_code.get(question.condition[0])
            if target is not None:
                condition_text = _(
                    "Answer only if you answered “%(answer)s” to “%(question)s”."
                ) % {
                    "answer": target.choice_label(question.condition[1]),
                    "question": target.text,
                }
        number_hint = ""
        if question.type == "number":
            number_hint = _number_hint(question)
        items.append(
            {
                "question": question,
                "number": number,
                "name": name,
                "id": f"q-{question.code}",
                "wrapper_id": f"question-{question.code}",
                "error": errors.get(question.code, ""),
                "value": "" if isinstance(given, list) else (given or ""),
                "choices": [
                    {
                        "value": value,
                        "label": label,
                        "id": f"q-{question.code}-{index}",
                        "checked": value in selected,
                    }
                    for index, (value, label) in enumerate(question.choices, start=1)
                ],
                "input_type": "checkbox" if question.takes_many else "radio",
                "condition_text": condition_text,
                "controls": " ".join(dependents.get(question.code, [])),
                "number_hint": number_hint,
            }
        )
    return items


def _number_hint(question: Question) -> str:
    low, high = question.min_value, question.max_value
    kind = _("A number") if question.decimal else _("A whole number")
    if low is not None and high is not None:
        return _("%(kind)s from %(min)g to %(max)g.") % {"kind": kind, "min": low, "max": high}
    if low is not None:
        return _("%(kind)s, at least %(min)g.") % {"kind": kind, "min": low}
    if high is not None:
        return _("%(kind)s, at most %(max)g.") % {"kind": kind, "max": high}
    return f"{kind}."


def _error_list(items: list[dict], errors: dict[str, str]) -> list[dict]:
    """Every error with the anchor it links to, in the order the questions appear."""
    listed = (
        [{"anchor": "questionnaire-form", "message": errors[NON_FIELD]}]
        if NON_FIELD in errors
        else []
    )
    for item in items:
        if item["error"]:
            anchor = item["choices"][0]["id"] if item["choices"] else item["id"]
            listed.append({"anchor": anchor, "message": item["error"]})
    for name, anchor in (("gender", "id_gender_1"), ("age_band", "id_age_band")):
        if name in errors:
            listed.append({"anchor": anchor, "message": errors[name]})
    return listed


def _form_context(questions: list[Question], *, values: dict, errors: dict[str, str]) -> dict:
    """What the shared partials (`questionnaire_fields.html`, `questionnaire_errors.html`) need:
    the questions, the error summary, the About-you choices and the idempotency key.

    Used by the resident page and by the facilitators' paper entry in the admin, so both show
    the same questions, answers kept and messages.
    """
    items = _question_items(questions, values=values, errors=errors)
    age_choices = QuestionnaireResponse._meta.get_field("age_band").choices
    return {
        "items": items,
        "errors": errors,
        "error_list": _error_list(items, errors) if errors else [],
        "idempotency_key": values.get("idempotency_key") or uuid.uuid4(),
        "gender_choices": [
            {
                "value": v,
                "label": label,
                "id": f"id_gender_{i}",
                "checked": values.get("gender") == v,
            }
            for i, (v, label) in enumerate(Concern.Gender.choices, start=1)
        ],
        "gender_other": Concern.Gender.OTHER,
        "gender_description": values.get("gender_description", ""),
        "age_choices": [
            {"value": v, "label": label, "selected": values.get("age_band") == v}
            for v, label in age_choices
        ],
    }


def _render(request, page, *, values=None, errors=None, status=200, refusal="", retry_after=0):
    values, errors = values or {}, errors or {}
    page_path = _page_path(request, page, "questionnaire")
    questions = questionnaire_questions(page) if not refusal else []
    context = {
        "page": page,
        "self": page,
        "page_path": page_path,
        "refusal": refusal,
        **_form_context(questions, values=values, errors=errors),
    }
    response = TemplateResponse(request, FORM_TEMPLATE, context, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _posted_answers(request: HttpRequest, questions: list[Question]) -> dict[str, object]:
    answers = {}
    for question in questions:
        given = request.POST.getlist(_field_name(question.code))
        if question.takes_many:
            answers[question.code] = given
        else:
            answers[question.code] = given[0] if len(given) == 1 else given
    return answers


def _posted_profile(request: HttpRequest) -> dict[str, str]:
    """The About-you answers as posted, for `questionnaire_submit`'s keyword arguments."""
    return {
        "gender": request.POST.get("gender", "").strip(),
        "gender_description": request.POST.get("gender_description", "")[:200],
        "age_band": request.POST.get("age_band", "").strip(),
    }


def _idempotency_key(value: str) -> uuid.UUID:
    # A missing or tampered key is not something a resident can fix: give the request its own.
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return uuid.uuid4()


def questionnaire_form(request: HttpRequest, page: ConsultationPage) -> HttpResponse:
    """GET shows the questions; POST stores the answers through `questionnaire_submit` (303)."""
    if not page.accepts_concerns or not questionnaire_questions(page):
        return _render(
            request,
            page,
            status=403 if request.method == "POST" else 200,
            refusal=(
                _("This consultation is not accepting answers at the moment.")
                if page.accepts_concerns is False
                else _("This consultation has no questionnaire.")
            ),
        )
    if request.method != "POST":
        return _render(request, page)

    limit = rate_limit_hit(request=request, scope="questionnaire")
    if not limit.allowed:
        minutes = max(1, math.ceil(limit.retry_after / 60))
        message = ngettext(
            "You have sent many answers in a short time. Please try again in %(minutes)d minute.",
            "You have sent many answers in a short time. Please try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
        return _render(request, page, status=429, refusal=message, retry_after=limit.retry_after)

    questions = questionnaire_questions(page)
    answers = _posted_answers(request, questions)
    profile = _posted_profile(request)
    key = _idempotency_key(request.POST.get("idempotency_key", ""))
    try:
        questionnaire_submit(
            consultation=page,
            answers=answers,
            language=get_language(),
            idempotency_key=key,
            **profile,
        )
    except QuestionnaireRejected as rejection:
        values = {**answers, **profile, "idempotency_key": key}
        return _render(request, page, values=values, errors=rejection.errors, status=400)

    thanks = _page_path(request, page, "questionnaire") + page.reverse_subpage(
        "questionnaire_thanks"
    )
    return HttpResponseRedirect(thanks, status=303)


def questionnaire_thanks(request: HttpRequest, page: ConsultationPage) -> HttpResponse:
    page_path = _page_path(request, page, "questionnaire_thanks")
    context = {
        "page": page,
        "self": page,
        "page_path": page_path,
        "report_url": page_path + page.reverse_subpage("concern_form"),
    }
    return TemplateResponse(request, THANKS_TEMPLATE, context)
