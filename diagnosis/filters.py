"""Filters for the moderation queue in the Wagtail admin.

Consultations and categories are matched by *translation key*: a concern made on the French page
of a consultation, in the French row of a category, belongs to the same queue as the Spanish ones.
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.models import Locale

from maps.models import Area

from .models import Concern, ConcernCategory
from .pages import ConsultationPage


def _default_locale_first(queryset):
    """One row per translation group: the default language's when it exists."""
    try:
        default = Locale.get_default()
    except Locale.DoesNotExist:
        return queryset
    in_default = queryset.filter(locale=default)
    return in_default if in_default.exists() else queryset


def consultation_choices(request=None):
    return _default_locale_first(ConsultationPage.objects.all()).order_by("title")


def category_choices(request=None):
    return _default_locale_first(ConcernCategory.objects.all()).order_by("sort_order", "name")


def area_choices(request=None):
    # Only areas some consultation covers: a city's thousand blocks would drown the select.
    return Area.objects.filter(consultations__isnull=False).distinct().order_by("name")


class ConcernFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Concern.Status.choices, empty_label=_("All")
    )
    consultation = django_filters.ModelChoiceFilter(
        label=_("Consultation"),
        queryset=consultation_choices,
        method="filter_consultation",
        empty_label=_("All"),
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=category_choices,
        method="filter_category",
        empty_label=_("All"),
    )
    area = django_filters.ModelChoiceFilter(
        label=_("Area"), queryset=area_choices, empty_label=_("All")
    )
    source = django_filters.ChoiceFilter(
        label=_("Source"), choices=Concern.Source.choices, empty_label=_("All")
    )

    class Meta:
        model = Concern
        fields = ["status", "consultation", "category", "area", "source"]

    def filter_consultation(self, queryset, name, value):
        return queryset.filter(consultation_key=value.translation_key)

    def filter_category(self, queryset, name, value):
        return queryset.filter(category_key=value.translation_key)
