"""The Convive site: settings, URLs, base templates, home and content pages."""

from .celery import app as celery_app

__all__ = ("celery_app",)
