"""The project's settings plus the bare view's URL; used only by bench/submissions.py."""

from cms.settings.base import *  # noqa: F403
from cms.settings.base import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.bareapp"]
ROOT_URLCONF = "bench.bareapp.urls"
