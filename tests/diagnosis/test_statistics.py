"""The diagnosis statistics against numbers worked out by hand (diagnosis/statistics.py).

Every fixture shows its arithmetic in comments, so a reviewer can redo it on paper. Reference
values for the Poisson tails are computed independently here, with exact fractions and 80-digit
decimals, not with the module's own summation. No database is needed.
"""

import math
import random
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest

from diagnosis.statistics import (
    PRIMARY,
    SECONDARY,
    DroppedStratum,
    Suppressed,
    SuppressedTable,
    benjamini_hochberg,
    clamp_k,
    hotspots,
    participation_profile,
    poisson_upper_tail,
    poststratified_share,
    publishable_share,
    share_publishable,
    suppress,
    suppress_counts,
    wilson_interval,
)

P, S = PRIMARY, SECONDARY


def shuffled(mapping: dict, seed: int) -> dict:
    items = list(mapping.items())
    random.Random(seed).shuffle(items)
    return dict(items)


# --- Wilson -------------------------------------------------------------------------------------


def test_wilson_for_8_of_10():
    # p = 0.8, z = 1.959964, z² = 3.841459, z²/n = 0.3841459, 1 + z²/n = 1.3841459
    # centre = (0.8 + 0.1920729) / 1.3841459 = 0.7167397
    # half   = 1.959964 / 1.3841459 · √(0.016 + 0.0096036) = 1.4160133 · 0.1600114 = 0.2265783
    # → (0.4902, 0.9433)
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        # Newcombe, R. G. (1998), Statistics in Medicine 17: 857–872, Table II, method 3 (score).
        (81, 263, (0.2553, 0.3662)),
        (15, 148, (0.0624, 0.1605)),
        (0, 20, (0.0, 0.1611)),
        (1, 29, (0.0061, 0.1718)),
    ],
)
def test_wilson_matches_newcombes_published_examples(successes, n, expected):
    low, high = wilson_interval(successes, n)
    assert (round(low, 4), round(high, 4)) == expected


def test_wilson_stays_inside_zero_and_one_at_the_extremes():
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775  # z²/(n + z²) = 3.8415/13.8415
    low, high = wilson_interval(10, 10)
    assert high == 1.0 and round(low, 4) == 0.7225


def test_wilson_with_nobody_has_no_interval():
    assert wilson_interval(0, 0) == (None, None)


def test_wilson_is_wider_at_99_percent():
    narrow = wilson_interval(8, 10, 0.95)
    wide = wilson_interval(8, 10, 0.99)
    assert wide[0] < narrow[0] and wide[1] > narrow[1]


@pytest.mark.parametrize(("successes", "n"), [(11, 10), (-1, 10), (1, -1)])
def test_wilson_refuses_impossible_counts(successes, n):
    with pytest.raises(ValueError):
        wilson_interval(successes, n)


def test_wilson_refuses_a_confidence_outside_zero_and_one():
    with pytest.raises(ValueError):
        wilson_interval(8, 10, 95)


# --- Post-stratification ------------------------------------------------------------------------

# A 2 × 2 table (sex × age band) worked by hand, plus a "prefer not to say" respondent pair and a
# group nobody from took part.
CELLS = {
    ("female", "18-44"): (6, 10),  # share 0.60
    ("female", "45+"): (4, 5),  # 0.80
    ("male", "18-44"): (9, 20),  # 0.45
    ("male", "45+"): (3, 5),  # 0.60
    ("prefer not to say", None): (1, 2),  # no population figure: dropped, counted in raw
}
POPULATION = {
    ("female", "18-44"): 300,
    ("female", "45+"): 200,
    ("male", "18-44"): 300,
    ("male", "45+"): 200,
    ("male", "0-17"): 100,  # nobody took part: dropped, reduces coverage
}


