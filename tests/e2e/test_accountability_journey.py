"""Accountability in real headless Chromium (issue 7): a facilitator adds a commitment with a
milestone to the programme in Wagtail's page editor and publishes it; a resident on a 360 px phone
reads it — the problem it answers, its progress, the milestone — and says whether it is
happening, with a rating and a comment, without an account. The comment appears once a moderator
approves it. The pages the resident meets pass axe. Everything the facilitator and the resident
do goes through the browser. Screenshots go to test-results/accountability-journey/."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from cms.models import CommitmentFeedback, CommitmentPage
from diagnosis.services import FACILITATORS
from tests.cms.conftest import (  # noqa: F401  (fixtures)
    diagnosed,
    facilitator_user,
    moderator_of_feedback,
    programme,
    status,
)
from tests.diagnosis.conftest import staff
from tests.diagnosis.test_diagnosis_runs import admin_tab
from tests.e2e.test_accessibility import BLOCKING, axe_violations, describe

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "accountability-journey"
WAIT = 30_000
SMALL_PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2}
TILES = settings.CONVIVE_TILE_URL.split("{", 1)[0]

TITLE = "Luminarias LED en El Chico"
DESCRIPTION = "Cambio de 80 luminarias por LED en los senderos que los vecinos señalaron."
MILESTONE = ("Contrato firmado", "La empresa empieza las obras en diciembre.")
COMMENT = "Ya pusieron postes nuevos en la Carrera 7, pero falta la Calle 93."


def test_a_facilitator_publishes_a_commitment_and_a_resident_rates_it(
    browser,
    live_server,
    programme,  # noqa: F811
    diagnosed,  # noqa: F811
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    facilitator = staff("facilitadora", FACILITATORS)
    context, tab = admin_tab(browser, live_server, facilitator, "es")
    tab.set_default_timeout(WAIT)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))

    # 1. Add a commitment under the programme, in Wagtail's page editor.
    tab.goto(f"{live_server.url}/admin/pages/add/cms/commitmentpage/{programme.pk}/")
    tab.fill("#id_title", TITLE)
    tab.fill("#id_description", DESCRIPTION)
    tab.fill("#id_agency", "UAESP")
    tab.fill("#id_contact_email", "alumbrado@example.org")
    tab.select_option("#id_status", str(status("in-progress").pk))
    tab.fill("#id_progress", "40")
    tab.check(f"input[name=problems][value='{diagnosed['lighting'].pk}']")
    tab.check(f"input[name=areas][value='{diagnosed['chico'].pk}']")
    tab.fill("#id_budget_planned", "850000000")
    tab.fill("#id_budget_spent", "120000000")

    # 2. One milestone through the inline panel.
    tab.locator("#id_milestones-ADD").click()
    milestone = tab.locator("#inline_child_milestones-0")
    milestone.wait_for(state="visible")
    milestone.locator("#id_milestones-0-date").fill("2026-11-20")
    milestone.locator("#id_milestones-0-title").fill(MILESTONE[0])
    milestone.locator("#id_milestones-0-text").fill(MILESTONE[1])
    tab.screenshot(path=SHOTS / "1-editor.png", full_page=True)

    # 3. Publish (once no autosave is in flight).
    tab.locator("#w-autosave-indicator:not([data-w-autosave-state-value=saving])").wait_for(
        state="attached"
    )
    tab.locator("footer .w-dropdown__toggle").click()
    publish = tab.locator("button[name=action-publish]")
    publish.wait_for(state="visible")
    publish.click()
    tab.wait_for_selector(".messages .success")
    commitment = CommitmentPage.objects.get(title=TITLE)
    assert commitment.live and commitment.get_parent().pk == programme.pk
    assert list(commitment.problems.all()) == [diagnosed["lighting"]]
    assert commitment.budget_planned == Decimal(850000000)
    assert [(m.title, m.text) for m in commitment.milestones.all()] == [MILESTONE]
    tab.screenshot(path=SHOTS / "2-published.png", full_page=True)

    # 4. A resident on a phone, no account, reads the commitment from the programme page.
    phone = browser.new_context(locale="es-CO", **SMALL_PHONE)
    phone.on("request", lambda request: requests.append(request.url))
    resident = phone.new_page()
    resident.set_default_timeout(WAIT)
    resident.goto(live_server.url + programme.url)
    assert diagnosed["lighting"].title in resident.inner_text("main")
    resident.get_by_role("link", name=TITLE).first.click()
    resident.wait_for_url(re.compile(re.escape(commitment.url) + "$"))
    text = resident.inner_text("main")
    assert DESCRIPTION in text
    assert MILESTONE[0] in text and MILESTONE[1] in text
    assert resident.locator("header progress").get_attribute("value") == "40"
    assert resident.evaluate("document.documentElement.scrollWidth") <= 360
    resident.screenshot(path=SHOTS / "3-commitment-360.png", full_page=True)

    # 5. Is it happening? Partly; four stars and a comment.
    form = resident.locator("#feedback-form")
    form.locator("input[name=happening][value=partly]").check()
    form.locator("input[name=rating][value='4']").check()
    form.locator("textarea[name=comment]").fill(COMMENT)
    form.locator("button[type=submit]").click()
    resident.wait_for_selector("[data-feedback-thanks]")
    feedback = CommitmentFeedback.objects.get()
    assert (feedback.commitment_id, feedback.happening, feedback.rating) == (
        commitment.pk,
        "partly",
        4,
    )
    assert feedback.status == "pending" and feedback.language == "es"
    # Not public until a moderator has read it.
    assert COMMENT not in resident.inner_text("main")
    resident.screenshot(path=SHOTS / "4-thanks-360.png", full_page=True)

    # 6. A moderator approves it in the admin's queue; the resident reloads and sees it.
    moderator = staff("moderadora", "Moderators")
    moderation_context, moderation = admin_tab(browser, live_server, moderator, "es")
    moderation_context.on("request", lambda request: requests.append(request.url))
    moderation.goto(live_server.url + feedback_moderate_url(feedback))
    moderation.locator("input[name=status][value=approved]").check()
    moderation.locator("form button[type=submit]").last.click()
    moderation.wait_for_selector(".messages .success")
    feedback.refresh_from_db()
    assert feedback.status == "approved"
    resident.reload()
    assert COMMENT in resident.inner_text("[data-comment] blockquote")
    resident.screenshot(path=SHOTS / "5-comment-shown-360.png", full_page=True)

    with translation.override("es"):
        assert gettext("Is it happening?") in resident.inner_text("main")

    # 7. The pages a resident meets here pass axe (WCAG 2.1 A and AA: nothing serious or
    # critical), the complaint page and the reference lookup included.
    found = []
    for name, url in (
        ("commitment", commitment.url),
        ("complaint", commitment.url + commitment.reverse_subpage("commitment_complaint")),
        ("lookup", programme.url + programme.reverse_subpage("programme_lookup")),
    ):
        resident.goto(live_server.url + url)
        found.extend(
            (name, violation)
            for violation in axe_violations(resident)
            if violation["impact"] in BLOCKING
        )
    assert not found, describe(found)

    # 8. Nothing left the machine.
    elsewhere = [u for u in requests if not u.startswith(f"{live_server.url}/")]
    assert all(u.startswith(TILES) for u in elsewhere), elsewhere
    moderation_context.close()
    phone.close()
    context.close()


def feedback_moderate_url(feedback) -> str:
    from django.urls import reverse

    return reverse(CommitmentFeedback.snippet_viewset.get_url_name("moderate"), args=[feedback.pk])
