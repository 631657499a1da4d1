"""Small-number suppression, the rule every published count obeys (DESIGN.md, "Small numbers").

Kept in `maps`, the lowest layer, so that walk reports and the diagnosis use the same threshold.
"""

from django.conf import settings


def suppression_k() -> int:
    """The threshold: `CONVIVE_SUPPRESSION_K`, never below 3 whatever the settings say
    (`cms.checks` also refuses a lower value at start-up)."""
    return max(int(getattr(settings, "CONVIVE_SUPPRESSION_K", 5)), 3)
