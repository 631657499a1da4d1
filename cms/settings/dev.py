"""Local development and the `make demo` site: debug on, emails to the console."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
