"""XLSForm import in the Wagtail admin: upload a form, read the preview, confirm.

Three steps, and nothing is stored until the last:

1. **Upload** (`questionnaire_xlsform:upload`, GET): the file, whether the questions are added
   after the current ones or replace them, and which language column gives the page's wording.
2. **Preview** (the same URL, POST): `diagnosis.xlsform.xlsform_parse` reads the file; the page
   shows the counts, the questions that will be created and the row-by-row report. The parsed
   result travels to the next step signed (`django.core.signing`, compressed) in a hidden field,
   so the server keeps no uploaded file or half-finished import between the two requests.
3. **Confirm** (`questionnaire_xlsform:confirm`, POST): the questions are added to the page's
   latest revision (so a draft the facilitator already has is kept), checked with the editor's
   own rules, and saved as a new draft revision — never published: the facilitator reviews the
   Questionnaire tab and publishes. Translations found in the form are offered to
   wagtail-localize (`offer_translations`) for when the page is translated.

Only people who can edit the page may import (403 otherwise, as a page rather than Wagtail's
redirect to the dashboard, so the refusal is visible). A page that wagtail-localize keeps in sync
with a source page is not edited directly: the import goes to the source page.
"""

import copy

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import include, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from wagtail import hooks
from wagtail.admin import messages

from maps.moderation_admin import moderation_forbidden

from .pages import ConsultationPage
from .questionnaire_blocks import (
    LIKERT,
    LONG_TEXT,
    MULTIPLE_CHOICE,
    NUMBER,
    SHORT_TEXT,
    SINGLE_CHOICE,
    QuestionnaireBlock,
    questionnaire_stream,
)
from .translation_prefill import offer_translations, synchronised_source
from .xlsform import (
    IMPORTED,
    LAYOUT,
    MAX_FILE_BYTES,
    NOTED,
    SKIPPED,
    XLSFormError,
    XLSFormImport,
    xlsform_parse,
)

UPLOAD_TEMPLATE = "diagnosis/admin/xlsform_upload.html"
PREVIEW_TEMPLATE = "diagnosis/admin/xlsform_preview.html"
REFUSED_TEMPLATE = "diagnosis/admin/xlsform_refused.html"
SIGNING_SALT = "convive.xlsform.preview"
# How long a preview can be confirmed: a working session, not a day.
PREVIEW_MAX_AGE = 3 * 60 * 60
APPEND, REPLACE = "append", "replace"
# How many choices of one question the preview lists before "and N more".
PREVIEW_CHOICES = 12
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class XLSFormUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("XLSForm file"),
        help_text=gettext_lazy(
            "An .xlsx spreadsheet in the XLSForm format used by KoboToolbox and ODK, with a "
            "“survey” sheet and, for choice questions, a “choices” sheet. At most 5 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": f".xlsx,{XLSX_CONTENT_TYPE}"}),
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("What happens to the current questions"),
        choices=[
            (APPEND, gettext_lazy("Keep them and add the imported questions after them")),
            (REPLACE, gettext_lazy("Replace them with the imported questions")),
        ],
        initial=APPEND,
        widget=forms.RadioSelect,
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Wording to use for this page"),
        required=False,
        help_text=gettext_lazy(
            "The form's label column whose texts the page gets. If the form has no column in "
            "that language, the form's default language is used, then English, then its first "
            "language; a cell left empty falls back the same way, and the preview says so."
        ),
    )

    def __init__(self, *args, page_language: str, **kwargs):
        super().__init__(*args, **kwargs)
        names = dict(settings.LANGUAGES)
        self.fields["language"].choices = [
            ("", _("The page's language (%(language)s)") % {"language": names[page_language]}),
            *((code, name) for code, name in settings.LANGUAGES if code != page_language),
        ]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise ValidationError(
                _(
                    "“%(name)s” is not an .xlsx file. Save the form as an Excel workbook "
                    "(.xlsx) and upload it again."
                )
                % {"name": upload.name}
            )
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(
                _("The file is %(size).1f MB; the largest file accepted is 5 MB.")
                % {"size": upload.size / (1024 * 1024)}
            )
        return upload


