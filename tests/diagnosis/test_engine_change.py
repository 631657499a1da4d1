"""Change since the previous round, worked by hand.

The previous round (an earlier consultation in the same barrios) published a snapshot with, in El
Chico, 3 poor-lighting and 1 harassment concern, and one community centre in Polo Club; 3 of 5
residents felt unsafe after dark. This round has, in El Chico, 1 poor-lighting and 1 domestic
violence concern, and 1 poor-lighting concern in Lago Gaitán; 1 of 4 residents feels unsafe.
"""

import pytest
from django.contrib.gis.geos import Point

from diagnosis.engine import snapshot_verify
from diagnosis.models import SnapshotPublication
from diagnosis.pages import ConsultationPage
from diagnosis.services import MODERATORS
from diagnosis.services.diagnosis_runs import diagnosis_run_execute, diagnosis_run_start
from tests.conftest import EL_CHICO_POINT
from tests.diagnosis.conftest import staff
from tests.diagnosis.engine_fixtures import answer, approve_concerns, bank_questionnaire, compute

NIGHT = "bank-safe-night"


def snapshot_of(page, user):
    run = diagnosis_run_start(page=page, user=user)
    assert diagnosis_run_execute(run_id=run.pk) is True
    run.refresh_from_db()
    return run.snapshot


@pytest.fixture
def rounds(home, barrios, categories, consultation, submit, facilitator):
    moderator = staff("mara", MODERATORS)
    chico, lago, polo = barrios
    earlier = ConsultationPage(title="Chapinero 2025", slug="chapinero-2025", phase="listening")
    home.add_child(instance=earlier)
    earlier.areas.set(barrios)
    earlier.categories.set(categories.values())
    earlier.save_revision().publish()
    earlier = bank_questionnaire(ConsultationPage.objects.get(pk=earlier.pk))
    point = Point(*EL_CHICO_POINT, srid=4326)
    before = [submit(consultation=earlier, point=point) for _ in range(3)]
    before.append(submit(consultation=earlier, point=point, category=categories["harassment"]))
    before.append(
        submit(consultation=earlier, point=None, area=polo, category=categories["centre"])
    )
    approve_concerns(before, moderator)
    for feeling in ("unsafe", "unsafe", "very-unsafe", "safe", "very-safe"):
        answer(earlier, bank_safe_night=feeling)
    unpublished_earlier = snapshot_of(earlier, facilitator)
    published = snapshot_of(earlier, facilitator)
    SnapshotPublication.objects.create(
        snapshot=unpublished_earlier, consultation_key=earlier.translation_key, page=earlier
    )
    SnapshotPublication.objects.create(
        snapshot=published, consultation_key=earlier.translation_key, page=earlier
    )

    now = [submit(point=point), submit(point=None, area=chico, category=categories["domestic"])]
    now.append(submit(point=None, area=lago))
    approve_concerns(now, moderator)
    page = bank_questionnaire(consultation)
    for feeling in ("unsafe", "safe", "safe", "very-safe"):
        answer(page, bank_safe_night=feeling)
    page.previous_round = earlier
    page.save_revision().publish()
    page.refresh_from_db()
    return {"page": page, "published": published, "categories": categories, "barrios": barrios}


def test_areas_of_both_rounds_are_compared_category_by_category(rounds):
    computation, tables = compute(rounds["page"])
    assert computation.input_counts["previous_snapshot"] == rounds["published"].pk
    chico = rounds["barrios"][0].pk
    key = {code: category.translation_key for code, category in rounds["categories"].items()}
    rows = {(row.area_id, row.category_key): row for row in tables["change_area_category"]}
    # Only El Chico has concerns in both rounds (Lago Gaitán only now, Polo Club only before).
    assert set(rows) == {
        (chico, key["lighting"]),
        (chico, key["harassment"]),
        (chico, key["domestic"]),
    }
    lighting = rows[chico, key["lighting"]]
    assert (lighting.count, lighting.total, lighting.value) == (1, 2, 0.5)
    assert lighting.detail == {"previous_count": 3, "previous_total": 4, "previous_value": 0.75}
    harassment = rows[chico, key["harassment"]]
    assert (harassment.count, harassment.total) == (0, 2)
    assert harassment.detail["previous_value"] == 0.25
    domestic = rows[chico, key["domestic"]]
    assert (domestic.count, domestic.detail["previous_count"]) == (1, 0)


def test_perception_is_compared_with_the_previous_rounds_published_value(rounds):
    _computation, tables = compute(rounds["page"])
    [night] = tables["change_perception"]
    assert night.group == NIGHT
    assert (night.count, night.total, night.value) == (1, 4, 0.25)
    assert night.detail["previous_value"] == pytest.approx(0.6)
    assert night.detail["previous_total"] == 5
    assert night.detail["previous_low"] < 0.6 < night.detail["previous_high"]
    assert night.low < 0.25 < night.high


def test_without_a_published_previous_round_there_is_no_change_table(rounds, facilitator):
    SnapshotPublication.objects.all().delete()
    computation, tables = compute(rounds["page"])
    assert computation.input_counts["previous_snapshot"] is None
    assert "change_area_category" not in tables and "change_perception" not in tables
    # Stored through a real run, the snapshot records it and verifies.
    snapshot = snapshot_of(rounds["page"], facilitator)
    assert snapshot.input_counts["previous_snapshot"] is None
    assert snapshot_verify(snapshot)


def test_a_rerun_with_every_kind_of_input_gives_identical_rows_and_hash(rounds, facilitator, walk):
    """Answers, population, a walk, located concerns and a previous round: same rows, same hash."""
    from diagnosis.engine import snapshot_rows
    from tests.conftest import along_route
    from tests.diagnosis.engine_fixtures import approve_stops, link_walks, population, record_stop

    page = rounds["page"]
    population(rounds["barrios"][0], female_18_29=100, male_30_44=300)
    stops = [record_stop(walk, along_route(0.5), feeling="frightening", lighting=1)]
    approve_stops(stops, staff("mod2", MODERATORS))
    page = link_walks(page, walk)
    first, second = snapshot_of(page, facilitator), snapshot_of(page, facilitator)
    tables = set(first.results.values_list("table", flat=True))
    assert {"perception_weighted", "hotspots", "walk_scores", "change_perception"} <= tables
    assert snapshot_rows(first) == snapshot_rows(second)
    assert first.content_hash == second.content_hash
    assert snapshot_verify(first) and snapshot_verify(second)
