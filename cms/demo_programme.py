"""The demo's programme of commitments (`load_demo`): the local government's answer to the demo
diagnosis, in Spanish and English, with a parent commitment and its parts, indicators,
milestones, and a history of published changes.

The commitments follow the problems the demo's results page named (they are chosen from the
snapshot, so which ones exist depends on the demo's concerns): one entry per problem theme, keyed
by the theme's lead category. Agencies are Bogotá's real district bodies; the amounts are
invented but of a realistic size for a localidad.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from wagtail.models import Locale

from .commitments import programme_commitments
from .models import (
    CommitmentIndicator,
    CommitmentMilestone,
    CommitmentPage,
    CommitmentStatus,
    HomePage,
    ProgrammePage,
    ResultsPage,
    ResultsProblem,
)

PROGRAMME_SLUG_ES = "chapinero-mas-segura"
PROGRAMME_SLUG_EN = "safer-chapinero"


@dataclass(frozen=True)
class DemoCommitment:
    title: tuple[str, str]  # es, en
    description: tuple[str, str]
    agency: str
    status: str
    progress: int | None
    planned: int
    spent: int
    months: tuple[int, int]  # start and end, in months from the programme's start
    weight: int = 1
    milestones: tuple = ()  # ((days ago, (title es, en), (text es, en)), ...)
    indicator: tuple | None = None  # ((name es, en), unit, baseline, target, latest)
    parts: tuple = field(default=())


COMMITMENTS = {
    "poor-lighting": DemoCommitment(
        title=("Calles iluminadas y caminables", "Well-lit, walkable streets"),
        description=(
            "Cambiar el alumbrado y despejar los senderos que los vecinos señalaron como oscuros.",
            "Replace the street lighting and clear the paths residents named as dark.",
        ),
        agency="Secretaría Distrital de Seguridad, Convivencia y Justicia",
        status="in-progress",
        progress=None,
        planned=0,
        spent=0,
        months=(1, 14),
        parts=(
            DemoCommitment(
                title=("Luminarias LED en los senderos señalados", "LED lights on the paths named"),
                description=(
                    "Cambio de 180 luminarias de sodio por LED y 40 puntos nuevos.",
                    "180 sodium lamps replaced by LED and 40 new light points.",
                ),
                agency="Unidad Administrativa Especial de Servicios Públicos (UAESP)",
                status="in-progress",
                progress=60,
                planned=850_000_000,
                spent=420_000_000,
                months=(2, 12),
                weight=3,
                milestones=(
                    (
                        70,
                        ("Contrato firmado", "Contract signed"),
                        (
                            "La UAESP firmó el contrato de obra con plazo de diez meses.",
                            "UAESP signed the works contract, to be done in ten months.",
                        ),
                    ),
                    (
                        20,
                        ("Primeras 90 luminarias instaladas", "First 90 lights installed"),
                        (
                            "Recorrido de verificación con vecinas de El Chico y El Refugio.",
                            "Checked on a walk with women residents of El Chico and El Refugio.",
                        ),
                    ),
                ),
                indicator=(
                    ("Luminarias funcionando en los senderos", "Lights working on the paths"),
                    "%",
                    62,
                    95,
                    81,
                ),
            ),
            DemoCommitment(
                title=(
                    "Poda de árboles que tapan el alumbrado",
                    "Pruning trees that block street lights",
                ),
                description=(
                    "Poda técnica de 120 árboles que dejan en sombra las luminarias.",
                    "Careful pruning of 120 trees that leave street lights in shadow.",
                ),
                agency="Jardín Botánico de Bogotá",
                status="completed",
                progress=None,
                planned=60_000_000,
                spent=58_500_000,
                months=(1, 4),
                milestones=(
                    (
                        45,
                        ("Poda terminada", "Pruning finished"),
                        (
                            "Se podaron 124 árboles en nueve cuadras.",
                            "124 trees were pruned along nine blocks.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    "street-harassment": DemoCommitment(
        title=("Rutas seguras de la estación a casa", "Safe routes from the station home"),
        description=(
            "Puntos de apoyo en comercios, señalización y campañas contra el acoso callejero.",
            "Help points in shops, signs and campaigns against street harassment.",
        ),
        agency="Secretaría Distrital de la Mujer",
        status="started",
        progress=None,
        planned=240_000_000,
        spent=35_000_000,
        months=(3, 15),
        milestones=(
            (
                30,
                ("Primeros 15 comercios aliados", "First 15 partner shops"),
                (
                    "Los comercios recibieron formación para acoger a quien pida ayuda.",
                    "Shop staff were trained to take in anyone who asks for help.",
                ),
            ),
        ),
        indicator=(("Comercios aliados", "Partner shops"), "", 0, 60, 15),
    ),
    "robbery-theft": DemoCommitment(
        title=("Frentes de seguridad vecinal", "Neighbourhood safety groups"),
        description=(
            "Acompañar a los vecinos a organizarse y a coordinar con el cuadrante de policía.",
            "Help neighbours organise and work with their local police patrol.",
        ),
        agency="Secretaría Distrital de Seguridad, Convivencia y Justicia",
        status="planned",
        progress=None,
        planned=120_000_000,
        spent=0,
        months=(4, 16),
    ),
    "alcohol-violence": DemoCommitment(
        title=(
            "Acuerdos de convivencia con establecimientos nocturnos",
            "Agreements with night-time venues",
        ),
        description=(
            "Horarios, manejo de filas y acompañamiento de gestores de convivencia.",
            "Opening hours, queue management and community mediators on site.",
        ),
        agency="Alcaldía Local de Chapinero",
        status="in-progress",
        progress=35,
        planned=90_000_000,
        spent=30_000_000,
        months=(2, 10),
    ),
    "drug-selling": DemoCommitment(
        title=("Parques con actividades para jóvenes", "Parks with activities for young people"),
        description=(
            "Programación deportiva y cultural en los parques que los vecinos evitan.",
            "Sport and culture in the parks residents avoid.",
        ),
        agency="Instituto Distrital de Recreación y Deporte (IDRD)",
        status="started",
        progress=None,
        planned=180_000_000,
        spent=20_000_000,
        months=(3, 14),
    ),
    "abandoned-places": DemoCommitment(
        title=("Recuperación de lotes y fachadas abandonadas", "Reclaiming abandoned lots"),
        description=(
            "Cerramiento, limpieza y uso comunitario de lotes abandonados.",
            "Fencing, cleaning and community use of abandoned lots.",
        ),
        agency="Alcaldía Local de Chapinero",
        status="delayed",
        progress=15,
        planned=150_000_000,
        spent=22_000_000,
        months=(1, 9),
    ),
    "traffic-danger": DemoCommitment(
        title=("Cruces seguros cerca de los colegios", "Safe crossings near schools"),
        description=(
            "Pasos pompeados, reductores de velocidad y señalización escolar.",
            "Raised crossings, speed humps and school signs.",
        ),
        agency="Secretaría Distrital de Movilidad",
        status="in-progress",
        progress=None,
        planned=300_000_000,
        spent=110_000_000,
        months=(2, 12),
    ),
}

PROGRAMME_ES = {
    "title": "Chapinero más segura 2026–2027",
    "intro": (
        "<p>Lo que la Alcaldía Local se compromete a hacer frente a los problemas que los vecinos "
        "identificaron en el diagnóstico participativo, con su presupuesto y su avance.</p>"
    ),
}
PROGRAMME_EN = {
    "title": "Safer Chapinero 2026–2027",
    "intro": (
        "<p>What the local government commits to doing about the problems residents identified "
        "in the participatory diagnosis, with its budget and progress.</p>"
    ),
}


# Residents' answers on the LED lights (answer, rating, comment or "", language): enough for the
# social-audit summary to show (k = 5), with three comments a moderator approved and one waiting.
FEEDBACK = (
    ("yes", 4, "Ya cambiaron las luminarias de mi cuadra, se ve mucho mejor de noche.", "es"),
    ("yes", 5, "", "es"),
    ("yes", 4, "", "es"),
    ("yes", 3, "", "es"),
    ("yes", 4, "", "en"),
    ("yes", 5, "", "es"),
    ("partly", 3, "En la Carrera 7 sí, pero el sendero del parque sigue oscuro.", "es"),
    ("partly", 2, "", "es"),
    ("partly", 3, "", "es"),
    ("partly", 3, "The lights near the station work now; the side streets are still dark.", "en"),
    ("partly", 3, "", "es"),
    ("no", 1, "", "es"),
    ("unknown", None, "", "es"),
)
APPROVED_COMMENTS = 3


def demo_programme_build(
    *, home: HomePage, en_home: HomePage | None, results: ResultsPage, facilitator, moderator
) -> ProgrammePage:
    """The programme answering `results`, built once: an existing one is returned unchanged."""
    existing = ProgrammePage.objects.child_of(home).filter(slug=PROGRAMME_SLUG_ES).first()
    if existing is not None:
        return existing.specific
    start = date(timezone.localdate().year, 1, 1)
    with transaction.atomic():
        programme = ProgrammePage(
            title=PROGRAMME_ES["title"],
            slug=PROGRAMME_SLUG_ES,
            intro=PROGRAMME_ES["intro"],
            responsible_body="Alcaldía Local de Chapinero",
            period_start=start,
            period_end=date(start.year + 1, 12, 31),
            total_budget=Decimal(2_200_000_000),
        )
        home.add_child(instance=programme)
        programme.diagnoses.set([results])
        programme.save_revision(user=facilitator, log_action=True).publish(user=facilitator)
        statuses = {s.key: s for s in CommitmentStatus.objects.filter(locale=programme.locale)}
        for problem in results.problems.order_by("sort_order"):
            lead = _lead(problem)
            if lead in COMMITMENTS:
                _commitment(programme, COMMITMENTS[lead], problem, statuses, start, facilitator)
    if en_home is not None:
        _translate(programme, facilitator)
    _feedback(programme, moderator)
    return programme


def _feedback(programme: ProgrammePage, moderator) -> None:
    """Residents' answers on the first commitment with milestones, through the same services as
    the commitment page and the moderation queue."""
    from .feedback import feedback_moderate, feedback_submit

    rated = next(
        (c for c in programme_commitments(programme) if c.milestones.exists() and c.progress),
        None,
    )
    if rated is None:
        return
    with_comments = 0
    for happening, rating, comment, language in FEEDBACK:
        feedback = feedback_submit(
            commitment=rated, happening=happening, rating=rating, comment=comment, language=language
        )
        if comment and with_comments < APPROVED_COMMENTS:
            feedback_moderate(feedback=feedback, user=moderator, status="approved")
        with_comments += bool(comment)


def demo_programme_delete(*, home: HomePage) -> None:
    """Remove the demo programme in every language, with residents' feedback on it (which
    protects a commitment from deletion anywhere else: `load_demo --reset` only)."""
    from .models import CommitmentFeedback

    programme = ProgrammePage.objects.child_of(home).filter(slug=PROGRAMME_SLUG_ES).first()
    if programme is None:
        return
    translations = ProgrammePage.objects.filter(translation_key=programme.translation_key)
    for page in translations:
        CommitmentFeedback.objects.filter(
            commitment__in=CommitmentPage.objects.descendant_of(page)
        ).delete()
    for page in translations.order_by("-pk"):
        page.delete()


def _lead(problem: ResultsProblem) -> str | None:
    codes = [category.code for category in problem.categories.order_by("pk")]
    for code in codes:
        if code in COMMITMENTS:
            return code
    return None


def _commitment(programme, spec, problem, statuses, start, user, *, parent=None):
    """Publish the commitment first as planned, then as it stands now, so its public history
    has a change to show; then its parts."""
    page = CommitmentPage(
        title=spec.title[0],
        slug=slugify(spec.title[0])[:50],
        description=spec.description[0],
        agency=spec.agency,
        contact_name="Oficina de participación",
        contact_email="participacion@chapinero.example.org",
        prevention_type=problem.categories.first().prevention_type if problem else "",
        status=statuses["planned"],
        budget_planned=Decimal(spec.planned) if spec.planned else None,
        start_date=start + timedelta(days=30 * spec.months[0]),
        end_date=start + timedelta(days=30 * spec.months[1]),
        parent_commitment=parent,
        weight=Decimal(spec.weight),
        external_id=slugify(spec.title[0])[:30].upper(),
    )
    programme.add_child(instance=page)
    page.problems.set([problem])
    page.areas.set(problem.areas.all())
    page.save_revision(user=user, log_action=True).publish(user=user)

    page = CommitmentPage.objects.get(pk=page.pk)
    page.status = statuses[spec.status]
    page.progress = spec.progress
    page.budget_spent = Decimal(spec.spent) if spec.spent else None
    today = timezone.localdate()
    page.milestones = [
        CommitmentMilestone(date=today - timedelta(days=days), title=title[0], text=text[0])
        for days, title, text in spec.milestones
    ]
    if spec.indicator:
        name, unit, baseline, target, latest = spec.indicator
        page.indicators = [
            CommitmentIndicator(
                name=name[0],
                unit=unit,
                baseline=Decimal(baseline),
                target=Decimal(target),
                latest_value=Decimal(latest),
                latest_date=today - timedelta(days=20),
                source="Recorrido de verificación",
            )
        ]
    if spec.status != "planned" or spec.milestones or spec.indicator:
        page.save_revision(user=user, log_action=True).publish(user=user)
    for part in spec.parts:
        _commitment(programme, part, problem, statuses, start, user, parent=page)
    return page


def _specs():
    """Every demo commitment with its parts, by Spanish title."""
    found = {}
    stack = list(COMMITMENTS.values())
    while stack:
        spec = stack.pop()
        found[spec.title[0]] = spec
        stack.extend(spec.parts)
    return found


def _translate(programme: ProgrammePage, user) -> None:
    """The English programme and commitments, as a translator would leave them after
    wagtail-localize's "Translate this page": texts in English, facts synchronised."""
    en = Locale.objects.get(language_code="en")
    specs = _specs()
    with transaction.atomic():
        translated = programme.copy_for_translation(en)
        translated = ProgrammePage.objects.get(pk=translated.pk)
        translated.title = translated.draft_title = PROGRAMME_EN["title"]
        translated.slug = PROGRAMME_SLUG_EN
        translated.intro = PROGRAMME_EN["intro"]
        translated.save_revision(user=user, log_action=True).publish(user=user)
        for commitment in programme_commitments(programme):
            spec = specs.get(commitment.title)
            copy = CommitmentPage.objects.get(pk=commitment.copy_for_translation(en).pk)
            if spec is not None:
                copy.title = copy.draft_title = spec.title[1]
                copy.slug = slugify(spec.title[1])[:50]
                copy.description = spec.description[1]
                english = {title[0]: (title[1], text[1]) for _d, title, text in spec.milestones}
                milestones = list(copy.milestones.all())
                for milestone in milestones:
                    milestone.title, milestone.text = english.get(
                        milestone.title, (milestone.title, milestone.text)
                    )
                copy.milestones = milestones
                indicators = list(copy.indicators.all())
                for indicator in indicators:
                    indicator.name = spec.indicator[0][1] if spec.indicator else indicator.name
                    indicator.source = "Verification walk"
                copy.indicators = indicators
            copy.save_revision(user=user, log_action=True).publish(user=user)