# --- Pieces -----------------------------------------------------------------------------------


def _edit_url(page) -> str:
    return reverse("wagtailadmin_pages:edit", args=[page.pk])


def _breadcrumbs(page, label) -> list[dict]:
    return [
        {"url": reverse("wagtailadmin_home"), "label": _("Home")},
        {"url": _edit_url(page), "label": page.get_admin_display_title()},
        {"url": "", "label": label},
    ]


def _refusal(request, page, *, message: str):
    return moderation_forbidden(
        request, message=message, back_url=_edit_url(page), back_label=_("Back to the page")
    )


def _editable(request, page) -> str:
    """Why the user cannot import into this page, or "" when they can."""
    permissions = page.permissions_for_user(request.user)
    if not permissions.can_edit():
        return _("You cannot edit this consultation, so you cannot import questions into it.")
    if permissions.page_locked():
        return _(
            "This consultation is locked for editing. Ask whoever locked it to unlock it, then "
            "import again."
        )
    return ""


def _current_questions(page) -> list:
    return list(page.get_latest_revision_as_object().questionnaire)


def _preview_questions(result: XLSFormImport) -> list[dict]:
    """What the preview lists for each question to be created, in the page's wording."""
    type_labels = {
        SINGLE_CHOICE: _("Single choice"),
        MULTIPLE_CHOICE: _("Multiple choice"),
        LIKERT: _("Likert scale"),
        NUMBER: _("Number"),
        SHORT_TEXT: _("Short text"),
        LONG_TEXT: _("Long text"),
    }
    rows = []
    for number, block in enumerate(result.questions, start=1):
        value = block["value"]
        choices = value.get("choices") or []
        limits = ""
        if block["type"] == NUMBER:
            low, high = value["min_value"], value["max_value"]
            if low is not None and high is not None:
                limits = _("from %(min)g to %(max)g") % {"min": low, "max": high}
            elif low is not None:
                limits = _("at least %(min)g") % {"min": low}
            elif high is not None:
                limits = _("at most %(max)g") % {"max": high}
            if value["decimal"]:
                limits = ", ".join(filter(None, [limits, _("decimals allowed")]))
        rows.append(
            {
                "number": number,
                "type": type_labels.get(block["type"], block["type"]),
                "value": value,
                "choices": choices[:PREVIEW_CHOICES],
                "more_choices": max(0, len(choices) - PREVIEW_CHOICES),
                "limits": limits,
                "condition": value["condition"] if value["condition"]["question"] else None,
            }
        )
    return rows


def _preview(request, page, *, result, token, mode, problems=(), status=200):
    counts = result.counts()
    context = {
        "page": page,
        "header_title": _("Import an XLSForm: preview"),
        "breadcrumbs_items": _breadcrumbs(page, _("Import an XLSForm: preview")),
        "result": result,
        "counts": counts,
        "token": token,
        "mode": mode,
        "replacing": mode == REPLACE,
        "current_count": len(_current_questions(page)),
        "questions": _preview_questions(result),
        "sections": [
            {
                "outcome": outcome,
                "title": title,
                "entries": result.entries(outcome),
                "open": outcome in (SKIPPED, NOTED),
            }
            for outcome, title in (
                (SKIPPED, _("Not imported")),
                (NOTED, _("Imported, with notes")),
                (IMPORTED, _("Imported as they are")),
                (LAYOUT, _("Groups and repeats")),
            )
        ],
        "language_name": result.language_names.get(result.source_language, result.source_language),
        # Only the site's languages can receive translations (offer_translations ignores others).
        "other_languages": [
            result.language_names.get(code, code)
            for code in result.languages
            if code in dict(settings.LANGUAGES)
            and code not in (result.source_language, result.page_language)
        ],
        "problems": problems,
        "confirm_url": reverse("questionnaire_xlsform:confirm", args=[page.pk]),
        "upload_url": reverse("questionnaire_xlsform:upload", args=[page.pk]),
        "edit_url": _edit_url(page),
    }
    return TemplateResponse(request, PREVIEW_TEMPLATE, context, status=status)


