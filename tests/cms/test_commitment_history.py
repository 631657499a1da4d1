"""A commitment's public change history, read from its published revisions only."""

import datetime
from decimal import Decimal

from django.utils import translation

from cms.commitment_history import commitment_changes
from cms.models import CommitmentIndicator, CommitmentMilestone, CommitmentPage
from tests.cms.conftest import status


def republish(page: CommitmentPage, **fields) -> CommitmentPage:
    page = CommitmentPage.objects.get(pk=page.pk)
    for name, value in fields.items():
        setattr(page, name, value)
    page.save_revision().publish()
    return page


def test_the_first_publish_opens_the_history(make_commitment):
    changes = commitment_changes(make_commitment())
    assert [change.kind for change in changes] == ["published"]


def test_each_publish_lists_what_changed_newest_first(make_commitment):
    commitment = make_commitment(status="planned", budget_planned=Decimal(1000000))
    republish(commitment, status=status("in-progress"), progress=30)
    republish(commitment, budget_spent=Decimal(250000))
    with translation.override("es"):
        changes = commitment_changes(commitment)
    assert [change.kind for change in changes] == ["changed", "changed", "published"]
    spent = {item.field: item for item in changes[0].items}
    assert spent["budget_spent"].after == "250.000\xa0COP"
    started = {item.field: item for item in changes[1].items}
    assert (started["status"].before, started["status"].after) == ("Planificado", "En ejecución")
    assert (started["progress"].before, started["progress"].after) == ("—", "30 %")


def test_status_names_follow_the_readers_language(make_commitment):
    commitment = make_commitment(status="planned")
    republish(commitment, status=status("completed"))
    with translation.override("en"):
        item = commitment_changes(commitment)[0].items[0]
    assert (item.before, item.after) == ("Planned", "Completed")


def test_drafts_never_appear(make_commitment):
    commitment = make_commitment(progress=10)
    draft = CommitmentPage.objects.get(pk=commitment.pk)
    draft.progress = 90
    draft.save_revision()  # saved, not published
    assert [change.kind for change in commitment_changes(commitment)] == ["published"]


def test_a_publish_that_changes_no_fact_is_left_out(make_commitment):
    commitment = make_commitment()
    republish(commitment, seo_title="Luminarias")
    assert [change.kind for change in commitment_changes(commitment)] == ["published"]


def test_a_new_milestone_and_an_indicator_value_are_listed(make_commitment):
    commitment = make_commitment()
    page = CommitmentPage.objects.get(pk=commitment.pk)
    page.milestones.add(
        CommitmentMilestone(date=datetime.date(2026, 3, 2), title="Contrato firmado")
    )
    page.indicators.add(
        CommitmentIndicator(name="Luminarias funcionando", unit="%", baseline=40, target=95)
    )
    page.save_revision().publish()
    page = CommitmentPage.objects.get(pk=commitment.pk)
    indicator = page.indicators.get()
    indicator.latest_value = Decimal("72.5")
    indicator.latest_date = datetime.date(2026, 4, 1)
    page.indicators = [indicator]
    page.save_revision().publish()
    with translation.override("es"):
        changes = commitment_changes(commitment)
    assert [(item.label, item.before, item.after) for item in changes[0].items] == [
        ("Luminarias funcionando", "—", "72.5 %")
    ]
    assert [(item.field, item.after) for item in changes[1].items] == [
        ("milestone", "2 de marzo de 2026: Contrato firmado")
    ]


def test_unpublishing_is_told(make_commitment):
    commitment = make_commitment()
    CommitmentPage.objects.get(pk=commitment.pk).unpublish()
    assert commitment_changes(commitment)[0].kind == "unpublished"
