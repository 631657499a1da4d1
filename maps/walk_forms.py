"""Forms of the safety-walk field page: joining a walk with its code, and recording one stop.

The stop form serves three entry paths with one set of rules: the page posted without JavaScript
(the place is picked from a "where along the route" list), the page with JavaScript (a point from
GPS or a tap, sent to the stops endpoint from the phone's offline queue), and a replay of that
queue. It only checks what the person can fix on the page; the walk's own rules (the place is on
the walk, the photo is a real image, each key stored once) belong to `maps.walks.walk_stop_record`,
and the views put its refusals next to these fields.
"""

import math
import uuid

from django import forms
from django.contrib.gis.geos import Point
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .geometry import point_from_fields
from .models import WALK_PARAMETERS, SafetyWalk, WalkScore, WalkStop

# Where along the route a stop is, for phones without JavaScript (or people who prefer a list):
# value, label. The value is the fraction of the route's length from the meeting point.
ALONG_CHOICES = [
    ("0", pgettext_lazy("along the route", "At the start")),
    ("0.25", pgettext_lazy("along the route", "A quarter of the way")),
    ("0.5", pgettext_lazy("along the route", "Halfway")),
    ("0.75", pgettext_lazy("along the route", "Three quarters of the way")),
    ("1", pgettext_lazy("along the route", "At the end")),
]
NOT_OBSERVED = ""
SCORE_CHOICES = [
    (NOT_OBSERVED, _("Not observed")),
    *((str(v), label) for v, label in WalkScore.choices),
]
# The service's messages, reused word for word so each is translated once.
SCORE_INVALID = _("Each score is 0, 1, 2 or 3, or “not observed”.")
FEELING_REQUIRED = _("Say how safe you felt here.")
# Errors about the place, shown together in the "where" part of the page (and as "point" in JSON).
WHERE_FIELDS = ("latitude", "longitude", "along", "located_by")
MAX_ACCURACY_M = 100_000


def route_positions(walk: SafetyWalk) -> list[dict]:
    """The "where along the route" choices with their points, computed from the drawn route."""
    if walk.route is None:
        return []
    positions = []
    for value, label in ALONG_CHOICES:
        point = walk.route.interpolate_normalized(float(value))
        positions.append({"value": value, "label": label, "lat": point.y, "lon": point.x})
    return positions


class WalkJoinForm(forms.Form):
    """A participant types the code the facilitator gave out (on paper, aloud, or in a QR link)."""

    code = forms.CharField(
        label=_("The walk's access code"),
        help_text=_("Eight letters and numbers, for example K7QM 3XPA. Spaces do not matter."),
        max_length=32,
        error_messages={"required": _("Type the access code the facilitator gave you.")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "inputmode": "text",
            }
        ),
    )


