"""Problems on the results page: preparing the page from a snapshot, the editor's checks on quotes,
categories and areas (through Wagtail's real page editor), the evidence page, and what the public
sees of a problem — quotes from "a resident", never a reference code."""

import datetime
import html
import json
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from wagtail.models import PageLogEntry
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from cms.models import ResultsPage, ResultsProblem
from cms.problems import problems_context, text_has_phone
from diagnosis.models import ConsultationPage
from diagnosis.services import concern_moderate
from diagnosis.services.diagnosis_runs import diagnosis_run_execute, diagnosis_run_start
from diagnosis.services.groups import FACILITATORS, MODERATORS
from maps.models import Area
from tests.diagnosis.conftest import staff
from tests.diagnosis.test_prioritisation import (
    ballot,
    close,
    results_page_with_problems,
    set_phase,
)

pytestmark = pytest.mark.django_db

SECRET_WORDS = "El poste de la esquina lleva meses apagado y nadie lo arregla."


@pytest.fixture
def moderator_user(db):
    return staff("mara", MODERATORS)


@pytest.fixture
def facilitator(db):
    return staff("fede", FACILITATORS)


@pytest.fixture
def admin_reader(db):
    """May use the admin, may edit no page."""
    user = get_user_model().objects.create_user("lector", "lector@example.org", "pw")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    )
    return user


@pytest.fixture
def concerns(submit, categories, moderator_user):
    """Approved, pending and sensitive concerns with words in them."""

    def approved(**kwargs):
        return concern_moderate(concern=submit(**kwargs), user=moderator_user, status="approved")

    return {
        "lighting": approved(description=SECRET_WORDS),
        "harassment": approved(
            category=categories["harassment"], description="Nos gritan al salir del metro."
        ),
        "domestic": approved(
            category=categories["domestic"], description="En la casa de al lado gritan."
        ),
        "pending": submit(description="Todavía no revisado."),
    }


def snapshot_of(consultation, user):
    """Run the diagnosis here, as a worker would (unless it already ran in-process on commit)."""
    run = diagnosis_run_start(page=consultation, user=user, k=5)
    diagnosis_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == run.Status.DONE
    return run.snapshot


@pytest.fixture
def snapshot(consultation, concerns, facilitator):
    return snapshot_of(consultation, facilitator)


def prepare(client, snapshot):
    return client.post(reverse("problems:prepare", args=[snapshot.pk]))


# --- Preparing the results page -------------------------------------------------------------------


def test_prepare_makes_a_draft_results_page_and_opens_the_editor(
    client, facilitator, consultation, snapshot
):
    client.force_login(facilitator)
    response = prepare(client, snapshot)
    page = ResultsPage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_pages:edit", args=[page.pk])
    assert page.get_parent().pk == consultation.pk
    assert page.locale == consultation.locale
    assert page.snapshot == snapshot
    assert not page.live
    with translation.override("es"):
        assert page.title == gettext("Results: %(title)s") % {"title": consultation.title}
    assert page.latest_revision.user == facilitator
    assert PageLogEntry.objects.filter(page=page, action="wagtail.edit").exists()

    editor = client.get(response["Location"]).content.decode()
    assert 'name="problems-TOTAL_FORMS"' in editor


def test_prepare_again_adds_a_draft_revision_and_never_publishes(
    client, facilitator, consultation, snapshot
):
    client.force_login(facilitator)
    prepare(client, snapshot)
    page = ResultsPage.objects.get()
    page.save_revision(user=facilitator).publish()
    newer = snapshot_of(consultation, facilitator)

    response = prepare(client, newer)
    assert response["Location"] == reverse("wagtailadmin_pages:edit", args=[page.pk])
    assert ResultsPage.objects.count() == 1
    page.refresh_from_db()
    assert page.live and page.snapshot == snapshot  # the public still sees the published one
    assert page.has_unpublished_changes
    assert page.get_latest_revision_as_object().snapshot == newer


def test_prepare_under_the_source_language_of_a_translated_consultation(
    client, facilitator, consultation, snapshot, locales
):
    with translation.override("es"):
        english = consultation.copy_for_translation(locales["en"], copy_parents=True)
    english.save_revision().publish()
    client.force_login(facilitator)
    prepare(client, snapshot)
    assert ResultsPage.objects.get().get_parent().pk == consultation.pk


