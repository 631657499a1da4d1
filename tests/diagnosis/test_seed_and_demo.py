"""A fresh install works out of the box: home pages in every language, the default categories, and
a demo that `make demo` can build (and rebuild) from the real Chapinero boundaries."""

import html
import io
import re

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext
from wagtail.models import Site

from cms.commitments import commitments_progress, programme_commitments
from cms.demo_programme import PROGRAMME_SLUG_EN, PROGRAMME_SLUG_ES
from cms.management.commands.load_demo import DEMO_BALLOTS, PREVIOUS_SLUG
from cms.models import CommitmentFeedback, CommitmentPage, HomePage, ProgrammePage, ResultsPage
from diagnosis.models import (
    Concern,
    ConcernCategory,
    ConsultationPage,
    DiagnosisSnapshot,
    PrioritisationBallot,
    QuestionnaireResponse,
    SnapshotPublication,
)
from diagnosis.taxonomy import TAXONOMY
from maps.models import Area, ModerationStatus, SafetyWalk, WalkStop

pytestmark = pytest.mark.django_db

LANGUAGES = ("es", "en", "fr", "pt")


def demo(*args) -> str:
    out = io.StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def printed_password(output: str, username: str) -> str:
    return re.search(rf"^\s+{username}\s+(\S+)", output, re.MULTILINE).group(1)


def test_migrations_leave_a_home_page_per_language_as_the_site_root():
    site = Site.objects.get(is_default_site=True)
    spanish = site.root_page.specific
    assert isinstance(spanish, HomePage)
    assert spanish.locale.language_code == "es"
    translations = HomePage.objects.filter(translation_key=spanish.translation_key)
    assert sorted(translations.values_list("locale__language_code", flat=True)) == sorted(LANGUAGES)
    assert not site.root_page.get_children().exclude(content_type=spanish.content_type).exists()


@pytest.mark.parametrize(
    ("url", "language", "intro"),
    [
        ("/es/", "es", "Convive es el espacio"),
        ("/en/", "en", "Convive is where residents"),
        ("/fr/", "fr", "Convive est l’espace"),
        ("/pt/", "pt", "O Convive é o espaço"),
    ],
)
def test_each_language_has_its_home_page(client, url, language, intro):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}"' in html
    assert intro in html


def test_seeding_categories_twice_gives_each_category_once_per_language():
    call_command("seed_categories", stdout=io.StringIO())
    call_command("seed_categories", stdout=io.StringIO())

    assert len(TAXONOMY) == 20
    assert ConcernCategory.objects.count() == 20 * len(LANGUAGES)
    per_code = ConcernCategory.objects.values("code").annotate(
        rows=Count("id"), keys=Count("translation_key", distinct=True)
    )
    assert {row["code"] for row in per_code} == {item.code for item in TAXONOMY}
    assert all(row["rows"] == 4 and row["keys"] == 1 for row in per_code)
    names = dict(
        ConcernCategory.objects.filter(code="poor-lighting").values_list(
            "locale__language_code", "name"
        )
    )
    assert names == {
        "es": "Alumbrado deficiente",
        "en": "Poor lighting",
        "fr": "Éclairage insuffisant",
        "pt": "Iluminação precária",
    }
    sensitive = set(
        ConcernCategory.objects.filter(sensitive=True).values_list("code", flat=True).distinct()
    )
    assert sensitive == {"domestic-violence", "violence-against-children"}


def test_seeding_refreshes_an_edited_name_without_duplicating():
    call_command("seed_categories", stdout=io.StringIO())
    ConcernCategory.objects.filter(code="gangs", locale__language_code="en").update(name="Gngs")
    call_command("seed_categories", stdout=io.StringIO())
    assert ConcernCategory.objects.get(code="gangs", locale__language_code="en").name == "Gangs"
    assert ConcernCategory.objects.count() == 80


