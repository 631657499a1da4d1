"""Admin pages for naming problems: prepare a results page from a snapshot, and the evidence a
facilitator draws on while writing problems.

"Prepare the results page" (a POST from the snapshot's admin page) makes a draft results page
under the consultation, in the language the consultation was written in, with the snapshot set —
or, when the consultation has one, a new draft revision of it showing this snapshot — and opens it
in the page editor. It never publishes: publishing is the editor's decision, in the editor.

"Quotes you can use" (linked beside the problems in the editor) lists the snapshot's numbers per
category and area and the approved concerns whose words can be quoted, filtered by category and
area. Raw counts, small ones included, and residents' words: every URL here requires that the user
can edit the consultation page, else 403 — the same rule as the diagnosis admin.
"""

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from wagtail.actions.edit_page import EditPageAction
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.coreutils import find_available_slug
from wagtail_localize.models import TranslationSource

from diagnosis.models import Concern, DiagnosisResult, DiagnosisSnapshot
from diagnosis.pages import ConsultationPage
from diagnosis.questionnaire_responses_admin import can_edit
from diagnosis.selectors import categories_localized

from .models import ResultsPage
from .problems import sensitive_category_keys

QUOTES_PER_PAGE = 50


def forbidden(request):
    return TemplateResponse(
        request,
        "maps/admin/forbidden.html",
        {
            "message": _(
                "Results pages show a diagnosis and residents' words: only people who can edit the "
                "consultation can prepare them or read the evidence."
            ),
            "back_url": reverse("wagtailadmin_home"),
            "back_label": _("Back to the dashboard"),
        },
        status=403,
    )


# --- Preparing the results page -------------------------------------------------------------------


def consultation_source(key) -> ConsultationPage | None:
    """The consultation's page in the language it was written in (the source its translations were
    made from); the oldest translation when it was never translated."""
    pages = ConsultationPage.objects.filter(translation_key=key).select_related("locale")
    source = (
        TranslationSource.objects.filter(
            object_id=key,
            specific_content_type=ContentType.objects.get_for_model(ConsultationPage),
        )
        .order_by("created_at")
        .values_list("locale_id", flat=True)
        .first()
    )
    if source is not None:
        page = pages.filter(locale_id=source).first()
        if page is not None:
            return page
    return pages.order_by("pk").first()


def results_page_prepare(*, snapshot: DiagnosisSnapshot, user) -> ResultsPage:
    """A draft of the consultation's results page showing `snapshot`: a new page, or a new
    revision of the existing one (its live version, if any, stays as it is until published).

    PermissionDenied unless `user` can edit the consultation page (and, for a new page, add one
    under it) or, for an existing page, edit it (a page locked by someone else refuses too).
    """
    consultation = consultation_source(snapshot.consultation_key)
    if consultation is None:
        raise Http404
    permissions = consultation.permissions_for_user(user)
    if not permissions.can_edit():
        raise PermissionDenied
    existing = ResultsPage.objects.child_of(consultation).first()
    if existing is not None:
        draft = existing.specific.get_latest_revision_as_object()
        draft.snapshot = snapshot
        return EditPageAction(draft, user=user).execute()
    if not permissions.can_add_subpage():
        raise PermissionDenied
    with translation.override(consultation.locale.language_code):
        title = gettext("Results: %(title)s") % {"title": consultation.title}
        slug = slugify(gettext("results")) or "results"
    page = ResultsPage(
        title=title,
        slug=find_available_slug(consultation, slug),
        snapshot=snapshot,
        owner=user,
        locale=consultation.locale,
        live=False,
    )
    consultation.add_child(instance=page)
    page.save_revision(user=user, log_action=True)
    return page


@require_POST
def results_prepare_view(request, snapshot_id: int):
    """POST from the snapshot's admin page: prepare the draft and open it in the editor."""
    snapshot = get_object_or_404(DiagnosisSnapshot, pk=snapshot_id)
    try:
        page = results_page_prepare(snapshot=snapshot, user=request.user)
    except PermissionDenied:
        return forbidden(request)
    messages.success(
        request,
        gettext(
            "The draft of the results page shows this diagnosis. Name the problems, then publish "
            "the page when it is ready."
        ),
    )
    return HttpResponseRedirect(reverse("wagtailadmin_pages:edit", args=[page.pk]))


# --- Evidence: numbers and quotes ------------------------------------------------------------


def _editable(request, consultation_id: int) -> ConsultationPage:
    consultation = get_object_or_404(ConsultationPage, pk=consultation_id)
    if not can_edit(request.user, consultation):
        raise PermissionDenied
    return consultation