def test_only_people_who_can_edit_the_consultation_can_prepare(client, admin_reader, snapshot):
    client.force_login(admin_reader)
    response = prepare(client, snapshot)
    assert response.status_code == 403
    assert not ResultsPage.objects.exists()
    assert client.get(reverse("problems:prepare", args=[snapshot.pk])).status_code in (403, 405)
    assert (
        client.get(reverse("problems:evidence", args=[snapshot.run.consultation_id])).status_code
        == 403
    )


# --- The page editor -----------------------------------------------------------------------------


@pytest.fixture
def draft(client, facilitator, snapshot):
    client.force_login(facilitator)
    prepare(client, snapshot)
    return ResultsPage.objects.get()


@pytest.fixture
def elsewhere(db):
    """An area that is not part of the consultation."""
    square = Polygon(((-74.2, 4.5), (-74.19, 4.5), (-74.19, 4.51), (-74.2, 4.5)), srid=4326)
    return Area.objects.create(
        name="Usme", code="999999", level=Area.Level.NEIGHBOURHOOD, geometry=MultiPolygon(square)
    )


def editor_post(client, page, problems):
    """POST the page editor's form as the browser would (Save draft)."""
    data = nested_form_data(
        {
            "title": page.title,
            "slug": page.slug,
            "intro": rich_text(""),
            "method_notes": rich_text(""),
            "problems": inline_formset(
                [
                    {
                        "title": problem["title"],
                        "description": problem.get("description", ""),
                        "quotes": streamfield(
                            [
                                ("quote", {"concern": ref, "text": text})
                                for ref, text in problem["quotes"]
                            ]
                        ),
                    }
                    for problem in problems
                ]
            ),
            "comments": inline_formset([]),
        }
    )
    for index, problem in enumerate(problems):
        data[f"problems-{index}-categories"] = [str(c.pk) for c in problem.get("categories", [])]
        data[f"problems-{index}-areas"] = [str(a.pk) for a in problem.get("areas", [])]
    return client.post(reverse("wagtailadmin_pages:edit", args=[page.pk]), data)


def latest(page):
    page.refresh_from_db()
    return page.get_latest_revision_as_object()


def problem_errors(response) -> dict[str, str]:
    """The first problem's errors as the editor shows them, flattened to text."""
    form = response.context["form"].formsets["problems"].forms[0]
    flat = {}
    for name, errors in form.errors.as_data().items():
        texts = []
        for error in errors:
            texts.extend(_messages(error))
        flat[name] = " ".join(texts)
    return flat


def _messages(error) -> list[str]:
    block_errors = getattr(error, "block_errors", None)
    if block_errors:
        found = []
        for child in block_errors.values():
            found.extend(_messages(child))
        return found
    return [str(message) for message in error.messages]


def test_editor_offers_the_consultation_categories_and_areas_as_checkboxes(
    client, draft, consultation, categories, barrios, elsewhere
):
    editor_post(
        client,
        draft,
        [{"title": "Caminos oscuros", "quotes": [], "categories": [categories["lighting"]]}],
    )
    page = client.get(reverse("wagtailadmin_pages:edit", args=[draft.pk])).content.decode()
    assert 'type="checkbox" name="problems-0-categories"' in page
    for area in barrios:
        assert f'name="problems-0-areas" value="{area.pk}"' in page
    assert f'name="problems-0-areas" value="{elsewhere.pk}"' not in page
    assert reverse("problems:evidence", args=[consultation.pk]) in html.unescape(page)


def test_a_valid_problem_is_saved_with_its_quote(client, draft, concerns, categories, barrios):
    response = editor_post(
        client,
        draft,
        [
            {
                "title": "Caminos oscuros al colegio",
                "description": "Postes sin luz.",
                "categories": [categories["lighting"]],
                "areas": [barrios[0]],
                "quotes": [
                    (
                        concerns["lighting"].reference.lower().replace("-", ""),
                        "Lleva meses apagado.",
                    )
                ],
            }
        ],
    )
    assert response.status_code == 302, problem_errors(response)
    problem = latest(draft).problems.get()
    assert problem.title == "Caminos oscuros al colegio"
    assert list(problem.areas.all()) == [barrios[0]]
    assert problem.quotes[0].value["text"] == "Lleva meses apagado."


