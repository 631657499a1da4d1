"""Admin pages of the diagnosis: start a run, watch it, cancel it, read its snapshot.

Under Participation → Diagnosis: the consultations the user can edit, each with its last run; a
page per consultation with the form that starts a run (k, an optional time window) and its runs;
a page per run with a real <progress> bar that polls a small JSON endpoint, the run's log and a
Cancel button while it waits or works; a page per snapshot with its tables as plain admin
tables. Starting, cancelling and computing are `diagnosis.services.diagnosis_runs` and
`diagnosis.engine`; this module checks permission, shows and asks.

Snapshots hold raw counts, small ones included (suppression is applied when publishing), so
every URL here requires that the user can edit the consultation page, else 403.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import include, path, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format, time_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from maps.demography import AgeBand, Sex
from maps.models import Area

from .engine import DEFAULT_K, MAX_K, MIN_K, RESULT_COLUMNS, TABLES
from .models import DiagnosisResult, DiagnosisRun, DiagnosisSnapshot
from .pages import ConsultationPage
from .questionnaire_responses_admin import (
    PARTICIPATION_SUBMENU_HOOK,
    ConsultationAdminMixin,
    ConsultationIndexMixin,
    ConsultationToolMenuItem,
    can_edit,
    consultation_forbidden,
    editable_translation,
)
from .selectors import categories_localized
from .services.diagnosis_runs import (
    DiagnosisRunRefused,
    diagnosis_run_cancel,
    diagnosis_run_start,
    diagnosis_runs_mark_interrupted,
    log_lines,
    run_snapshot,
)

Status = DiagnosisRun.Status
RUNS_SHOWN = 20
POLL_MILLISECONDS = 2000


DIAGNOSIS_FORBIDDEN = _(
    "A diagnosis holds raw counts, small ones included: only people who can edit the "
    "consultation can run it or read it."
)


def forbidden(request):
    return consultation_forbidden(request, DIAGNOSIS_FORBIDDEN)


def _page_for(user, consultation: ConsultationPage | None, key) -> ConsultationPage:
    """The run's or snapshot's own page if the user can edit it, else another translation they
    can edit; PermissionDenied otherwise."""
    if consultation is not None and can_edit(user, consultation):
        return consultation
    page = editable_translation(user, key)
    if page is None:
        raise PermissionDenied
    return page


# --- Menu and the list of consultations -----------------------------------------------------------


@hooks.register(PARTICIPATION_SUBMENU_HOOK)
def register_diagnosis_menu_item():
    return ConsultationToolMenuItem(
        _("Diagnosis"),
        reverse("diagnosis_runs:index"),
        name="diagnosis",
        icon_name="table",
        order=400,
    )


class DiagnosisAdminView(WagtailAdminTemplateMixin, TemplateView):
    header_icon = "table"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("diagnosis_runs:index"), "label": _("Diagnosis")},
        ]


@dataclass(frozen=True)
class ConsultationRow:
    page: ConsultationPage
    translations: list[str]
    last_run: DiagnosisRun | None
    last_snapshot: DiagnosisSnapshot | None


class DiagnosisIndexView(ConsultationIndexMixin, DiagnosisAdminView):
    template_name = "diagnosis/admin/diagnosis_index.html"
    page_title = _("Diagnosis")
    forbidden_message = DIAGNOSIS_FORBIDDEN

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        diagnosis_runs_mark_interrupted()
        by_key: dict = {}
        for page in ConsultationPage.objects.select_related("locale").order_by("path"):
            by_key.setdefault(page.translation_key, []).append(page)
        chosen = {}
        for key in by_key:
            page = editable_translation(self.request.user, key)
            if page is not None:
                chosen[key] = page
        last_runs, last_snapshots = {}, {}
        for run in DiagnosisRun.objects.filter(consultation_key__in=chosen).order_by(
            "consultation_key", "-created_at", "-pk"
        ):
            last_runs.setdefault(run.consultation_key, run)
        for snapshot in DiagnosisSnapshot.objects.filter(consultation_key__in=chosen).order_by(
            "consultation_key", "-created_at", "-pk"
        ):
            last_snapshots.setdefault(snapshot.consultation_key, snapshot)
        rows = [
            ConsultationRow(
                page=page,
                translations=sorted(p.locale.language_code for p in by_key[key]),
                last_run=last_runs.get(key),
                last_snapshot=last_snapshots.get(key),
            )
            for key, page in chosen.items()
        ]
        context["consultations"] = [
            {
                "row": row,
                "url": reverse("diagnosis_runs:consultation", args=[row.page.pk]),
                "run_url": (
                    reverse("diagnosis_runs:run", args=[row.last_run.pk]) if row.last_run else ""
                ),
                "snapshot_url": (
                    reverse("diagnosis_runs:snapshot", args=[row.last_snapshot.pk])
                    if row.last_snapshot
                    else ""
                ),
            }
            for row in sorted(rows, key=lambda row: row.page.title.lower())
        ]
        return context


# --- One consultation: start a run, its runs ------------------------------------------------------


class DiagnosisRunForm(forms.Form):
    k = forms.IntegerField(
        label=_("Smallest number shown (k)"),
        min_value=MIN_K,
        max_value=MAX_K,
        initial=DEFAULT_K,
        help_text=_(
            "When the results are published, any number based on fewer than k contributions is "
            "shown as “fewer than k”. 5 by default, never below 3."
        ),
    )
    window_from = forms.DateField(
        label=_("From (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    window_to = forms.DateField(
        label=_("To (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_(
            "Only contributions made on these days count (both included). Leave empty to count "
            "them all."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}-help"

    def clean(self):
        data = super().clean()
        start, end = data.get("window_from"), data.get("window_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The time window starts after it ends."))
        return data


def run_progress(run: DiagnosisRun) -> dict:
    """The run's state in words and numbers, for its page and its JSON endpoint."""
    done, total = run.steps_done, run.steps_total or 1
    if run.status == Status.QUEUED:
        text = _("Waiting for a worker to start the diagnosis…")
    elif run.status == Status.RUNNING and run.cancel_requested:
        text = _("Cancelling: the diagnosis stops at its next step…")
    elif run.status == Status.RUNNING:
        text = _("Step %(done)s of %(total)s done.") % {
            "done": number_format(done),
            "total": number_format(total),
        }
    elif run.status == Status.DONE:
        text = _("Done: the snapshot is ready.")
    elif run.status == Status.CANCELLED:
        text = _("Cancelled. Nothing was stored.")
    else:
        text = run.get_error_display() or DiagnosisRun.Error.FAILED.label
    percent = 100 if run.status == Status.DONE else math.floor(done * 100 / total)
    snapshot = run_snapshot(run) if run.status == Status.DONE else None
    return {
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "done": done if run.status != Status.DONE else total,
        "total": total,
        "percent": percent,
        "text": str(text),
        "finished": run.status not in DiagnosisRun.ACTIVE,
        "can_cancel": run.status in DiagnosisRun.ACTIVE and not run.cancel_requested,
        "result_url": reverse("diagnosis_runs:snapshot", args=[snapshot.pk]) if snapshot else "",
    }


