"""Importing another system's reports in the Wagtail admin: upload → mapping and preview → import.

1. **Choose a consultation** (`open311_csv:index`, also Participation → Import reports (CSV)):
   the consultations this person may import into.
2. **Upload** (`open311_csv:upload`): the CSV file, the name of the system it comes from and
   the time zone of its dates. The file is read at once (`open311_csv_read`): a file that is not
   a 311 export is refused here with a message, 400. A readable file is kept in private storage
   (outside MEDIA_ROOT, never served) under a random name, and the next step's URL carries that
   name signed (`django.core.signing`), so nobody can point the import at another file.
3. **Mapping and preview** (`open311_csv:mapping`): one select per category of the file, with
   its row count, pre-filled by `open311_mapping_suggest`; the language of the texts; for
   moderators, "approve on import". Under it, the preview of `open311_import_check` for that
   mapping: how many rows will be imported, how many were imported before, each reason rows are
   skipped with the first examples and their row numbers. "Update the preview" shows it again;
   "Import" stores the accepted rows (`open311_import_run`, one transaction) and shows the
   result. The kept file is deleted after a successful import, and files older than
   `PREVIEW_MAX_AGE` are swept at each upload.

Who: facilitators — `diagnosis.add_concern` (the paper-entry permission) or the right to edit
the consultation (`open311_import_allowed`); anyone else gets a 403 page. Approving on import
needs `diagnosis.moderate_concern` too.
"""

import time
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import include, path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from maps.moderation_admin import moderation_forbidden

from .models import response_export_storage
from .open311_csv import (
    EXAMPLES_PER_REASON,
    FileRefused,
    ImportRefused,
    max_bytes,
    max_rows,
    open311_can_approve,
    open311_csv_read,
    open311_import_allowed,
    open311_import_check,
    open311_import_run,
    open311_mapping_suggest,
    open311_targets,
    time_zone_get,
)
from .pages import ConsultationPage
from .questionnaire_responses_admin import user_sees_responses

TEMPLATES = "diagnosis/open311_csv/"
SIGNING_SALT = "convive.open311-csv.upload"
# How long an upload can be mapped and imported: a working session.
PREVIEW_MAX_AGE = 3 * 60 * 60
DO_NOT_IMPORT = ""


def upload_storage() -> FileSystemStorage:
    """Private storage for uploads between the steps: next to the questionnaire exports, outside
    MEDIA_ROOT, so no URL serves a file that may hold residents' reports."""
    return FileSystemStorage(
        location=Path(response_export_storage().location).parent / "open311-imports"
    )


def _sweep(storage: FileSystemStorage) -> None:
    """Delete uploads nobody imported within PREVIEW_MAX_AGE."""
    try:
        _dirs, files = storage.listdir("")
    except FileNotFoundError:
        return
    limit = time.time() - PREVIEW_MAX_AGE
    for name in files:
        full = Path(storage.path(name))
        if full.stat().st_mtime < limit:
            full.unlink(missing_ok=True)


def _consultations_for(user):
    pages = ConsultationPage.objects.select_related("locale").order_by("title", "locale_id")
    return [page for page in pages if open311_import_allowed(user, page)]


def _forbidden(request, page=None):
    return moderation_forbidden(
        request,
        message=_(
            "Only facilitators (people who may enter concerns for residents or edit this "
            "consultation) can import reports from a file."
        ),
        back_url=reverse("wagtailadmin_home"),
        back_label=_("Back to the dashboard"),
    )


def _breadcrumbs(page, label):
    items = [
        {"url": reverse("wagtailadmin_home"), "label": _("Home")},
        {"url": reverse("open311_csv:index"), "label": _("Import reports (CSV)")},
    ]
    if page is not None:
        items.append({"url": reverse("open311_csv:upload", args=[page.pk]), "label": page.title})
    items.append({"url": "", "label": label})
    return items


