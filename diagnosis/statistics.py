"""The statistics of the participatory diagnosis, as pure functions.

The diagnosis engine aggregates in the database and hands the counts to these functions; nothing
here touches Django or the database, so every number can be checked by hand (see
tests/diagnosis/test_statistics.py) and explained to the people who took part (see
docs/diagnosis-method.md, which states each method, its threshold and its source).

Determinism: a published diagnosis must come out bit-identical when it is re-run on the same inputs.
Every function therefore sorts its keys before doing anything that depends on order, and sums
exactly (`fractions.Fraction`, integers or `math.fsum`) instead of adding floats in whatever order a
dict happens to hold them.

Only the standard library is used (`math`, `fractions`, `statistics.NormalDist`): numpy/scipy are
not dependencies of Convive.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from statistics import NormalDist

# Bumped whenever a formula, a threshold or a tie-break below changes, so that a snapshot records
# which rules produced its numbers.
METHOD_VERSION = "statistics-1"

DEFAULT_K = 5
MIN_K = 3
DEFAULT_CONFIDENCE = 0.95
DEFAULT_FDR = 0.05


# --- Helpers ------------------------------------------------------------------------------------


def order_key(key) -> tuple:
    """A total order over the keys callers use (None, numbers, strings, tuples of them, UUIDs…).

    Plain `sorted` is not enough: with keys that cannot all be compared (None beside a string
    inside a tuple) whether it fails depends on which pairs it happens to compare, hence on the
    input order, and a fallback would then make the output order depend on it too.
    """
    if key is None:
        return (0,)
    if isinstance(key, bool):
        return (1, int(key))
    if isinstance(key, int | float | Fraction | Decimal):
        return (1, key)
    if isinstance(key, str):
        return (2, key)
    if isinstance(key, tuple):
        return (3, tuple(order_key(part) for part in key))
    return (4, type(key).__name__, repr(key))


def _sorted_keys(keys: Iterable[Hashable]) -> list:
    """Keys in a fixed order that never depends on dict insertion order (`order_key`)."""
    return sorted(keys, key=order_key)


def _count(value, what: str) -> int:
    """A non-negative whole number, or a ValueError that says which input was wrong."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"{what} must not be negative, got {value!r}")
    return value


def _amount(value, what: str) -> Fraction:
    """A non-negative finite number as an exact fraction (a float converts exactly)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Fraction | Decimal):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    value = Fraction(value)
    if value < 0:
        raise ValueError(f"{what} must not be negative, got {value!r}")
    return value


def _z(confidence: float) -> float:
    """The two-sided standard normal quantile, e.g. 1.959963984540054 for 95 %."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


# --- 1. Wilson score interval -------------------------------------------------------------------


