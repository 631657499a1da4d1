"""Residents' feedback and complaints on a commitment: stored without an account, moderated in
the admin, summarised under the small-number rule, complaints e-mailed to the responsible contact
and counted publicly, rate-limited, and a commitment with feedback cannot be deleted."""

import re
from smtplib import SMTPException

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext
from wagtail.models import ModelLogEntry, Page

from cms.feedback import (
    complaint_submit,
    feedback_moderate,
    feedback_submit,
    feedback_summary,
)
from cms.models import CommitmentFeedback, CommitmentPage, ProgrammePage
from tests.cms.conftest import status

pytestmark = pytest.mark.django_db

Kind = CommitmentFeedback.Kind


class BrokenMailServer(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages):
        raise SMTPException("451 try again later")


def answer(commitment, happening="yes", rating=None, comment="", language="es"):
    return feedback_submit(
        commitment=commitment,
        happening=happening,
        rating=rating,
        comment=comment,
        language=language,
    )


def html_of(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def block(html: str) -> str:
    """The feedback block of a commitment page."""
    start = html.index('id="feedback"')
    return html[start : html.index("</section>", start)]


@pytest.fixture
def commitment(make_commitment):
    return make_commitment(contact_name="Luz Pérez", contact_email="luz@example.org")


@pytest.fixture
def moderator(moderator_of_feedback):
    return moderator_of_feedback


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw")


# --- Residents give feedback -------------------------------------------------------------------


def test_feedback_is_stored_pending_on_the_commitment_and_thanks_the_resident(client, commitment):
    response = client.post(
        commitment.url + "feedback/",
        {"happening": "partly", "rating": "4", "comment": "Ya pusieron dos postes."},
    )

    assert response.status_code == 303
    assert response["Location"] == f"{commitment.url}?feedback=sent#feedback-thanks"
    feedback = CommitmentFeedback.objects.get()
    assert feedback.commitment_id == commitment.pk
    assert feedback.kind == Kind.FEEDBACK
    assert (feedback.happening, feedback.rating) == ("partly", 4)
    assert feedback.status == "pending"
    assert feedback.language == "es"
    thanks = block(html_of(client, response["Location"]))
    assert "data-feedback-thanks" in thanks
    assert feedback.reference in thanks


def test_the_thanks_is_only_for_the_browser_that_sent_it(client, commitment):
    client.post(commitment.url + "feedback/", {"happening": "yes"})
    reference = CommitmentFeedback.objects.get().reference

    other = block(html_of(Client(), f"{commitment.url}?feedback=sent"))

    assert "data-feedback-thanks" not in other
    assert reference not in other


def test_a_comment_is_shown_only_after_a_moderator_approves_it(client, commitment, moderator):
    feedback = answer(commitment, "no", 2, comment="Las luces siguen apagadas en la 87.")

    assert "Las luces siguen apagadas" not in html_of(client, commitment.url)

    feedback_moderate(feedback=feedback, user=moderator, status="approved")

    shown = block(html_of(client, commitment.url))
    assert "Las luces siguen apagadas en la 87." in shown
    assert 'lang="es"' in shown
    assert feedback.reference not in shown  # no reference, no name: nothing links it to anyone


def test_a_hidden_comment_is_not_shown_but_its_answer_still_counts(commitment, moderator, settings):
    settings.CONVIVE_SUPPRESSION_K = 3
    hidden = answer(commitment, "no", 1, comment="El contratista Juan vive en la casa azul")
    for _ in range(2):
        answer(commitment, "no", 1)
    feedback_moderate(feedback=hidden, user=moderator, status="hidden", reason="Names someone")

    summary = feedback_summary(commitment=commitment)

    assert summary.answered == 3
    assert summary.average == "1,0"


def test_rejected_feedback_never_counts(commitment, moderator, settings):
    settings.CONVIVE_SUPPRESSION_K = 3
    spam = [answer(commitment, "yes", 5) for _ in range(3)]
    for feedback in spam:
        feedback_moderate(feedback=feedback, user=moderator, status="rejected", reason="Spam")
    answer(commitment, "no", 1)

    summary = feedback_summary(commitment=commitment)

    assert summary.answered == 1
    assert not summary.enough


def test_below_k_answers_the_page_says_fewer_than_k_and_shows_no_breakdown(
    client, commitment, settings
):
    settings.CONVIVE_SUPPRESSION_K = 5
    for happening in ("yes", "yes", "no", "partly"):
        answer(commitment, happening, 5)

    shown = block(html_of(client, commitment.url))

    assert 'data-answered="4"' in shown
    assert "data-fewer-than-k" in shown
    assert "<table" not in shown
    assert "data-average" not in shown.replace("data-fewer-than-k", "")


def test_from_k_answers_the_breakdown_and_average_are_shown_with_small_cells_hidden(
    client, commitment, settings
):
    settings.CONVIVE_SUPPRESSION_K = 5
    for rating in (5, 4, 4, 3, 4, 5):
        answer(commitment, "yes", rating)
    answer(commitment, "no", 1)  # one "no": a cell of one, hidden with the smallest other cell

    summary = feedback_summary(commitment=commitment)
    rows = {row.value: row for row in summary.rows}

    assert summary.enough and summary.answered == 7
    with translation.override("es"):
        fewer = gettext("fewer than %(k)s") % {"k": 5}
    assert rows["no"].count == fewer and rows["no"].share == ""
    assert rows["yes"].count == fewer  # complementary suppression: 7 − 6 would give the "no"
    assert rows["partly"].count == "0" and rows["unknown"].count == "0"
    assert summary.rated == 7
    assert summary.average == "3,7"  # 26 / 7, written the Spanish way
    shown = block(html_of(client, commitment.url))
    assert "<table" in shown and "<caption" in shown
    assert 'data-answer="no"' in shown
    assert "3,7" in shown


def test_shares_are_shown_when_every_cell_has_at_least_k(commitment, settings):
    settings.CONVIVE_SUPPRESSION_K = 3
    for happening in ("yes", "yes", "yes", "no", "no", "no"):
        answer(commitment, happening)

    rows = {row.value: row for row in feedback_summary(commitment=commitment).rows}

    assert (rows["yes"].count, rows["yes"].share) == ("3", "50,0 %")
    assert rows["yes"].percent == 50.0


def test_the_average_needs_k_ratings(commitment, settings):
    settings.CONVIVE_SUPPRESSION_K = 3
    answer(commitment, "yes", 5)
    answer(commitment, "yes")
    answer(commitment, "unknown")

    summary = feedback_summary(commitment=commitment)

    assert summary.enough
    assert summary.rated == 1
    assert summary.average == ""


def test_approved_comments_are_listed_newest_first_ten_at_a_time(client, commitment, moderator):
    for number in range(12):
        feedback = answer(commitment, "yes", comment=f"Comentario número {number:02d}")
        feedback_moderate(feedback=feedback, user=moderator, status="approved")

    first = block(html_of(client, commitment.url))
    second = block(html_of(client, commitment.url + "?comments=2"))

    first_numbers = re.findall(r"Comentario número (\d\d)", first)
    assert first_numbers == [f"{n:02d}" for n in range(11, 1, -1)]
    assert re.findall(r"Comentario número (\d\d)", second) == ["01", "00"]
    assert "?comments=2#feedback-comments" in first


def test_feedback_on_a_translation_counts_on_the_original(
    client, commitment, locales, programme, settings
):
    settings.CONVIVE_SUPPRESSION_K = 3
    english_programme = programme.copy_for_translation(locales["en"])
    english_programme.save_revision().publish()
    english = commitment.copy_for_translation(locales["en"])
    english.title = "Street lights in El Chico"
    english.save_revision().publish()
    english = CommitmentPage.objects.get(pk=english.pk)

    response = client.post(english.url + "feedback/", {"happening": "no", "rating": "2"})
    answer(commitment, "no", 2)
    answer(commitment, "no", 2)

    assert response.status_code == 303
    assert response["Location"].startswith(english.url)
    feedback = CommitmentFeedback.objects.get(language="en")
    assert feedback.commitment_id == commitment.pk
    for page in (commitment, english):
        assert 'data-answered="3"' in block(html_of(client, page.url))


# --- Refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"rating": "4"}, "happening"),
        ({"happening": "maybe"}, "happening"),
        ({"happening": "yes", "rating": "9"}, "rating"),
        ({"happening": "yes", "comment": "x" * 2001}, "comment"),
        ({"happening": "yes", "comment": "Escríbanme a vecina@example.org"}, "comment"),
        ({"happening": "yes", "comment": "Llamen al 300 123 4567"}, "comment"),
    ],
)
def test_bad_feedback_is_refused_with_400_and_nothing_is_stored(client, commitment, data, field):
    response = client.post(commitment.url + "feedback/", data)

    assert response.status_code == 400
    assert CommitmentFeedback.objects.count() == 0
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert f'href="#feedback-{field}' in html
    assert 'id="feedback-form"' in html  # the form again, to correct


