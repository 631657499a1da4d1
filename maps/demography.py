"""Sex and age bands shared by population figures and residents' self-descriptions.

Both sides must use the same bands so the diagnosis can compare who took part with who lives in an
area and post-stratify answers. Bands follow census practice but split out children (0–11) and
adolescents (12–17), who are a priority group in prevention policy.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class AgeBand(models.TextChoices):
    CHILD = "0-11", _("0–11 years")
    ADOLESCENT = "12-17", _("12–17 years")
    YOUNG_ADULT = "18-29", _("18–29 years")
    ADULT = "30-44", _("30–44 years")
    MIDDLE_AGE = "45-64", _("45–64 years")
    OLDER = "65+", _("65 years and over")
