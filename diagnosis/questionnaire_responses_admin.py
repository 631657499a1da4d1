"""Admin hub of questionnaire responses: counts per consultation and version, and exports.

Under Participation → Questionnaire responses: the consultations that have a questionnaire or
responses, with their responses per questionnaire version, language and source; a page per
consultation with the same and the export form (CSV or XLSX, labels in a chosen language, or
codes); a status page per export with a progress bar that polls a small JSON endpoint, and the
download. Counting and exporting are `diagnosis.services.response_exports`; this module checks
permission, shows and asks.

Responses are personal data. Every URL here requires that the user can edit the consultation page
(the same check as the questionnaire tools), else 403; an export's file is downloaded only by the
person who asked for it, through `export_download`, never from /media/.

Other questionnaire tools put their links on the consultation's page here with the hook
`TOOL_LINKS_HOOK`: a function `(request, page)` returning `(label, url)` pairs.
"""

import math
from collections import defaultdict
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import include, path, reverse
from django.utils import translation
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.permission_policies.pages import PagePermissionPolicy

from maps.moderation_admin import moderation_forbidden

from .models import Concern, QuestionnaireResponse, ResponseExport
from .pages import ConsultationPage
from .services.response_exports import (
    KEEP_PER_CONSULTATION,
    ResponseSummary,
    export_download_name,
    response_export_expired,
    response_export_request,
    response_exports_mark_interrupted,
    response_summaries,
)

# The Participation menu group collects items registered under this hook (its `submenu_hook`).
PARTICIPATION_SUBMENU_HOOK = "register_participation_menu_item"
# Links of other questionnaire tools on a consultation's page here: fn(request, page) -> pairs.
TOOL_LINKS_HOOK = "register_questionnaire_response_tools"
Status = ResponseExport.Status


# --- Who may look ---------------------------------------------------------------------------------


def can_edit(user, page: ConsultationPage) -> bool:
    return page.permissions_for_user(user).can_edit()


def editable_translation(user, key) -> ConsultationPage | None:
    """A translation of the consultation `key` that the user can edit, in the admin's language
    if there is one, else the default language, else any."""
    pages = [
        page
        for page in ConsultationPage.objects.filter(translation_key=key).select_related("locale")
        if can_edit(user, page)
    ]
    return _preferred(pages)


def _preferred(pages: list[ConsultationPage]) -> ConsultationPage | None:
    order = [translation.get_language(), settings.LANGUAGE_CODE]
    return min(
        pages,
        key=lambda p: (
            order.index(p.locale.language_code) if p.locale.language_code in order else 2,
            p.pk,
        ),
        default=None,
    )


def consultation_forbidden(request, message):
    """A real 403 for a consultation tool (Wagtail would redirect to the dashboard)."""
    return moderation_forbidden(
        request,
        message=message,
        back_url=reverse("wagtailadmin_home"),
        back_label=_("Back to the dashboard"),
    )


RESPONSES_FORBIDDEN = _(
    "Questionnaire responses are personal data: only people who can edit the consultation can "
    "see them or export them."
)


def forbidden(request):
    return consultation_forbidden(request, RESPONSES_FORBIDDEN)


def _language_name(code: str) -> str:
    try:
        return translation.get_language_info(code)["name_translated"].capitalize()
    except KeyError:
        return code


# --- The list of consultations -----------------------------------------------------------------


@dataclass(frozen=True)
class ConsultationEntry:
    page: ConsultationPage  # the translation shown and linked
    translations: list[str]  # language codes of its pages
    has_questionnaire: bool
    summary: ResponseSummary