def wilson_interval(
    successes: float, n: float, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[float, float] | tuple[None, None]:
    """The Wilson score interval for a proportion successes / n.

    Method: Wilson, E. B. (1927), "Probable inference, the law of succession, and statistical
    inference", JASA 22(158): 209–212. With p = successes / n and z the two-sided normal quantile
    (1.96 for 95 %):

        centre     = (p + z²/2n) / (1 + z²/n)
        half-width = z / (1 + z²/n) · √(p(1 − p)/n + z²/4n²)

    Unlike the textbook "p ± 1.96·√(p(1−p)/n)" it never leaves [0, 1] and stays honest for small
    groups and for shares near 0 % or 100 %, which is what small-area diagnoses produce. `n` may be
    fractional: post-stratified shares pass their Kish effective sample size (see
    `poststratified_share`).

    n == 0 means nobody answered: there is no interval, and the result is `(None, None)` (the
    share itself is undefined, not zero).
    """
    if isinstance(successes, bool) or isinstance(n, bool):
        raise ValueError("successes and n must be numbers")
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got {successes!r} of {n!r}")
    z = _z(confidence)
    if n == 0:
        return (None, None)
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At p = 0 (or 1) the lower (upper) end is exactly 0 (1); rounding would leave ~1e-17.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


# --- 2. Post-stratification ---------------------------------------------------------------------


@dataclass(frozen=True)
class DroppedStratum:
    """A stratum left out of the weighting, and why (reported, never silent)."""

    key: Hashable
    reason: str  # "no_population" (respondents, no resident count) | "no_respondents"
    respondents: int
    successes: int
    population: int


@dataclass(frozen=True)
class PoststratifiedShare:
    """A share weighted to the population, with the unweighted figure beside it."""

    weighted_share: float | None
    raw_share: float | None  # over every respondent passed in, dropped strata included
    respondents: int  # every respondent passed in
    successes: int
    respondents_used: int  # respondents in strata that could be weighted
    population_used: int  # residents of those strata
    population_total: int  # residents of every stratum with a population figure
    population_coverage: float | None  # population_used / population_total
    weights: tuple[tuple[Hashable, float], ...]  # (stratum, weight of each respondent in it)
    effective_n: float | None  # Kish: (Σw)² / Σw²
    design_effect: float | None  # respondents_used / effective_n
    ci_low: float | None
    ci_high: float | None
    confidence: float
    strata_used: tuple[Hashable, ...]
    strata_dropped: tuple[DroppedStratum, ...]


def poststratified_share(
    cells: Mapping[Hashable, tuple[int, int]],
    population: Mapping[Hashable, int],
    confidence: float = DEFAULT_CONFIDENCE,
) -> PoststratifiedShare:
    """A share (e.g. "feel unsafe walking alone after dark") weighted by stratum to the population.

    `cells` maps a stratum, typically (sex, age band), to (successes, respondents); `population`
    maps the same strata to resident counts.

    Method (post-stratification; Kish, L. (1965), *Survey Sampling*, Wiley, §12.1 and §11.7):
    each respondent of stratum h gets the weight

        w_h = (N_h / N) / (n_h / n)

    (population share over sample share), so that groups who took part less count in proportion
    to how many of them live there. The weighted share is Σ w·y / Σ w = Σ_h (N_h/N)·(s_h/n_h).

    Uncertainty: unequal weights make the sample worth fewer people. Kish's effective sample size
    is n_eff = (Σw)² / Σw² and the design effect due to weighting is n / n_eff = 1 + CV²(w). The
    95 % interval is Wilson's (see `wilson_interval`) on the weighted share with n_eff in place of
    n — an approximation (Kish's deff correction applied to the Wilson score interval).

    Strata that cannot be weighted are EXCLUDED and reported in `strata_dropped` (no collapsing:
    strata keys are opaque here, and a collapse rule would silently mix groups):
    - respondents but no population figure (key missing or population 0), which is also where
      "prefer not to say" answers land: reason "no_population"; they still count in `raw_share`;
    - population but no respondents: reason "no_respondents". Nobody can speak for that group, so
      the weighted share describes the residents of the covered strata only; `population_coverage`
      says how many of all residents that is, and the method notes must show it.
    With no stratum left, the weighted share, n_eff and the interval are None.
    """
    counts: dict = {}
    for key in _sorted_keys(cells):
        value = cells[key]
        if not isinstance(value, Sequence) or len(value) != 2:
            raise ValueError(f"stratum {key!r} must map to (successes, respondents)")
        successes = _count(value[0], f"successes of {key!r}")
        n = _count(value[1], f"respondents of {key!r}")
        if successes > n:
            raise ValueError(f"stratum {key!r} has more successes ({successes}) than people ({n})")
        counts[key] = (successes, n)
    residents = {
        key: _count(population[key], f"population of {key!r}") for key in _sorted_keys(population)
    }

    used, dropped = [], []
    for key in _sorted_keys(set(counts) | set(residents)):
        successes, n = counts.get(key, (0, 0))
        people = residents.get(key, 0)
        if n > 0 and people > 0:
            used.append(key)
        elif n > 0:
            dropped.append(DroppedStratum(key, "no_population", n, successes, people))
        elif people > 0:
            dropped.append(DroppedStratum(key, "no_respondents", 0, 0, people))
        # Neither respondents nor residents: nothing to say about it.

    respondents = sum(n for _s, n in counts.values())
    successes_all = sum(s for s, _n in counts.values())
    population_total = sum(residents.values())
    n_used = sum(counts[key][1] for key in used)
    big_n = sum(residents[key] for key in used)

    # Exact arithmetic: the weights are ratios of whole numbers.
    weights = {
        key: Fraction(residents[key], big_n) / Fraction(counts[key][1], n_used) for key in used
    }
    if used:
        weighted = sum(
            (Fraction(residents[key], big_n) * Fraction(*counts[key]) for key in used), Fraction(0)
        )
        sum_w = sum((counts[key][1] * weights[key] for key in used), Fraction(0))
        sum_w2 = sum((counts[key][1] * weights[key] ** 2 for key in used), Fraction(0))
        n_eff = sum_w**2 / sum_w2
        low, high = wilson_interval(float(weighted * n_eff), float(n_eff), confidence)
        weighted_share, effective_n = float(weighted), float(n_eff)
        design_effect = float(n_used / n_eff)
    else:
        weighted_share = effective_n = design_effect = low = high = None
    raw = float(Fraction(successes_all, respondents)) if respondents else None
    return PoststratifiedShare(
        weighted_share=weighted_share,
        raw_share=raw,
        respondents=respondents,
        successes=successes_all,
        respondents_used=n_used,
        population_used=big_n,
        population_total=population_total,
        population_coverage=float(Fraction(big_n, population_total)) if population_total else None,
        weights=tuple((key, float(weights[key])) for key in used),
        effective_n=effective_n,
        design_effect=design_effect,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        strata_used=tuple(used),
        strata_dropped=tuple(dropped),
    )


# --- 3. Representativeness ----------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileCell:
    """One stratum of the participation profile."""

    key: Hashable
    participants: int
    population: int
    participant_share: float | None  # among participants whose stratum is known
    population_share: float | None
    ratio: float | None  # participant_share / population_share; 1 = heard in proportion


@dataclass(frozen=True)
class ParticipationProfile:
    """Who took part against who lives there, with one summary index."""

    cells: tuple[ProfileCell, ...]
    participants: int  # everyone, unclassified included
    classified: int  # participants in a stratum with a population figure
    unclassified: int  # "prefer not to say", unknown or outside the population's strata
    unclassified_share: float | None  # unclassified / participants
    unclassified_keys: tuple[tuple[Hashable, int], ...]
    population: int
    index: float | None  # 1 − dissimilarity; 1 = same profile, 0 = no overlap at all


def participation_profile(
    participants: Mapping[Hashable, int], population: Mapping[Hashable, int]
) -> ParticipationProfile:
    """Compare who took part (counts by sex × age band) with who lives there (same strata).

    For each stratum i with a population figure: p_i = participants_i / classified participants,
    q_i = population_i / population, and the ratio p_i / q_i (above 1: heard more than their
    number; below 1: under-heard).

    Index: the representativeness index R = 1 − D, with D the Duncan & Duncan dissimilarity index
    D = ½ Σ |p_i − q_i| (Duncan, O. D. & Duncan, B. (1955), "A methodological analysis of
    segregation indexes", American Sociological Review 20(2): 210–217). R is in [0, 1]; 1 means
    the participants have exactly the residents' profile; D itself is the share of participants
    who would have to be "from another group" for the profiles to match.

    Participants whose key is not in `population` (unknown sex or age, "prefer not to say") are
    not dropped silently: they are counted apart (`unclassified`, by key) and left out of p_i and
    of the index, which describe the participants who said who they are.
    """
    people = {
        key: _count(population[key], f"population of {key!r}") for key in _sorted_keys(population)
    }
    taking_part = {
        key: _count(participants[key], f"participants of {key!r}")
        for key in _sorted_keys(participants)
    }
    unclassified_keys = tuple(
        (key, count) for key, count in taking_part.items() if key not in people and count > 0
    )
    total_participants = sum(taking_part.values())
    classified = sum(count for key, count in taking_part.items() if key in people)
    total_population = sum(people.values())

    cells = []
    distance = Fraction(0)
    for key in people:  # already sorted
        count = taking_part.get(key, 0)
        p = Fraction(count, classified) if classified else None
        q = Fraction(people[key], total_population) if total_population else None
        if p is not None and q is not None:
            distance += abs(p - q)
        cells.append(
            ProfileCell(
                key=key,
                participants=count,
                population=people[key],
                participant_share=None if p is None else float(p),
                population_share=None if q is None else float(q),
                ratio=float(p / q) if p is not None and q else None,
            )
        )
    index = float(1 - distance / 2) if classified and total_population else None
    unclassified = total_participants - classified
    return ParticipationProfile(
        cells=tuple(cells),
        participants=total_participants,
        classified=classified,
        unclassified=unclassified,
        unclassified_share=(
            float(Fraction(unclassified, total_participants)) if total_participants else None
        ),
        unclassified_keys=unclassified_keys,
        population=total_population,
        index=index,
    )


# --- 4. Hotspots: exact Poisson test and Benjamini–Hochberg -------------------------------------

# Stop summing Poisson terms when what is left is below this fraction of the sum (2⁻⁶⁰ ≈ 8.7e-19,
# well under a double's precision).
_TAIL_TOLERANCE = 2.0**-60


def _poisson_log_pmf(k: int, lam: float) -> float:
    return k * math.log(lam) - lam - math.lgamma(k + 1)


def poisson_upper_tail(observed: int, expected: float) -> float:
    """P(X >= observed) for X ~ Poisson(expected), computed exactly by summing the series.

    Stable summation: when observed > expected the tail terms k = observed, observed + 1, …
    shrink geometrically (ratio expected / (k + 1) < 1); they are summed upward with `math.fsum`
    until the remainder, bounded by term · r / (1 − r), is below 2⁻⁶⁰ of the sum. Otherwise the
    tail is at least about ½ and is 1 − P(X <= observed − 1), whose terms are summed downward from
    k = observed − 1 the same way. Each first term is exp(k·ln λ − λ − ln k!) (`math.lgamma`), so
    nothing overflows for large counts; a tail below ~1e-308 underflows to 0.0.
    """
    observed = _count(observed, "observed")
    if isinstance(expected, bool) or not isinstance(expected, int | float | Fraction):
        raise ValueError(f"expected must be a number, got {expected!r}")
    lam = float(expected)
    if not math.isfinite(lam) or lam < 0:
        raise ValueError(f"expected must be finite and not negative, got {expected!r}")
    if observed == 0:
        return 1.0
    if lam == 0:
        return 0.0
    if observed > lam:
        k, term = observed, math.exp(_poisson_log_pmf(observed, lam))
        terms, running = [term], term
        while term > 0:
            ratio = lam / (k + 1)
            term *= ratio
            k += 1
            terms.append(term)
            running += term
            if term * ratio / (1 - ratio) <= _TAIL_TOLERANCE * running:
                break
        return min(1.0, math.fsum(terms))
    k = observed - 1
    term = math.exp(_poisson_log_pmf(k, lam))
    terms, running = [term], term
    while k > 0 and term > 0:
        ratio = k / lam  # pmf(k − 1) = pmf(k) · k / λ, and k < λ here
        term *= ratio
        k -= 1
        terms.append(term)
        running += term
        if term * ratio / (1 - ratio) <= _TAIL_TOLERANCE * running:
            break
    return max(0.0, 1.0 - math.fsum(terms))


def benjamini_hochberg(
    pvalues: Sequence[float], q: float = DEFAULT_FDR
) -> list[tuple[float, bool]]:
    """Benjamini–Hochberg adjusted p-values and decisions, in the order given.

    Method: Benjamini, Y. & Hochberg, Y. (1995), "Controlling the false discovery rate: a
    practical and powerful approach to multiple testing", JRSS B 57(1): 289–300. With the m
    p-values sorted, p_(1) <= … <= p_(m), the adjusted value is
    min over j >= i of min(1, m · p_(j) / j), and a test is significant when its adjusted value is
    <= q — the same as rejecting p_(1) … p_(k) for the largest k with p_(k) <= k·q/m. Ties are
    ordered by position (the adjusted values of tied p-values are equal anyway).
    """
    if not 0 < q < 1:
        raise ValueError(f"q must be between 0 and 1, got {q!r}")
    for p in pvalues:
        if isinstance(p, bool) or not 0 <= p <= 1:
            raise ValueError(f"p-values must be between 0 and 1, got {p!r}")
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: (pvalues[i], i))
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        index = order[rank - 1]
        running = min(running, m * pvalues[index] / rank)
        adjusted[index] = min(1.0, running)
    return [(value, value <= q) for value in adjusted]


