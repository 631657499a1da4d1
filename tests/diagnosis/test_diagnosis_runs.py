"""Diagnosis runs: the engine's tables, reproducibility, one run at a time, progress,
cancellation, failures, immutable snapshots and the admin pages.

The consultation has five approved concerns worked through by hand below (plus one pending and one
rejected that must not count) and two questionnaire responses, all stored through the real
services. Tables are compared as sets of rows labelled by area name and category code.
"""

import datetime
import math
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.gis.geos import LineString, Point
from django.db import close_old_connections, connection, connections, transaction
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from wagtail.users.models import UserProfile

from diagnosis.engine import (
    METHOD_VERSION,
    NOT_STATED,
    STEPS,
    STEPS_TOTAL,
    TABLES,
    snapshot_rows,
    snapshot_verify,
)
from diagnosis.models import (
    Concern,
    DiagnosisResult,
    DiagnosisRun,
    DiagnosisSnapshot,
    QuestionnaireResponse,
    SnapshotImmutable,
)
from diagnosis.questionnaire_responses_admin import PARTICIPATION_SUBMENU_HOOK
from diagnosis.services import FACILITATORS, MODERATORS, concern_moderate, questionnaire_submit
from diagnosis.services.diagnosis_runs import (
    STALE_AFTER,
    DiagnosisRunRefused,
    diagnosis_run_cancel,
    diagnosis_run_execute,
    diagnosis_run_start,
)
from tests.conftest import EL_CHICO_POINT
from tests.diagnosis.conftest import staff
from tests.diagnosis.test_questionnaire_submit import QUESTIONS, VALID, questionnaire_set
from tests.integration.conftest import celery_publishing_to

SHOTS = Path(tempfile.gettempdir()) / "shots" / "engine"
# Kombu's in-process broker: tasks are really queued (nobody consumes them here), so a run stays
# "waiting" after its transaction commits instead of being computed at once in-process.
NOBODY_CONSUMES = ("memory://", "diagnosis-tests")
BOGOTA = datetime.timezone(datetime.timedelta(hours=-5))


@pytest.fixture
def moderator_user(db):
    return staff("mara", MODERATORS)


@pytest.fixture
def admin_reader(db):
    """May use the admin, may edit no page."""
    user = get_user_model().objects.create_user("lector", "lector@example.org", "pw")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    )
    return user


@pytest.fixture
def reported(consultation, categories, barrios, submit, moderator_user):
    """Five approved concerns, one pending, one rejected; two questionnaire responses."""
    chico, lago, polo = barrios

    def approved(**kwargs):
        concern = submit(**kwargs)
        return concern_moderate(concern=concern, user=moderator_user, status="approved")

    concerns = [
        approved(time_band="night", affected=["women", "older"], gender="woman", age_band="30-44"),
        approved(
            point=None,
            area=lago,
            time_band="evening",
            affected=["women"],
            gender="man",
            age_band="18-29",
        ),
        approved(category=categories["harassment"]),
        approved(
            category=categories["centre"],
            point=None,
            area=polo,
            affected=["everyone"],
            gender="woman",
            age_band="65+",
        ),
        approved(
            category=categories["domestic"],
            point=None,
            area=chico,
            time_band="night",
            affected=["women", "children"],
            gender="woman",
            age_band="30-44",
        ),
    ]
    submit(gender="man")  # pending: not counted
    rejected = submit(category=categories["harassment"], gender="man")
    concern_moderate(
        concern=rejected, user=moderator_user, status="rejected", reason="Not a concern."
    )
    page = questionnaire_set(consultation, QUESTIONS)
    for gender, age in (("woman", "18-29"), ("unsaid", "")):
        questionnaire_submit(
            consultation=page,
            answers=VALID,
            language="es",
            idempotency_key=uuid.uuid4(),
            gender=gender,
            age_band=age,
        )
    return {"page": page, "concerns": concerns}


def run_once(page, user, **parameters) -> DiagnosisRun:
    """Start a run and compute it here, as a worker would."""
    run = diagnosis_run_start(page=page, user=user, **parameters)
    assert diagnosis_run_execute(run_id=run.pk) is True
    run.refresh_from_db()
    return run


def table(snapshot: DiagnosisSnapshot, code: str) -> set[tuple]:
    """A table's rows as (area name, category code, group, subgroup, count, total)."""
    rows = DiagnosisResult.objects.filter(snapshot=snapshot, table=code).select_related("area")
    codes = {}
    from diagnosis.models import ConcernCategory

    for category in ConcernCategory.objects.all():
        codes[category.translation_key] = category.code
    return {
        (
            row.area.name if row.area else None,
            codes.get(row.category_key),
            row.group,
            row.subgroup,
            row.count,
            row.total,
        )
        for row in rows
    }


