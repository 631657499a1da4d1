"""System checks for settings whose wrong values would break a data rule."""

from django.conf import settings
from django.core import checks


@checks.register()
def suppression_threshold(app_configs, **kwargs):
    # The product promises that no published number rests on fewer than 3 contributions.
    if settings.CONVIVE_SUPPRESSION_K < 3:
        return [
            checks.Error(
                "CONVIVE_SUPPRESSION_K must be at least 3.",
                hint="Small cells would let readers identify residents.",
                id="convive.E001",
            )
        ]
    return []
