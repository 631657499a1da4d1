"""Bulk open-data exports over HTTP: the JSON API under /api/exports/ and the open-data page under
/<lang>/open-data/ (docs/open-data.md). Both call `diagnosis.services.open_data_exports`.

The API is for machines: no CSRF token, messages in the language of `?lang=`, the body's `lang`
or Accept-Language. The page works without JavaScript (a form, then a job page that refreshes
itself); a small script polls the API to update the job page live.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from maps.ratelimit import rate_limit_hit

from . import public_data
from .models import OpenDataExport
from .pages import ConsultationPage
from .services.open_data_exports import (
    CONTENT_TYPES,
    RateLimited,
    consultation_find,
    consultation_for_key,
    data_rules_text,
    expire_after,
    open_data_export_download_name,
    open_data_export_expires_at,
    open_data_export_request,
)

Status = OpenDataExport.Status
LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
DEFAULT_RATE = "10/3600"


class OpenDataExportForm(forms.Form):
    """What a request for an export may say. The consultation is a translation key or a slug."""

    dataset = forms.ChoiceField(
        label=gettext_lazy("Data"),
        choices=OpenDataExport.Dataset.choices,
        error_messages={"required": gettext_lazy("Choose which data to export.")},
    )
    format = forms.ChoiceField(
        label=gettext_lazy("File format"),
        choices=OpenDataExport.Format.choices,
        error_messages={"required": gettext_lazy("Choose a file format.")},
    )
    consultation = forms.CharField(
        label=gettext_lazy("Consultation"), required=False, max_length=200
    )
    lang = forms.ChoiceField(
        label=gettext_lazy("Language"), required=False, choices=settings.LANGUAGES
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consultation"].widget = forms.Select(choices=consultation_choices())

    def clean_consultation(self):
        value = self.cleaned_data["consultation"].strip()
        if not value:
            return None
        page = consultation_find(value)
        if page is None:
            raise forms.ValidationError(
                _("There is no published consultation “%(value)s”."), params={"value": value}
            )
        return page


def consultation_choices() -> list[tuple[str, str]]:
    """Live consultations in the active language (else any language), by translation key."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    chosen: dict[str, ConsultationPage] = {}
    for page in ConsultationPage.objects.live().select_related("locale").order_by("pk"):
        key = str(page.translation_key)
        if key not in chosen or page.locale.language_code == language:
            chosen[key] = page
    rows = sorted(chosen.items(), key=lambda item: item[1].title.lower())
    return [("", _("All consultations")), *((key, page.title) for key, page in rows)]


def _language(request: HttpRequest, data: dict | None = None) -> str:
    """The language of the file and the messages: `lang` (query or body) when valid, else the
    request's language (Accept-Language, or the URL prefix)."""
    for candidate in (request.GET.get("lang"), (data or {}).get("lang")):
        if isinstance(candidate, str) and candidate in LANGUAGE_CODES:
            return candidate
    active = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return active if active in LANGUAGE_CODES else settings.LANGUAGE_CODE


def _may_create(request: HttpRequest):
    def check() -> int | None:
        result = rate_limit_hit(
            request=request,
            scope="open-data-export",
            rate=getattr(settings, "CONVIVE_OPEN_DATA_EXPORT_RATE_LIMIT", DEFAULT_RATE),
        )
        return None if result.allowed else result.retry_after

    return check


def _request_export(request: HttpRequest, form: OpenDataExportForm, language: str):
    page = form.cleaned_data["consultation"]
    return open_data_export_request(
        dataset=form.cleaned_data["dataset"],
        format=form.cleaned_data["format"],
        consultation_key=page.translation_key if page else None,
        language=language,
        may_create=_may_create(request),
    )


def _rate_limited_message(retry_after: int) -> str:
    minutes = max(1, round(retry_after / 60))
    return _(
        "You have asked for many new files in a short time. Try again in %(minutes)s minutes, "
        "or download a file that is already ready."
    ) % {"minutes": minutes}


# --- JSON -----------------------------------------------------------------------------------------


def export_json(request: HttpRequest, export: OpenDataExport) -> dict:
    """The job as the API shows it; messages and labels in the active language."""
    done = export.status == Status.DONE
    fraction = None
    if done:
        fraction = 1.0
    elif export.rows_total:
        fraction = round(min(export.rows_done / export.rows_total, 1.0), 4)
    elif export.rows_total == 0:
        fraction = 0.0

    def absolute(name: str) -> str:
        return request.build_absolute_uri(reverse(name, kwargs={"export_id": export.pk}))

    links = {"self": absolute("open-data-export-detail")}
    # A client that chose its language with ?lang= keeps it while it polls.
    if request.GET.get("lang") in {code for code, _name in settings.LANGUAGES}:
        links["self"] += "?" + urlencode({"lang": request.GET["lang"]})
    if done:
        links["download"] = absolute("open-data-export-download")
    with translation.override(export.language):
        links["page"] = request.build_absolute_uri(
            reverse("open-data-job", kwargs={"export_id": export.pk})
        )
    expires = open_data_export_expires_at(export)
    return {
        "id": export.pk,
        "dataset": export.dataset,
        "format": export.format,
        "consultation": str(export.consultation_key) if export.consultation_key else None,
        "language": export.language,
        "status": export.status,
        "status_label": str(Status(export.status).label),
        "progress": {
            "rows_done": export.rows_done,
            "rows_total": export.rows_total,
            "fraction": fraction,
        },
        "size": export.size if done else None,
        "created": export.created_at.isoformat(),
        "started": export.started_at.isoformat() if export.started_at else None,
        "finished": export.finished_at.isoformat() if export.finished_at else None,
        "expires": expires.isoformat() if expires else None,
        "error": str(OpenDataExport.Error(export.error).label) if export.error else None,
        "links": links,
    }


