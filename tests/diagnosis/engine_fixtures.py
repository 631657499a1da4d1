"""Inputs for the engine's perception, hotspot, walk and change tests, stored through the real
services (questionnaire answers, moderated concerns and walk stops) or as the admin would
store them (population figures, links between pages)."""

import uuid

from diagnosis.engine import Parameters, diagnosis_compute
from diagnosis.question_bank import BANK_BY_CODE, bank_blocks
from diagnosis.services import questionnaire_submit
from maps.models import AreaPopulation
from tests.diagnosis.test_questionnaire_submit import choices, question, questionnaire_set

# Bank items (SDG 16.1.4 and victimisation) and one question a facilitator wrote.
BANK_CODES = ("bank-safe-night", "bank-victim")
OWN_QUESTION = question(
    "single_choice",
    "walk-alone",
    "¿Camina sola o solo?",
    choices=choices(("yes", "Sí"), ("no", "No")),
)


def bank_questionnaire(page):
    items = [BANK_BY_CODE[code] for code in BANK_CODES]
    return questionnaire_set(page, [*bank_blocks(items, "es"), OWN_QUESTION])


def answer(page, *, gender="", age_band="", **answers):
    """One response; keyword names are question codes with "_" for "-"."""
    questionnaire_submit(
        consultation=page,
        answers={code.replace("_", "-"): value for code, value in answers.items()},
        language="es",
        idempotency_key=uuid.uuid4(),
        gender=gender,
        age_band=age_band,
    )


def population(area, **cells):
    """Residents of `area`, e.g. female_18_29=100 → (female, 18-29)."""
    for name, count in cells.items():
        sex, low, high = name.split("_")
        band = f"{low}-{high}" if high != "plus" else f"{low}+"
        AreaPopulation.objects.create(area=area, sex=sex, age_band=band, count=count)


def compute(page, **parameters):
    """The engine's rows for the page's consultation, by table."""
    computation = diagnosis_compute(
        consultation_key=page.translation_key, parameters=Parameters(**parameters)
    )
    tables: dict[str, list] = {}
    for row in computation.rows:
        tables.setdefault(row.table, []).append(row)
    return computation, tables


def approve_concerns(concerns, user):
    from diagnosis.services import concern_moderate_bulk

    concern_moderate_bulk(concerns=concerns, user=user, status="approved")


def link_walks(page, *walks):
    """Link safety walks to the consultation as the page editor does (then publish)."""
    page.walks.set(walks)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def record_stop(walk, point, *, feeling="comfortable", **scores):
    from maps.walks import walk_stop_record

    return walk_stop_record(
        walk=walk,
        idempotency_key=uuid.uuid4(),
        point=point,
        located_by="map",
        feeling=feeling,
        scores=scores,
    ).stop


def approve_stops(stops, user):
    from maps.walk_moderation import walk_stop_moderate_bulk

    walk_stop_moderate_bulk(stops=stops, user=user, status="approved")