@dataclass(frozen=True)
class HotspotCell:
    """A cell (area, grid cell) with its concerns against what participation predicts."""

    key: Hashable
    observed: int
    exposure: float
    expected: float | None
    ratio: float | None  # observed / expected
    p_value: float | None  # one-sided exact Poisson, P(X >= observed | expected)
    adjusted_p: float | None  # Benjamini–Hochberg
    significant: bool
    status: str  # "tested" | "no_exposure"


@dataclass(frozen=True)
class HotspotResult:
    cells: tuple[HotspotCell, ...]
    total_observed: int  # concerns in tested cells
    total_exposure: float
    tested: int
    untested_observed: int  # concerns in cells without exposure (not tested)
    q: float
    method: str = "one-sided exact Poisson test, Benjamini-Hochberg FDR"


def hotspots(
    observed: Mapping[Hashable, int],
    exposure: Mapping[Hashable, int | float],
    q: float = DEFAULT_FDR,
) -> HotspotResult:
    """Cells where residents reported significantly more concerns than participation predicts.

    Normalising by participation is what keeps this from being a stigma map: a busy area with many
    residents taking part is expected to report more. For each cell i with exposure e_i (the
    participation there, e.g. distinct contributors):

        expected_i = total_concerns · e_i / total_exposure
        p_i        = P(X >= observed_i), X ~ Poisson(expected_i)   (one-sided exact test)

    and the m p-values are adjusted with Benjamini–Hochberg at false discovery rate q (default
    0.05): among the cells flagged, at most about 5 % are expected to be flagged by chance
    (`benjamini_hochberg`). The ratio observed / expected is the standardised concern ratio.

    Cells with no exposure (0 or missing) have expected 0, where the test says nothing: they are
    reported with status "no_exposure", no p-value and never flagged, and both totals above are
    taken over the tested cells only (so expected values add up to the observed concerns there).
    Cells with exposure but no concerns are tested (p = 1) and count in the BH family.
    """
    keys = _sorted_keys(set(observed) | set(exposure))
    obs = {key: _count(observed.get(key, 0), f"observed of {key!r}") for key in keys}
    exp_in = {key: _amount(exposure.get(key, 0), f"exposure of {key!r}") for key in keys}
    tested = [key for key in keys if exp_in[key] > 0]
    total_observed = sum(obs[key] for key in tested)
    total_exposure = sum((exp_in[key] for key in tested), Fraction(0))

    expected, pvalues = {}, {}
    for key in tested:
        expected[key] = Fraction(total_observed) * exp_in[key] / total_exposure
        pvalues[key] = poisson_upper_tail(obs[key], float(expected[key]))
    decisions = dict(zip(tested, benjamini_hochberg([pvalues[k] for k in tested], q), strict=True))

    cells = []
    for key in keys:
        if key in expected:
            adjusted, significant = decisions[key]
            cells.append(
                HotspotCell(
                    key=key,
                    observed=obs[key],
                    exposure=float(exp_in[key]),
                    expected=float(expected[key]),
                    ratio=float(obs[key] / expected[key]) if expected[key] else None,
                    p_value=pvalues[key],
                    adjusted_p=adjusted,
                    significant=significant,
                    status="tested",
                )
            )
        else:
            cells.append(
                HotspotCell(key, obs[key], 0.0, None, None, None, None, False, "no_exposure")
            )
    return HotspotResult(
        cells=tuple(cells),
        total_observed=total_observed,
        total_exposure=float(total_exposure),
        tested=len(tested),
        untested_observed=sum(obs[key] for key in keys if key not in expected),
        q=q,
    )


