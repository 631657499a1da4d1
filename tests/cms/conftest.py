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
    lighting.save()  # a parental many-to-many is written when its object is saved
    harassment.categories.set([categories["harassment"]])
    harassment.save()
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


# --- The public accountability pages (tests/cms/test_programme_pages.py) ------------------------


def milestone_photo(title: str = "Poste nuevo", colour=(40, 90, 160)):
    """A Wagtail image made from a generated JPEG, as a facilitator would upload it."""
    import io

    from django.core.files.images import ImageFile
    from wagtail.images.models import Image

    from tests.conftest import jpeg_bytes

    return Image.objects.create(
        title=title,
        file=ImageFile(io.BytesIO(jpeg_bytes((960, 640), colour=colour)), name="hito.jpg"),
    )


def add_milestones(page: CommitmentPage, *milestones: dict) -> CommitmentPage:
    """Publish `page` with milestones added; each dict gives date, title, text and optionally
    `photo` (an Image) and `alt`."""
    from cms.models import CommitmentMilestone

    page = CommitmentPage.objects.get(pk=page.pk)
    for spec in milestones:
        media = []
        if spec.get("photo") is not None:
            media.append(
                {
                    "type": "photo",
                    "value": {
                        "image": spec["photo"].pk,
                        "alt_text": spec.get("alt", ""),
                        "decorative": False,
                    },
                }
            )
        page.milestones.add(
            CommitmentMilestone(
                date=spec["date"], title=spec["title"], text=spec.get("text", ""), media=media
            )
        )
    page.save_revision().publish()
    return CommitmentPage.objects.get(pk=page.pk)


@pytest.fixture
def realistic_programme(programme, make_commitment, diagnosed, barrios):
    """A programme as a municipality would publish it: a parent commitment in El Chico with two
    parts (weights 3 and 1), one answering harassment, one answering no problem, and milestones,
    one with a photo."""
    chico, lago = barrios[0], barrios[1]
    parent = make_commitment(
        "Entornos seguros en El Chico",
        problems=[diagnosed["lighting"]],
        areas=[chico],
        status="in-progress",
        budget_planned=Decimal("120000000"),
        budget_spent=Decimal("45000000"),
        start_date=datetime.date(2026, 2, 1),
        end_date=datetime.date(2026, 12, 15),
        prevention_type="situational",
        description="Iluminar y despejar los caminos que residentes señalaron como oscuros.",
        contact_name="Laura Gómez",
        contact_email="seguridad@chapinero.gov.co",
        contact_phone="+57 601 555 0101",
    )
    lights = make_commitment(
        "Luminarias LED en la Carrera 7",
        parent=parent,
        problems=[diagnosed["lighting"]],
        areas=[chico],
        status="in-progress",
        progress=80,
        weight=Decimal(3),
        agency="Empresa de Energía",
        budget_planned=Decimal("90000000"),
        budget_spent=Decimal("40000000"),
        start_date=datetime.date(2026, 2, 1),
        end_date=datetime.date(2026, 9, 30),
    )
    paths = make_commitment(
        "Poda y limpieza de senderos",
        parent=parent,
        problems=[diagnosed["lighting"]],
        areas=[chico],
        status="planned",
        weight=Decimal(1),
        agency="Jardín Botánico",
        budget_planned=Decimal("30000000"),
        budget_spent=Decimal("5000000"),
    )
    escorts = make_commitment(
        "Acompañamiento a la salida del metro",
        problems=[diagnosed["harassment"]],
        areas=[lago],
        status="started",
        prevention_type="social",
        budget_planned=Decimal("60000000"),
        budget_spent=Decimal("0"),
        start_date=datetime.date(2026, 3, 1),
    )
    forum = make_commitment(
        "Mesa trimestral de seguridad con residentes",
        status="completed",
        prevention_type="community",
        agency="Alcaldía Local de Chapinero",
    )
    photo = milestone_photo()
    lights = add_milestones(
        lights,
        {"date": datetime.date(2026, 3, 2), "title": "Contrato firmado"},
        {
            "date": datetime.date(2026, 6, 20),
            "title": "Primeras 40 luminarias instaladas",
            "text": "Se instalaron 40 luminarias LED entre las calles 90 y 94.",
            "photo": photo,
            "alt": "Poste con luminaria LED nueva en la Carrera 7",
        },
    )
    escorts = add_milestones(
        escorts, {"date": datetime.date(2026, 4, 10), "title": "Primera ruta acompañada"}
    )
    return {
        "programme": programme,
        "parent": parent,
        "lights": lights,
        "paths": paths,
        "escorts": escorts,
        "forum": forum,
        "photo": photo,
    }
