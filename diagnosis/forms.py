"""The resident's concern form: what, where, when, who, and an optional photo.

The form only checks what a resident can fix on the page (a choice missing, a pin that is not a
number). The rules of the consultation — category enabled, point inside its areas, photo a real
image — are the submit service's, so every entry path obeys them; the view turns its refusals into
errors on these fields.
"""

import uuid

from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from maps.geometry import point_from_fields
from maps.models import Area

from .models import Concern, ConcernCategory
from .pages import ConsultationPage
from .selectors import categories_localized
from .services.concerns import (
    CategoryChoice,
    consultation_area_ids,
    consultation_category_choice,
    consultation_category_keys,
)

# Where each field's error message links to from the summary at the top of the page.
ERROR_ANCHORS = {
    "category": "category-group",
    "latitude": "where",
    "longitude": "where",
    "area": "id_area",
    "place_description": "id_place_description",
    "description": "id_description",
    "time_band": "when",
    "day_type": "when",
    "frequency": "when",
    "affected": "affected",
    "gender": "about-you",
    "gender_description": "id_gender_description",
    "age_band": "id_age_band",
    "photo": "id_photo",
}


def consultation_categories(*, consultation: ConsultationPage) -> list[ConcernCategory]:
    """The consultation's categories, one per translation key, in the reader's language.

    Editors may pick categories in any language on any translation of the page; what counts is the
    translation key.
    """
    chosen = categories_localized(keys=consultation_category_keys(consultation))
    return sorted(chosen.values(), key=lambda c: (c.sort_order, c.name.casefold()))


def consultation_areas(*, consultation: ConsultationPage):
    """The consultation's areas for lists and choices: names only, boundaries stay in the DB."""
    return (
        Area.objects.filter(pk__in=consultation_area_ids(consultation))
        .defer("geometry")
        .order_by("name")
    )


class ConcernForm(forms.Form):
    """One resident's concern. Only the category and some indication of place are required."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, required=False)
    category = forms.CharField(
        label=_("What is it about?"),
        error_messages={"required": _("Please choose what your report is about.")},
    )
    description = forms.CharField(
        label=_("Tell us what happens (optional)"),
        help_text=_("Please do not write names or anything that could identify a person."),
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 2000}),
        max_length=2000,
        required=False,
    )
    latitude = forms.CharField(widget=forms.HiddenInput, required=False)
    longitude = forms.CharField(widget=forms.HiddenInput, required=False)
    area = forms.ModelChoiceField(
        label=_("Choose the area"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=_("— Choose an area —"),
    )
    place_description = forms.CharField(
        label=_("Or describe the place"),
        help_text=_("For example: the footbridge over the canal on 63rd Street."),
        max_length=300,
        required=False,
    )
    time_band = forms.ChoiceField(
        label=_("At what time?"),
        choices=Concern.TimeBand.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    day_type = forms.ChoiceField(
        label=_("Which days?"),
        choices=Concern.DayType.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    frequency = forms.ChoiceField(
        label=_("How often?"),
        choices=Concern.Frequency.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    affected = forms.MultipleChoiceField(
        label=_("Who is affected? (optional, choose all that apply)"),
        choices=Concern.Affected.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    gender = forms.ChoiceField(
        label=_("Your gender"),
        choices=Concern.Gender.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    gender_description = forms.CharField(
        label=_("In your words"),
        max_length=60,
        required=False,
    )
    age_band = forms.ChoiceField(
        label=_("Your age"),
        choices=[("", "—"), *Concern._meta.get_field("age_band").choices],
        required=False,
    )
    photo = forms.FileField(
        label=_("A photo of the place (optional)"),
        help_text=_(
            "A photo of the place, not of people. At most 10 MB. We remove the location and "
            "camera details stored in the file."
        ),
        widget=forms.FileInput(attrs={"accept": "image/*"}),
        required=False,
    )

    def __init__(self, *args, consultation: ConsultationPage, **kwargs):
        super().__init__(*args, **kwargs)
        self.consultation = consultation
        self.fields["area"].queryset = consultation_areas(consultation=consultation)
        self.fields["area"].label_from_instance = lambda area: area.name
        self.fields["gender_description"].widget.attrs["maxlength"] = 60

    # --- Presentation helpers for the template -----------------------------------------------

    @cached_property
    def categories(self) -> list[ConcernCategory]:
        # Only needed to draw the form; a valid POST never pays for ranking the translations.
        return consultation_categories(consultation=self.consultation)

    def category_groups(self) -> list[dict]:
        """Categories split into risks and assets, each with its radio's id and checked state."""
        selected = str(self["category"].value() or "")
        selected_key = None
        if selected.isdigit():
            row = ConcernCategory.objects.filter(pk=int(selected)).first()
            selected_key = row.translation_key if row else None
        groups = [
            {
                "kind": ConcernCategory.Kind.RISK,
                "title": _("Something that makes people feel unsafe"),
                "items": [],
            },
            {
                "kind": ConcernCategory.Kind.ASSET,
                "title": _("Something that makes people feel safer"),
                "items": [],
            },
        ]
        for category in self.categories:
            group = groups[0] if category.kind == ConcernCategory.Kind.RISK else groups[1]
            group["items"].append(
                {
                    "category": category,
                    "id": f"id_category_{category.pk}",
                    "checked": category.translation_key == selected_key,
                }
            )
        return [group for group in groups if group["items"]]

    def error_list(self) -> list[dict]:
        """Every error with the anchor it links to, in the order the fields appear."""
        items = [{"anchor": "concern-form", "message": m} for m in self.non_field_errors()]
        seen = set()
        for name in self.fields:
            for message in self.errors.get(name, []):
                if (message, ERROR_ANCHORS.get(name)) in seen:
                    continue
                seen.add((message, ERROR_ANCHORS.get(name)))
                items.append({"anchor": ERROR_ANCHORS.get(name, f"id_{name}"), "message": message})
        return items

    def where_errors(self) -> list[str]:
        return list(
            dict.fromkeys([*self.errors.get("latitude", []), *self.errors.get("longitude", [])])
        )

    # --- Cleaning ----------------------------------------------------------------------------

    def clean_idempotency_key(self) -> uuid.UUID:
        # A missing or tampered key is not something a resident can fix: give the request its own.
        return self.cleaned_data.get("idempotency_key") or uuid.uuid4()

    def clean_category(self) -> CategoryChoice:
        value = self.cleaned_data["category"]
        category = (
            consultation_category_choice(self.consultation, int(value))
            if value.isdigit() and len(value) < 12
            else None
        )
        if category is None:
            raise forms.ValidationError(_("Please choose one of the categories listed."))
        return category

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["point"] = point_from_fields(cleaned.get("latitude"), cleaned.get("longitude"))
        except ValueError:
            cleaned["point"] = None
            self.add_error(
                "latitude",
                _(
                    "The position of the pin is not valid. Please place the pin again, or "
                    "choose an area or describe the place instead."
                ),
            )
        if cleaned.get("gender") != Concern.Gender.OTHER:
            cleaned["gender_description"] = ""
        return cleaned