def test_demo_builds_a_bilingual_consultation_with_moderated_concerns(
    client, django_capture_on_commit_callbacks
):
    # The test runs inside a transaction: run the post-commit processing as a real commit would.
    with django_capture_on_commit_callbacks(execute=True):
        output = demo("--concerns", "40")

    chapinero = Area.objects.get(code="BOG-LOC-02")
    assert chapinero.level == Area.Level.DISTRICT
    assert "IDECA" in chapinero.source
    barrios = Area.objects.filter(parent=chapinero, level=Area.Level.NEIGHBOURHOOD)
    assert barrios.count() == 74

    spanish = ConsultationPage.objects.get(slug="chapinero", locale__language_code="es")
    english = ConsultationPage.objects.get(
        translation_key=spanish.translation_key, locale__language_code="en"
    )
    for page in (spanish, english):
        # Listening is over: the demo shows the prioritisation that follows the diagnosis.
        assert page.live and not page.accepts_concerns
        assert page.phase == ConsultationPage.Phase.PRIORITISATION
        assert page.areas.count() == 74
        assert page.categories.count() == 20
    assert english.title == "Chapinero Cares"

    concerns = Concern.objects.filter(consultation_key=spanish.translation_key)
    assert concerns.count() == 40
    assert concerns.filter(area__isnull=False).count() >= 30
    assert set(concerns.values_list("area__parent", flat=True)) <= {chapinero.pk, None}
    statuses = set(concerns.values_list("status", flat=True))
    assert {Concern.Status.APPROVED, Concern.Status.PENDING} <= statuses
    assert concerns.filter(status=Concern.Status.APPROVED).count() >= 25
    assert not concerns.filter(status=Concern.Status.REJECTED, moderation_reason="").exists()
    assert concerns.filter(language="en", consultation=english).exists()
    assert not concerns.filter(processed_at__isnull=True).exists()

    User = get_user_model()
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="facilitadora").groups.filter(name="Facilitators").exists()
    assert User.objects.get(username="moderador").groups.filter(name="Moderators").exists()
    assert authenticate(username="moderador", password=printed_password(output, "moderador"))

    home = client.get("/es/")
    assert home.status_code == 200
    assert "Chapinero se cuida" in home.content.decode()
    assert client.get("/es/chapinero/").status_code == 200
    assert client.get("/en/chapinero-cares/").status_code == 200
    assert "Chapinero Cares" in client.get("/en/").content.decode()

    # A day walk and the same route at night, every stop approved, both reports published and
    # listed on the consultation page in both languages.
    day = SafetyWalk.objects.get(time_band="day", title__startswith="Carrera 13")
    night = SafetyWalk.objects.get(repeats=day)
    assert night.repeat_kind == SafetyWalk.RepeatKind.OTHER_TIME
    assert night.time_band == SafetyWalk.TimeBand.NIGHT
    chapinero_central = Area.objects.get(code="008213")
    for walk in (day, night):
        assert walk.status == SafetyWalk.Status.DONE and walk.report_is_public
        assert chapinero_central in walk.areas.all()
        stops = WalkStop.objects.filter(walk=walk)
        assert 15 <= stops.count() <= 25
        assert not stops.exclude(status=ModerationStatus.APPROVED).exists()
        assert stops.exclude(notes="").count() >= 5
        assert len({stop.public_point.coords for stop in stops}) >= 10  # spread along the route
        assert walk.participants.exists()
    night_unsafe = WalkStop.objects.filter(walk=night).exclude(feeling="comfortable").count()
    day_unsafe = WalkStop.objects.filter(walk=day).exclude(feeling="comfortable").count()
    assert night_unsafe / night.stops.count() > day_unsafe / day.stops.count()
    for page in (spanish, english):
        assert set(page.walks.all()) == {day, night}
    html = client.get("/es/chapinero/").content.decode()
    assert f"/es/walks/{night.uuid}/" in html and f"/es/walks/{day.uuid}/" in html
    report = client.get(f"/es/walks/{night.uuid}/")
    assert report.status_code == 200
    assert "verdict--worse" in report.content.decode()
    assert client.get("/en/chapinero-cares/").content.decode().count("/en/walks/") == 2

    # A questionnaire from the question bank, worded in each language, answered through both:
    # one version, so Spanish and English answers count together.
    assert [block.value["code"] for block in spanish.questionnaire][:2] == [
        "bank-safe-night",
        "bank-safe-day",
    ]
    night_question = {
        page.locale.language_code: next(iter(page.questionnaire)).value["question"]
        for page in (spanish, english)
    }
    assert night_question["en"] == (
        "How safe do you feel walking alone around the area you live after dark?"
    )
    assert night_question["es"].startswith("¿Qué tan seguro/a te sientes")
    responses = QuestionnaireResponse.objects.filter(consultation_key=spanish.translation_key)
    assert responses.count() == 240
    assert set(responses.values_list("language", flat=True)) == {"es", "en"}
    assert responses.values("version").distinct().count() == 1
    assert responses.filter(source="paper", entered_by__username="facilitadora").exists()
    form = client.get("/en/chapinero-cares/questionnaire/")
    assert form.status_code == 200
    with translation.override("en"):
        closed = gettext("This consultation is not accepting answers at the moment.")
    assert closed in form.content.decode()