def _upload_page(request, page, form, *, status=200):
    context = {
        "page": page,
        "header_title": _("Import an XLSForm"),
        "breadcrumbs_items": _breadcrumbs(page, _("Import an XLSForm")),
        "form": form,
        "current_count": len(_current_questions(page)),
        "edit_url": _edit_url(page),
        "max_megabytes": MAX_FILE_BYTES // (1024 * 1024),
    }
    return TemplateResponse(request, UPLOAD_TEMPLATE, context, status=status)


def _refused_preview(request, page, message: str):
    """A preview that cannot be confirmed (tampered with, expired, for another page): 400."""
    context = {
        "page": page,
        "header_title": _("Import an XLSForm"),
        "breadcrumbs_items": _breadcrumbs(page, _("Import an XLSForm")),
        "message": message,
        "upload_url": reverse("questionnaire_xlsform:upload", args=[page.pk]),
        "edit_url": _edit_url(page),
    }
    return TemplateResponse(request, REFUSED_TEMPLATE, context, status=400)


def _error_messages(error) -> list[str]:
    """The plain messages inside the nested block errors of a StreamField check."""
    found = []
    block_errors = getattr(error, "block_errors", None) or {}
    items = block_errors.items() if isinstance(block_errors, dict) else enumerate(block_errors)
    for _key, child in items:
        if child is not None:
            found += _error_messages(child)
    for child in getattr(error, "non_block_errors", None) or []:
        found += _error_messages(child)
    if not found:
        found = [str(message) for message in error.messages]
    return found


def _questionnaire_problems(error, raw: list[dict]) -> list[str]:
    """The editor's complaints about the questionnaire, one line per question and message."""
    problems = []
    for child in getattr(error, "non_block_errors", None) or []:
        problems += _error_messages(child)
    for index, child in sorted((getattr(error, "block_errors", None) or {}).items()):
        code = raw[index]["value"].get("code", "") if index < len(raw) else ""
        for message in _error_messages(child):
            problems.append(
                _("Question %(number)d (“%(code)s”): %(message)s")
                % {"number": index + 1, "code": code, "message": message}
            )
    return problems or [str(message) for message in error.messages]


# --- Views ------------------------------------------------------------------------------------


def xlsform_upload(request, page_id: int):
    """GET: the upload form. POST: read the file and show the preview (or the form, 400)."""
    page = get_object_or_404(ConsultationPage, pk=page_id)
    source = synchronised_source(page)
    if isinstance(source, ConsultationPage):
        messages.info(
            request,
            _(
                "“%(title)s” is a translation kept in sync with the %(language)s page. Questions "
                "are imported into that page; synchronise the translation afterwards."
            )
            % {
                "title": page.get_admin_display_title(),
                "language": source.locale.get_display_name(),
            },
        )
        return redirect("questionnaire_xlsform:upload", source.pk)
    refusal = _editable(request, page)
    if refusal:
        return _refusal(request, page, message=refusal)

    page_language = page.locale.language_code
    if request.method != "POST":
        return _upload_page(request, page, XLSFormUploadForm(page_language=page_language))

    form = XLSFormUploadForm(request.POST, request.FILES, page_language=page_language)
    if not form.is_valid():
        return _upload_page(request, page, form, status=400)
    mode = form.cleaned_data["mode"]
    existing = [child.value["code"] for child in _current_questions(page)] if mode == APPEND else []
    try:
        result = xlsform_parse(
            form.cleaned_data["file"],
            page_language=page_language,
            language=form.cleaned_data["language"],
            existing_codes=existing,
        )
    except XLSFormError as error:
        form.add_error("file", error.message)
        return _upload_page(request, page, form, status=400)
    if not result.questions:
        form.add_error(
            "file",
            _(
                "None of the %(rows)d rows of this form can become a Convive question, so "
                "there is nothing to import."
            )
            % {"rows": len(result.report)},
        )
        return _upload_page(request, page, form, status=400)
    token = signing.dumps(
        {"page": page.pk, "user": request.user.pk, "mode": mode, "result": result.to_data()},
        salt=SIGNING_SALT,
        compress=True,
    )
    return _preview(request, page, result=result, token=token, mode=mode)


