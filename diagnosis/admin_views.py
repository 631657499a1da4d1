"""Wagtail admin views for concerns: the moderation queue, inspect, decide, enter on paper.

Each view is thin: moderation goes through `concern_moderate`/`concern_moderate_bulk` and staff
entry through `concern_submit`, so the admin obeys exactly the rules the public form obeys. The
moderation queue, decision page, bulk actions and History are the shared moderation admin of
`maps.moderation_admin`, told about concerns by `CONCERN_MODERATION`; this module adds what a
moderator reads about one concern and the paper-entry form.

Concerns are read-only in the admin. What a resident wrote is theirs: no one (superusers
included) edits it, and the edit URL shows the concern instead. A moderator who finds personal
data or abuse in it hides the concern with a reason; a facilitator who mistyped a paper form
asks a moderator to reject the wrong entry (with that reason) and enters it again.
"""

import json
import uuid

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from wagtail.admin import messages
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.log_actions import log
from wagtail.snippets.views.snippets import CreateView

from maps.moderation import moderation_queue_order
from maps.moderation_admin import (
    DecisionSentences,
    ModeratedKind,
    ModerationInspectView,
    user_label,
)
from maps.widgets import AreaMapWidget

from .filters import area_choices, category_choices
from .models import Concern
from .pages import ConsultationPage
from .services import ConcernRejected, concern_submit
from .services.moderation import POLICY, concern_moderate, concern_moderate_bulk

CONCERN_MODERATION = ModeratedKind(
    policy=POLICY,
    moderate=lambda concern, **decision: concern_moderate(concern=concern, **decision),
    moderate_bulk=lambda concerns, **decision: concern_moderate_bulk(concerns=concerns, **decision),
    forbidden_message=_("Only moderators can approve, reject or hide concerns."),
    reason_help=_("Required to reject or hide. Kept in the concern's history."),
    bulk_reason_help=_("Recorded in the history of every selected concern."),
    bulk_reason_note=_(
        "A reason is required. It is recorded in the history of every selected concern; "
        "nothing is deleted."
    ),
    done_message=_("Concern %(reference)s: %(status)s."),
    summary_template="diagnosis/admin/_concern_summary.html",
    bulk_item_template="diagnosis/admin/_concern_bulk_item.html",
    decisions={
        Concern.Status.APPROVED: DecisionSentences(
            log_label=_("Approve concern"),
            bulk_label=_("Approve the selected concerns"),
            bulk_intro=ngettext_lazy(
                "You are about to approve this concern:",
                "You are about to approve these %(count)d concerns:",
                "count",
            ),
            bulk_done=ngettext_lazy(
                "%(count)d concern approved.", "%(count)d concerns approved.", "count"
            ),
        ),
        Concern.Status.REJECTED: DecisionSentences(
            log_label=_("Reject concern"),
            bulk_label=_("Reject the selected concerns"),
            bulk_intro=ngettext_lazy(
                "You are about to reject this concern:",
                "You are about to reject these %(count)d concerns:",
                "count",
            ),
            bulk_done=ngettext_lazy(
                "%(count)d concern rejected.", "%(count)d concerns rejected.", "count"
            ),
        ),
        Concern.Status.HIDDEN: DecisionSentences(
            log_label=_("Hide concern"),
            bulk_label=_("Hide the selected concerns"),
            bulk_intro=ngettext_lazy(
                "You are about to hide this concern:",
                "You are about to hide these %(count)d concerns:",
                "count",
            ),
            bulk_done=ngettext_lazy(
                "%(count)d concern hidden.", "%(count)d concerns hidden.", "count"
            ),
        ),
    },
    related=("category", "consultation", "area", "entered_by"),
    index_label=_("Concerns"),
    back_label=_("Back to concerns"),
)


def moderation_queue(queryset):
    """Pending concerns first, oldest first (a fair queue); decided ones after, newest first."""
    return moderation_queue_order(
        queryset.select_related("category", "consultation", "area"), arrived="submitted_at"
    )


# --- Forms ------------------------------------------------------------------------------------


class ConcernPointWidget(AreaMapWidget):
    """The admin map widget of `maps` (media and sizing solved there), used to drop one pin."""

    settings_overrides = {"DEFAULT_ZOOM": 14}