def diagnosis_state() -> dict:
    """What the demo's diagnosis cycle made: snapshots, results pages, publications, ballots."""
    return {
        "snapshots": sorted(DiagnosisSnapshot.objects.values_list("pk", flat=True)),
        "results_pages": sorted(ResultsPage.objects.values_list("pk", flat=True)),
        "publications": SnapshotPublication.objects.count(),
        "ballots": sorted(PrioritisationBallot.objects.values_list("pk", flat=True)),
        "commitments": sorted(CommitmentPage.objects.values_list("pk", flat=True)),
    }


def test_demo_shows_the_diagnosis_cycle(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        output = demo("--concerns", "120", "--responses", "60")

    spanish = ConsultationPage.objects.get(slug="chapinero", locale__language_code="es")
    english = spanish.get_translations().get(locale__language_code="en").specific
    previous = ConsultationPage.objects.get(slug=PREVIOUS_SLUG)

    # The previous round: closed, with a published snapshot the main diagnosis compares with.
    assert previous.phase == ConsultationPage.Phase.CLOSED
    assert spanish.previous_round == previous and english.previous_round == previous
    previous_snapshot = DiagnosisSnapshot.objects.get(consultation_key=previous.translation_key)
    assert SnapshotPublication.objects.filter(snapshot=previous_snapshot).exists()

    # One snapshot of the main consultation, made by a finished run with the default k.
    snapshot = DiagnosisSnapshot.objects.get(consultation_key=spanish.translation_key)
    assert snapshot.run.status == "done"
    assert snapshot.parameters["k"] == 5
    assert snapshot.input_counts["previous_snapshot"] == previous_snapshot.pk
    assert snapshot.input_counts["questionnaire_responses"] == 60
    for table in (
        "concerns_by_category",
        "concerns_by_area_category",
        "perception",
        "participation_profile",
        "hotspots",
        "walk_scores",
        "change_area_category",
        "change_perception",
    ):
        assert snapshot.results.filter(table=table).exists(), table

    # The results page, published in Spanish and English, with three problems and quotes.
    results = ResultsPage.objects.live().child_of(spanish).get()
    en_results = ResultsPage.objects.live().child_of(english).get()
    assert results.snapshot == snapshot and en_results.snapshot == snapshot
    assert results.url == "/es/chapinero/resultados/"
    assert en_results.url == "/en/chapinero-cares/results/"
    assert SnapshotPublication.objects.filter(snapshot=snapshot).exists()
    for page, language in ((results, "es"), (en_results, "en")):
        problems = list(page.problems.all())
        assert len(problems) == 3
        assert sum(1 for problem in problems if len(problem.quotes)) >= 2
        for problem in problems:
            problem.full_clean()  # the editor's checks: quotes of approved, non-sensitive concerns
            assert problem.description and problem.categories.exists()
        response = client.get(page.url)
        assert response.status_code == 200
        text = html.unescape(response.content.decode())
        assert f'<html lang="{language}"' in text
        for problem in problems:
            assert problem.title in text
        quotes = [block.value["text"] for problem in problems for block in problem.quotes]
        assert any(quote in text for quote in quotes)
        with translation.override(language):
            assert gettext("Change since the previous round") in text
            assert gettext("Problems residents identified") in text
        for name in ("csv", "geojson", "pdf"):
            download = client.get(page.url + page.reverse_subpage("results_download", args=[name]))
            assert download.status_code == 200, name
    assert {p.translation_key for p in results.problems.all()} == {
        p.translation_key for p in en_results.problems.all()
    }
    sensitive = set(
        ConcernCategory.objects.filter(sensitive=True).values_list("translation_key", flat=True)
    )
    quoted = [
        block.value["concern"] for problem in results.problems.all() for block in problem.quotes
    ]
    concerns = Concern.objects.filter(reference__in=quoted)
    assert concerns.count() == len(set(quoted))
    assert not concerns.exclude(status=Concern.Status.APPROVED).exists()
    assert not concerns.filter(category_key__in=sensitive).exists()
    assert all(concern.reference not in text for concern in concerns)

    # Prioritisation is open for two weeks, with the demo ballots already cast.
    assert spanish.prioritisation_closes_at > snapshot.created_at
    ballots = PrioritisationBallot.objects.filter(consultation_key=spanish.translation_key)
    assert ballots.count() == DEMO_BALLOTS
    assert set(ballots.values_list("language", flat=True)) == {"es", "en"}
    keys = {str(problem.translation_key) for problem in results.problems.all()}
    for points in ballots.values_list("points", flat=True):
        assert set(points) <= keys
        assert 1 <= sum(points.values()) <= spanish.prioritisation_points
    for url, page in (
        ("/es/chapinero/prioritise/", results),
        ("/en/chapinero-cares/prioritise/", en_results),
    ):
        ballot = client.get(url)
        assert ballot.status_code == 200
        text = html.unescape(ballot.content.decode())
        for problem in page.problems.all():
            assert problem.title in text
            assert f'name="points-{problem.translation_key}"' in text

    # The printout points a visitor to the results and the ballot.
    for path in (
        "/es/chapinero/resultados/",
        "/en/chapinero-cares/results/",
        "/es/chapinero/prioritise/",
    ):
        assert path in output


def test_demo_answers_the_diagnosis_with_a_programme(client):
    output = demo("--concerns", "120", "--responses", "20")
    programme = ProgrammePage.objects.get(slug=PROGRAMME_SLUG_ES)
    english = ProgrammePage.objects.get(slug=PROGRAMME_SLUG_EN)
    spanish = ConsultationPage.objects.get(slug="chapinero", locale__language_code="es")
    results = ResultsPage.objects.live().child_of(spanish).get()
    assert list(programme.diagnoses.all()) == [results]
    assert english.translation_key == programme.translation_key

    commitments = programme_commitments(programme)
    answered = {p.pk for c in commitments for p in c.problems.all()}
    assert answered == set(results.problems.values_list("pk", flat=True))
    # Every commitment exists in English too, and has a change in its public history.
    assert CommitmentPage.objects.filter(locale__language_code="en").count() == len(commitments)
    progress = commitments_progress(commitments)
    for commitment in commitments:
        assert commitment.status is not None and commitment.agency
        parts = [c for c in commitments if c.parent_commitment_id == commitment.pk]
        if parts:
            total = sum(c.weight for c in parts)
            assert progress[commitment.pk] == sum(progress[c.pk] * c.weight for c in parts) / total

    for page in (programme, english):
        response = client.get(page.url)
        assert response.status_code == 200
        text = html.unescape(response.content.decode())
        for commitment in CommitmentPage.objects.child_of(page).live():
            assert commitment.title in text
            assert client.get(commitment.url).status_code == 200
    # Residents have answered on one commitment, enough for its summary; three comments shown.
    [rated] = {feedback.commitment for feedback in CommitmentFeedback.objects.all()}
    approved = CommitmentFeedback.objects.filter(status=ModerationStatus.APPROVED)
    assert approved.count() == 3
    text = html.unescape(client.get(rated.url).content.decode())
    assert "data-fewer-than-k" not in text
    assert all(feedback.comment in text for feedback in approved)
    assert programme.url in output


def test_running_the_demo_again_keeps_one_demo_and_prints_working_passwords():
    demo("--concerns", "10", "--responses", "3")
    built = diagnosis_state()
    second = demo("--concerns", "10", "--responses", "3", "--password", "otra-clave-demo")

    assert diagnosis_state() == built
    assert len(built["snapshots"]) == 2  # the main consultation and its previous round
    assert len(built["results_pages"]) == 3  # Spanish, English, and the previous round's
    assert len(built["ballots"]) == DEMO_BALLOTS
    assert ProgrammePage.objects.count() == 2  # Spanish and English
    assert ConsultationPage.objects.count() == 3  # Spanish, English, the previous round
    previous = ConsultationPage.objects.get(slug=PREVIOUS_SLUG)
    assert Concern.objects.exclude(consultation_key=previous.translation_key).count() == 10
    assert SafetyWalk.objects.count() == 2
    assert WalkStop.objects.count() == 39
    assert Area.objects.filter(parent__code="BOG-LOC-02").count() == 74
    assert ConcernCategory.objects.count() == 80
    assert get_user_model().objects.filter(username__in=["admin", "facilitadora"]).count() == 2
    assert printed_password(second, "facilitadora") == "otra-clave-demo"
    assert authenticate(username="facilitadora", password="otra-clave-demo")


def test_reset_rebuilds_the_demo():
    demo("--concerns", "5", "--responses", "3")
    old = ConsultationPage.objects.get(slug="chapinero")
    old_previous = ConsultationPage.objects.get(slug=PREVIOUS_SLUG)
    before = diagnosis_state()
    demo("--concerns", "8", "--responses", "4", "--reset")

    assert not ConsultationPage.objects.filter(pk__in=[old.pk, old_previous.pk]).exists()
    assert ConsultationPage.objects.count() == 3
    page = ConsultationPage.objects.get(slug="chapinero")
    previous = ConsultationPage.objects.get(slug=PREVIOUS_SLUG)
    assert page.previous_round == previous
    assert Concern.objects.filter(consultation_key=page.translation_key).count() == 8
    assert SafetyWalk.objects.count() == 2
    assert page.walks.count() == 2
    assert QuestionnaireResponse.objects.filter(consultation_key=page.translation_key).count() == 4
    after = diagnosis_state()
    assert not set(after["snapshots"]) & set(before["snapshots"])
    assert not set(after["results_pages"]) & set(before["results_pages"])
    assert len(after["snapshots"]) == 2 and len(after["results_pages"]) == 3
    assert after["publications"] == before["publications"]
    assert len(after["ballots"]) == DEMO_BALLOTS
    assert after["commitments"] and not set(after["commitments"]) & set(before["commitments"])
    assert ProgrammePage.objects.count() == 2
    snapshot = DiagnosisSnapshot.objects.get(consultation_key=page.translation_key)
    assert snapshot.input_counts["concerns"] <= 8
    assert ResultsPage.objects.live().child_of(page).get().snapshot == snapshot


def test_the_demo_without_concerns_builds_for_the_benchmarks():
    """`make bench-data` builds the demo with no concerns and adds a million of its own: the
    diagnosis then publishes nothing by area, and the demo's problems are named without areas."""
    demo("--concerns", "0")
    page = ConsultationPage.objects.get(slug="chapinero", locale__language_code="es")
    assert not page.concerns.exists()
    assert ResultsPage.objects.filter(locale__language_code="es").exists()
