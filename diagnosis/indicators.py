"""Which questionnaire answers the diagnosis reads as perception indicators, and how.

Only items of the question bank are indicators: their codes and choice values are fixed
(`diagnosis.question_bank`), so "the share who feel unsafe after dark" means the same thing in
every consultation, round and city. A question a facilitator wrote is exported with the answers
but gets no index here: guessing which of its values are "bad" would invent a result.

Each indicator is read the same way: the share of residents giving one of its `unfavourable`
values among those who gave one of its `valid` values. Anything else a resident chose (don't
know, prefer not to say, "I don't use public transport") is left out of the denominator and
counted apart; a question left blank has no answer at all. The choice of the unfavourable side
(unsafe rather than safe, no trust rather than trust) keeps every indicator pointing the same
way: higher is what the consultation should act on. See docs/diagnosis-method.md.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from maps.demography import AgeBand, Sex

SAFE = ("very-safe", "safe")
UNSAFE = ("unsafe", "very-unsafe")
TRUST = ("a-lot", "some")
LOW_TRUST = ("a-little", "not-at-all")


@dataclass(frozen=True)
class Indicator:
    """A bank question read as a share: `unfavourable` answers among `valid` ones."""

    code: str  # the bank item's question code
    label: object  # what the share is of, for staff and the results page
    unfavourable: tuple[str, ...]
    valid: tuple[str, ...]  # unfavourable values included


def _indicator(code: str, label, unfavourable: tuple, favourable: tuple) -> Indicator:
    return Indicator(code, label, unfavourable, (*favourable, *unfavourable))


INDICATORS: dict[str, Indicator] = {
    indicator.code: indicator
    for indicator in (
        _indicator(
            "bank-safe-night",
            _("Feel unsafe walking alone after dark (SDG 16.1.4)"),
            UNSAFE,
            SAFE,
        ),
        _indicator("bank-safe-day", _("Feel unsafe walking alone by day"), UNSAFE, SAFE),
        _indicator("bank-safe-transport", _("Feel unsafe on public transport"), UNSAFE, SAFE),
        _indicator(
            "bank-avoid-places",
            _("Avoided places in the area in the last 12 months"),
            ("yes",),
            ("no",),
        ),
        _indicator(
            "bank-victim",
            _("Were victims of crime or violence in the area in the last 12 months"),
            ("yes",),
            ("no",),
        ),
        _indicator(
            "bank-reported",
            _("Victims who did not report it"),
            ("no",),
            ("yes",),
        ),
        _indicator("bank-trust-police", _("Little or no trust in the police"), LOW_TRUST, TRUST),
        _indicator(
            "bank-trust-municipality",
            _("Little or no trust in the local government"),
            LOW_TRUST,
            TRUST,
        ),
        _indicator(
            "bank-trust-justice",
            _("Little or no trust in the justice system"),
            LOW_TRUST,
            TRUST,
        ),
        _indicator(
            "bank-trust-community",
            _("Little or no trust in community organisations"),
            LOW_TRUST,
            TRUST,
        ),
        _indicator(
            "bank-gbv-health",
            _("Would not know where to get health care after gender-based violence"),
            ("no",),
            ("yes",),
        ),
        _indicator(
            "bank-gbv-psychosocial",
            _("Would not know where to get psychosocial support after gender-based violence"),
            ("no",),
            ("yes",),
        ),
        _indicator(
            "bank-gbv-protection",
            _("Would not know where to get protection after gender-based violence"),
            ("no",),
            ("yes",),
        ),
        _indicator(
            "bank-gbv-legal",
            _("Would not know where to get legal advice after gender-based violence"),
            ("no",),
            ("yes",),
        ),
    )
}

# A respondent's self-description against the population's strata: women and men are the
# census's female and male; every other answer (non-binary, another way, prefer not to say, left
# blank) has no population figure and lands in the statistics' "no_population" strata.
SEX_OF_GENDER = {"woman": Sex.FEMALE.value, "man": Sex.MALE.value}
AGE_BANDS = frozenset(AgeBand.values)


def stratum(gender: str, age_band: str, *, not_stated: str) -> tuple[str, str]:
    """The (sex, age band) stratum of a participant, with their own codes where the population
    has none (so they are reported, not silently merged)."""
    sex = SEX_OF_GENDER.get(gender, gender or not_stated)
    return sex, age_band or not_stated


def indicator_labels() -> dict[str, str]:
    return {code: str(indicator.label) for code, indicator in INDICATORS.items()}