# --- 5. Small-number suppression ----------------------------------------------------------------


def clamp_k(k: int | None = None) -> int:
    """The suppression threshold: DEFAULT_K (5) when None, and never below MIN_K (3).

    A lower value is clamped rather than refused, so a misconfigured setting can only make the
    output more protective (the same rule as `maps.suppression.suppression_k`).
    """
    if k is None:
        return DEFAULT_K
    if isinstance(k, bool) or not isinstance(k, int):
        raise ValueError(f"k must be a whole number, got {k!r}")
    return max(k, MIN_K)


@dataclass(frozen=True)
class Suppressed:
    """A hidden count. `reason` is for staff and audit only: the public must see one marker for
    both ("fewer than k"), because telling a complementary cell (>= k) from a primary one (< k)
    narrows down the primary value."""

    reason: str  # "primary" (0 < count < k) | "secondary" (hidden so the other can't be derived)

    def __str__(self) -> str:
        return "suppressed"


PRIMARY = Suppressed("primary")
SECONDARY = Suppressed("secondary")

Published = int | Suppressed


@dataclass(frozen=True)
class SuppressedTable:
    cells: tuple[tuple[Published, ...], ...]
    row_totals: tuple[Published, ...]
    column_totals: tuple[Published, ...]
    grand_total: Published
    k: int