def test_poststratified_share_worked_by_hand():
    result = poststratified_share(CELLS, POPULATION)
    # Used strata: n = 10 + 5 + 20 + 5 = 40, N = 1000.
    # weighted = .3·.6 + .2·.8 + .3·.45 + .2·.6 = .18 + .16 + .135 + .12 = 0.595
    assert result.weighted_share == pytest.approx(0.595, abs=1e-15)
    # raw over every respondent: (6 + 4 + 9 + 3 + 1) / (40 + 2) = 23/42
    assert result.raw_share == 23 / 42
    assert (result.respondents, result.successes, result.respondents_used) == (42, 23, 40)
    # w = population share / sample share:
    #   F 18-44: .3 / (10/40) = 1.2   F 45+: .2 / (5/40) = 1.6
    #   M 18-44: .3 / (20/40) = 0.6   M 45+: .2 / (5/40) = 1.6
    assert dict(result.weights) == {
        ("female", "18-44"): 1.2,
        ("female", "45+"): 1.6,
        ("male", "18-44"): 0.6,
        ("male", "45+"): 1.6,
    }
    # Σw = 12 + 8 + 12 + 8 = 40; Σw² = 10·1.44 + 5·2.56 + 20·.36 + 5·2.56 = 47.2
    # n_eff = 40² / 47.2 = 2000/59 = 33.898; deff = 40 / n_eff = 59/50 = 1.18
    assert result.effective_n == 2000 / 59
    assert result.design_effect == 1.18
    # Wilson on p = .595, n = 33.898: z²/n = .113323, centre = (.595 + .056662) / 1.113323
    # = .585331; half = 1.959964/1.113323 · √(.240975/33.898 + .000836) = 1.760461 · .089132
    # = .156914 → (0.4284, 0.7422)
    assert (round(result.ci_low, 4), round(result.ci_high, 4)) == (0.4284, 0.7422)
    assert result.population_used == 1000 and result.population_total == 1100
    assert result.population_coverage == 1000 / 1100


def test_poststratification_reports_the_strata_it_could_not_weight():
    result = poststratified_share(CELLS, POPULATION)
    assert result.strata_used == (
        ("female", "18-44"),
        ("female", "45+"),
        ("male", "18-44"),
        ("male", "45+"),
    )
    assert set(result.strata_dropped) == {
        DroppedStratum(("male", "0-17"), "no_respondents", 0, 0, 100),
        DroppedStratum(("prefer not to say", None), "no_population", 2, 1, 0),
    }


def test_poststratification_with_the_sample_in_proportion_changes_nothing():
    # Sample shares equal population shares → every weight 1, n_eff = n, deff 1.
    result = poststratified_share({"a": (3, 10), "b": (6, 30)}, {"a": 100, "b": 300})
    assert result.weighted_share == result.raw_share == 9 / 40
    assert result.effective_n == 40 and result.design_effect == 1
    assert (result.ci_low, result.ci_high) == wilson_interval(9, 40)


def test_poststratification_without_any_usable_stratum_has_no_estimate():
    result = poststratified_share({"unknown": (2, 4)}, {"a": 100})
    assert result.weighted_share is None and result.ci_low is None and result.effective_n is None
    assert result.raw_share == 0.5
    assert result.population_coverage == 0


def test_poststratification_refuses_more_successes_than_people():
    with pytest.raises(ValueError):
        poststratified_share({"a": (5, 4)}, {"a": 10})


def test_poststratification_does_not_depend_on_dict_order():
    first = poststratified_share(CELLS, POPULATION)
    for seed in range(5):
        again = poststratified_share(shuffled(CELLS, seed), shuffled(POPULATION, seed + 99))
        assert again == first and repr(again) == repr(first)


def test_poststratification_orders_mixed_keys_whatever_the_input_order():
    # None beside strings inside the keys: a fixed order (None first) in every input order.
    cells = {
        ("male", None): (1, 2),
        ("male", "18-44"): (3, 4),
        (None, None): (0, 1),
        ("f", "x"): (1, 1),
    }
    population = {("male", "18-44"): 10, ("f", "x"): 10}
    results = {repr(poststratified_share(shuffled(cells, seed), population)) for seed in range(20)}
    assert len(results) == 1
    dropped = poststratified_share(cells, population).strata_dropped
    assert [d.key for d in dropped] == [(None, None), ("male", None)]


# --- Representativeness -------------------------------------------------------------------------