def _snapshot(consultation: ConsultationPage, value: str) -> DiagnosisSnapshot | None:
    snapshots = DiagnosisSnapshot.objects.filter(consultation_key=consultation.translation_key)
    if value:
        try:
            return snapshots.get(pk=int(value))
        except (ValueError, DiagnosisSnapshot.DoesNotExist) as missing:
            raise Http404 from missing
    return snapshots.first()


def evidence_numbers(snapshot: DiagnosisSnapshot, *, categories: dict, areas: dict) -> dict:
    """The snapshot's raw counts per category, in all and per area (its tables
    concerns_by_category and concerns_by_area_category), as rows for an admin table."""
    rows = DiagnosisResult.objects.filter(
        snapshot=snapshot, table__in=("concerns_by_category", "concerns_by_area_category")
    ).values_list("table", "category_key", "area_id", "count")
    totals, cells, seen_areas = {}, {}, set()
    for table, key, area_id, count in rows:
        if table == "concerns_by_category":
            totals[key] = count
        elif area_id is not None:
            cells[(key, area_id)] = count
            seen_areas.add(area_id)
    columns = sorted((areas[a] for a in seen_areas if a in areas), key=lambda area: area.name)
    ordered = sorted(
        (key for key in totals if key in categories),
        key=lambda key: (categories[key].sort_order, categories[key].name.lower()),
    )
    return {
        "areas": columns,
        "rows": [
            {
                "category": categories[key],
                "total": totals[key],
                "cells": [cells.get((key, area.pk), 0) for area in columns],
            }
            for key in ordered
        ],
    }


def quotable_concerns(*, consultation: ConsultationPage, category_key=None, area_id=None):
    """Approved concerns of the consultation with words in them, outside sensitive categories,
    newest first."""
    concerns = (
        Concern.objects.filter(
            consultation_key=consultation.translation_key, status=Concern.Status.APPROVED
        )
        .exclude(description="")
        .exclude(category_key__in=sensitive_category_keys())
        .select_related("area")
        .only("reference", "description", "category_key", "area__name", "submitted_at", "language")
        .order_by("-submitted_at", "-pk")
    )
    if category_key:
        concerns = concerns.filter(category_key=category_key)
    if area_id:
        concerns = concerns.filter(area_id=area_id)
    return concerns


class ProblemsEvidenceView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "cms/admin/problems_evidence.html"
    page_title = _("Quotes you can use")
    header_icon = "openquote"

    def get(self, request, *args, **kwargs):
        try:
            self.consultation = _editable(request, kwargs["consultation_id"])
        except PermissionDenied:
            return forbidden(request)
        self.snapshot = _snapshot(self.consultation, request.GET.get("snapshot", ""))
        return super().get(request, *args, **kwargs)

    def get_page_subtitle(self):
        return self.consultation.title

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        keys = set(self.consultation.categories.values_list("translation_key", flat=True))
        sensitive = sensitive_category_keys()
        categories = categories_localized(keys=keys)
        areas = {area.pk: area for area in self.consultation.areas.defer("geometry")}
        chosen_category = self._chosen(self.request.GET.get("category"), set(map(str, keys)))
        chosen_area = self._chosen(self.request.GET.get("area"), set(map(str, areas)))
        concerns = quotable_concerns(
            consultation=self.consultation, category_key=chosen_category, area_id=chosen_area
        )
        page = Paginator(concerns, QUOTES_PER_PAGE).get_page(self.request.GET.get("p"))
        context.update(
            {
                "consultation": self.consultation,
                "snapshot": self.snapshot,
                "k": (self.snapshot.parameters or {}).get("k") if self.snapshot else None,
                "numbers": (
                    evidence_numbers(self.snapshot, categories=categories, areas=areas)
                    if self.snapshot
                    else None
                ),
                "category_choices": [
                    (str(key), category.name)
                    for key, category in sorted(
                        categories.items(), key=lambda item: item[1].sort_order
                    )
                    if key not in sensitive
                ],
                "area_choices": [
                    (str(pk), area.name)
                    for pk, area in sorted(areas.items(), key=lambda item: item[1].name)
                ],
                "chosen_category": chosen_category or "",
                "chosen_area": chosen_area or "",
                "concerns": [
                    {
                        "concern": concern,
                        "category": categories.get(concern.category_key),
                    }
                    for concern in page
                ],
                "page_obj": page,
                "count_text": ngettext(
                    "%(count)d concern can be quoted.",
                    "%(count)d concerns can be quoted.",
                    page.paginator.count,
                )
                % {"count": page.paginator.count},
            }
        )
        return context

    @staticmethod
    def _chosen(value, allowed: set[str]) -> str | None:
        return value if value in allowed else None

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]


urlpatterns = [
    path("prepare/<int:snapshot_id>/", results_prepare_view, name="prepare"),
    path("evidence/<int:consultation_id>/", ProblemsEvidenceView.as_view(), name="evidence"),
]