@dataclass(frozen=True)
class SuppressedCounts:
    cells: tuple[Published, ...]
    total: Published
    k: int


def below_k(value: int, k: int) -> bool:
    """Whether a count must be hidden by itself (primary suppression): 0 < value < k.

    Zero is published: it is nobody's contribution, and hiding it would also hide that nothing
    was reported. Complements are drawn from non-zero cells first (a hidden zero leaves the
    hidden pair summing to the primary value).
    """
    return 0 < value < k


def _complement_order(value: int, kind: int, position: tuple) -> tuple:
    """Which unsuppressed entry to hide next: inner cells before totals, the grand total last,
    non-zero before zero, then the smallest (it gives away least), then the first in reading
    order (deterministic tie-break)."""
    return (kind, value == 0, value, position)


def suppress_counts(counts: Sequence[int], k: int | None = DEFAULT_K) -> SuppressedCounts:
    """Suppression for one list of counts published with its total (a 1-D table).

    Primary: every count with 0 < count < k is hidden, and the total too when 0 < total < k.
    Secondary: if exactly one entry of the line (counts + total) is hidden, the one could be
    worked out from the others by subtraction, so the smallest non-zero shown count is hidden as
    well (the total only when no count is left). Zeros stay shown (see `below_k`).
    """
    k = clamp_k(k)
    values = [_count(c, f"count {i}") for i, c in enumerate(counts)]
    total = sum(values)
    entries = [*values, total]  # the total is the last entry of the line
    hidden = {i: PRIMARY for i, value in enumerate(entries) if below_k(value, k)}
    if len(hidden) == 1:
        candidates = [i for i in range(len(entries)) if i not in hidden]
        if candidates:
            best = min(
                candidates,
                key=lambda i: _complement_order(entries[i], int(i == len(values)), (i,)),
            )
            hidden[best] = SECONDARY
    out = [hidden.get(i, value) for i, value in enumerate(entries)]
    return SuppressedCounts(cells=tuple(out[:-1]), total=out[-1], k=k)


