"""A resident's reference code on a programme's lookup page: what became of the concern, which
problems and commitments it fed — and what the page must never say."""

import re

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from cms.models import CommitmentPage, ProgrammePage, ResultsProblem
from diagnosis.models import ConsultationPage
from diagnosis.services import concern_moderate


def lookup_url(programme) -> str:
    return programme.url + programme.reverse_subpage("programme_lookup")


def look_up(client, programme, code):
    return client.post(lookup_url(programme), {"reference": code})


def found(response) -> str:
    """The result section's HTML."""
    html = response.content.decode()
    match = re.search(r'<section class="lookup-result".*?</section>', html, re.S)
    assert match, "no result on the page"
    return match.group()


@pytest.fixture
def lighting_concern(diagnosed):
    return diagnosed["concerns"][0]


@pytest.fixture
def answered(make_commitment, diagnosed):
    """A commitment answering the lighting problem, in progress at 30 %."""
    return make_commitment(
        "Luminarias en El Chico",
        problems=[diagnosed["lighting"]],
        status="in-progress",
        progress=30,
    )


def test_the_form_asks_for_the_code_without_remembering_it(client, programme):
    response = client.get(lookup_url(programme))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'method="post"' in html and "csrfmiddlewaretoken" in html
    assert '<label for="id_reference">' in html
    assert 'autocomplete="off"' in html and 'inputmode="text"' in html
    assert "ABCD-2345" in html  # the example
    assert f'href="{programme.url}"' in html  # back to the programme
    assert response["Cache-Control"] == "private, no-store"


def test_a_counted_concern_shows_its_problem_and_the_commitments_answering_it(
    client, programme, lighting_concern, answered, diagnosed
):
    response = look_up(client, programme, lighting_concern.reference)
    assert response.status_code == 200
    result = found(response)
    assert 'data-state="counted"' in result
    assert "Alumbrado deficiente" in result and "El Chico" in result
    problem = diagnosed["lighting"]
    problem_url = programme.url + programme.reverse_subpage(
        "programme_problem", kwargs={"key": problem.translation_key}
    )
    assert f'href="{problem_url}"' in result and problem.title in result
    assert "Acoso al salir del metro" not in result  # another category
    assert f'href="{answered.url}"' in result and "Luminarias en El Chico" in result
    assert "En ejecución" in result and "30" in result
    assert client.get(problem_url).status_code == 200
    assert client.get(answered.url).status_code == 200


def test_a_problem_in_another_area_is_not_fed(
    client, programme, submit, categories, barrios, moderator_of_feedback, diagnosed
):
    lago = barrios[1]
    concern = submit(category=categories["lighting"], point=None, area=lago)
    concern_moderate(concern=concern, user=moderator_of_feedback, status="approved")
    result = found(look_up(client, programme, concern.reference))
    assert diagnosed["lighting"].title not in result  # a problem of El Chico only


def test_lower_case_spaces_and_a_missing_dash_are_accepted(client, programme, lighting_concern):
    typed = " " + lighting_concern.reference.replace("-", "").lower() + " "
    response = look_up(client, programme, typed)
    assert response.status_code == 200
    assert lighting_concern.reference in found(response)


@pytest.mark.parametrize("typed", ["", "ABC-123", "ABCD-23456", "AB*D-2345"])
def test_a_code_that_cannot_be_one_is_refused_with_a_message(client, programme, typed):
    response = look_up(client, programme, typed)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="field-error"' in html and 'aria-invalid="true"' in html
    assert 'data-lookup="found"' not in html


def test_a_code_of_another_consultation_reads_like_a_made_up_one(
    client, programme, home, barrios, categories, submit
):
    other = ConsultationPage(title="Usaquén se cuida", slug="usaquen", phase="listening")
    home.add_child(instance=other)
    other.areas.set(barrios)
    other.categories.set(categories.values())
    other.save_revision().publish()
    elsewhere = submit(consultation=ConsultationPage.objects.get(pk=other.pk)).reference
    made_up = "ZZZZ-9999"

    def page(code):
        response = look_up(client, programme, code)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-lookup="not-found"' in html and 'data-lookup="found"' not in html
        return html.replace(code, "CODE").replace(response.cookies.get("csrftoken").value, "")

    def without_tokens(html):
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert without_tokens(page(elsewhere)) == without_tokens(page(made_up))


def test_a_pending_concern_is_waiting_for_review(client, programme, submit, diagnosed):
    concern = submit()
    result = found(look_up(client, programme, concern.reference))
    assert 'data-state="pending"' in result
    assert "data-problem" not in result


def test_a_rejected_concern_gives_the_moderators_reason(
    client, programme, submit, moderator_of_feedback
):
    concern = submit()
    concern_moderate(
        concern=concern,
        user=moderator_of_feedback,
        status="rejected",
        reason="Repetido: ya estaba reportado.",
    )
    result = found(look_up(client, programme, concern.reference))
    assert 'data-state="not-counted"' in result
    assert "Repetido: ya estaba reportado." in result
    assert "data-problem" not in result