# --- The engine's numbers -----------------------------------------------------------------------


def test_tables_count_the_approved_concerns_as_worked_by_hand(reported, facilitator):
    run = run_once(reported["page"], facilitator)
    assert run.status == DiagnosisRun.Status.DONE
    snapshot = run.snapshot
    L, H, C, D = "poor-lighting", "street-harassment", "community-centre", "domestic-violence"
    NS = NOT_STATED
    # 5 approved: L (El Chico, night, women+older, woman 30-44), L (Lago Gaitán, evening, women,
    # man 18-29), H (El Chico, nothing said), C (Polo Club, everyone, woman 65+), D (El Chico,
    # night, women+children, woman 30-44). The pending and the rejected concern do not count.
    assert table(snapshot, "concerns_by_category") == {
        (None, L, "", "", 2, 5),
        (None, H, "", "", 1, 5),
        (None, C, "", "", 1, 5),
        (None, D, "", "", 1, 5),
    }
    assert table(snapshot, "concerns_by_prevention_type") == {
        (None, None, "situational", "", 2, 5),
        (None, None, "social", "", 1, 5),
        (None, None, "community", "", 1, 5),
        (None, None, "psychosocial", "", 1, 5),
    }
    # Shares of each gender's concerns: women 3, men 1, not stated 1.
    assert table(snapshot, "concerns_by_category_gender") == {
        (None, L, "woman", "", 1, 3),
        (None, L, "man", "", 1, 1),
        (None, H, NS, "", 1, 1),
        (None, C, "woman", "", 1, 3),
        (None, D, "woman", "", 1, 3),
    }
    assert table(snapshot, "concerns_by_category_age") == {
        (None, L, "30-44", "", 1, 2),
        (None, L, "18-29", "", 1, 1),
        (None, H, NS, "", 1, 1),
        (None, C, "65+", "", 1, 1),
        (None, D, "30-44", "", 1, 2),
    }
    # Shares of each area's concerns: El Chico 3, Lago Gaitán 1, Polo Club 1.
    assert table(snapshot, "concerns_by_area_category") == {
        ("El Chico", L, "", "", 1, 3),
        ("El Chico", H, "", "", 1, 3),
        ("El Chico", D, "", "", 1, 3),
        ("Lago Gaitan", L, "", "", 1, 1),
        ("Polo Club", C, "", "", 1, 1),
    }
    # Shares of each category's concerns.
    assert table(snapshot, "concerns_by_category_time_band") == {
        (None, L, "night", "", 1, 2),
        (None, L, "evening", "", 1, 2),
        (None, H, NS, "", 1, 1),
        (None, C, NS, "", 1, 1),
        (None, D, "night", "", 1, 1),
    }
    assert table(snapshot, "concerns_by_category_affected") == {
        (None, L, "women", "", 2, 2),
        (None, L, "older", "", 1, 2),
        (None, H, NS, "", 1, 1),
        (None, C, "everyone", "", 1, 1),
        (None, D, "women", "", 1, 1),
        (None, D, "children", "", 1, 1),
    }
    assert table(snapshot, "participation_concerns") == {
        (None, None, "woman", "30-44", 2, 5),
        (None, None, "man", "18-29", 1, 5),
        (None, None, NS, NS, 1, 5),
        (None, None, "woman", "65+", 1, 5),
    }
    assert table(snapshot, "participation_responses") == {
        (None, None, "woman", "18-29", 1, 2),
        (None, None, "unsaid", NS, 1, 2),
    }
    assert snapshot.input_counts["concerns"] == 5
    assert snapshot.input_counts["concerns_pending"] == 1
    assert snapshot.input_counts["questionnaire_responses"] == 2
    assert snapshot.input_counts["concerns_with_area"] == 5
    assert snapshot.input_counts["concerns_with_point"] == 2
    assert snapshot.method_version == METHOD_VERSION
    assert snapshot.parameters == {
        "k": 5,
        "window_from": None,
        "window_to": None,
        "method_version": METHOD_VERSION,
    }
    value = DiagnosisResult.objects.get(
        snapshot=snapshot,
        table="concerns_by_category_gender",
        group="woman",
        category_key=(reported["concerns"][0].category_key),
    ).value
    assert value == pytest.approx(1 / 3)
    # The two located concerns (both risks) share a cell of the public grid: 2 seen, 2 expected.
    [hotspot] = DiagnosisResult.objects.filter(snapshot=snapshot, table="hotspots")
    assert (hotspot.count, hotspot.total, hotspot.value) == (2, 2, 1.0)
    assert hotspot.detail["p"] == pytest.approx(1 - math.exp(-2) * 3)
    assert hotspot.detail["significant"] is False
    # No population figures: the profile is counted, its index is not.
    assert table(snapshot, "participation_profile") == {
        (None, None, "concerns", "", 4, 5),
        (None, None, "responses", "", 1, 2),
    }
    assert not snapshot.results.filter(table="participation_profile", value__isnull=False)
    # No bank question, no population, no walk, no previous round: those tables stay empty.
    empty = {"perception", "perception_weighted", "perception_by_gender", "perception_by_age"}
    empty |= {"assets_by_cell", "walk_scores", "walk_feelings"}
    empty |= {"change_area_category", "change_perception"}
    assert set(snapshot.results.values_list("table", flat=True)) == set(TABLES) - empty
    assert snapshot.input_counts["previous_snapshot"] is None