def test_participation_profile_worked_by_hand():
    participants = {"F": 30, "M": 50, "X": 20, "prefer not to say": 10}
    population = {"F": 500, "M": 300, "X": 200}
    profile = participation_profile(participants, population)
    # classified = 100: p = (.3, .5, .2); q = (.5, .3, .2)
    # D = ½ (|.3 − .5| + |.5 − .3| + |.2 − .2|) = ½ · .4 = .2 → index 1 − D = 0.8
    assert profile.index == 0.8
    by_key = {cell.key: cell for cell in profile.cells}
    assert by_key["F"].participant_share == 0.3 and by_key["F"].population_share == 0.5
    assert by_key["F"].ratio == 0.6  # .3 / .5: under-heard
    assert by_key["M"].ratio == 5 / 3  # .5 / .3: heard more than their number
    assert by_key["X"].ratio == 1
    # The ten who preferred not to say are counted apart, not dropped.
    assert (profile.participants, profile.classified, profile.unclassified) == (110, 100, 10)
    assert profile.unclassified_keys == (("prefer not to say", 10),)
    assert profile.unclassified_share == 10 / 110
    assert profile.population == 1000


def test_participation_profile_identical_profiles_score_one_and_disjoint_zero():
    assert participation_profile({"a": 1, "b": 3}, {"a": 25, "b": 75}).index == 1
    disjoint = participation_profile({"a": 10}, {"a": 0, "b": 50})
    assert disjoint.index == 0
    assert {c.key: c.ratio for c in disjoint.cells} == {"a": None, "b": 0}


def test_participation_profile_with_nobody_classified_has_no_index():
    profile = participation_profile({None: 4}, {"a": 10})
    assert profile.index is None and profile.unclassified == 4


def test_participation_profile_does_not_depend_on_dict_order():
    participants = {("F", "18-29"): 7, ("M", "18-29"): 2, ("F", "65+"): 1, ("?", None): 3}
    population = {("F", "18-29"): 70, ("M", "18-29"): 80, ("F", "65+"): 40, ("M", "65+"): 30}
    first = participation_profile(participants, population)
    for seed in range(5):
        again = participation_profile(shuffled(participants, seed), shuffled(population, seed))
        assert repr(again) == repr(first)


# --- Poisson tail -------------------------------------------------------------------------------


def exact_upper_tail(observed: int, lam: Fraction) -> Decimal:
    """P(X >= observed) = 1 − e^(−λ) · Σ_{k<observed} λ^k / k!, the sum as an exact fraction and
    e^(−λ) with 80 significant digits."""
    series = sum((lam**k / math.factorial(k) for k in range(observed)), Fraction(0))
    with localcontext() as ctx:
        ctx.prec = 80
        lam_d = Decimal(lam.numerator) / Decimal(lam.denominator)
        below = (-lam_d).exp() * Decimal(series.numerator) / Decimal(series.denominator)
        return 1 - below


def test_poisson_tail_small_cases_by_hand():
    # P(X >= 1 | 1) = 1 − e⁻¹ = 0.6321205588…
    assert poisson_upper_tail(1, 1.0) == pytest.approx(1 - math.exp(-1), rel=1e-15)
    # P(X >= 5 | 2) = 1 − e⁻²(1 + 2 + 2 + 4/3 + 2/3) = 1 − 7e⁻² = 0.0526530173…
    assert poisson_upper_tail(5, 2.0) == pytest.approx(1 - 7 * math.exp(-2), rel=1e-14)
    # P(X >= 0) = 1 whatever λ; with λ = 0, X is always 0.
    assert poisson_upper_tail(0, 3.0) == 1.0
    assert poisson_upper_tail(1, 0.0) == 0.0


@pytest.mark.parametrize("lam", ["1/10", "1/2", "1", "5/2", "15/4", "7", "20"])
def test_poisson_tail_matches_exact_sums(lam):
    lam = Fraction(lam)
    for observed in range(31):
        exact = exact_upper_tail(observed, lam)
        if exact < Decimal("1e-300"):
            continue
        got = poisson_upper_tail(observed, float(lam))
        assert got == pytest.approx(float(exact), rel=1e-12, abs=0), (observed, lam)


