"""Perception indicators, post-stratification and the participation profile, worked by hand.

23 residents answer the SDG 16.1.4 item ("how safe do you feel walking alone after dark?") and
the victimisation item: 12 women aged 18–29 (6 feel unsafe, 4 safe, 2 don't know), 10 men aged
30–44 (2 unsafe, 8 safe) and one non-binary resident who gave no age (very unsafe). The areas
have 100 women aged 18–29 and 300 men aged 30–44.
"""

import math

import pytest

from diagnosis.engine import NOT_STATED
from tests.diagnosis.engine_fixtures import (
    answer,
    bank_questionnaire,
    compute,
    population,
)

NIGHT, VICTIM = "bank-safe-night", "bank-victim"


def wilson(successes: float, n: float) -> tuple[float, float]:
    """The Wilson 95 % interval, written out again from Wilson (1927)."""
    z = 1.959963984540054
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.fixture
def surveyed(consultation, barrios):
    page = bank_questionnaire(consultation)
    women = ["unsafe"] * 4 + ["very-unsafe"] * 2 + ["safe"] * 3 + ["very-safe"] + ["dont-know"] * 2
    for i, feeling in enumerate(women):
        victim = "yes" if i < 3 else "no"
        answer(page, gender="woman", age_band="18-29", bank_safe_night=feeling, bank_victim=victim)
    men = ["unsafe"] * 2 + ["safe"] * 8
    for i, feeling in enumerate(men):
        victim = "prefer-not" if i == 0 else "no"
        answer(
            page,
            gender="man",
            age_band="30-44",
            bank_safe_night=feeling,
            bank_victim=victim,
            walk_alone="yes",
        )
    answer(page, gender="non-binary", bank_safe_night="very-unsafe", bank_victim="no")
    population(barrios[0], female_18_29=60, male_30_44=200)
    population(barrios[1], female_18_29=40, male_30_44=100)
    return page


def by_group(rows):
    return {(row.group, row.subgroup): row for row in rows}


def test_the_raw_share_counts_unfavourable_answers_among_valid_ones(surveyed):
    _computation, tables = compute(surveyed)
    rows = by_group(tables["perception"])
    # Only the bank items are indicators; the facilitator's own question has no index.
    assert set(rows) == {(NIGHT, ""), (VICTIM, "")}
    night = rows[NIGHT, ""]
    # Unsafe: 6 women + 2 men + 1 non-binary = 9 of 21 who chose a point (2 "don't know" left out).
    assert (night.count, night.total) == (9, 21)
    assert night.value == pytest.approx(9 / 21)
    low, high = wilson(9, 21)
    assert (night.low, night.high) == (pytest.approx(low), pytest.approx(high))
    assert night.detail == {
        "values": ["unsafe", "very-unsafe"],
        "excluded": 2,
        "excluded_values": {"dont-know": 2},
    }
    victim = rows[VICTIM, ""]
    assert (victim.count, victim.total, victim.detail["excluded"]) == (3, 22, 1)


def test_the_shares_by_gender_and_by_age_band(surveyed):
    _computation, tables = compute(surveyed)
    gender = {
        key: (row.count, row.total) for key, row in by_group(tables["perception_by_gender"]).items()
    }
    assert gender[NIGHT, "woman"] == (6, 10)
    assert gender[NIGHT, "man"] == (2, 10)
    assert gender[NIGHT, "non-binary"] == (1, 1)
    age = {
        key: (row.count, row.total) for key, row in by_group(tables["perception_by_age"]).items()
    }
    assert age[NIGHT, "18-29"] == (6, 10)
    assert age[NIGHT, "30-44"] == (2, 10)
    assert age[NIGHT, NOT_STATED] == (1, 1)
    assert age[VICTIM, "30-44"] == (0, 9)
    woman = by_group(tables["perception_by_gender"])[NIGHT, "woman"]
    assert (woman.low, woman.high) == tuple(pytest.approx(x) for x in wilson(6, 10))


def test_the_weighted_share_follows_the_population(surveyed):
    _computation, tables = compute(surveyed)
    night = by_group(tables["perception_weighted"])[NIGHT, ""]
    # Women 18–29 are 100 of the 400 residents, men 30–44 300: 0.25 · 6/10 + 0.75 · 2/10 = 0.3.
    # The non-binary resident has no population figure: in the raw share, not in the weighting.
    assert night.value == pytest.approx(0.3)
    # Weights 0.5 (women) and 1.5 (men): n_eff = (Σw)² / Σw² = 20² / 25 = 16, deff 20 / 16.
    assert night.detail["n_effective"] == pytest.approx(16)
    assert night.detail["design_effect"] == pytest.approx(1.25)
    assert night.detail["population_coverage"] == pytest.approx(1.0)
    assert night.detail["strata_dropped"] == [["non-binary", NOT_STATED, "no_population"]]
    low, high = wilson(0.3 * 16, 16)
    assert (night.low, night.high) == (pytest.approx(low), pytest.approx(high))
    assert (night.count, night.total) == (9, 21)  # the raw counts stay beside the weighted share


def test_without_population_figures_nothing_is_weighted(surveyed, barrios):
    from maps.models import AreaPopulation

    AreaPopulation.objects.all().delete()
    _computation, tables = compute(surveyed)
    night = by_group(tables["perception_weighted"])[NIGHT, ""]
    assert (night.value, night.low, night.high) == (None, None, None)
    assert (night.count, night.total) == (9, 21)
    profile = by_group(tables["participation_profile"])["responses", ""]
    assert profile.value is None and profile.detail["cells"] == []


def test_the_participation_profile_compares_participants_with_residents(surveyed):
    _computation, tables = compute(surveyed)
    profile = by_group(tables["participation_profile"])["responses", ""]
    # 22 gave sex and age band (12 women 18–29, 10 men 30–44) of 23 who answered.
    assert (profile.count, profile.total) == (22, 23)
    # D = ½ (|12/22 − 1/4| + |10/22 − 3/4|) = 13/44; R = 1 − D = 31/44.
    assert profile.detail["dissimilarity"] == pytest.approx(13 / 44)
    assert profile.value == pytest.approx(31 / 44)
    cells = {(c["sex"], c["age_band"]): c for c in profile.detail["cells"]}
    assert cells["female", "18-29"]["participants"] == 12
    assert cells["female", "18-29"]["population"] == 100
    assert cells["female", "18-29"]["ratio"] == pytest.approx((12 / 22) / 0.25)
    assert cells["male", "30-44"]["ratio"] == pytest.approx((10 / 22) / 0.75)
    # No concern was reported: no concerns profile.
    assert "concerns" not in {row.group for row in tables["participation_profile"]}


def test_a_consultation_without_bank_questions_has_no_perception_rows(consultation):
    _computation, tables = compute(consultation)
    assert not {"perception", "perception_weighted", "perception_by_gender"} & set(tables)
