"""The commitment editor's form, and the problems and statuses it offers.

Imported by `cms.models.programmes` for `CommitmentPage.base_form_class`, so the models are
loaded inside the functions.
"""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm


def default_status():
    """The first status of the list in the default language: what a new commitment starts at."""
    from .models import CommitmentStatus

    return (
        CommitmentStatus.objects.filter(locale__language_code=settings.LANGUAGE_CODE).first()
        or CommitmentStatus.objects.first()
    )


def programme_problems(programme, *, locale=None):
    """The problems a programme's commitments can answer: those of the results pages it answers
    (in any of their languages), in `locale` when they have been translated into it."""
    from .models import ResultsPage, ResultsProblem

    keys = ResultsPage.objects.filter(
        pk__in=programme.diagnoses.values_list("pk", flat=True)
    ).values_list("translation_key", flat=True)
    problems = ResultsProblem.objects.filter(
        page__in=ResultsPage.objects.filter(translation_key__in=list(keys))
    ).select_related("page", "locale")
    if locale is not None:
        chosen = {}
        for problem in problems.order_by("pk"):
            current = chosen.get(problem.translation_key)
            if current is None or (
                problem.locale_id == locale.pk and current.locale_id != locale.pk
            ):
                chosen[problem.translation_key] = problem
        return ResultsProblem.objects.filter(pk__in=[p.pk for p in chosen.values()])
    return problems


class CommitmentPageForm(WagtailAdminPageForm):
    """The commitment editor's form (`CommitmentPage.base_form_class`): offers only the problems
    of the diagnoses its programme answers and the other commitments of the same programme, and
    refuses an external ID another commitment of the programme already has."""

    def __init__(self, *args, **kwargs):
        from .models import CommitmentPage, CommitmentStatus, ProgrammePage

        super().__init__(*args, **kwargs)
        programme = self.parent_page
        if programme is None and self.instance.path:
            programme = self.instance.get_parent()
        self.programme = programme.specific if programme is not None else None
        if not isinstance(self.programme, ProgrammePage):
            self.programme = None
            return
        locale = self.instance.locale if self.instance.locale_id else self.programme.locale
        if "problems" in self.fields:
            self.fields["problems"].queryset = programme_problems(self.programme, locale=locale)
            self.fields["problems"].label_from_instance = _problem_label
        if "areas" in self.fields:
            self.fields["areas"].queryset = programme_areas(self.programme)
        if "parent_commitment" in self.fields:
            siblings = CommitmentPage.objects.child_of(self.programme)
            if self.instance.pk:
                siblings = siblings.exclude(pk=self.instance.pk)
            self.fields["parent_commitment"].queryset = siblings
        if "status" in self.fields:
            self.fields["status"].queryset = CommitmentStatus.objects.filter(locale=locale)
            if not self.instance.pk and not self.initial.get("status"):
                first = self.fields["status"].queryset.first()
                self.initial["status"] = first.pk if first else None

    def clean_external_id(self):
        from .models import CommitmentPage

        value = (self.cleaned_data.get("external_id") or "").strip()
        if value and self.programme is not None:
            taken = CommitmentPage.objects.child_of(self.programme).filter(external_id=value)
            if self.instance.pk:
                taken = taken.exclude(translation_key=self.instance.translation_key)
            if taken.exists():
                raise forms.ValidationError(
                    _("Another commitment of this programme already has this ID.")
                )
        return value


def programme_areas(programme):
    """The areas a programme's commitments can be about: those of the consultations whose
    results it answers (every area when it answers none yet)."""
    from diagnosis.models import ConsultationPage
    from maps.models import Area

    from .models import ResultsPage

    results = ResultsPage.objects.filter(
        translation_key__in=programme.diagnoses.values_list("translation_key", flat=True)
    )
    parents = {page.path[: -page.steplen] for page in results}
    consultations = ConsultationPage.objects.filter(path__in=parents)
    areas = Area.objects.filter(consultations__in=consultations).distinct()
    return areas.order_by("name") if parents else Area.objects.order_by("name")


def _problem_label(problem) -> str:
    return f"{problem.title} ({problem.page.title})"