def consultation_entries(user) -> list[ConsultationEntry]:
    """Consultations with a questionnaire (in any translation) or responses, that `user` can
    edit, with their counts."""
    by_key: dict = defaultdict(list)
    for page in ConsultationPage.objects.select_related("locale").order_by("path"):
        by_key[page.translation_key].append(page)
    answered = set(
        QuestionnaireResponse.objects.order_by()
        .values_list("consultation_key", flat=True)
        .distinct()
    )
    chosen = {}
    for key, pages in by_key.items():
        with_questions = any(len(page.questionnaire) for page in pages)
        if not (with_questions or key in answered):
            continue
        page = _preferred([page for page in pages if can_edit(user, page)])
        if page is not None:
            chosen[key] = (page, with_questions)
    summaries = response_summaries(keys=chosen.keys())
    entries = [
        ConsultationEntry(
            page=page,
            translations=sorted(p.locale.language_code for p in by_key[key]),
            has_questionnaire=with_questions,
            summary=summaries[key],
        )
        for key, (page, with_questions) in chosen.items()
    ]
    return sorted(entries, key=lambda entry: entry.page.title.lower())


def user_sees_responses(user) -> bool:
    """Whether the hub is for this user: they can edit some consultation page.

    Asked on every admin page (the menu), so it is one query through Wagtail's page permission
    policy rather than a permission check per page; each page is still checked on its own below.
    """
    editable = PagePermissionPolicy().instances_user_has_any_permission_for(user, {"change"})
    return editable.type(ConsultationPage).exists()


def summary_rows(summary: ResponseSummary) -> dict:
    """The summary's language and source counts with names a person reads."""
    sources = dict(Concern.Source.choices)
    return {
        "languages": [
            {"code": code, "name": _language_name(code), "count": count}
            for code, count in summary.languages
        ],
        "sources": [
            {"code": code, "name": sources.get(code, code), "count": count}
            for code, count in summary.sources
        ],
    }


class ConsultationToolMenuItem(MenuItem):
    """A Participation menu item shown to whoever can edit some consultation page (the
    questionnaire responses, the diagnosis)."""

    def is_shown(self, request):
        return user_sees_responses(request.user)


@hooks.register(PARTICIPATION_SUBMENU_HOOK)
def register_responses_menu_item():
    return ConsultationToolMenuItem(
        _("Questionnaire responses"),
        reverse("questionnaire_responses:index"),
        name="questionnaire-responses",
        icon_name="clipboard-list",
        order=300,
    )


class ResponsesAdminView(WagtailAdminTemplateMixin, TemplateView):
    header_icon = "clipboard-list"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse("questionnaire_responses:index"),
                "label": _("Questionnaire responses"),
            },
        ]


class ConsultationIndexMixin:
    """The list of consultations a tool works on: 403 (saying `forbidden_message`) for whoever
    can edit none of them, and the tool's name as the last breadcrumb."""

    forbidden_message = RESPONSES_FORBIDDEN

    def get(self, request, *args, **kwargs):
        if not user_sees_responses(request.user):
            return consultation_forbidden(request, self.forbidden_message)
        return super().get(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]


class ResponsesIndexView(ConsultationIndexMixin, ResponsesAdminView):
    template_name = "diagnosis/admin/questionnaire_responses_index.html"
    page_title = _("Questionnaire responses")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["entries"] = [
            {
                "entry": entry,
                "detail_url": reverse("questionnaire_responses:detail", args=[entry.page.pk]),
                **summary_rows(entry.summary),
            }
            for entry in consultation_entries(self.request.user)
        ]
        return context


# --- One consultation: counts, tools and the export form -----------------------------------------


def label_language_choices() -> list[tuple[str, str]]:
    """The site's content languages, each named in itself (as language pickers do)."""
    names = []
    for code, fallback in settings.WAGTAIL_CONTENT_LANGUAGES:
        try:
            names.append((code, translation.get_language_info(code)["name_local"].capitalize()))
        except KeyError:
            names.append((code, fallback))
    return names


class ResponseExportForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of the questions and labels"),
        help_text=_(
            "Questions and answers not translated into this language appear in the site's "
            "default language."
        ),
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=ResponseExport.Format.choices,
        initial=ResponseExport.Format.XLSX,
        widget=forms.RadioSelect,
        help_text=_("The Excel workbook has a second sheet, the codebook: every code and label."),
    )
    cells = forms.ChoiceField(
        label=_("Answers as"),
        choices=ResponseExport.Cells.choices,
        initial=ResponseExport.Cells.LABELS,
        widget=forms.RadioSelect,
        help_text=_(
            "Codes suit statistics software: column names are the question codes and answers "
            "the choice values."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = label_language_choices()
        self.fields["language"].choices = choices
        current = translation.get_language()
        codes = [code for code, _name in choices]
        self.fields["language"].initial = current if current in codes else settings.LANGUAGE_CODE


class ConsultationAdminMixin:
    """An admin page about one consultation (`page_id` in the URL): 403 (saying
    `forbidden_message`) unless the user can edit it, and the consultation's title as the page
    title and last breadcrumb."""

    forbidden_message = RESPONSES_FORBIDDEN

    @cached_property
    def page(self) -> ConsultationPage:
        return get_object_or_404(
            ConsultationPage.objects.select_related("locale"), pk=self.kwargs["page_id"]
        )

    def dispatch(self, request, *args, **kwargs):
        if not can_edit(request.user, self.page):
            return consultation_forbidden(request, self.forbidden_message)
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return self.page.title

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": "", "label": self.page.title}]


class ResponsesDetailView(ConsultationAdminMixin, ResponsesAdminView):
    template_name = "diagnosis/admin/questionnaire_responses_detail.html"

    def post(self, request, *args, **kwargs):
        form = ResponseExportForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        export = response_export_request(
            page=self.page,
            user=request.user,
            language=form.cleaned_data["language"],
            format=form.cleaned_data["format"],
            cells=form.cleaned_data["cells"],
        )
        return HttpResponseRedirect(reverse("questionnaire_responses:export", args=[export.pk]))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        key = self.page.translation_key
        summary = response_summaries(keys=[key])[key]
        response_exports_mark_interrupted()
        exports = ResponseExport.objects.filter(consultation_key=key).select_related(
            "requested_by"
        )[:KEEP_PER_CONSULTATION]
        context.update(
            {
                "consultation": self.page,
                "summary": summary,
                **summary_rows(summary),
                "form": kwargs.get("form") or ResponseExportForm(),
                "exports": [export_row(export, self.request.user) for export in exports],
                "tool_links": self.tool_links(),
                "edit_url": reverse("wagtailadmin_pages:edit", args=[self.page.pk]),
                "translations": sorted(
                    self.page.get_translations(inclusive=True).values_list(
                        "locale__language_code", flat=True
                    )
                ),
                "has_questionnaire": bool(len(self.page.questionnaire)),
            }
        )
        return context

    def tool_links(self) -> list[dict]:
        links = []
        for hook in hooks.get_hooks(TOOL_LINKS_HOOK):
            for label, url in hook(self.request, self.page) or ():
                links.append({"label": label, "url": url})
        return links


# --- One export: status, progress, download ------------------------------------------------------


def export_progress(export: ResponseExport) -> dict:
    """The export's state in words and numbers, for the status page and its JSON endpoint."""
    done, total = export.rows_done, export.rows_total
    if export.status == Status.PENDING:
        text = _("Waiting for a worker to start the export…")
    elif export.status == Status.RUNNING and total is None:
        text = _("Counting the responses…")
    elif export.status == Status.RUNNING:
        text = ngettext(
            "%(done)s of %(total)s response written.",
            "%(done)s of %(total)s responses written.",
            total,
        ) % {"done": number_format(done, force_grouping=True), "total": number_format(total)}
    elif export.status == Status.DONE:
        text = ngettext("Ready: %(total)s response.", "Ready: %(total)s responses.", total or 0) % {
            "total": number_format(total or 0, force_grouping=True)
        }
    else:
        text = str(export.get_error_display() or ResponseExport.Error.FAILED.label)
    if export.status == Status.DONE:
        percent = 100
    elif total:
        percent = math.floor(done * 100 / total)
    else:
        percent = 0
    return {
        "status": export.status,
        "status_label": str(export.get_status_display()),
        "done": done,
        "total": total,
        "percent": percent,
        "text": str(text),
        "finished": export.status in (Status.DONE, Status.FAILED),
    }


def export_row(export: ResponseExport, user) -> dict:
    """One export as the pages list it."""
    return {
        "export": export,
        "progress": export_progress(export),
        "url": reverse("questionnaire_responses:export", args=[export.pk]),
        "download_url": (
            reverse("questionnaire_responses:export_download", args=[export.pk])
            if export.status == Status.DONE and export.requested_by_id == user.pk
            else ""
        ),
        "language_name": _language_name(export.language),
        "requested_by": (
            (export.requested_by.get_full_name() or export.requested_by.get_username())
            if export.requested_by
            else ""
        ),
    }


def _export_for(request, export_id: int) -> tuple[ResponseExport, ConsultationPage]:
    """The export and an editable page of its consultation; PermissionDenied otherwise."""
    export = get_object_or_404(
        ResponseExport.objects.select_related("consultation", "requested_by"), pk=export_id
    )
    if response_export_expired(export):
        raise Http404
    page = export.consultation
    if page is None or not can_edit(request.user, page):
        page = editable_translation(request.user, export.consultation_key)
    if page is None:
        raise PermissionDenied
    return export, page


class ExportStatusView(ResponsesAdminView):
    template_name = "diagnosis/admin/questionnaire_responses_export.html"
    page_title = _("Export of responses")

    def get(self, request, *args, **kwargs):
        response_exports_mark_interrupted()
        try:
            self.export, self.page = _export_for(request, kwargs["export_id"])
        except PermissionDenied:
            return forbidden(request)
        return super().get(request, *args, **kwargs)

    def get_page_subtitle(self):
        return self.page.title

    def get_breadcrumbs_items(self):
        return [
            *super().get_breadcrumbs_items(),
            {
                "url": reverse("questionnaire_responses:detail", args=[self.page.pk]),
                "label": self.page.title,
            },
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        row = export_row(self.export, self.request.user)
        context.update(
            {
                **row,
                "consultation": self.page,
                "is_requester": self.export.requested_by_id == self.request.user.pk,
                "progress_url": reverse(
                    "questionnaire_responses:export_progress", args=[self.export.pk]
                ),
                "own_download_url": reverse(
                    "questionnaire_responses:export_download", args=[self.export.pk]
                ),
                "detail_url": reverse("questionnaire_responses:detail", args=[self.page.pk]),
            }
        )
        return context


def export_progress_view(request, export_id: int):
    """GET: the export's progress as JSON, polled every 2 s by the status page."""
    response_exports_mark_interrupted()
    try:
        export, _page = _export_for(request, export_id)
    except PermissionDenied:
        return JsonResponse({"error": str(_("Not allowed."))}, status=403)
    data = export_progress(export)
    data["download_url"] = export_row(export, request.user)["download_url"]
    response = JsonResponse(data)
    response["Cache-Control"] = "no-store"
    return response


def export_download(request, export_id: int):
    """The file, to the person who asked for it only (it holds every answer)."""
    try:
        export, _page = _export_for(request, export_id)
    except PermissionDenied:
        return forbidden(request)
    if export.requested_by_id != request.user.pk:
        return forbidden(request)
    if export.status != Status.DONE or not export.file:
        raise Http404
    try:
        handle = export.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=export_download_name(export))
    response["Cache-Control"] = "private, no-store"
    return response


# --- URLs -------------------------------------------------------------------------------------

urlpatterns = [
    path("", ResponsesIndexView.as_view(), name="index"),
    path("<int:page_id>/", ResponsesDetailView.as_view(), name="detail"),
    path("exports/<int:export_id>/", ExportStatusView.as_view(), name="export"),
    path("exports/<int:export_id>/progress/", export_progress_view, name="export_progress"),
    path("exports/<int:export_id>/download/", export_download, name="export_download"),
]


@hooks.register("register_admin_urls")
def register_responses_urls():
    return [path("questionnaires/responses/", include((urlpatterns, "questionnaire_responses")))]