def test_a_comment_with_an_email_is_refused_with_a_message_in_spanish(client, commitment):
    response = client.post(
        commitment.url + "feedback/", {"happening": "yes", "comment": "vecina@example.org"}
    )

    with translation.override("es"):
        expected = gettext(
            "Your comment will be public: please remove e-mail addresses and phone numbers "
            "from it. If you want to be contacted, send a complaint instead: it goes only to "
            "the people responsible."
        )
    assert response.status_code == 400
    assert expected in response.content.decode()


def test_a_get_on_the_feedback_route_goes_to_the_page(client, commitment):
    response = client.get(commitment.url + "feedback/")

    assert response.status_code == 302
    assert response["Location"] == f"{commitment.url}#feedback"


def test_a_draft_commitment_answers_404(client, commitment):
    url = commitment.url
    commitment.unpublish()

    assert client.get(url).status_code == 404
    for route in ("feedback/", "complaint/"):
        data = {"happening": "yes", "comment": "x" * 20}
        assert client.post(url + route, data).status_code == 404
        assert client.get(url + route).status_code == 404
    assert CommitmentFeedback.objects.count() == 0


def test_a_form_without_the_csrf_token_is_refused(commitment):
    client = Client(enforce_csrf_checks=True)

    response = client.post(commitment.url + "feedback/", {"happening": "yes"})

    assert response.status_code == 403
    assert CommitmentFeedback.objects.count() == 0