def test_a_concern_approved_after_the_diagnosis_counts_in_the_next(
    client, programme, submit, moderator_of_feedback, diagnosed, answered
):
    concern = submit()
    concern_moderate(concern=concern, user=moderator_of_feedback, status="approved")
    result = found(look_up(client, programme, concern.reference))
    assert 'data-state="later"' in result
    # Still about the lighting problem in El Chico and its commitment.
    assert diagnosed["lighting"].title in result and "Luminarias en El Chico" in result


def test_a_quoted_concern_is_told_so_without_the_quote(
    client, programme, diagnosed, lighting_concern
):
    harassment = diagnosed["harassment"]
    harassment.quotes = [
        ("quote", {"concern": lighting_concern.reference.lower(), "text": "Me siguieron"}),
        ("quote", {"concern": diagnosed["concerns"][1].reference, "text": "Otra voz"}),
    ]
    harassment.save()
    result = found(look_up(client, programme, lighting_concern.reference))
    assert result.count("data-quoted") == 1
    assert harassment.title in result  # quoted there, though about another category
    assert "Me siguieron" not in result and "Otra voz" not in result
    assert diagnosed["concerns"][1].reference not in result


def test_the_concerns_own_words_and_place_are_never_shown(client, programme, lighting_concern):
    html = look_up(client, programme, lighting_concern.reference).content.decode()
    assert lighting_concern.description and lighting_concern.description not in html
    assert str(lighting_concern.point.x)[:7] not in html


def test_a_sensitive_concern_is_tied_to_no_category_area_or_problem(
    client,
    programme,
    consultation,
    submit,
    categories,
    barrios,
    moderator_of_feedback,
    diagnosed,
    make_commitment,
):
    chico = barrios[0]
    consultation = ConsultationPage.objects.get(pk=consultation.pk)
    consultation.privacy_notice = "<p>Línea de atención a víctimas: 155, gratuita.</p>"
    consultation.save_revision().publish()
    results = diagnosed["page"]
    problem = ResultsProblem(
        page=results, title="Violencia en casa", sort_order=2, locale=results.locale
    )
    problem.categories.set([categories["domestic"]])
    problem.save()
    make_commitment("Casa de la mujer", problems=[problem])
    concern = submit(category=categories["domestic"], point=None, area=chico)
    concern_moderate(concern=concern, user=moderator_of_feedback, status="rejected", reason="x")
    concern_moderate(concern=concern, user=moderator_of_feedback, status="approved")

    response = look_up(client, programme, concern.reference)
    assert response.status_code == 200
    result = found(response)
    assert "data-sensitive" in result
    for secret in ("Violencia intrafamiliar", "El Chico", "Violencia en casa", "Casa de la mujer"):
        assert secret not in result
    assert "data-problem" not in result and "data-lookup-category" not in result
    assert 'data-lookup="support"' in result
    assert "Línea de atención a víctimas: 155" in result
    assert f'href="{consultation.url}"' in result


def test_lookups_are_rate_limited_in_the_readers_language(
    client, programme, lighting_concern, settings
):
    settings.CONVIVE_RATE_LIMIT_ENABLED = True
    settings.CONVIVE_RATE_LIMIT = "2/3600"
    for _ in range(2):
        assert look_up(client, programme, lighting_concern.reference).status_code == 200
    response = look_up(client, programme, lighting_concern.reference)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    with translation.override("es"):
        message = gettext(
            "You have looked up many codes in a short time. Please wait a while and try again."
        )
    assert message in html and 'lang="es"' in html
    assert 'data-lookup="found"' not in html


def test_a_lookup_needs_the_forms_csrf_token(programme, lighting_concern):
    strict = Client(enforce_csrf_checks=True)
    assert look_up(strict, programme, lighting_concern.reference).status_code == 403


def test_the_code_never_goes_in_the_url(client, programme, lighting_concern):
    response = client.get(lookup_url(programme), {"reference": lighting_concern.reference})
    assert response.status_code == 200
    assert 'data-lookup="found"' not in response.content.decode()


def test_other_methods_are_refused(client, programme):
    assert client.put(lookup_url(programme)).status_code == 405


def test_a_draft_programme_has_no_lookup(client, programme):
    url = lookup_url(programme)
    ProgrammePage.objects.get(pk=programme.pk).unpublish()
    assert client.get(url).status_code == 404


def test_the_answer_reads_in_the_readers_language(
    client, locales, categories, programme, lighting_concern, answered
):
    english_category = categories["lighting"].copy_for_translation(locales["en"])
    english_category.name = "Poor lighting"
    english_category.save()
    english_programme = programme.copy_for_translation(locales["en"], copy_parents=True)
    english_programme.save_revision().publish()
    english = answered.copy_for_translation(locales["en"])
    english.title = "Street lights in El Chico"
    english.save_revision().publish()
    english = CommitmentPage.objects.get(pk=english.pk)
    english_programme = ProgrammePage.objects.get(pk=english_programme.pk)

    response = look_up(client, english_programme, lighting_concern.reference)
    result = found(response)
    assert "Poor lighting" in result and "Alumbrado" not in result
    assert "Street lights in El Chico" in result and f'href="{english.url}"' in result
    assert "In progress" in result  # the status in English
    assert english.url.startswith("/en/")