def test_the_window_counts_whole_days_in_the_site_time_zone(reported, facilitator):
    first, second, third, fourth, fifth = reported["concerns"]
    at = {
        first: datetime.datetime(2026, 3, 1, 0, 5, tzinfo=BOGOTA),  # first minute of the window
        second: datetime.datetime(2026, 3, 7, 23, 55, tzinfo=BOGOTA),  # last minutes of it
        third: datetime.datetime(2026, 3, 8, 0, 5, tzinfo=BOGOTA),  # the day after
        fourth: datetime.datetime(2026, 2, 28, 23, 55, tzinfo=BOGOTA),  # the day before
        fifth: datetime.datetime(2026, 3, 4, 12, 0, tzinfo=BOGOTA),
    }
    for concern, when in at.items():
        Concern.objects.filter(pk=concern.pk).update(submitted_at=when)
    woman, unsaid = QuestionnaireResponse.objects.order_by("pk")
    # A paper form filled in on 6 March and typed in on 10 March counts on 6 March.
    QuestionnaireResponse.objects.filter(pk=woman.pk).update(
        submitted_at=datetime.datetime(2026, 3, 10, 9, 0, tzinfo=BOGOTA),
        filled_on=datetime.date(2026, 3, 6),
    )
    QuestionnaireResponse.objects.filter(pk=unsaid.pk).update(
        submitted_at=datetime.datetime(2026, 3, 8, 1, 0, tzinfo=BOGOTA)
    )
    run = run_once(
        reported["page"],
        facilitator,
        window_from=datetime.date(2026, 3, 1),
        window_to=datetime.date(2026, 3, 7),
    )
    snapshot = run.snapshot
    assert snapshot.input_counts["concerns"] == 3
    assert snapshot.input_counts["questionnaire_responses"] == 1
    assert (snapshot.window_from, snapshot.window_to) == (
        datetime.date(2026, 3, 1),
        datetime.date(2026, 3, 7),
    )
    assert table(snapshot, "concerns_by_category") == {
        (None, "poor-lighting", "", "", 2, 3),
        (None, "domestic-violence", "", "", 1, 3),
    }
    assert table(snapshot, "participation_responses") == {(None, None, "woman", "18-29", 1, 1)}


def test_a_second_run_on_the_same_inputs_gives_identical_rows_and_hash(reported, facilitator):
    first = run_once(reported["page"], facilitator).snapshot
    second = run_once(reported["page"], facilitator).snapshot
    assert first.pk != second.pk
    assert snapshot_rows(first) == snapshot_rows(second)
    # The tables above, the hotspot cell and the two participation profiles.
    assert len(snapshot_rows(first)) == 4 + 4 + 5 + 5 + 5 + 5 + 6 + 4 + 2 + 1 + 2
    assert first.content_hash == second.content_hash
    assert first.input_counts == second.input_counts
    stored = ("table", "area_id", "category_key", "group", "subgroup", "count", "total", "value")
    assert list(first.results.values_list(*stored)) == list(second.results.values_list(*stored))

    # New input, new numbers: the first snapshot is untouched.
    concern_moderate(
        concern=Concern.objects.get(status="pending"),
        user=get_user_model().objects.get(username="mara"),
        status="approved",
    )
    third = run_once(reported["page"], facilitator).snapshot
    assert third.content_hash != first.content_hash
    assert third.input_counts["concerns"] == 6
    assert snapshot_verify(first) and snapshot_verify(third)