def test_too_many_messages_answer_429_in_spanish_with_when_to_try_again(
    client, commitment, settings
):
    settings.CONVIVE_RATE_LIMIT_ENABLED = True
    settings.CONVIVE_FEEDBACK_RATE_LIMIT = "2/3600"
    client.post(commitment.url + "feedback/", {"happening": "yes"})
    client.post(commitment.url + "complaint/", {"comment": "La obra lleva un mes parada."})

    refused = client.post(commitment.url + "feedback/", {"happening": "no"})
    refused_complaint = client.post(commitment.url + "complaint/", {"comment": "Otra queja más"})

    for response in (refused, refused_complaint):
        assert response.status_code == 429
        assert 3500 <= int(response["Retry-After"]) <= 3600
        with translation.override("es"):
            expected = ngettext(
                "Many messages about commitments were sent from your connection in a short "
                "time. Please try again in %(minutes)d minute.",
                "Many messages about commitments were sent from your connection in a short "
                "time. Please try again in %(minutes)d minutes.",
                60,
            ) % {"minutes": 60}
        assert expected in response.content.decode()
        assert 'lang="es"' in response.content.decode()
    assert CommitmentFeedback.objects.count() == 2


# --- Complaints --------------------------------------------------------------------------------


def test_the_complaint_page_says_who_receives_it(client, commitment):
    html = html_of(client, commitment.url + "complaint/")

    assert 'id="complaint-form"' in html
    recipient = html[html.index("data-complaint-recipient") :]
    assert "Luz Pérez" in recipient
    assert "Secretaría de Seguridad" in recipient
    assert "luz@example.org" not in html  # the address is the agency's business, not the form's


def test_a_complaint_is_emailed_to_the_contact_with_its_reference(
    client, commitment, programme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            commitment.url + "complaint/",
            {"comment": "La obra lleva un mes parada y no hay señalización."},
        )

    assert response.status_code == 303
    assert response["Location"] == commitment.url + "complaint/?sent=1"
    complaint = CommitmentFeedback.objects.get()
    assert complaint.kind == Kind.COMPLAINT
    assert complaint.forwarded_at is not None
    message = mail.outbox[0]
    assert message.to == ["luz@example.org"]
    assert complaint.reference in message.subject
    for expected in (
        commitment.title,
        programme.title,
        complaint.reference,
        "La obra lleva un mes parada y no hay señalización.",
        commitment.get_full_url(),
    ):
        assert expected in message.body
    thanks = html_of(client, response["Location"])
    assert "data-complaint-reference" in thanks
    assert complaint.reference in thanks


def test_a_complaint_may_carry_the_residents_own_contact(commitment):
    complaint = complaint_submit(
        commitment=commitment,
        comment="Pueden llamarme al 300 123 4567 para mostrarles el problema.",
        language="es",
    )

    assert complaint.comment.startswith("Pueden llamarme")