def suppress(
    table: Sequence[Sequence[int]],
    k: int | None = DEFAULT_K,
    *,
    forced: Iterable[tuple[int, int]] = (),
) -> SuppressedTable:
    """Small-number suppression for a rows × columns table published with its row, column and
    grand totals (statistical disclosure control: cell suppression, as in Hundepool et al. (2012),
    *Statistical Disclosure Control*, Wiley, ch. 4, and the tau-ARGUS practice it describes).

    The table is extended with its margins, an (R+1) × (C+1) grid where every row and every
    column adds up to its last entry, and:

    1. Primary: every entry with 0 < count < k is hidden, totals included (a total under k would
       give the small number away by itself). Zeros are shown.
    2. Secondary (line rule): while some row or column of the extended grid has exactly one hidden
       entry — recoverable by subtraction from its total — hide one more entry of that line: the
       smallest non-zero inner cell, a total only when no cell is left (`_complement_order`).
       Lines are visited in order (rows, then columns), repeating until nothing changes; a
       secondary in a row can so force one in a column, and so on.
    3. Linear audit: the line rule is not always enough (two blocks of hidden cells joined by
       one cell can still be solved for it). Seen as a graph whose vertices are the lines and
       whose edges are the hidden entries, a hidden entry is determined by the published
       numbers exactly when its edge is a bridge (every cycle of hidden entries can be shifted by
       +t/−t without changing any total). For each bridge, the preferred entry joining the two
       sides is hidden too, and the line rule runs again, until no hidden entry can be derived.

    What this does not do: compute the range an intruder can narrow a hidden cell to with
    non-negativity (interval/LP auditing as in tau-ARGUS); the published tables here are small
    and k protects counts, not ranges.

    `forced` names entries of the extended grid that must be hidden whatever their value
    ((r, C) is row r's total, (R, c) column c's, (R, C) the grand total): a number that another
    published table hides and this one repeats. They are marked SECONDARY, and steps 2 and 3 then
    protect them like any other hidden entry.

    `k` is clamped by `clamp_k` (default 5, never below 3). Returns the same shape, each hidden
    entry replaced by a `Suppressed` marker (PRIMARY or SECONDARY).
    """
    k = clamp_k(k)
    rows = [list(row) for row in table]
    if not rows or not rows[0]:
        raise ValueError("the table needs at least one row and one column")
    width = len(rows[0])
    if any(len(row) != width for row in rows):
        raise ValueError("every row of the table must have the same number of columns")
    grid = [
        [_count(v, f"cell ({r}, {c})") for c, v in enumerate(row)] for r, row in enumerate(rows)
    ]
    height = len(grid)
    for row in grid:
        row.append(sum(row))
    grid.append([sum(grid[r][c] for r in range(height)) for c in range(width + 1)])
    big_r, big_c = height, width  # indices of the totals row and column

    def kind(r: int, c: int) -> int:
        return (r == big_r) + (c == big_c)  # 0 inner cell, 1 a row/column total, 2 grand total

    def order(entry: tuple[int, int]) -> tuple:
        r, c = entry
        return _complement_order(grid[r][c], kind(r, c), entry)

    hidden = {
        (r, c): PRIMARY
        for r in range(big_r + 1)
        for c in range(big_c + 1)
        if below_k(grid[r][c], k)
    }
    for r, c in forced:
        if not (0 <= r <= big_r and 0 <= c <= big_c):
            raise ValueError(f"forced entry ({r}, {c}) is outside the {big_r}x{big_c} table")
        hidden.setdefault((r, c), SECONDARY)
    lines = [[(r, c) for c in range(big_c + 1)] for r in range(big_r + 1)]
    lines += [[(r, c) for r in range(big_r + 1)] for c in range(big_c + 1)]

    def apply_line_rule() -> None:
        changed = True
        while changed:
            changed = False
            for line in lines:
                inside = [entry for entry in line if entry in hidden]
                if len(inside) == 1:
                    candidates = [entry for entry in line if entry not in hidden]
                    hidden[min(candidates, key=order)] = SECONDARY
                    changed = True

    apply_line_rule()
    while (bridge := _first_bridge(hidden, big_r, big_c)) is not None:
        side_a = _component(hidden, bridge, start=("row", bridge[0]))
        side_b = _component(hidden, bridge, start=("col", bridge[1]))
        candidates = [
            (r, c)
            for r in range(big_r + 1)
            for c in range(big_c + 1)
            if (r, c) not in hidden
            and (
                (("row", r) in side_a and ("col", c) in side_b)
                or (("row", r) in side_b and ("col", c) in side_a)
            )
        ]
        # The two sides of a bridge each hold a cycle after the line rule, so a candidate exists.
        hidden[min(candidates, key=order)] = SECONDARY
        apply_line_rule()

    out = [[hidden.get((r, c), grid[r][c]) for c in range(big_c + 1)] for r in range(big_r + 1)]
    return SuppressedTable(
        cells=tuple(tuple(row[:big_c]) for row in out[:big_r]),
        row_totals=tuple(row[big_c] for row in out[:big_r]),
        column_totals=tuple(out[big_r][:big_c]),
        grand_total=out[big_r][big_c],
        k=k,
    )