class WalkStopForm(forms.Form):
    """One stop: where, how it felt (required), the eight audit scores, hazards, notes, photo."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, required=False)
    latitude = forms.CharField(widget=forms.HiddenInput, required=False, max_length=32)
    longitude = forms.CharField(widget=forms.HiddenInput, required=False, max_length=32)
    located_by = forms.CharField(widget=forms.HiddenInput, required=False, max_length=10)
    accuracy_m = forms.CharField(widget=forms.HiddenInput, required=False, max_length=32)
    recorded_at = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    along = forms.ChoiceField(
        label=_("Where along the route?"),
        choices=[("", _("— Choose a place on the route —")), *ALONG_CHOICES],
        required=False,
    )
    feeling = forms.ChoiceField(
        label=_("How safe did you feel here?"),
        choices=WalkStop.Feeling.choices,
        widget=forms.RadioSelect,
        error_messages={"required": FEELING_REQUIRED, "invalid_choice": FEELING_REQUIRED},
    )
    hazards = forms.MultipleChoiceField(
        label=_("Hazards you see here (choose all that apply)"),
        choices=WalkStop.Hazard.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": _("Choose hazards from the list.")},
    )
    notes = forms.CharField(
        label=_("Notes (optional)"),
        help_text=_("What you see and why. Please do not write names or describe people."),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
        max_length=2000,
        required=False,
        error_messages={"max_length": _("The notes are too long (at most 2,000 characters).")},
    )
    photo = forms.FileField(
        label=_("A photo of the place (optional)"),
        help_text=_(
            "Of the place, not of people. We remove the location and camera details stored in "
            "the file."
        ),
        widget=forms.FileInput(attrs={"accept": "image/*", "capture": "environment"}),
        required=False,
    )

    def __init__(self, *args, walk: SafetyWalk, key_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.walk = walk
        # The offline queue always sends the key it made when the stop was recorded; without
        # one a replay could not be recognised, so the endpoint insists on it.
        self.key_required = key_required
        for name, label, help_text in WALK_PARAMETERS:
            self.fields[name] = forms.ChoiceField(
                label=label,
                help_text=help_text,
                choices=SCORE_CHOICES,
                widget=forms.RadioSelect,
                required=False,
                initial=NOT_OBSERVED,
                error_messages={"invalid_choice": SCORE_INVALID},
            )
        if walk.route is None:
            del self.fields["along"]

    # --- Presentation helpers for the template -----------------------------------------------

    def parameter_fields(self) -> list[forms.BoundField]:
        return [self[name] for name, _label, _help in WALK_PARAMETERS]

    def parameter_rows(self) -> list[dict]:
        """Each parameter with its options split into the number (shown big) and its word.

        The radio's accessible name stays the whole label ("0 – poor"); a translation that does
        not use the dash simply shows its whole label.
        """
        rows = []
        for field in self.parameter_fields():
            options = []
            for radio in field:
                label = str(radio.choice_label)
                number, dash, word = label.partition("–")
                if not dash or not number.strip().isdigit():
                    number, word = "", label
                options.append({"radio": radio, "number": number.strip(), "word": word.strip()})
            rows.append({"field": field, "options": options})
        return rows

    def where_errors(self) -> list[str]:
        messages = []
        for name in WHERE_FIELDS:
            messages.extend(self.errors.get(name, []))
        return list(dict.fromkeys(messages))

    def error_list(self) -> list[dict]:
        """Every error with the anchor it links to, in the order the fields appear on the page."""
        items = [{"anchor": "stop-form", "message": m} for m in self.non_field_errors()]
        items += [{"anchor": "where", "message": m} for m in self.where_errors()]
        order = [
            "feeling",
            *(name for name, _l, _h in WALK_PARAMETERS),
            "hazards",
            "notes",
            "photo",
        ]
        anchors = {
            "feeling": "feeling",
            "hazards": "hazards",
            "notes": "id_notes",
            "photo": "id_photo",
        }
        for name in order:
            for message in self.errors.get(name, []):
                items.append({"anchor": anchors.get(name, f"score-{name}"), "message": message})
        return items

    def errors_json(self) -> dict[str, list[str]]:
        """Errors for the stops endpoint: the place's errors under "point", the rest by field."""
        result: dict[str, list[str]] = {}
        for name, messages in self.errors.items():
            key = "point" if name in WHERE_FIELDS else name
            result.setdefault(key, [])
            result[key].extend(m for m in messages if m not in result[key])
        return result

    # --- Cleaning ----------------------------------------------------------------------------

    def clean_idempotency_key(self) -> uuid.UUID:
        key = self.cleaned_data.get("idempotency_key")
        if key is None and self.key_required:
            raise forms.ValidationError(_("This stop has no key; record it again."))
        # From the page without JavaScript a missing or tampered key is not the person's to fix.
        return key or uuid.uuid4()

    def clean_accuracy_m(self) -> float | None:
        # The phone's own estimate; a missing or odd value is not worth refusing a stop over.
        try:
            value = float(self.cleaned_data.get("accuracy_m") or "")
        except ValueError:
            return None
        return round(value, 1) if math.isfinite(value) and 0 <= value <= MAX_ACCURACY_M else None

    def clean_recorded_at(self):
        # The phone's clock, kept when a queue syncs hours later; unreadable means "now".
        raw = (self.cleaned_data.get("recorded_at") or "").strip()
        try:
            value = parse_datetime(raw) if raw else None
        except ValueError:
            value = None
        if value is not None and is_naive(value):
            value = make_aware(value)
        return value

    def clean(self):
        cleaned = super().clean()
        located_by = (cleaned.get("located_by") or "").strip()
        try:
            cleaned["point"] = point_from_fields(cleaned.get("latitude"), cleaned.get("longitude"))
        except ValueError:
            cleaned["point"] = None
            self.add_error(
                "latitude",
                _("The position of the stop is not valid. Place the stop again on the map."),
            )
        if cleaned["point"] is not None:
            if located_by not in WalkStop.Located.values:
                located_by = WalkStop.Located.MAP
        elif cleaned.get("along") and self.walk.route is not None:
            point = self.walk.route.interpolate_normalized(float(cleaned["along"]))
            cleaned["point"] = Point(point.x, point.y, srid=4326)
            located_by = WalkStop.Located.ROUTE
        if cleaned["point"] is None and not self.has_error("latitude"):
            # Said here as well as by the service, so the person sees every problem at once.
            self.add_error(
                "along" if "along" in self.fields else "latitude",
                _("Mark where the stop is: use your location or tap the route."),
            )
        cleaned["located_by"] = located_by or WalkStop.Located.MAP
        cleaned["scores"] = {
            name: cleaned.get(name, NOT_OBSERVED) for name, _label, _help in WALK_PARAMETERS
        }
        return cleaned