class ConcernEntryForm(WagtailAdminModelForm):
    """What a facilitator copies from a resident at a session or from a paper form.

    Never saved directly: the view passes the cleaned data to `concern_submit`. The photo is a
    plain file field so that `photo_clean` (size limits, re-encoding, its messages) is its only
    gate, as on the public form. `entry_key` makes a double click store one concern, not two.
    """

    entry_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    source = forms.ChoiceField(
        label=_("source"),
        choices=[
            (Concern.Source.PAPER, Concern.Source.PAPER.label),
            (Concern.Source.FACILITATOR, Concern.Source.FACILITATOR.label),
        ],
        initial=Concern.Source.PAPER,
        widget=forms.RadioSelect,
    )
    language = forms.ChoiceField(
        label=_("language"),
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
        help_text=_("The language the resident used."),
    )
    affected = forms.MultipleChoiceField(
        label=_("who is affected"),
        choices=Concern.Affected.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    photo = forms.FileField(
        label=_("photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        consultation = self.fields["consultation"]
        consultation.queryset = ConsultationPage.objects.select_related("locale").order_by("title")
        consultation.label_from_instance = lambda page: (
            f"{page.title} ({page.locale.language_code})"
        )
        self.fields["category"].queryset = category_choices()
        self.fields["area"].queryset = area_choices()
        self.fields["area"].help_text = _(
            "If there is no pin: the area of the consultation where it happens."
        )
        self.fields["point"].help_text = _(
            "Optional. If you drop a pin, the area is found from it."
        )


# --- Inspect, paper entry -----------------------------------------------------------------------


class ConcernInspectView(ModerationInspectView):
    """What the resident reported, where and when, and the decision form under it."""

    template_name = "diagnosis/admin/concern_inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        concern = self.object
        affected = dict(Concern.Affected.choices)
        context.update(
            {
                "concern": concern,
                "affected_labels": [affected.get(key, key) for key in concern.affected],
                "entered_by": concern.entered_by and user_label(concern.entered_by),
                "map_data": self._map_data(concern),
            }
        )
        return context

    @staticmethod
    def _map_data(concern: Concern) -> dict | None:
        if concern.point is None and concern.area is None:
            return None
        return {
            "point": [concern.point.y, concern.point.x] if concern.point else None,
            "area": json.loads(concern.area.geometry.geojson) if concern.area else None,
        }


class ConcernCreateView(CreateView):
    """A facilitator enters a concern on a resident's behalf, through `concern_submit`.

    The consultation may be closed (paper forms arrive after closing), hence `enforce_open=False`;
    every other rule (category of the consultation, point inside its areas, photo cleaning)
    applies. The area is assigned from the pin server-side.
    """

    template_name = "diagnosis/admin/concern_create.html"
    success_message = _("Concern %(object)s saved; it now waits for moderation.")

    def get_success_buttons(self):
        return [messages.button(CONCERN_MODERATION.url(self.object, "inspect"), _("View"))]

    def get_edit_url(self):
        return CONCERN_MODERATION.url(self.object, "inspect")

    def form_valid(self, form):
        self.form = form
        data = form.cleaned_data
        try:
            result = concern_submit(
                consultation=data["consultation"],
                category=data["category"],
                idempotency_key=data["entry_key"],
                language=data["language"],
                description=data.get("description") or "",
                point=data.get("point"),
                area=data.get("area"),
                place_description=data.get("place_description") or "",
                time_band=data.get("time_band") or "",
                day_type=data.get("day_type") or "",
                frequency=data.get("frequency") or "",
                affected=data.get("affected") or [],
                gender=data.get("gender") or "",
                gender_description=data.get("gender_description") or "",
                age_band=data.get("age_band") or "",
                photo=data.get("photo") or None,
                source=data["source"],
                entered_by=self.request.user,
                enforce_open=False,
            )
        except ConcernRejected as refusal:
            form.add_error(refusal.field if refusal.field in form.fields else None, refusal)
            self.produced_error_message = self.get_error_message()
            return self.form_invalid(form)
        self.object = result.concern
        if result.created:
            log(self.object, "wagtail.create", user=self.request.user)
        return self.save_action()

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response