def test_poisson_tail_is_accurate_for_large_counts():
    # A busy area: λ = 1000, 1100 reported (3.2 standard deviations above).
    exact = exact_upper_tail(1100, Fraction(1000))
    assert poisson_upper_tail(1100, 1000.0) == pytest.approx(float(exact), rel=1e-9)
    exact = exact_upper_tail(990, Fraction(1000))
    assert poisson_upper_tail(990, 1000.0) == pytest.approx(float(exact), rel=1e-12)


# --- Benjamini–Hochberg -------------------------------------------------------------------------

# Benjamini & Hochberg (1995), section 4.2: fifteen p-values from a myocardial infarction study.
# At q = 0.05 the step-up procedure rejects the four smallest: p_(4) = .0095 <= 4·.05/15 = .0133,
# and for i >= 5, p_(i) > i·.05/15 (.0201 > .0167, .0278 > .02, …, .0459 > .03, .3240 > .0333 …).
# Bonferroni (.05/15 = .0033) would reject only three.
BH_EXAMPLE = [
    0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
    0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0000,
]  # fmt: skip


def test_benjamini_hochberg_textbook_example():
    decisions = benjamini_hochberg(BH_EXAMPLE, 0.05)
    assert [significant for _adj, significant in decisions] == [True] * 4 + [False] * 11
    adjusted = [adj for adj, _s in decisions]
    # adjusted p_(i) = min_{j>=i} 15·p_(j)/j:
    #   p_(1): 15·.0001/1 = .0015; p_(2): 15·.0004/2 = .003; p_(3): 15·.0019/3 = .0095;
    #   p_(4): 15·.0095/4 = .035625; p_(5): 15·.0201/5 = .0603;
    #   p_(6): min(15·.0278/6 = .0695, 15·.0298/7 = .063857, …) = .063857 = p_(7)
    expected = [0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.0638571428, 0.0638571428]
    assert adjusted[:7] == pytest.approx(expected, rel=1e-9)
    assert adjusted[-1] == 1.0


def test_benjamini_hochberg_keeps_the_input_order():
    decisions = benjamini_hochberg(list(reversed(BH_EXAMPLE)), 0.05)
    assert [s for _a, s in decisions] == [False] * 11 + [True] * 4


def test_benjamini_hochberg_on_nothing():
    assert benjamini_hochberg([]) == []


# --- Hotspots -----------------------------------------------------------------------------------


def test_hotspots_worked_by_hand():
    observed = {"A": 10, "B": 2, "C": 3, "D": 0, "E": 5}
    exposure = {"A": 5, "B": 5, "C": 5, "D": 5, "E": 0}
    result = hotspots(observed, exposure)
    # E has no participation measured: not tested, its 5 concerns set apart.
    # Tested: 15 concerns over exposure 20 → expected = 15·5/20 = 3.75 in each of A–D.
    assert (result.total_observed, result.total_exposure, result.tested) == (15, 20, 4)
    assert result.untested_observed == 5
    cells = {cell.key: cell for cell in result.cells}
    assert [cells[key].expected for key in "ABCD"] == [3.75] * 4
    assert cells["A"].ratio == 10 / 3.75
    # p-values against exact sums: P(X >= 2 | 3.75) = 1 − e^−3.75 (1 + 3.75) = 0.88829…,
    # P(X >= 3) = 1 − e^−3.75 (1 + 3.75 + 7.03125) = 0.72293…, P(X >= 0) = 1, and
    # P(X >= 10) = 1 − e^−3.75 Σ_{k<10} 3.75^k/k! = 0.0053072…
    for key in "ABCD":
        exact = exact_upper_tail(observed[key], Fraction(15, 4))
        assert cells[key].p_value == pytest.approx(float(exact), rel=1e-12)
    assert round(cells["A"].p_value, 7) == 0.0053072
    assert round(cells["B"].p_value, 5) == 0.88829 and round(cells["C"].p_value, 5) == 0.72293
    # BH with m = 4: A is the smallest, adjusted 4·p_A/1 = 0.0212 <= 0.05 → flagged; the others
    # have adjusted values >= .72.
    assert cells["A"].adjusted_p == pytest.approx(4 * cells["A"].p_value)
    assert [cells[key].significant for key in "ABCDE"] == [True, False, False, False, False]
    assert cells["E"].status == "no_exposure"
    assert cells["E"].expected is None and cells["E"].p_value is None