def xlsform_confirm(request, page_id: int):
    """POST: add the previewed questions to a new draft revision and go to the editor."""
    page = get_object_or_404(ConsultationPage, pk=page_id)
    refusal = _editable(request, page)
    if refusal:
        return _refusal(request, page, message=refusal)
    if request.method != "POST":
        return redirect("questionnaire_xlsform:upload", page.pk)

    token = request.POST.get("payload", "")
    try:
        data = signing.loads(token, salt=SIGNING_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.SignatureExpired:
        return _refused_preview(
            request,
            page,
            _(
                "This preview is more than %(hours)d hours old. Upload the form again to see a "
                "fresh preview; nothing was imported."
            )
            % {"hours": PREVIEW_MAX_AGE // 3600},
        )
    except signing.BadSignature:
        return _refused_preview(
            request,
            page,
            _(
                "This preview was changed on its way back, or is incomplete, so it cannot be "
                "trusted. Upload the form again; nothing was imported."
            ),
        )
    if data.get("page") != page.pk or data.get("user") != request.user.pk:
        return _refused_preview(
            request,
            page,
            _(
                "This preview was made for another consultation or another person. Upload the "
                "form again here; nothing was imported."
            ),
        )
    try:
        result = XLSFormImport.from_data(data["result"])
    except (KeyError, TypeError, ValueError):  # signed by an older version of this code
        return _refused_preview(
            request,
            page,
            _("This preview was made by an older version of Convive. Upload the form again."),
        )
    mode = REPLACE if data.get("mode") == REPLACE else APPEND

    latest = page.get_latest_revision_as_object()
    current = list(latest.questionnaire.get_prep_value()) if mode == APPEND else []
    raw = current + copy.deepcopy(result.questions)
    stream = questionnaire_stream(raw)
    problems, offered = [], 0
    try:
        QuestionnaireBlock().clean(stream)
    except ValidationError as error:
        problems = _questionnaire_problems(error, raw)
    if not problems:
        latest.questionnaire = stream
        try:
            with transaction.atomic():
                latest.save_revision(user=request.user, log_action=True)
                offered = offer_translations(
                    latest, result.translations, user=request.user, tool="XLSForm"
                )
        except ValidationError as error:  # the page's own checks (Wagtail's full_clean)
            problems = [str(message) for message in error.messages]
    if problems:
        return _preview(
            request, page, result=result, token=token, mode=mode, problems=problems, status=400
        )

    imported = len(result.questions)
    if result.title:
        message = ngettext(
            "%(count)d question imported from “%(form)s” into a draft of this page.",
            "%(count)d questions imported from “%(form)s” into a draft of this page.",
            imported,
        ) % {"count": imported, "form": result.title}
    else:
        message = ngettext(
            "%(count)d question imported from the XLSForm into a draft of this page.",
            "%(count)d questions imported from the XLSForm into a draft of this page.",
            imported,
        ) % {"count": imported}
    message += " " + _(
        "Review them in the Questionnaire tab, then publish the page: residents see nothing "
        "until you do."
    )
    if offered:
        message += " " + ngettext(
            "%(count)d translation from the form is ready for when the page is translated.",
            "%(count)d translations from the form are ready for when the page is translated.",
            offered,
        ) % {"count": offered}
    messages.success(
        request, message, buttons=[messages.button(_edit_url(page), _("Open the page editor"))]
    )
    return redirect(_edit_url(page))


urlpatterns = [
    path("<int:page_id>/", xlsform_upload, name="upload"),
    path("<int:page_id>/confirm/", xlsform_confirm, name="confirm"),
]


@hooks.register("register_admin_urls")
def register_xlsform_urls():
    return [path("questionnaires/xlsform/", include((urlpatterns, "questionnaire_xlsform")))]