# --- Forms ----------------------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    source_system = forms.CharField(
        label=gettext_lazy("Source system"),
        required=False,
        max_length=100,
        help_text=gettext_lazy(
            "A short name for the system the file comes from, such as nyc311 or your 311 "
            "system's jurisdiction ID. With each row's request ID it identifies the report: "
            "importing a file from the same system again adds only the reports not imported "
            "yet. Empty: open311 or nyc311, from the file's columns."
        ),
    )
    time_zone = forms.CharField(
        label=gettext_lazy("Time zone of the dates"),
        max_length=64,
        help_text=gettext_lazy(
            "For dates written without a time zone (the NYC 311 export writes New York time: "
            "America/New_York)."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = max_bytes() / (1024 * 1024)
        self.fields["file"].help_text = _(
            "A CSV file (UTF-8, columns separated by commas or semicolons) of Open311 service "
            "requests or a NYC 311 / Socrata export. At most %(size)s MB and %(rows)d rows."
        ) % {"size": f"{limit:g}", "rows": max_rows()}

    def clean_time_zone(self):
        value = self.cleaned_data["time_zone"].strip()
        try:
            time_zone_get(value)
        except FileRefused as refused:
            raise forms.ValidationError(refused.message) from None
        return value

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > max_bytes():
            raise forms.ValidationError(
                _(
                    "The file is larger than %(size)s MB, the most that can be imported at once. "
                    "Export fewer rows (a shorter period, or one area) and import each file."
                )
                % {"size": f"{max_bytes() / (1024 * 1024):g}"}
            )
        return upload


class MappingForm(forms.Form):
    """One select per source category (`category_<n>`, in the file's order), the language of the
    imported texts and, for moderators, approval on import."""

    language = forms.ChoiceField(
        label=gettext_lazy("Language of the texts"),
        choices=settings.LANGUAGES,
        help_text=gettext_lazy("The language the file's descriptions are written in."),
    )
    approve = forms.BooleanField(
        label=gettext_lazy("Approve on import"),
        required=False,
        help_text=gettext_lazy(
            "Only for a trusted official source. Ticked, the imported concerns are approved at "
            "once (the decision is recorded in each one's history, in your name); unticked, they "
            "wait in the moderation queue like any other concern."
        ),
    )

    def __init__(self, *args, source, targets, suggestion, can_approve: bool, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(DO_NOT_IMPORT, _("Do not import"))] + [
            (
                str(target.key),
                _("%(name)s (sensitive)") % {"name": target.name}
                if target.sensitive
                else target.name,
            )
            for target in targets
        ]
        self.category_fields = []
        for number, category in enumerate(source.categories):
            name = f"category_{number}"
            suggested = suggestion.get(category.key)
            self.fields[name] = forms.ChoiceField(
                label=category.key,
                choices=choices,
                required=False,
                initial=str(suggested) if suggested else DO_NOT_IMPORT,
            )
            self.category_fields.append((category, name))
        if not can_approve:
            del self.fields["approve"]

    def rows(self):
        """(source category, bound field) pairs for the template."""
        return [(category, self[name]) for category, name in self.category_fields]

    def mapping(self) -> dict:
        data = self.cleaned_data if self.is_bound else {}
        result = {}
        for category, name in self.category_fields:
            value = data.get(name) if self.is_bound else self.fields[name].initial
            result[category.key] = uuid.UUID(value) if value else None
        return result


# --- Views ----------------------------------------------------------------------------------------


def open311_import_index(request):
    """The consultations this person may import into."""
    pages = _consultations_for(request.user)
    if not pages and not request.user.has_perm("diagnosis.add_concern"):
        return _forbidden(request)
    context = {
        "header_title": _("Import reports (CSV)"),
        "breadcrumbs_items": [
            {"url": reverse("wagtailadmin_home"), "label": _("Home")},
            {"url": "", "label": _("Import reports (CSV)")},
        ],
        "consultations": [
            {"page": page, "url": reverse("open311_csv:upload", args=[page.pk])} for page in pages
        ],
    }
    return TemplateResponse(request, TEMPLATES + "index.html", context)


def _step(request, page, template: str, *, title: str, crumb: str, status: int = 200, **context):
    """One page of the import for one consultation: its header, breadcrumbs and a way back to
    the upload form."""
    context = {
        "page": page,
        "header_title": title,
        "breadcrumbs_items": _breadcrumbs(page, crumb),
        "upload_url": reverse("open311_csv:upload", args=[page.pk]),
        **context,
    }
    return TemplateResponse(request, TEMPLATES + template, context, status=status)


def _upload_page(request, page, form, *, status=200):
    return _step(
        request,
        page,
        "upload.html",
        title=_("Import reports (CSV)"),
        crumb=_("Upload"),
        status=status,
        form=form,
        cancel_url=reverse("open311_csv:index"),
    )


def open311_import_upload(request, page_id: int):
    """GET: the upload form. POST: read the file; refuse it (400) or keep it and go on."""
    page = get_object_or_404(ConsultationPage, pk=page_id)
    if not open311_import_allowed(request.user, page):
        return _forbidden(request, page)
    if request.method != "POST":
        form = UploadForm(initial={"time_zone": settings.TIME_ZONE})
        return _upload_page(request, page, form)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_page(request, page, form, status=400)
    upload = form.cleaned_data["file"]
    try:
        open311_csv_read(upload)
    except FileRefused as refused:
        form.add_error("file", refused.message)
        return _upload_page(request, page, form, status=400)
    upload.seek(0)
    storage = upload_storage()
    _sweep(storage)
    stored = storage.save(f"{uuid.uuid4().hex}.csv", ContentFile(upload.read()))
    token = signing.dumps(
        {
            "page": page.pk,
            "user": request.user.pk,
            "file": stored,
            "name": Path(upload.name).name[:120],
            "system": form.cleaned_data["source_system"],
            "tz": form.cleaned_data["time_zone"],
        },
        salt=SIGNING_SALT,
    )
    url = reverse("open311_csv:mapping", args=[page.pk])
    return redirect(f"{url}?{urlencode({'t': token})}")


def _refused(request, page, message, *, status=400):
    return _step(
        request,
        page,
        "refused.html",
        title=_("Import reports (CSV)"),
        crumb=_("Import"),
        status=status,
        message=message,
    )


def _load_upload(request, page, token):
    """The signed upload's data and its stored file's path, or an error response."""
    try:
        data = signing.loads(token, salt=SIGNING_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.SignatureExpired:
        return None, _refused(
            request,
            page,
            _("This upload is more than %(hours)d hours old. Upload the file again.")
            % {"hours": PREVIEW_MAX_AGE // 3600},
        )
    except signing.BadSignature:
        return None, _refused(
            request, page, _("This link is incomplete or was changed. Upload the file again.")
        )
    if data.get("page") != page.pk or data.get("user") != request.user.pk:
        return None, _refused(
            request,
            page,
            _("This upload was made for another consultation or by another person."),
        )
    storage = upload_storage()
    if not storage.exists(data["file"]):
        return None, _refused(
            request,
            page,
            _(
                "This upload is no longer kept: it was imported already, or it expired. Upload "
                "the file again; rows already imported are recognised and not added twice."
            ),
        )
    return data, None


def open311_import_mapping(request, page_id: int):
    """GET/POST `action=preview`: mapping and preview. POST `action=import`: import, result."""
    page = get_object_or_404(ConsultationPage, pk=page_id)
    if not open311_import_allowed(request.user, page):
        return _forbidden(request, page)
    token = request.POST.get("t") if request.method == "POST" else request.GET.get("t")
    data, refusal = _load_upload(request, page, token or "")
    if refusal is not None:
        return refusal
    storage = upload_storage()
    try:
        with storage.open(data["file"], "rb") as stored:
            source = open311_csv_read(stored)
    except FileRefused as refused:  # the limits were lowered since the upload
        return _refused(request, page, refused.message)
    targets = open311_targets(page)
    suggestion = open311_mapping_suggest(consultation=page, source=source)
    can_approve = open311_can_approve(request.user)
    initial = {"language": page.locale.language_code}
    if request.method == "POST":
        form = MappingForm(
            request.POST,
            initial=initial,
            source=source,
            targets=targets,
            suggestion=suggestion,
            can_approve=can_approve,
        )
        valid = form.is_valid()
    else:
        form = MappingForm(
            initial=initial,
            source=source,
            targets=targets,
            suggestion=suggestion,
            can_approve=can_approve,
        )
        valid = True
    language = form.cleaned_data["language"] if form.is_bound and valid else initial["language"]
    plan = None
    if valid:
        plan = open311_import_check(
            consultation=page,
            source=source,
            mapping=form.mapping(),
            source_system=data["system"],
            language=language,
            time_zone=data["tz"],
        )
    problem = ""
    if valid and request.method == "POST" and request.POST.get("action") == "import":
        if not plan.accepted:
            problem = _("No row can be imported with this mapping; nothing was stored.")
        else:
            approve = can_approve and form.cleaned_data.get("approve", False)
            try:
                outcome = open311_import_run(
                    consultation=page, plan=plan, user=request.user, approve=approve
                )
            except ImportRefused as refused:
                problem = refused.message
            except PermissionDenied:
                return _forbidden(request, page)
            else:
                storage.delete(data["file"])
                return _step(
                    request,
                    page,
                    "result.html",
                    title=_("Import reports (CSV): done"),
                    crumb=_("Result"),
                    outcome=outcome,
                    plan=plan,
                    file_name=data["name"],
                    reasons=plan.reasons(examples=0),
                    concerns_url=reverse("wagtailsnippets_diagnosis_concern:list"),
                )
    return _step(
        request,
        page,
        "mapping.html",
        title=_("Import reports (CSV): mapping and preview"),
        crumb=_("Mapping and preview"),
        status=400 if (not valid or problem) else 200,
        form=form,
        source=source,
        plan=plan,
        reasons=plan.reasons() if plan else [],
        examples=EXAMPLES_PER_REASON,
        token=token,
        file_name=data["name"],
        source_system=plan.source_system if plan else data["system"],
        time_zone=data["tz"],
        problem=problem,
        targets=targets,
        action_url=reverse("open311_csv:mapping", args=[page.pk]),
    )


urlpatterns = [
    path("", open311_import_index, name="index"),
    path("<int:page_id>/", open311_import_upload, name="upload"),
    path("<int:page_id>/mapping/", open311_import_mapping, name="mapping"),
]


@hooks.register("register_admin_urls")
def register_open311_csv_urls():
    return [path("concerns/import-csv/", include((urlpatterns, "open311_csv")))]


class ImportMenuItem(MenuItem):
    """Shown to whoever may import into some consultation."""

    def is_shown(self, request):
        user = request.user
        return user.has_perm("diagnosis.add_concern") or user_sees_responses(user)


@hooks.register("register_participation_menu_item")
def register_open311_csv_menu_item():
    return ImportMenuItem(
        gettext_lazy("Import reports (CSV)"),
        reverse("open311_csv:index"),
        name="open311-csv-import",
        icon_name="upload",
        order=250,
    )


def open311_csv_consultation_button(user, page):
    """(label, URL, icon) for the consultation's header menu, or None."""
    page = page.specific
    if isinstance(page, ConsultationPage) and open311_import_allowed(user, page):
        return (
            _("Import reports (CSV)"),
            reverse("open311_csv:upload", args=[page.pk]),
            "upload",
        )
    return None