def test_hotspots_normalise_by_participation():
    # B reports four times as much as A, but four times as many people took part there: no hotspot.
    result = hotspots({"A": 10, "B": 40}, {"A": 10, "B": 40})
    assert [cell.ratio for cell in result.cells] == [1.0, 1.0]
    assert not any(cell.significant for cell in result.cells)


def test_hotspots_without_any_exposure_test_nothing():
    result = hotspots({"A": 3}, {})
    assert result.tested == 0 and result.cells[0].status == "no_exposure"


def test_hotspots_do_not_depend_on_dict_order():
    observed = {f"cell-{i}": (i * 7) % 13 for i in range(40)}
    exposure = {f"cell-{i}": 0.5 + (i * 5) % 11 for i in range(40)}
    first = hotspots(observed, exposure)
    for seed in range(5):
        again = hotspots(shuffled(observed, seed), shuffled(exposure, seed + 7))
        assert repr(again) == repr(first)


# --- Suppression --------------------------------------------------------------------------------


def derivable(result, table) -> set:
    """Hidden entries an intruder can compute exactly from what is published.

    An independent audit: the extended table (cells, row totals, column totals, grand total)
    satisfies one equation per row and per column; the hidden entries are the unknowns. An unknown
    is determined iff it is a pivot whose reduced row has no free variable (exact fractions).
    """
    rows = [list(map(int, row)) for row in table]
    width = len(rows[0])
    ext = [[*row, sum(row)] for row in rows]
    ext.append([sum(row[c] for row in ext) for c in range(width + 1)])
    shown = [[*result.cells[r], result.row_totals[r]] for r in range(len(rows))]
    shown.append([*result.column_totals, result.grand_total])
    unknown = [
        (r, c)
        for r in range(len(ext))
        for c in range(width + 1)
        if isinstance(shown[r][c], Suppressed)
    ]
    index = {entry: i for i, entry in enumerate(unknown)}
    equations = []
    for r in range(len(ext)):  # Σ cells − total = 0 along each row
        line = [(r, c, 1 if c < width else -1) for c in range(width + 1)]
        equations.append(line)
    for c in range(width + 1):
        line = [(r, c, 1 if r < len(rows) else -1) for r in range(len(ext))]
        equations.append(line)
    matrix = []
    for line in equations:
        row = [Fraction(0)] * (len(unknown) + 1)
        for r, c, sign in line:
            if (r, c) in index:
                row[index[(r, c)]] += sign
            else:
                row[-1] -= sign * ext[r][c]
        matrix.append(row)
    pivots, lead = [], 0
    for col in range(len(unknown)):
        pivot = next((i for i in range(lead, len(matrix)) if matrix[i][col] != 0), None)
        if pivot is None:
            continue
        matrix[lead], matrix[pivot] = matrix[pivot], matrix[lead]
        factor = matrix[lead][col]
        matrix[lead] = [value / factor for value in matrix[lead]]
        for i in range(len(matrix)):
            if i != lead and matrix[i][col] != 0:
                f = matrix[i][col]
                matrix[i] = [a - f * b for a, b in zip(matrix[i], matrix[lead], strict=True)]
        pivots.append((lead, col))
        lead += 1
    pivot_cols = {col for _r, col in pivots}
    found = set()
    for row_i, col in pivots:
        others = [
            j for j in range(len(unknown)) if j != col and j not in pivot_cols and matrix[row_i][j]
        ]
        if not others:
            found.add(unknown[col])
    return found


def marks(result) -> list[list]:
    """The extended table as the public sees it: numbers, or "x" for hidden."""
    out = [[*row, total] for row, total in zip(result.cells, result.row_totals, strict=True)]
    out.append([*result.column_totals, result.grand_total])
    return [["x" if isinstance(v, Suppressed) else v for v in row] for row in out]


def test_one_primary_forces_secondaries_in_a_chain():
    table = [[3, 10, 12], [8, 9, 11]]
    result = suppress(table, 5)
    # Primary: 3. Row 0 has one hidden → hide its smallest other cell, 10. Column 0 now has one
    # hidden (3) → hide 8; that secondary's row, and column 1 (10), each have one hidden → hide 9.
    # The four hidden cells form a rectangle: every row and column has two (or none).
    assert result.cells == ((P, S, 12), (S, S, 11))
    assert result.row_totals == (25, 28)
    assert result.column_totals == (11, 19, 23) and result.grand_total == 53
    assert derivable(result, table) == set()