def run_row(run: DiagnosisRun) -> dict:
    return {
        "run": run,
        "progress": run_progress(run),
        "url": reverse("diagnosis_runs:run", args=[run.pk]),
        "requested_by": (
            (run.requested_by.get_full_name() or run.requested_by.get_username())
            if run.requested_by
            else ""
        ),
        "parameters": run.parameters,
    }


class DiagnosisConsultationView(ConsultationAdminMixin, DiagnosisAdminView):
    forbidden_message = DIAGNOSIS_FORBIDDEN
    template_name = "diagnosis/admin/diagnosis_consultation.html"

    def post(self, request, *args, **kwargs):
        form = DiagnosisRunForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        try:
            run = diagnosis_run_start(
                page=self.page,
                user=request.user,
                k=form.cleaned_data["k"],
                window_from=form.cleaned_data["window_from"],
                window_to=form.cleaned_data["window_to"],
            )
        except DiagnosisRunRefused as refusal:
            form.add_error(None, refusal.message)
            return self.render_to_response(
                self.get_context_data(form=form, refused=refusal.active), status=409
            )
        return HttpResponseRedirect(reverse("diagnosis_runs:run", args=[run.pk]))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        key = self.page.translation_key
        diagnosis_runs_mark_interrupted()
        runs = list(
            DiagnosisRun.objects.filter(consultation_key=key).select_related(
                "requested_by", "snapshot"
            )[:RUNS_SHOWN]
        )
        active = next((run for run in runs if run.status in DiagnosisRun.ACTIVE), None)
        context.update(
            {
                "consultation": self.page,
                "form": kwargs.get("form") or DiagnosisRunForm(),
                "runs": [run_row(run) for run in runs],
                "active": run_row(active) if active else None,
                "translations": sorted(
                    self.page.get_translations(inclusive=True).values_list(
                        "locale__language_code", flat=True
                    )
                ),
            }
        )
        return context


# --- One run: progress, log, cancel ------------------------------------------------------------


