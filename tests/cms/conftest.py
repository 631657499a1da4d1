"""Fixtures for the accountability pages: a consultation whose diagnosis was published with two
named problems, a programme answering it, and a helper that publishes commitments under it."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point

from cms.models import CommitmentPage, CommitmentStatus, ProgrammePage, ResultsPage, ResultsProblem
from diagnosis.services import concern_moderate
from diagnosis.services.diagnosis_runs import diagnosis_run_execute, diagnosis_run_start
from diagnosis.services.groups import FACILITATORS, MODERATORS
from tests.conftest import EL_CHICO_POINT
from tests.diagnosis.conftest import staff


@pytest.fixture
def moderator_of_feedback(db):
    return staff("moni", MODERATORS)


@pytest.fixture
def facilitator_user(db):
    return staff("fabi", FACILITATORS)


@pytest.fixture
def diagnosed(consultation, categories, barrios, submit, moderator_of_feedback, facilitator_user):
    """The consultation's published results page, with problems "lighting in El Chico" (six
    approved concerns there) and "harassment" (five, anywhere)."""
    chico = barrios[0]
    concerns = []
    for _ in range(6):
        concerns.append(
            submit(category=categories["lighting"], point=Point(*EL_CHICO_POINT, srid=4326))
        )
    for _ in range(5):
        concerns.append(submit(category=categories["harassment"], point=None, area=chico))
    for concern in concerns:
        concern_moderate(concern=concern, user=moderator_of_feedback, status="approved")
    run = diagnosis_run_start(page=consultation, user=facilitator_user, k=5)
    diagnosis_run_execute(run_id=run.pk)
    run.refresh_from_db()
    page = ResultsPage(title="Resultados", slug="resultados", snapshot=run.snapshot)
    consultation.add_child(instance=page)
    lighting = ResultsProblem(page=page, title="Calles oscuras en El Chico", sort_order=0)
    harassment = ResultsProblem(page=page, title="Acoso al salir del metro", sort_order=1)
    page.problems = [lighting, harassment]
    page.save_revision().publish()
    page = ResultsPage.objects.get(pk=page.pk)
    lighting, harassment = page.problems.order_by("sort_order")
    lighting.categories.set([categories["lighting"]])
    lighting.areas.set([chico])
    harassment.categories.set([categories["harassment"]])
    return {
        "page": page,
        "lighting": lighting,
        "harassment": harassment,
        "concerns": concerns,
        "chico": chico,
    }


@pytest.fixture
def programme(home, diagnosed):
    page = ProgrammePage(
        title="Chapinero más segura",
        slug="programa",
        responsible_body="Alcaldía Local de Chapinero",
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2027, 12, 31),
        total_budget=Decimal("500000000"),
    )
    home.add_child(instance=page)
    page.diagnoses.set([diagnosed["page"]])
    page.save_revision().publish()
    return ProgrammePage.objects.get(pk=page.pk)


def status(key: str, language: str = "es") -> CommitmentStatus:
    return CommitmentStatus.objects.get(key=key, locale__language_code=language)


@pytest.fixture
def make_commitment(programme):
    """Publish a commitment under the programme; keyword arguments set its fields, `problems`
    and `areas` its relations, `status` a status key."""

    def _make(title="Luminarias en El Chico", *, problems=(), areas=(), parent=None, **fields):
        fields.setdefault("agency", "Secretaría de Seguridad")
        fields["status"] = status(fields.pop("status", "planned"))
        page = CommitmentPage(
            title=title,
            slug=fields.pop("slug", None) or f"c-{CommitmentPage.objects.count() + 1}",
            parent_commitment=parent,
            **fields,
        )
        programme.add_child(instance=page)
        page.problems.set(problems)
        page.areas.set(areas)
        page.save_revision().publish()
        return CommitmentPage.objects.get(pk=page.pk)

    return _make