def test_a_secondary_in_a_row_forces_one_in_a_column_and_a_total():
    # Row 0's total is 3 (< 5): hidden with its cell. Column 0 then has one hidden cell → the
    # smallest other non-zero cell of column 0 (7) goes; the totals column has one hidden total
    # → the smaller other row total (24, row 2) goes, which row 2 already pairs with its 7.
    table = [[3, 0, 0], [10, 9, 11], [7, 8, 9]]
    result = suppress(table, 5)
    assert marks(result) == [
        ["x", 0, 0, "x"],
        [10, 9, 11, 30],
        ["x", 8, 9, "x"],
        [20, 17, 20, 57],
    ]
    assert result.cells[0][0] == P and result.row_totals[0] == P
    assert result.cells[2][0] == S and result.row_totals[2] == S
    assert derivable(result, table) == set()


def test_an_all_small_row_hides_the_row_and_its_complements():
    table = [[1, 2, 1], [10, 9, 11]]
    result = suppress(table, 5)
    # Row 0 (and its total 4) is all primary; each column then has one hidden cell, and only the
    # other row is left to pair with; the totals column pairs 4 with 30.
    assert result.cells == ((P, P, P), (S, S, S))
    assert result.row_totals == (P, S)
    assert result.column_totals == (11, 11, 12) and result.grand_total == 34
    assert derivable(result, table) == set()


def test_a_total_under_k_is_hidden():
    table = [[2, 1], [0, 0]]  # everything under k: every non-zero entry is primary
    result = suppress(table, 5)
    assert marks(result) == [["x", "x", "x"], [0, 0, 0], ["x", "x", "x"]]
    assert result.grand_total == P


def test_zeros_are_shown_and_never_picked_as_complements_when_a_count_is_left():
    table = [[4, 0, 6], [5, 5, 5]]
    result = suppress(table, 5)
    # Row 0: 4 is primary, the complement is 6, not the 0 beside it.
    assert result.cells[0] == (P, 0, S)
    assert derivable(result, table) == set()


def test_two_blocks_joined_by_one_cell_are_audited_not_just_line_checked():
    # Two 2×2 blocks of small counts joined by one small cell (1, 2): every row and column has
    # two hidden entries or more, yet (1, 2) = row 1 total − (column 0 + column 1 − row 0 sums)
    # could be worked out. The audit hides one more cell so that it cannot.
    table = [
        [1, 2, 20, 20, 20],
        [3, 4, 1, 20, 20],
        [20, 20, 2, 3, 20],
        [20, 20, 4, 1, 20],
        [20, 20, 20, 20, 20],
    ]
    result = suppress(table, 5)
    assert result.cells[0][2] == S  # first candidate in reading order joining the two blocks
    assert derivable(result, table) == set()
    # Without the audit the line rule alone would have stopped with (1, 2) derivable.
    assert sum(v == S for row in result.cells for v in row) == 1


def test_the_audit_catches_what_the_line_rule_alone_leaves():
    # The same two blocks with only the primary suppressions (which already satisfy the line
    # rule): the independent audit finds the joining cell derivable, so the test above means
    # something.
    table = [
        [1, 2, 20, 20, 20],
        [3, 4, 1, 20, 20],
        [20, 20, 2, 3, 20],
        [20, 20, 4, 1, 20],
        [20, 20, 20, 20, 20],
    ]
    line_rule_only = SuppressedTable(
        cells=tuple(tuple(P if 0 < v < 5 else v for v in row) for row in table),
        row_totals=tuple(sum(row) for row in table),
        column_totals=tuple(sum(col) for col in zip(*table, strict=True)),
        grand_total=sum(map(sum, table)),
        k=5,
    )
    assert derivable(line_rule_only, table) == {(1, 2)}