def _run_for(request, run_id: int) -> tuple[DiagnosisRun, ConsultationPage]:
    run = get_object_or_404(
        DiagnosisRun.objects.select_related("consultation", "requested_by"), pk=run_id
    )
    return run, _page_for(request.user, run.consultation, run.consultation_key)


def _snapshot_for(request, snapshot_id: int) -> tuple[DiagnosisSnapshot, ConsultationPage]:
    snapshot = get_object_or_404(
        DiagnosisSnapshot.objects.select_related("run", "run__consultation"), pk=snapshot_id
    )
    return snapshot, _page_for(request.user, snapshot.run.consultation, snapshot.consultation_key)


def log_json(run: DiagnosisRun) -> list[dict]:
    return [
        {
            "at": (
                f"{date_format(timezone.localtime(line['at']), 'SHORT_DATE_FORMAT')} "
                f"{time_format(timezone.localtime(line['at']), 'H:i:s')}"
            )
            if line["at"]
            else "",
            "text": line["text"],
        }
        for line in log_lines(run)
    ]


class ConsultationPartView(DiagnosisAdminView):
    """A page about one run or snapshot of a consultation: loads it with an editable page of its
    consultation (else 403) and puts that consultation in the breadcrumbs.

    `loader(request, **url_kwargs)` gives (the object, the page): `_run_for` or `_snapshot_for`.
    """

    loader: Callable[..., tuple[object, ConsultationPage]]

    def get(self, request, *args, **kwargs):
        diagnosis_runs_mark_interrupted()
        try:
            self.object, self.page = self.loader(request, **kwargs)
        except PermissionDenied:
            return forbidden(request)
        return super().get(request, *args, **kwargs)

    def get_page_subtitle(self):
        return self.page.title

    def get_breadcrumbs_items(self):
        return [
            *super().get_breadcrumbs_items(),
            {
                "url": reverse("diagnosis_runs:consultation", args=[self.page.pk]),
                "label": self.page.title,
            },
            {"url": "", "label": self.page_title},
        ]


class DiagnosisRunView(ConsultationPartView):
    template_name = "diagnosis/admin/diagnosis_run.html"
    page_title = _("Diagnosis run")

    loader = staticmethod(_run_for)

    @property
    def run(self) -> DiagnosisRun:
        return self.object

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                **run_row(self.run),
                "consultation": self.page,
                "log": log_json(self.run),
                "progress_url": reverse("diagnosis_runs:run_progress", args=[self.run.pk]),
                "cancel_url": reverse("diagnosis_runs:run_cancel", args=[self.run.pk]),
                "consultation_url": reverse("diagnosis_runs:consultation", args=[self.page.pk]),
                "poll_milliseconds": POLL_MILLISECONDS,
                "cancel_refused": context.get("cancel_refused", ""),
            }
        )
        return context


def run_progress_view(request, run_id: int):
    """GET: the run's progress and log as JSON, polled by the run page."""
    diagnosis_runs_mark_interrupted()
    try:
        run, _page = _run_for(request, run_id)
    except PermissionDenied:
        return JsonResponse({"error": str(_("Not allowed."))}, status=403)
    response = JsonResponse({**run_progress(run), "log": log_json(run)})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def run_cancel_view(request, run_id: int):
    """POST: cancel the run (at once if it waits, at its next step if it works)."""
    try:
        run, _page = _run_for(request, run_id)
    except PermissionDenied:
        return forbidden(request)
    try:
        diagnosis_run_cancel(run=run, user=request.user)
    except DiagnosisRunRefused as refusal:
        view = DiagnosisRunView.as_view(extra_context={"cancel_refused": refusal.message})
        request.method = "GET"
        response = view(request, run_id=run_id)
        response.status_code = 409
        return response
    return HttpResponseRedirect(reverse("diagnosis_runs:run", args=[run_id]))


# --- One snapshot: its tables ------------------------------------------------------------------


def _number(value, places: int = 2) -> str:
    return "—" if value is None else number_format(value, decimal_pos=places)


def _percent(value) -> str:
    return "—" if value is None else f"{number_format(value * 100, decimal_pos=1)} %"


def _interval(low, high) -> str:
    if low is None or high is None:
        return "—"
    return f"{number_format(low * 100, decimal_pos=1)}–{number_format(high * 100, decimal_pos=1)} %"


def _change(now, before) -> str:
    """A share's change in percentage points, signed."""
    if now is None or before is None:
        return "—"
    points = (now - before) * 100
    return f"{'+' if points > 0 else ''}{number_format(points, decimal_pos=1)}"