def test_the_number_of_queries_does_not_grow_with_the_number_of_concerns(
    consultation, categories, barrios, facilitator, django_assert_max_num_queries
):
    keys = list(categories.values())
    genders = ["woman", "man", "", "unsaid"]
    bands = ["18-29", "30-44", "", "65+"]
    times = ["night", "evening", ""]
    affected = [["women"], ["women", "children"], []]

    def add(count: int, offset: int) -> None:
        now = timezone.now()
        Concern.objects.bulk_create(
            Concern(
                consultation=consultation,
                consultation_key=consultation.translation_key,
                category=keys[i % 4],
                category_key=keys[i % 4].translation_key,
                area=barrios[i % 3],
                point=Point(*EL_CHICO_POINT, srid=4326) if i % 2 else None,
                gender=genders[i % 4],
                age_band=bands[(i // 4) % 4],
                time_band=times[i % 3],
                affected=affected[i % 3],
                language="es",
                idempotency_key=uuid.uuid4(),
                submitted_at=now,
                status=Concern.Status.APPROVED,
            )
            for i in range(offset, offset + count)
        )

    def queries_of_a_run() -> int:
        run = diagnosis_run_start(page=consultation, user=facilitator)
        with CaptureQueriesContext(connection) as captured:
            assert diagnosis_run_execute(run_id=run.pk) is True
        run.refresh_from_db()
        assert run.status == DiagnosisRun.Status.DONE
        return len(captured)

    # Answers to bank questions, population figures and the approved stops of a linked walk go
    # in too, so the perception, profile, hotspot and walk steps have rows to make.
    from diagnosis.question_bank import BANK_BY_CODE, bank_blocks
    from maps.models import SafetyWalk, WalkStop
    from tests.conftest import WALK_ROUTE, along_route
    from tests.diagnosis.engine_fixtures import population, record_stop

    page = questionnaire_set(consultation, bank_blocks([BANK_BY_CODE["bank-safe-night"]], "es"))
    population(barrios[0], female_18_29=100, male_30_44=300)
    walk = SafetyWalk.objects.create(
        title="Ruta",
        route=LineString(WALK_ROUTE, srid=4326),
        date=datetime.date(2026, 3, 1),
        time_band="night",
        target_group="women",
    )
    walk.areas.set([barrios[0]])
    walk.save()
    page.walks.set([walk])
    page.save_revision().publish()
    feelings = ["unsafe", "safe", "very-unsafe", "dont-know"]

    def answer_and_walk(count: int, offset: int) -> None:
        for i in range(offset, offset + count):
            questionnaire_submit(
                consultation=page,
                answers={"bank-safe-night": feelings[i % 4]},
                language="es",
                idempotency_key=uuid.uuid4(),
                gender=genders[i % 4],
                age_band=bands[(i // 4) % 4],
            )
            stop = record_stop(walk, along_route((i % 10) / 10), lighting=i % 4)
            WalkStop.objects.filter(pk=stop.pk).update(status="approved")

    add(48, 0)  # every combination of the cycles above is present already
    answer_and_walk(8, 0)
    small = queries_of_a_run()
    answer_and_walk(12, 8)
    add(152, 48)
    run = diagnosis_run_start(page=consultation, user=facilitator)
    with django_assert_max_num_queries(small):
        assert diagnosis_run_execute(run_id=run.pk) is True
    large = DiagnosisSnapshot.objects.order_by("-pk").first()
    assert large.input_counts["concerns"] == 200
    assert (
        sum(large.results.filter(table="concerns_by_category").values_list("count", flat=True))
        == 200
    )
    assert {"perception_weighted", "hotspots", "walk_scores"} <= set(
        large.results.values_list("table", flat=True)
    )
    assert small <= 4 * STEPS_TOTAL  # a few per step, whatever the number of concerns


# --- One run at a time --------------------------------------------------------------------------


def test_a_second_start_is_refused_while_one_waits_or_works(reported, facilitator, facilitator_b):
    page = reported["page"]
    waiting = diagnosis_run_start(page=page, user=facilitator)
    with pytest.raises(DiagnosisRunRefused) as refusal:
        diagnosis_run_start(page=page, user=facilitator_b)
    assert refusal.value.active.pk == waiting.pk
    with translation.override("en"):
        with pytest.raises(DiagnosisRunRefused) as refusal:
            diagnosis_run_start(page=page, user=facilitator_b)
        assert "already waiting or in progress" in refusal.value.message
    # From the English translation too: runs belong to the consultation, not to a page.
    assert diagnosis_run_execute(run_id=waiting.pk) is True
    again = diagnosis_run_start(page=page, user=facilitator_b)
    assert again.status == DiagnosisRun.Status.QUEUED
    assert DiagnosisRun.objects.count() == 2


@pytest.fixture
def facilitator_b(db):
    return staff("fabi", FACILITATORS)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_starts_at_the_same_moment_make_one_run(reported, facilitator, facilitator_b):
    page = reported["page"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def start(user):
        try:
            barrier.wait(timeout=10)
            # Each start holds its transaction open a moment, so the two inserts overlap.
            with transaction.atomic():
                run = diagnosis_run_start(page=page, user=user)
                time.sleep(0.3)
            outcomes.append(f"run {run.pk}")
        except DiagnosisRunRefused:
            outcomes.append("refused")
        except Exception as error:  # reported by the assertion below
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=start, args=(user,)) for user in (facilitator, facilitator_b)
    ]
    with celery_publishing_to(NOBODY_CONSUMES[0], queue=NOBODY_CONSUMES[1]):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    close_old_connections()
    assert sorted(outcome.split(" ")[0] for outcome in outcomes) == ["refused", "run"], outcomes
    assert DiagnosisRun.objects.count() == 1


# --- Progress, cancellation, failure ------------------------------------------------------------


def watch_progress(client, run):
    """The run after every UPDATE of it, as the polling admin would see it then."""
    url = reverse("diagnosis_runs:run_progress", args=[run.pk])
    seen = []
    polling = []

    def watch(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith("UPDATE") and "diagnosis_diagnosisrun" in sql and not polling:
            polling.append(True)  # the poll's own queries are not watched
            try:
                seen.append(client.get(url).json())
            finally:
                polling.clear()
        return result

    return seen, watch


def test_progress_is_visible_after_every_step(client, reported, facilitator):
    run = diagnosis_run_start(page=reported["page"], user=facilitator)
    client.force_login(facilitator)
    seen, watch = watch_progress(client, run)
    with connection.execute_wrapper(watch):
        assert diagnosis_run_execute(run_id=run.pk) is True
    done = [state["done"] for state in seen if state["status"] == "running"]
    assert sorted(set(done)) == list(range(len(STEPS) + 1))
    assert done == sorted(done)
    assert {state["total"] for state in seen} == {STEPS_TOTAL}
    # The log grows with the steps, in the reader's language.
    assert len(seen[-1]["log"]) > len(seen[1]["log"])
    with translation.override("es"):
        step = gettext("Concerns by category and gender")
    assert any(step in line["text"] for line in seen[-1]["log"])
    final = client.get(reverse("diagnosis_runs:run_progress", args=[run.pk])).json()
    assert (final["status"], final["done"], final["percent"], final["finished"]) == (
        "done",
        STEPS_TOTAL,
        100,
        True,
    )
    snapshot = DiagnosisSnapshot.objects.get(run=run)
    assert final["result_url"] == reverse("diagnosis_runs:snapshot", args=[snapshot.pk])


def test_cancelling_a_running_run_stops_it_at_the_next_step_with_nothing_stored(
    client, reported, facilitator
):
    run = diagnosis_run_start(page=reported["page"], user=facilitator)
    client.force_login(facilitator)
    seen, watch = watch_progress(client, run)
    cancelled = []

    def cancel_after_step_three(execute, sql, params, many, context):
        result = watch(execute, sql, params, many, context)
        if seen and seen[-1]["done"] == 3 and not cancelled:
            cancelled.append(True)
            response = client.post(reverse("diagnosis_runs:run_cancel", args=[run.pk]))
            assert response.status_code == 302
        return result

    with connection.execute_wrapper(cancel_after_step_three):
        assert diagnosis_run_execute(run_id=run.pk) is True
    run.refresh_from_db()
    assert run.status == DiagnosisRun.Status.CANCELLED
    assert run.steps_done == 3  # the fourth step's result was thrown away
    assert not DiagnosisSnapshot.objects.exists()
    assert not DiagnosisResult.objects.exists()
    assert [entry["code"] for entry in run.log][-1] == "cancelled"
    progress = client.get(reverse("diagnosis_runs:run_progress", args=[run.pk])).json()
    with translation.override("es"):
        assert progress["text"] == gettext("Cancelled. Nothing was stored.")
    assert progress["finished"] is True and progress["can_cancel"] is False
    # The consultation is free again.
    assert diagnosis_run_start(page=reported["page"], user=facilitator).status == "queued"


def test_cancelling_a_waiting_run_stops_it_before_any_worker_starts_it(reported, facilitator):
    run = diagnosis_run_start(page=reported["page"], user=facilitator)
    diagnosis_run_cancel(run=run, user=facilitator)
    run.refresh_from_db()
    assert run.status == DiagnosisRun.Status.CANCELLED
    assert diagnosis_run_execute(run_id=run.pk) is False  # the task arrives late: nothing to do
    assert not DiagnosisSnapshot.objects.exists()
    with pytest.raises(DiagnosisRunRefused):
        diagnosis_run_cancel(run=run, user=facilitator)


def test_a_failure_is_recorded_and_shown_translated_never_left_running(
    client, reported, facilitator, caplog
):
    run = DiagnosisRun.objects.create(
        consultation_key=reported["page"].translation_key,
        consultation=reported["page"],
        requested_by=facilitator,
        parameters={"k": 5, "method_version": "99"},  # queued by a newer Convive than this one
    )
    with caplog.at_level("ERROR", logger="convive.diagnosis"):
        assert diagnosis_run_execute(run_id=run.pk) is False
    run.refresh_from_db()
    assert run.status == DiagnosisRun.Status.FAILED
    assert run.error == DiagnosisRun.Error.FAILED
    assert "method version '99'" in run.error_detail
    assert run.finished_at is not None
    assert caplog.records[-1].exc_info
    assert not DiagnosisSnapshot.objects.exists()

    client.force_login(facilitator)
    with translation.override("es"):
        message = gettext(DiagnosisRun.Error.FAILED.label)
        logged = gettext("Stopped by an error. Nothing was stored.")
    page = client.get(reverse("diagnosis_runs:run", args=[run.pk])).content.decode()
    assert message in page and logged in page
    progress = client.get(reverse("diagnosis_runs:run_progress", args=[run.pk])).json()
    assert progress["text"] == message and progress["finished"] is True


def test_a_run_whose_worker_went_silent_is_interrupted_and_frees_the_consultation(
    client, reported, facilitator
):
    run = diagnosis_run_start(page=reported["page"], user=facilitator)
    DiagnosisRun.objects.filter(pk=run.pk).update(
        status=DiagnosisRun.Status.RUNNING,
        heartbeat_at=timezone.now() - STALE_AFTER - datetime.timedelta(minutes=1),
    )
    client.force_login(facilitator)
    data = client.get(reverse("diagnosis_runs:run_progress", args=[run.pk])).json()
    assert data["status"] == "failed"
    with translation.override("es"):
        assert data["text"] == gettext(DiagnosisRun.Error.INTERRUPTED.label)
    assert diagnosis_run_start(page=reported["page"], user=facilitator).status == "queued"


def test_a_redelivered_task_takes_over_a_silent_workers_run_and_says_so(reported, facilitator):
    run = diagnosis_run_start(page=reported["page"], user=facilitator)
    DiagnosisRun.objects.filter(pk=run.pk).update(
        status=DiagnosisRun.Status.RUNNING,
        heartbeat_at=timezone.now() - STALE_AFTER - datetime.timedelta(minutes=1),
    )
    assert diagnosis_run_execute(run_id=run.pk) is True
    run.refresh_from_db()
    assert run.status == DiagnosisRun.Status.DONE
    codes = [entry["code"] for entry in run.log]
    assert "restarted" in codes and "started" not in codes
    assert DiagnosisSnapshot.objects.count() == 1


def test_a_running_run_with_a_live_worker_is_not_taken_over(reported, facilitator):
    run = diagnosis_run_start(page=reported["page"], user=facilitator)
    DiagnosisRun.objects.filter(pk=run.pk).update(
        status=DiagnosisRun.Status.RUNNING, heartbeat_at=timezone.now()
    )
    assert diagnosis_run_execute(run_id=run.pk) is False
    assert DiagnosisSnapshot.objects.count() == 0


def test_a_task_delivered_twice_runs_once(reported, facilitator):
    run = run_once(reported["page"], facilitator)
    assert diagnosis_run_execute(run_id=run.pk) is False
    assert DiagnosisSnapshot.objects.count() == 1


# --- Immutability ---------------------------------------------------------------------------------


def test_a_snapshot_and_its_results_refuse_every_change(reported, facilitator, barrios):
    run = run_once(reported["page"], facilitator)
    snapshot = run.snapshot
    rows = len(snapshot_rows(snapshot))
    result = snapshot.results.first()

    snapshot.content_hash = "0" * 64
    with pytest.raises(SnapshotImmutable):
        snapshot.save()
    with pytest.raises(SnapshotImmutable):
        snapshot.delete()
    with pytest.raises(SnapshotImmutable):
        DiagnosisSnapshot.objects.filter(pk=snapshot.pk).update(content_hash="0" * 64)
    with pytest.raises(SnapshotImmutable):
        DiagnosisSnapshot.objects.filter(pk=snapshot.pk).delete()
    result.count = 99
    with pytest.raises(SnapshotImmutable):
        result.save()
    with pytest.raises(SnapshotImmutable):
        result.delete()
    with pytest.raises(SnapshotImmutable):
        DiagnosisResult.objects.filter(snapshot=snapshot).update(count=0)
    with pytest.raises(SnapshotImmutable):
        DiagnosisResult.objects.filter(snapshot=snapshot).delete()
    # An area the snapshot counts in cannot be deleted from under it.
    with pytest.raises(ProtectedError):
        barrios[1].delete()

    stored = DiagnosisSnapshot.objects.get(pk=snapshot.pk)
    assert snapshot_verify(stored)
    assert len(snapshot_rows(stored)) == rows

    # The one way out: with the run that made it.
    DiagnosisRun.objects.get(pk=run.pk).delete()
    assert not DiagnosisSnapshot.objects.exists()
    assert not DiagnosisResult.objects.exists()


# --- The admin pages ------------------------------------------------------------------------------


def test_the_form_starts_a_run_and_its_pages_show_progress_log_and_tables(
    client, reported, facilitator, django_capture_on_commit_callbacks
):
    client.force_login(facilitator)
    url = reverse("diagnosis_runs:consultation", args=[reported["page"].pk])
    assert "data-start-form" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the task runs in-process
        response = client.post(url, {"k": "7", "window_from": "", "window_to": ""})
    run = DiagnosisRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("diagnosis_runs:run", args=[run.pk])
    assert run.status == DiagnosisRun.Status.DONE
    assert run.parameters["k"] == 7

    page = client.get(response["Location"]).content.decode()
    assert "<progress" in page and f'value="{STEPS_TOTAL}"' in page
    with translation.override("es"):
        assert gettext("Requested by %(user)s.") % {"user": "fede"} in page
        assert gettext("Done: the snapshot is ready.") in page
    snapshot_url = reverse("diagnosis_runs:snapshot", args=[run.snapshot.pk])
    assert snapshot_url in page

    tables = client.get(snapshot_url).content.decode()
    for code in TABLES:
        assert f'data-table="{code}"' in tables
    assert run.snapshot.content_hash in tables
    assert "Alumbrado deficiente" in tables and "Lago Gaitan" in tables

    index = client.get(reverse("diagnosis_runs:index")).content.decode()
    assert f'data-consultation="{reported["page"].pk}"' in index
    assert snapshot_url in index
    listing = client.get(url).content.decode()
    assert f'data-run="{run.pk}"' in listing and snapshot_url in listing


def test_a_bad_form_is_a_400_and_starts_nothing(client, reported, facilitator):
    client.force_login(facilitator)
    url = reverse("diagnosis_runs:consultation", args=[reported["page"].pk])
    response = client.post(url, {"k": "2", "window_from": "2026-03-08", "window_to": "2026-03-01"})
    assert response.status_code == 400
    body = response.content.decode()
    with translation.override("es"):
        assert gettext("The time window starts after it ends.") in body
        assert (
            gettext("Ensure this value is greater than or equal to %(limit_value)s.")
            % {"limit_value": 3}
            in body
        )
    assert client.post(url, {"k": "cinco"}).status_code == 400
    assert not DiagnosisRun.objects.exists()


def test_starting_while_a_run_is_active_is_a_409_with_the_reason(client, reported, facilitator):
    active = diagnosis_run_start(page=reported["page"], user=facilitator)
    client.force_login(facilitator)
    url = reverse("diagnosis_runs:consultation", args=[reported["page"].pk])
    response = client.post(url, {"k": "5"})
    assert response.status_code == 409
    body = response.content.decode()
    assert "data-form-error" in body
    assert reverse("diagnosis_runs:run", args=[active.pk]) in body
    assert DiagnosisRun.objects.count() == 1


def test_cancel_from_the_run_page_and_a_409_once_it_finished(client, reported, facilitator):
    run = diagnosis_run_start(page=reported["page"], user=facilitator)
    client.force_login(facilitator)
    page = client.get(reverse("diagnosis_runs:run", args=[run.pk])).content.decode()
    cancel_url = reverse("diagnosis_runs:run_cancel", args=[run.pk])
    assert cancel_url in page
    assert client.get(cancel_url).status_code == 405
    assert client.post(cancel_url).status_code == 302
    run.refresh_from_db()
    assert run.status == DiagnosisRun.Status.CANCELLED
    again = client.post(cancel_url)
    assert again.status_code == 409
    with translation.override("es"):
        refusal = gettext(
            "This diagnosis has already finished (%(status)s); there is nothing to cancel."
        ) % {"status": gettext("Cancelled")}
        assert refusal in again.content.decode()


def test_people_who_cannot_edit_the_consultation_get_403_everywhere(
    client, reported, facilitator, admin_reader
):
    run = run_once(reported["page"], facilitator)
    consultation_url = reverse("diagnosis_runs:consultation", args=[reported["page"].pk])
    urls = [
        reverse("diagnosis_runs:index"),
        consultation_url,
        reverse("diagnosis_runs:run", args=[run.pk]),
        reverse("diagnosis_runs:run_progress", args=[run.pk]),
        reverse("diagnosis_runs:snapshot", args=[run.snapshot.pk]),
    ]
    client.force_login(admin_reader)
    refusals = {url: client.get(url) for url in urls}
    assert {url: answer.status_code for url, answer in refusals.items()} == dict.fromkeys(urls, 403)
    with translation.override("es"):
        why = gettext(
            "A diagnosis holds raw counts, small ones included: only people who can edit the "
            "consultation can run it or read it."
        )
    # Every diagnosis page says why in the diagnosis's own words, not another tool's (the
    # progress poll is JSON for the run page's script).
    pages = [url for url in urls if url != reverse("diagnosis_runs:run_progress", args=[run.pk])]
    assert all(why in refusals[url].content.decode() for url in pages)
    assert client.post(consultation_url, {"k": "5"}).status_code == 403
    assert client.post(reverse("diagnosis_runs:run_cancel", args=[run.pk])).status_code == 403
    assert DiagnosisRun.objects.count() == 1
    client.logout()
    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 302)


def test_menu_item_is_offered_to_editors_only(rf, facilitator, admin_reader, consultation):
    from wagtail import hooks

    items = [register() for register in hooks.get_hooks(PARTICIPATION_SUBMENU_HOOK)]
    [item] = [item for item in items if item.url == reverse("diagnosis_runs:index")]
    request = rf.get("/admin/")
    request.user = facilitator
    assert item.is_shown(request)
    request.user = admin_reader
    assert not item.is_shown(request)


# --- In a real browser ----------------------------------------------------------------------------


def admin_tab(browser, live_server, user, language: str):
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()
    context = browser.new_context(locale=language, viewport={"width": 1280, "height": 1100})
    tab = context.new_page()
    tab.goto(f"{live_server.url}/admin/login/")
    tab.fill("input[name=username]", user.username)
    tab.fill("input[name=password]", "pw")
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{live_server.url}/admin/")
    return context, tab


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_progress_bar_follows_the_run_to_its_snapshot(browser, live_server, reported):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = reported["page"]
    for language, username in (("es", "faci"), ("en", "facien")):
        user = staff(username, FACILITATORS)
        context, tab = admin_tab(browser, live_server, user, language)
        tab.goto(f"{live_server.url}{reverse('diagnosis_runs:index')}")
        tab.wait_for_selector("[data-diagnosis-index]")
        tab.screenshot(path=SHOTS / f"index-{language}.png", full_page=True)
        tab.goto(f"{live_server.url}{reverse('diagnosis_runs:consultation', args=[page.pk])}")
        tab.screenshot(path=SHOTS / f"consultation-{language}.png", full_page=True)

        # A run as the form records it, before a worker picks it up; then a worker runs it.
        with celery_publishing_to(NOBODY_CONSUMES[0], queue=NOBODY_CONSUMES[1]):
            run = diagnosis_run_start(page=page, user=user, k=5)
        tab.goto(f"{live_server.url}{reverse('diagnosis_runs:run', args=[run.pk])}")
        assert tab.locator("#run-progress").evaluate("p => [p.value, p.max]") == [0, STEPS_TOTAL]
        assert tab.locator("[data-job-cancel]").is_visible()
        tab.screenshot(path=SHOTS / f"run-waiting-{language}.png", full_page=True)
        assert diagnosis_run_execute(run_id=run.pk) is True
        tab.wait_for_selector("[data-job-result]", state="visible", timeout=10_000)
        assert tab.locator("#run-progress").evaluate("p => [p.value, p.max]") == [
            STEPS_TOTAL,
            STEPS_TOTAL,
        ]
        assert tab.locator("[data-job-cancel]").is_hidden()
        assert tab.locator("[data-job-log] li").count() >= len(STEPS) + 2
        tab.screenshot(path=SHOTS / f"run-done-{language}.png", full_page=True)
        tab.click("[data-job-result]")
        tab.wait_for_selector('[data-table="concerns_by_category"]')
        tab.screenshot(path=SHOTS / f"snapshot-{language}.png", full_page=True)
        context.close()
