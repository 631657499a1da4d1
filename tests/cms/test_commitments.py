"""Commitments' progress (own, status default, weighted average of their parts), budget
execution, money in each language, and the editor's checks."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from cms.commitments import (
    budget_of,
    commitment_original,
    commitments_progress,
    money,
    programme_commitments,
    progress_display,
)
from cms.models import CommitmentPage, CommitmentStatus
from tests.cms.conftest import status


def test_every_language_has_the_default_statuses(locales):
    for language in ("es", "en", "fr", "pt"):
        keys = list(
            CommitmentStatus.objects.filter(locale__language_code=language).values_list(
                "key", flat=True
            )
        )
        assert keys == ["planned", "started", "in-progress", "completed", "delayed", "cancelled"]
    assert status("in-progress", "es").name == "En ejecución"
    assert (
        status("in-progress", "es").translation_key == status("in-progress", "en").translation_key
    )


def test_a_commitment_without_progress_takes_its_status_default(make_commitment):
    started = make_commitment(status="in-progress")
    recorded = make_commitment(status="in-progress", progress=30)
    delayed = make_commitment(status="delayed")
    progress = commitments_progress([started, recorded, delayed])
    assert progress[started.pk] == 50
    assert progress[recorded.pk] == 30
    assert progress[delayed.pk] == 0  # "Delayed" carries no default and none was recorded


def test_a_status_default_changed_in_snippets_changes_the_progress_shown(make_commitment):
    commitment = make_commitment(status="started")
    CommitmentStatus.objects.filter(key="started").update(default_progress=20)
    commitment.refresh_from_db()
    commitment.status.refresh_from_db()
    assert commitments_progress([commitment])[commitment.pk] == 20


def test_a_parents_progress_is_the_weighted_average_of_its_parts(make_commitment):
    parent = make_commitment("Entornos seguros", status="in-progress", progress=90)
    lights = make_commitment("Luminarias", parent=parent, progress=100, weight=Decimal(3))
    paths = make_commitment("Senderos", parent=parent, progress=20, weight=Decimal(1))
    progress = commitments_progress([parent, lights, paths])
    # (100·3 + 20·1) / 4 = 80, not the 90 the parent's own page records
    assert progress[parent.pk] == 80
    assert progress[lights.pk] == 100


def test_weighted_progress_works_through_every_level(make_commitment):
    top = make_commitment("Programa de entornos")
    middle = make_commitment("Iluminación", parent=top, weight=Decimal(1))
    make_commitment("Poste 1", parent=middle, progress=100)
    make_commitment("Poste 2", parent=middle, progress=0)
    make_commitment("Parque", parent=top, progress=10, weight=Decimal(1))
    commitments = list(CommitmentPage.objects.all())
    progress = commitments_progress(commitments)
    assert progress[middle.pk] == 50
    assert progress[top.pk] == 30  # (50 + 10) / 2
    assert progress_display(Decimal("33.5")) == 34


def test_a_loop_in_parent_links_still_gives_a_progress(make_commitment):
    one = make_commitment("Uno", progress=40)
    two = make_commitment("Dos", parent=one, progress=60)
    CommitmentPage.objects.filter(pk=one.pk).update(parent_commitment=two)
    pages = list(CommitmentPage.objects.all())
    progress = commitments_progress(pages)
    assert set(progress) == {one.pk, two.pk}


def test_the_editor_refuses_a_loop_and_an_end_before_the_start(make_commitment):
    one = make_commitment("Uno")
    two = make_commitment("Dos", parent=one)
    one.parent_commitment = two
    with pytest.raises(ValidationError) as error:
        one.full_clean()
    assert "parent_commitment" in error.value.message_dict
    two.start_date = "2026-05-01"
    two.end_date = "2026-04-01"
    two.parent_commitment = None
    with pytest.raises(ValidationError) as error:
        two.clean()
    assert "end_date" in error.value.message_dict


def test_budget_counts_each_amount_once(make_commitment):
    parent = make_commitment("Entornos", budget_planned=None)
    make_commitment("Luminarias", parent=parent, budget_planned=Decimal(300), budget_spent=150)
    make_commitment("Senderos", parent=parent, budget_planned=Decimal(100), budget_spent=0)
    make_commitment("Sin presupuesto")
    budget = budget_of(CommitmentPage.objects.all())
    assert budget.planned == 400
    assert budget.spent == 150
    assert budget.unknown == 1
    assert budget.execution == 38  # 150 / 400 = 37.5 %


@pytest.mark.parametrize(
    ("language", "whole", "cents"),
    [
        ("es", "1.234.567\xa0COP", "1.234.567,50\xa0COP"),
        ("en", "COP1,234,567", "COP1,234,567.50"),
        ("fr", "1\u202f234\u202f567\xa0$CO", "1\u202f234\u202f567,50\xa0$CO"),
        ("pt", "COP\xa01.234.567", "COP\xa01.234.567,50"),
    ],
)
def test_money_is_written_the_way_each_language_writes_it(settings, language, whole, cents):
    settings.CONVIVE_CURRENCY = "COP"
    with translation.override(language):
        assert money(Decimal(1234567)) == whole
        assert money(Decimal("1234567.50")) == cents


def test_the_currency_is_a_setting(settings):
    settings.CONVIVE_CURRENCY = "MXN"
    assert money(Decimal(2500), language="es") == "2.500\xa0MXN"


def test_the_original_holds_the_facts_for_every_translation(make_commitment, locales, programme):
    commitment = make_commitment(progress=40)
    english_programme = programme.copy_for_translation(locales["en"])
    english_programme.save_revision().publish()
    english = commitment.copy_for_translation(locales["en"])
    english.title = "Street lights in El Chico"
    english.save_revision().publish()
    assert commitment_original(english).pk == commitment.pk
    assert [c.pk for c in programme_commitments(english_programme)] == [commitment.pk]