# What each table shows after its keys, count and "out of": (header, cell from a result row).
# Tables not listed show the plain share.
SHARE_COLUMNS = [(_("Share"), lambda row: _percent(row["value"]))]
PERCEPTION_COLUMNS = [
    (_("Share"), lambda row: _percent(row["value"])),
    (_("Interval (95 %)"), lambda row: _interval(row["low"], row["high"])),
    (_("Left out (don’t know, prefer not to say…)"), lambda row: row["detail"].get("excluded")),
]
VALUE_COLUMNS: dict[str, list[tuple]] = {
    "perception": PERCEPTION_COLUMNS,
    "perception_by_gender": PERCEPTION_COLUMNS,
    "perception_by_age": PERCEPTION_COLUMNS,
    "perception_weighted": [
        (_("Weighted share"), lambda row: _percent(row["value"])),
        (_("Interval (95 %)"), lambda row: _interval(row["low"], row["high"])),
        (_("Effective sample size"), lambda row: _number(row["detail"].get("n_effective"), 1)),
        (_("Population covered"), lambda row: _percent(row["detail"].get("population_coverage"))),
    ],
    "participation_profile": [
        (_("Representativeness index (0–1)"), lambda row: _number(row["value"])),
        (_("Heard less than their number"), lambda row: row["under_heard"]),
    ],
    "hotspots": [
        (_("Expected"), lambda row: _number(row["detail"].get("expected"), 1)),
        (_("Seen / expected"), lambda row: _number(row["value"])),
        (_("Adjusted p-value"), lambda row: _number(row["detail"].get("p_adjusted"), 3)),
        (
            _("More than expected"),
            lambda row: _("yes") if row["detail"].get("significant") else "—",
        ),
    ],
    "walk_scores": [
        (_("Mean score (0–3)"), lambda row: _number(row["value"])),
        (
            _("Stops scoring 0 · 1 · 2 · 3"),
            lambda row: " · ".join(
                str(row["detail"].get("distribution", {}).get(score, 0))
                for score in ("0", "1", "2", "3")
            ),
        ),
    ],
    "change_area_category": [
        (_("Share now"), lambda row: _percent(row["value"])),
        (
            _("Share in the previous round"),
            lambda row: _percent(row["detail"].get("previous_value")),
        ),
        (
            _("Previous round: count / out of"),
            lambda row: (
                f"{row['detail'].get('previous_count')} / {row['detail'].get('previous_total')}"
            ),
        ),
        (
            _("Change (points)"),
            lambda row: _change(row["value"], row["detail"].get("previous_value")),
        ),
    ],
    "change_perception": [
        (_("Share now"), lambda row: _percent(row["value"])),
        (_("Interval (95 %)"), lambda row: _interval(row["low"], row["high"])),
        (
            _("Share in the previous round"),
            lambda row: _percent(row["detail"].get("previous_value")),
        ),
        (
            _("Previous interval (95 %)"),
            lambda row: _interval(
                row["detail"].get("previous_low"), row["detail"].get("previous_high")
            ),
        ),
        (
            _("Change (points)"),
            lambda row: _change(row["value"], row["detail"].get("previous_value")),
        ),
    ],
}


def _under_heard(detail: dict) -> str:
    """The strata whose share of participants is under half their share of residents."""
    sexes = dict(Sex.choices)
    bands = dict(AgeBand.choices)
    return (
        ", ".join(
            f"{sexes.get(cell['sex'], cell['sex'])} {bands.get(cell['age_band'], cell['age_band'])}"
            for cell in detail.get("cells", [])
            if cell.get("population") and (cell.get("ratio") or 0) < 0.5
        )
        or "—"
    )