def test_a_complaint_on_a_commitment_without_contact_goes_to_the_moderators(
    make_commitment, moderator, settings, django_capture_on_commit_callbacks
):
    settings.CONVIVE_MODERATOR_EMAILS = ["moderacion@example.org"]
    commitment = make_commitment("Parque iluminado")

    with django_capture_on_commit_callbacks(execute=True):
        complaint = complaint_submit(
            commitment=commitment, comment="Nadie responde en la alcaldía.", language="es"
        )

    message = mail.outbox[0]
    assert sorted(message.to) == ["moderacion@example.org", moderator.email]
    with translation.override("es"):
        note = gettext(
            "This commitment has no contact e-mail, so the complaint was sent to the "
            "moderators of Convive. Please pass it on to %(agency)s, who is responsible, and "
            "add a contact e-mail to the commitment so that the next complaints reach them "
            "directly."
        ) % {"agency": commitment.agency}
    assert note in " ".join(message.body.split())
    assert complaint.reference in message.body
    complaint.refresh_from_db()
    assert complaint.forwarded_at is not None


def test_a_failed_send_keeps_the_complaint_and_it_is_sent_later(
    client, commitment, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.cms.test_feedback.BrokenMailServer"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            commitment.url + "complaint/", {"comment": "La obra lleva un mes parada."}
        )

    assert response.status_code == 303  # the resident's complaint was accepted
    complaint = CommitmentFeedback.objects.get()
    assert complaint.forwarded_at is None
    assert complaint.reference in html_of(client, response["Location"])

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("complaints_forward", older_than_seconds=0)
    call_command("complaints_forward", older_than_seconds=0)  # nothing is sent twice

    complaint.refresh_from_db()
    assert complaint.forwarded_at is not None
    assert len(mail.outbox) == 1
    assert complaint.reference in mail.outbox[0].subject


@pytest.mark.parametrize("comment", ["", "   ", "corto"])
def test_an_empty_complaint_is_refused_with_400_and_nothing_is_stored(client, commitment, comment):
    response = client.post(commitment.url + "complaint/", {"comment": comment})

    assert response.status_code == 400
    assert 'href="#complaint-comment"' in response.content.decode()
    assert CommitmentFeedback.objects.count() == 0
    assert mail.outbox == []


def test_complaints_are_counted_publicly_except_those_rejected(client, commitment, moderator):
    complaints = [
        complaint_submit(commitment=commitment, comment=f"Queja número {n}", language="es")
        for n in range(3)
    ]
    feedback_moderate(feedback=complaints[0], user=moderator, status="rejected", reason="Spam")

    shown = block(html_of(client, commitment.url))

    assert feedback_summary(commitment=commitment).complaints == 2
    assert 'data-complaints="2"' in shown  # shown although fewer than k: see cms.feedback
    assert "Queja número" not in shown  # the words are never published
    assert 'href="/es/programa/c-1/complaint/"' in shown


# --- Moderation in the admin -------------------------------------------------------------------


def admin_url(name, feedback):
    return reverse(f"wagtailsnippets_cms_commitmentfeedback:{name}", args=[feedback.pk])


def bulk_url(action, items):
    ids = "&".join(f"id={item.pk}" for item in items)
    url = reverse("wagtail_bulk_action", args=["cms", "commitmentfeedback", action])
    return f"{url}?{ids}"


def test_a_moderator_approves_feedback_and_history_shows_the_decision(
    client, commitment, moderator
):
    feedback = answer(commitment, "yes", 4, comment="Muy bien hecho")
    client.force_login(moderator)

    inspect = client.get(admin_url("inspect", feedback))
    response = client.post(
        admin_url("moderate", feedback), {"status": "approved", "reason": "Sin datos personales"}
    )

    assert inspect.status_code == 200
    assert "Muy bien hecho" in inspect.content.decode()
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.status == "approved"
    entry = ModelLogEntry.objects.get(action="convive.commitmentfeedback.approve")
    assert entry.user_id == moderator.pk
    history = client.get(admin_url("history", feedback))
    assert "Sin datos personales" in history.content.decode()


def test_a_moderator_hides_several_with_one_reason(client, commitment, moderator):
    items = [answer(commitment, "no", comment=f"Comentario {n}") for n in range(3)]
    client.force_login(moderator)

    response = client.post(bulk_url("hide", items), {"reason": "Nombra a una persona"})

    assert response.status_code == 302
    assert CommitmentFeedback.objects.filter(status="hidden").count() == 3
    assert ModelLogEntry.objects.filter(action="convive.commitmentfeedback.hide").count() == 3


