"""The prioritisation ballot in real headless Chromium on a phone: a resident follows the
consultation page's invitation, shares points (the counter says how many are left), is told when
they gave too many, and sees their points confirmed. axe-core finds no serious or critical WCAG
2.1 A/AA violation on the ballot, its error state, the confirmation and the closed tally. Without
JavaScript the ballot still works. Screenshots go to test-results/prioritisation/."""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from diagnosis.models import ConsultationPage, PrioritisationBallot
from tests.diagnosis.test_prioritisation import PROBLEMS, results_page_with_problems, set_phase
from tests.e2e.test_accessibility import AXE, BLOCKING, axe_violations, describe, settle

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "prioritisation"
PHONE = {"viewport": {"width": 390, "height": 780}, "device_scale_factor": 2, "has_touch": True}


@pytest.fixture
def voting(consultation):
    results = results_page_with_problems(consultation)
    set_phase(
        consultation,
        ConsultationPage.Phase.PRIORITISATION,
        closes_at=timezone.now() + datetime.timedelta(days=7),
    )
    return results


def serious(page, where: str) -> list[tuple[str, dict]]:
    settle(page)
    return [(where, v) for v in axe_violations(page) if v["impact"] in BLOCKING]


def test_a_resident_shares_points_on_a_phone(browser, live_server, voting):
    assert AXE.exists(), "axe-core is missing: run `make node-tools` (npm ci --ignore-scripts)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="es-CO", **PHONE)
    page = context.new_page()
    found = []

    page.goto(f"{live_server.url}/es/chapinero/")
    page.locator("a[href='/es/chapinero/prioritise/']").click()
    page.wait_for_url("**/es/chapinero/prioritise/")
    found += serious(page, "ballot")
    page.screenshot(path=SHOTS / "1-phone-ballot.png", full_page=True)

    inputs = page.locator("input.ballot-input")
    assert inputs.count() == len(PROBLEMS)
    left = page.locator("[data-ballot-left]")
    inputs.nth(0).fill("7")
    inputs.nth(2).fill("5")
    with translation.override("es"):
        too_many = script_ngettext(
            "%(over)s point too many: please take some away.",
            "%(over)s points too many: please take some away.",
            2,
        ) % {"over": 2}
    assert left.inner_text() == too_many

    page.locator("#ballot-form button[type=submit]").click()
    page.wait_for_selector("#error-summary")
    # The page's script moves the focus to the summary once it has run (it is deferred, so the
    # summary is on screen a moment before): wait for it, and fail if it never comes.
    page.wait_for_function(
        "document.activeElement && document.activeElement.id === 'error-summary'"
    )
    assert not PrioritisationBallot.objects.exists()
    found += serious(page, "ballot-errors")
    page.screenshot(path=SHOTS / "2-phone-too-many.png", full_page=True)

    inputs.nth(2).fill("3")
    with translation.override("es"):
        assert left.inner_text() == script_ngettext(
            "%(left)s point left of %(total)s.", "%(left)s points left of %(total)s.", 0
        ) % {
            "left": 0,
            "total": 10,
        }
    page.locator("#ballot-form button[type=submit]").click()
    page.wait_for_url("**/es/chapinero/prioritise/?saved=1")
    page.wait_for_selector("#ballot-saved")
    with translation.override("es"):
        assert gettext("Thank you: your points are saved") in page.inner_text("#ballot-saved")
    found += serious(page, "confirmation")
    page.screenshot(path=SHOTS / "3-phone-saved.png", full_page=True)

    ballot = PrioritisationBallot.objects.get()
    assert sorted(ballot.points.values()) == [3, 7]
    # The page scrolls no wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()

    consultation = ConsultationPage.objects.get(pk=voting.get_parent().pk)
    ConsultationPage.objects.filter(pk=consultation.pk).update(
        prioritisation_closes_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    context = browser.new_context(locale="es-CO", **PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/es/chapinero/")
    page.wait_for_selector("[data-prioritisation-tally]")
    assert PROBLEMS[0][0] in page.inner_text("[data-prioritisation-tally] tbody tr:first-child")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    found += serious(page, "consultation-tally")
    page.screenshot(path=SHOTS / "4-phone-tally.png", full_page=True)
    context.close()

    assert not found, describe(found)


def test_the_ballot_works_without_javascript(browser, live_server, voting):
    context = browser.new_context(locale="es-CO", java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/es/chapinero/prioritise/")
    page.locator("input.ballot-input").nth(1).fill("10")
    page.locator("#ballot-form button[type=submit]").click()
    page.wait_for_url("**/es/chapinero/prioritise/?saved=1")
    assert page.locator("#ballot-saved").is_visible()
    assert list(PrioritisationBallot.objects.get().points.values()) == [10]
    context.close()


def script_ngettext(singular: str, plural: str, n: int) -> str:
    """A string of the JavaScript catalogue (djangojs), as the page's script gets it."""
    from django.utils.translation import get_language, trans_real

    catalogue = trans_real.DjangoTranslation(get_language(), domain="djangojs")
    return catalogue.ngettext(singular, plural, n)