def snapshot_tables(snapshot: DiagnosisSnapshot) -> list[dict]:
    """Each table of the snapshot with its rows labelled in the reader's language."""
    results = [
        dict(zip(RESULT_COLUMNS, values, strict=True))
        for values in DiagnosisResult.objects.filter(snapshot=snapshot)
        .order_by("position")
        .values_list(*RESULT_COLUMNS)
    ]
    categories = categories_localized(
        keys={row["category_key"] for row in results if row["category_key"]}
    )
    areas = dict(
        Area.objects.filter(
            pk__in={row["area_id"] for row in results if row["area_id"]}
        ).values_list("pk", "name")
    )
    by_table: dict[str, list] = {}
    for row in results:
        by_table.setdefault(row["table"], []).append(row)
    tables = []
    for code, table in TABLES.items():
        group_labels = table.group_labels() if table.group_labels else {}
        subgroup_labels = table.subgroup_labels() if table.subgroup_labels else {}
        group_order = {value: i for i, value in enumerate(group_labels)}
        subgroup_order = {value: i for i, value in enumerate(subgroup_labels)}
        value_columns = VALUE_COLUMNS.get(code, SHARE_COLUMNS)
        rows = []
        for result in by_table.get(code, []):
            area_id, key = result["area_id"], result["category_key"]
            group, subgroup = result["group"], result["subgroup"]
            cells, order = [], []
            for column in table.columns:
                if column == "area":
                    name = areas.get(area_id, "") if area_id else str(_("No area given"))
                    cells.append(name)
                    order.append((area_id is None, name.lower()))
                elif column == "cell":
                    cells.append(f"{result['cell_x']}, {result['cell_y']}")
                    # Flagged cells first, then by how far above expectation.
                    detail = result["detail"]
                    order.append(
                        (not detail.get("significant"), -(result["value"] or 0), result["cell_x"])
                        if code == "hotspots"
                        else (result["cell_x"], result["cell_y"])
                    )
                elif column == "category":
                    category = categories.get(key)
                    name = category.name if category else str(key)
                    cells.append(name)
                    order.append((category.sort_order if category else 0, name.lower()))
                elif column == "group":
                    cells.append(group_labels.get(group, group))
                    order.append((group_order.get(group, len(group_order)), group))
                else:
                    cells.append(subgroup_labels.get(subgroup, subgroup))
                    order.append((subgroup_order.get(subgroup, len(subgroup_order)), subgroup))
            if code == "participation_profile":
                result["under_heard"] = _under_heard(result["detail"])
            rows.append(
                {
                    "order": order,
                    "cells": cells,
                    "count": result["count"],
                    "total": result["total"],
                    "values": [column(result) for _header, column in value_columns],
                    "flagged": code == "hotspots" and bool(result["detail"].get("significant")),
                }
            )
        # Stored rows are ordered by keys (reproducible); people read them by name and in the
        # order of the choices, "not stated" last.
        rows.sort(key=lambda row: row["order"])
        headers = [
            {
                "area": _("Area"),
                "cell": _("Grid cell (x, y)"),
                "category": _("Category"),
                "group": table.group_label,
                "subgroup": table.subgroup_label,
            }[column]
            for column in table.columns
        ]
        tables.append(
            {
                "code": code,
                "label": table.label,
                "total_label": table.total_label,
                "headers": headers,
                "value_headers": [header for header, _column in value_columns],
                "rows": rows,
            }
        )
    return tables


class DiagnosisSnapshotView(ConsultationPartView):
    template_name = "diagnosis/admin/diagnosis_snapshot.html"
    page_title = _("Diagnosis snapshot")

    loader = staticmethod(_snapshot_for)

    @property
    def snapshot(self) -> DiagnosisSnapshot:
        return self.object

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = self.snapshot.input_counts
        context.update(
            {
                "snapshot": self.snapshot,
                "consultation": self.page,
                "parameters": self.snapshot.parameters,
                "input_counts": [
                    (_("Approved concerns"), counts.get("concerns")),
                    (_("… with an area"), counts.get("concerns_with_area")),
                    (_("… with a point on the map"), counts.get("concerns_with_point")),
                    (
                        _("Concerns awaiting moderation (not included)"),
                        counts.get("concerns_pending"),
                    ),
                    (_("Questionnaire responses"), counts.get("questionnaire_responses")),
                ],
                "previous_url": (
                    reverse("diagnosis_runs:snapshot", args=[counts["previous_snapshot"]])
                    if counts.get("previous_snapshot")
                    else ""
                ),
                "tables": snapshot_tables(self.snapshot),
                "run_url": reverse("diagnosis_runs:run", args=[self.snapshot.run_id]),
            }
        )
        return context


# --- URLs -------------------------------------------------------------------------------------

urlpatterns = [
    path("", DiagnosisIndexView.as_view(), name="index"),
    path("<int:page_id>/", DiagnosisConsultationView.as_view(), name="consultation"),
    path("runs/<int:run_id>/", DiagnosisRunView.as_view(), name="run"),
    path("runs/<int:run_id>/progress/", run_progress_view, name="run_progress"),
    path("runs/<int:run_id>/cancel/", run_cancel_view, name="run_cancel"),
    path("snapshots/<int:snapshot_id>/", DiagnosisSnapshotView.as_view(), name="snapshot"),
]


@hooks.register("register_admin_urls")
def register_diagnosis_urls():
    return [path("diagnosis/", include((urlpatterns, "diagnosis_runs")))]