def _error(
    request: HttpRequest, status: int, message: str, *, fields: dict | None = None, **headers
) -> JsonResponse:
    if status == 404:
        # LocaleMiddleware would turn a 404 outside the language prefix into a redirect to the
        # same path under /es/ (Wagtail's catch-all resolves every path); it decides from
        # `request.urlconf`, so naming these unprefixed patterns keeps the API's 404 a 404.
        request.urlconf = "diagnosis.open_data_urls"
    body = {"error": message}
    if fields:
        body["fields"] = fields
    response = JsonResponse(body, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _get(export_id: str) -> OpenDataExport | None:
    if not isinstance(export_id, str) or len(export_id) > 32:
        return None
    return OpenDataExport.objects.filter(pk=export_id).first()


@csrf_exempt
@require_http_methods(["POST"])
def api_export_create(request: HttpRequest) -> JsonResponse:
    """POST /api/exports/: ask for a file; 202 with the job (new, or a matching one)."""
    data: dict = {}
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            data = None
    else:
        data = request.POST.dict()
    language = _language(request, data if isinstance(data, dict) else None)
    with translation.override(language):
        if not isinstance(data, dict):
            return _error(request, 400, _("The request body must be a JSON object."))
        form = OpenDataExportForm(
            data={key: value for key, value in data.items() if isinstance(value, str)}
        )
        wrong_types = [key for key, value in data.items() if not isinstance(value, str)]
        if wrong_types or not form.is_valid():
            fields = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
            for key in wrong_types:
                fields.setdefault(key, []).append(_("This value must be a string."))
            return _error(request, 400, _("The export could not be requested."), fields=fields)
        try:
            export, _created = _request_export(request, form, language)
        except RateLimited as limited:
            return _error(
                request,
                429,
                _rate_limited_message(limited.retry_after),
                Retry_After=str(limited.retry_after),
            )
        export.refresh_from_db()  # in-process mode may have finished it already
        response = JsonResponse(export_json(request, export), status=202)
        response["Location"] = reverse("open-data-export-detail", kwargs={"export_id": export.pk})
        return response


@require_http_methods(["GET", "HEAD"])
def api_export_detail(request: HttpRequest, export_id: str) -> JsonResponse:
    """GET /api/exports/{id}: the job, to poll."""
    with translation.override(_language(request)):
        export = _get(export_id)
        if export is None:
            return _error(request, 404, _("There is no export with this identifier."))
        response = JsonResponse(export_json(request, export))
        response["Cache-Control"] = "no-cache"
        return response


@require_http_methods(["GET", "HEAD"])
def api_export_download(request: HttpRequest, export_id: str) -> HttpResponse:
    """GET /api/exports/{id}/download: the file, as an attachment with its content type."""
    with translation.override(_language(request)):
        export = _get(export_id)
        if export is None:
            return _error(request, 404, _("There is no export with this identifier."))
        if export.status == Status.EXPIRED:
            return _error(request, 410, _("This file has expired. Ask for the export again."))
        if export.status != Status.DONE or not export.file:
            return _error(request, 404, _("This file is not ready yet."))
        try:
            handle = export.file.open("rb")
        except FileNotFoundError:
            return _error(request, 410, _("This file has expired. Ask for the export again."))
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=open_data_export_download_name(export),
            content_type=CONTENT_TYPES[export.format],
        )
        response["Cache-Control"] = "public, max-age=3600"
        return response


# --- HTML -----------------------------------------------------------------------------------------


def _page_context(request: HttpRequest, form: OpenDataExportForm, **extra) -> dict:
    name, url = public_data.licence()
    return {
        "form": form,
        "licence_name": name,
        "licence_url": url,
        "data_rules": data_rules_text(),
        **extra,
    }


@require_http_methods(["GET", "HEAD", "POST"])
def open_data_page(request: HttpRequest) -> HttpResponse:
    """/<lang>/open-data/: what is published, where, under which rules; a form for an export."""
    language = _language(request)
    if request.method != "POST":
        form = OpenDataExportForm(initial={"format": OpenDataExport.Format.CSV})
        return render(request, "diagnosis/open_data/index.html", _page_context(request, form))
    form = OpenDataExportForm(data=request.POST)
    if not form.is_valid():
        context = _page_context(request, form)
        return render(request, "diagnosis/open_data/index.html", context, status=400)
    try:
        export, _created = _request_export(request, form, language)
    except RateLimited as limited:
        context = _page_context(request, form, refusal=_rate_limited_message(limited.retry_after))
        return render(request, "diagnosis/open_data/index.html", context, status=429)
    return redirect("open-data-job", export_id=export.pk)


@require_http_methods(["GET", "HEAD"])
def open_data_job_page(request: HttpRequest, export_id: str) -> HttpResponse:
    """/<lang>/open-data/exports/<id>/: progress, then the download link."""
    export = _get(export_id)
    if export is None:
        raise Http404
    data = export_json(request, export)
    page = consultation_for_key(export.consultation_key, translation.get_language())
    finished = export.status in (Status.DONE, Status.FAILED, Status.EXPIRED)
    return render(
        request,
        "diagnosis/open_data/job.html",
        {
            "export": export,
            "job": data,
            "consultation": page,
            "finished": finished,
            "percent": round((data["progress"]["fraction"] or 0) * 100),
            "download_url": reverse("open-data-export-download", kwargs={"export_id": export.pk}),
            "api_url": reverse("open-data-export-detail", kwargs={"export_id": export.pk}),
            "keep_hours": round(expire_after().total_seconds() / 3600),
        },
    )