def test_k_is_clamped_to_three_and_defaults_to_five():
    assert clamp_k(2) == 3 and clamp_k(None) == 5 and clamp_k(7) == 7
    table = [[2, 10, 10], [10, 10, 10]]
    # With k = 2 asked, k = 3 is used: the 2 is hidden (it would be shown if k were 2).
    result = suppress(table, 2)
    assert result.k == 3 and result.cells[0][0] == P
    with pytest.raises(ValueError):
        clamp_k(2.5)


def test_suppression_never_leaves_a_derivable_cell_on_random_tables():
    rng = random.Random(20240601)
    for _ in range(150):
        height, width = rng.randint(1, 5), rng.randint(1, 5)
        table = [
            [rng.choice([0, 1, 2, 3, 4, 5, 8, 13, 30]) for _ in range(width)] for _ in range(height)
        ]
        result = suppress(table, 5)
        assert derivable(result, table) == set(), table
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                shown = result.cells[r][c]
                if 0 < value < 5:
                    assert shown == P
                else:
                    assert shown in (value, S)


def test_suppression_is_deterministic_with_ties():
    table = [[3, 9, 9], [9, 9, 9]]
    first = suppress(table, 5)
    # The first 9 in reading order is the complement both times.
    assert first.cells[0] == (P, S, 9)
    assert suppress(table, 5) == first


def test_suppression_refuses_ragged_or_negative_tables():
    with pytest.raises(ValueError):
        suppress([[1, 2], [3]])
    with pytest.raises(ValueError):
        suppress([[1, -2]])
    with pytest.raises(ValueError):
        suppress([])


def test_counts_with_a_total_hide_a_second_cell():
    result = suppress_counts([2, 10, 12, 0], 5)
    # 2 is primary; with the total 24 shown it would be 24 − 10 − 12 − 0, so the smallest other
    # non-zero count (10) is hidden too. The zero stays.
    assert result.cells == (P, S, 12, 0) and result.total == 24


def test_counts_with_a_small_total_hide_the_total():
    result = suppress_counts([1, 2], 5)
    assert result.cells == (P, P) and result.total == P


def test_counts_that_are_all_small_hide_everything():
    result = suppress_counts([1, 1, 1], 5)  # total 3 < 5 and every count small
    assert result.cells == (P, P, P) and result.total == P
    assert suppress_counts([4, 0], 3).cells == (4, 0)  # k = 3: nothing small


def test_counts_without_small_numbers_are_untouched():
    result = suppress_counts([5, 6, 0], 5)
    assert result.cells == (5, 6, 0) and result.total == 11


# --- Shares under suppression -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "publishable"),
    [
        (5, 40, True),  # 5 of 40 and 35 not: both >= 5
        (4, 40, False),  # a group of four
        (36, 40, False),  # 36 of 40 names the four who did not
        (3, 4, False),  # denominator under k
        (0, 40, True),  # 0 %: nobody singled out (zeros are shown, as in the tables)
        (40, 40, True),  # 100 % of 40
        (0, 4, False),  # but not of fewer than k
        (5, 5, True),
    ],
)
def test_share_is_publishable_only_on_enough_people(numerator, denominator, publishable):
    assert share_publishable(numerator, denominator, 5) is publishable
    share = publishable_share(numerator, denominator, 5)
    assert share == (numerator / denominator if publishable else None)


def test_share_threshold_is_clamped_too():
    assert share_publishable(2, 10, 2) is False  # k = 3 used
    assert share_publishable(3, 10, 2) is True


def test_a_forced_total_is_protected_like_a_small_cell():
    # Another table hides the first row's total (say, a category total hidden elsewhere). With no
    # small cell here, that total alone could be recomputed from the grand total and the second
    # row's total, so one more entry of its column must go, and its row must lose a cell too.
    table = [[10, 20], [30, 40]]
    result = suppress(table, k=5, forced=[(0, 2)])
    assert isinstance(result.row_totals[0], Suppressed)
    assert any(isinstance(cell, Suppressed) for cell in result.cells[0])
    assert derivable(result, table) == set()
    # Without the forced entry nothing here is small, and nothing is hidden.
    assert marks(suppress(table, k=5)) == [[10, 20, 30], [30, 40, 70], [40, 60, 100]]


def test_a_forced_entry_outside_the_table_is_refused():
    with pytest.raises(ValueError, match="outside"):
        suppress([[10, 20]], k=5, forced=[(3, 0)])