def _component(hidden: Mapping, removed: tuple[int, int], *, start: tuple) -> set:
    """The line-vertices reachable from `start` through hidden entries other than `removed`."""
    adjacent: dict = {}
    for r, c in hidden:
        if (r, c) != removed:
            adjacent.setdefault(("row", r), []).append(("col", c))
            adjacent.setdefault(("col", c), []).append(("row", r))
    seen, stack = {start}, [start]
    while stack:
        for nxt in adjacent.get(stack.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _first_bridge(hidden: Mapping, big_r: int, big_c: int) -> tuple[int, int] | None:
    """The first hidden entry (reading order) that the published numbers determine exactly: a
    bridge of the line graph, found with Tarjan's low-link depth-first search (iterative, so
    large tables do not hit the recursion limit)."""
    adjacent: dict = {}
    for r, c in sorted(hidden):
        adjacent.setdefault(("row", r), []).append(("col", c))
        adjacent.setdefault(("col", c), []).append(("row", r))
    order: dict = {}
    low: dict = {}
    bridges = []
    for root in sorted(adjacent):
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack = [(root, None, iter(adjacent[root]))]
        while stack:
            vertex, parent, neighbours = stack[-1]
            for nxt in neighbours:
                if nxt == parent:
                    continue
                if nxt in order:
                    low[vertex] = min(low[vertex], order[nxt])
                else:
                    order[nxt] = low[nxt] = len(order)
                    stack.append((nxt, vertex, iter(adjacent[nxt])))
                    break
            else:
                stack.pop()
                if parent is not None:
                    low[parent] = min(low[parent], low[vertex])
                    if low[vertex] > order[parent]:
                        row, col = (parent, vertex) if parent[0] == "row" else (vertex, parent)
                        bridges.append((row[1], col[1]))
    return min(bridges) if bridges else None


# --- 6. Shares under suppression ----------------------------------------------------------------


def share_publishable(numerator: int, denominator: int, k: int | None = DEFAULT_K) -> bool:
    """Whether numerator / denominator may be published under the small-number rule.

    Rule: the denominator is at least k, and neither the numerator nor its complement
    (denominator − numerator) is between 1 and k − 1. A share printed with its base is the
    two-cell table [numerator, complement | denominator], so it obeys the table rule: 3 of 40
    would name a group of three, and so would 37 of 40. As in the tables, an exact 0 % or 100 %
    of at least k people is shown (nobody's contribution is singled out by a zero).
    """
    k = clamp_k(k)
    numerator = _count(numerator, "numerator")
    denominator = _count(denominator, "denominator")
    if numerator > denominator:
        raise ValueError(f"numerator {numerator} exceeds denominator {denominator}")
    complement = denominator - numerator
    return denominator >= k and not below_k(numerator, k) and not below_k(complement, k)


def publishable_share(numerator: int, denominator: int, k: int | None = DEFAULT_K) -> float | None:
    """numerator / denominator when `share_publishable`, else None ("fewer than k")."""
    if not share_publishable(numerator, denominator, k):
        return None
    return float(Fraction(numerator, denominator))