@pytest.mark.parametrize(
    ("quote", "field", "message"),
    [
        (
            "pending",
            "concern",
            "The concern %(reference)s is not approved: only approved concerns are quoted.",
        ),
        (
            "domestic",
            "concern",
            "The concern %(reference)s is in a sensitive category (%(category)s): "
            "its words are never quoted.",
        ),
        ("unknown", "concern", "No concern of this consultation has the reference %(reference)s."),
        ("email", "text", "Remove the e-mail address: a quote must not identify anyone."),
        ("phone", "text", "Remove the phone number: a quote must not identify anyone."),
    ],
)
def test_editor_refuses_quotes_that_break_the_rules(
    client, draft, concerns, categories, quote, field, message
):
    reference, text = concerns["lighting"].reference, "Lleva meses apagado."
    if quote in ("pending", "domestic"):
        reference = concerns[quote].reference
    elif quote == "unknown":
        reference = "ZZZZ-ZZZZ"
    elif quote == "email":
        text = "Escríbanme a vecina.chico@example.org si necesitan más."
    elif quote == "phone":
        text = "Llamen al 300 123 4567 y les cuento."
    response = editor_post(
        client, draft, [{"title": "Caminos oscuros", "quotes": [(reference, text)]}]
    )
    assert response.status_code == 200
    with translation.override("es"):
        expected = gettext(message) % {
            "reference": reference,
            "category": categories["domestic"].name,
        }
    errors = problem_errors(response)
    assert expected in errors["quotes"]
    # The editor shows it: Wagtail hands stream-field errors to its script as JSON, where
    # non-ASCII letters arrive escaped (\u00f3).
    page = html.unescape(response.content.decode())
    assert expected in page or json.dumps(expected)[1:-1] in page
    assert not latest(draft).problems.exists()


def test_a_concern_of_another_consultation_cannot_be_quoted(
    client, draft, home, barrios, categories, moderator_user
):
    from django.contrib.gis.geos import Point

    from diagnosis.services import concern_submit
    from tests.conftest import EL_CHICO_POINT

    other = ConsultationPage(title="Otra", slug="otra", phase=ConsultationPage.Phase.LISTENING)
    home.add_child(instance=other)
    other.areas.set(barrios)
    other.categories.set(categories.values())
    other.save_revision().publish()
    foreign = concern_submit(
        consultation=other,
        category=categories["lighting"],
        idempotency_key=uuid.uuid4(),
        language="es",
        description="Muy oscuro.",
        point=Point(*EL_CHICO_POINT, srid=4326),
    ).concern
    concern_moderate(concern=foreign, user=moderator_user, status="approved")
    response = editor_post(
        client, draft, [{"title": "Oscuro", "quotes": [(foreign.reference, "Muy oscuro.")]}]
    )
    assert response.status_code == 200
    assert foreign.reference in problem_errors(response)["quotes"]


def test_editor_refuses_an_area_outside_the_consultation(client, draft, elsewhere):
    response = editor_post(
        client, draft, [{"title": "Caminos oscuros", "quotes": [], "areas": [elsewhere]}]
    )
    assert response.status_code == 200
    assert "areas" in problem_errors(response)
    assert not latest(draft).problems.exists()


def test_problem_clean_checks_areas_outside_the_form_too(draft, consultation, elsewhere):
    from django.core.exceptions import ValidationError

    problem = ResultsProblem(page=draft, title="Fuera")
    problem.areas = [elsewhere]
    with pytest.raises(ValidationError) as refused:
        problem.full_clean(exclude=["page", "locale", "translation_key"])
    assert "Usme" in str(refused.value.message_dict["areas"])


def test_phone_numbers_are_found_but_house_numbers_and_times_are_not():
    assert text_has_phone("llamen al +57 (1) 234-5678")
    assert text_has_phone("mi cel 3001234567")
    assert not text_has_phone("en la calle 63 con 7, a las 10 de la noche")
    assert not text_has_phone("desde 2019 está así")


# --- Evidence ------------------------------------------------------------------------------------


def test_evidence_lists_quotable_concerns_and_the_numbers(
    client, facilitator, consultation, concerns, snapshot, categories
):
    client.force_login(facilitator)
    url = reverse("problems:evidence", args=[consultation.pk])
    page = client.get(f"{url}?snapshot={snapshot.pk}").content.decode()
    assert concerns["lighting"].reference in page
    assert concerns["harassment"].reference in page
    assert concerns["domestic"].reference not in page  # sensitive: never quoted
    assert concerns["pending"].reference not in page  # not approved
    assert "data-evidence-numbers" in page

    key = categories["harassment"].translation_key
    filtered = client.get(f"{url}?category={key}").content.decode()
    assert concerns["harassment"].reference in filtered
    assert concerns["lighting"].reference not in filtered


# --- The public page ------------------------------------------------------------------------------