def test_a_facilitator_can_read_the_queue_but_not_decide(client, commitment, facilitator_user):
    feedback = answer(commitment, "yes", comment="Bien")
    client.force_login(facilitator_user)

    listing = client.get(reverse("wagtailsnippets_cms_commitmentfeedback:list"))
    single = client.post(admin_url("moderate", feedback), {"status": "approved"})
    bulk = client.post(bulk_url("approve", [feedback]), {"reason": ""})

    assert listing.status_code == 200
    assert feedback.reference in listing.content.decode()
    assert single.status_code == 403
    assert bulk.status_code == 403
    feedback.refresh_from_db()
    assert feedback.status == "pending"


def test_rejecting_without_a_reason_is_refused(client, commitment, moderator):
    feedback = answer(commitment, "yes")
    client.force_login(moderator)

    response = client.post(admin_url("moderate", feedback), {"status": "rejected", "reason": ""})

    assert response.status_code == 400
    feedback.refresh_from_db()
    assert feedback.status == "pending"


def test_the_queue_filters_by_kind_status_and_programme(client, commitment, moderator, home):
    feedback = answer(commitment, "yes")
    complaint = complaint_submit(
        commitment=commitment, comment="Obra parada hace un mes", language="es"
    )
    other_programme = ProgrammePage(title="Otro programa", slug="otro", responsible_body="Alcaldía")
    home.add_child(instance=other_programme)
    other_commitment = CommitmentPage(
        title="Otra cosa", slug="otra", agency="Alcaldía", status=status("planned")
    )
    other_programme.add_child(instance=other_commitment)
    elsewhere = answer(other_commitment, "no")
    client.force_login(moderator)
    listing = reverse("wagtailsnippets_cms_commitmentfeedback:list")

    def listed(**params):
        html = client.get(listing, params).content.decode()
        return {
            item.reference for item in (feedback, complaint, elsewhere) if item.reference in html
        }

    assert listed() == {feedback.reference, complaint.reference, elsewhere.reference}
    assert listed(kind="complaint") == {complaint.reference}
    assert listed(status="pending", kind="feedback") == {feedback.reference, elsewhere.reference}
    assert listed(programme=commitment.get_parent().pk) == {feedback.reference, complaint.reference}
    assert listed(sent="no") == {complaint.reference}


def test_the_dashboard_tells_moderators_how_much_feedback_waits(client, commitment, moderator):
    answer(commitment, "yes")
    answer(commitment, "no")
    client.force_login(moderator)

    html = client.get(reverse("wagtailadmin_home")).content.decode()

    assert "data-feedback-pending" in html
    assert "?status=pending" in html
    assert re.search(r"data-feedback-pending>.*?\b2\b", html, re.S)


# --- Deleting a commitment ---------------------------------------------------------------------


def test_a_commitment_with_feedback_cannot_be_deleted_and_the_admin_says_why(
    client, commitment, superuser
):
    answer(commitment, "yes")
    client.force_login(superuser)
    delete_url = reverse("wagtailadmin_pages:delete", args=[commitment.pk])

    shown = client.get(delete_url)
    posted = client.post(delete_url, follow=True)

    edit_url = reverse("wagtailadmin_pages:edit", args=[commitment.pk])
    assert shown.status_code == 302 and shown["Location"] == edit_url
    assert posted.status_code == 200
    messages = [str(m) for m in posted.context["messages"]]
    assert any("Cancel" in m for m in messages)
    assert CommitmentPage.objects.filter(pk=commitment.pk).exists()


def test_a_programme_whose_commitments_have_feedback_cannot_be_deleted(
    client, commitment, programme, superuser
):
    complaint_submit(commitment=commitment, comment="Obra parada hace un mes", language="es")
    client.force_login(superuser)

    response = client.post(reverse("wagtailadmin_pages:delete", args=[programme.pk]))
    bulk = client.post(
        reverse("wagtail_bulk_action", args=["wagtailcore", "page", "delete"])
        + f"?id={programme.pk}"
    )

    assert response.status_code == 302
    assert bulk.status_code == 302
    assert ProgrammePage.objects.filter(pk=programme.pk).exists()
    assert CommitmentFeedback.objects.count() == 1


def test_a_commitment_without_feedback_is_deleted_as_usual(client, make_commitment, superuser):
    commitment = make_commitment("Sin opiniones")
    client.force_login(superuser)

    response = client.post(reverse("wagtailadmin_pages:delete", args=[commitment.pk]))

    assert response.status_code == 302
    assert not Page.objects.filter(pk=commitment.pk).exists()