def results_with_quoted_problem(consultation, snapshot, concern, categories, barrios):
    results = results_page_with_problems(consultation, [])
    results.snapshot = snapshot
    problem = ResultsProblem(title="Caminos oscuros", description="Postes sin luz.")
    problem.categories = [categories["lighting"]]
    problem.areas = [barrios[0]]
    problem.quotes = [("quote", {"concern": concern.reference, "text": SECRET_WORDS})]
    results.problems = [problem]
    results.save_revision().publish()
    return ResultsPage.objects.get(pk=results.pk)


def test_the_public_sees_quotes_from_a_resident_without_reference_codes(
    consultation, concerns, categories, barrios, snapshot
):
    results = results_with_quoted_problem(
        consultation, snapshot, concerns["lighting"], categories, barrios
    )
    request = RequestFactory().get(results.url)
    with translation.override("es"):
        rendered = render_to_string(
            "cms/includes/results_problems.html", problems_context(results, request), request
        )
        resident = gettext("a resident")
    assert "Caminos oscuros" in rendered and "Postes sin luz." in rendered
    assert f"<blockquote><p>{SECRET_WORDS}</p></blockquote>" in rendered
    assert resident in rendered
    assert categories["lighting"].name in rendered and barrios[0].name in rendered
    assert concerns["lighting"].reference not in rendered
    # One concern of the category in the area: below k = 5, so never shown as a number.
    with translation.override("es"):
        assert gettext("fewer than %(k)s") % {"k": 5} in rendered
    assert '<td class="num">1</td>' not in rendered

    page = Client().get(results.url).content.decode()
    assert f"<blockquote><p>{SECRET_WORDS}</p></blockquote>" in page
    assert concerns["lighting"].reference not in page


def test_the_public_sees_a_published_count_behind_a_problem(
    consultation, concerns, categories, barrios, submit, moderator_user, facilitator
):
    for _ in range(5):
        concern_moderate(concern=submit(), user=moderator_user, status="approved")
    snapshot = snapshot_of(consultation, facilitator)
    results = results_with_quoted_problem(
        consultation, snapshot, concerns["lighting"], categories, barrios
    )
    request = RequestFactory().get(results.url)
    rendered = render_to_string(
        "cms/includes/results_problems.html", problems_context(results, request), request
    )
    assert '<td class="num">6</td>' in rendered  # six approved lighting concerns in El Chico


def test_the_results_page_shows_the_tally_only_once_closed(client, consultation):
    results = results_page_with_problems(consultation, [("Caminos oscuros", ""), ("Acoso", "")])
    set_phase(
        consultation,
        ConsultationPage.Phase.PRIORITISATION,
        closes_at=timezone.now() + datetime.timedelta(days=1),
    )
    keys = [str(p.translation_key) for p in results.problems.all()]
    assert client.post("/es/chapinero/prioritise/", ballot(keys, 3, 7)).status_code == 303

    request = RequestFactory().get(results.url)
    context = problems_context(results, request)
    assert context["prioritisation_tally"] is None
    assert "data-prioritisation-tally" not in render_to_string(
        "cms/includes/results_problems.html", context, request
    )

    close(consultation)
    results.refresh_from_db()
    rendered = render_to_string(
        "cms/includes/results_problems.html", problems_context(results, request), request
    )
    assert "data-prioritisation-tally" in rendered
    assert rendered.index(f'<tr data-problem="{keys[1]}">') < rendered.index(
        f'<tr data-problem="{keys[0]}">'
    )


def test_a_translated_page_keeps_the_categories_its_problems_hold(
    client, draft, consultation, categories, locales, facilitator
):
    """Categories are synchronised across translations: the English page's problem holds the
    Spanish row, and its editor must keep it checked rather than offer another row and drop it."""
    editor_post(
        client,
        draft,
        [{"title": "Caminos oscuros", "quotes": [], "categories": [categories["lighting"]]}],
    )
    latest(draft).save_revision(user=facilitator).publish()
    english_lighting = categories["lighting"].copy_for_translation(locales["en"])
    english_lighting.name = "Poor lighting"
    english_lighting.save()
    with translation.override("es"):
        consultation.copy_for_translation(locales["en"], copy_parents=True)
    english = ResultsPage.objects.get(pk=draft.pk).copy_for_translation(locales["en"])

    page = client.get(reverse("wagtailadmin_pages:edit", args=[english.pk])).content.decode()
    boxes = {
        value: "checked" in tag
        for tag, value in re.findall(
            r'(<input[^>]*name="problems-0-categories" value="(\d+)"[^>]*>)', page
        )
    }
    assert boxes[str(categories["lighting"].pk)] is True
    assert str(english_lighting.pk) not in boxes
