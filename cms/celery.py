"""Celery application.

With CELERY_BROKER_URL unset, tasks run in-process (CELERY_TASK_ALWAYS_EAGER) so the embedded demo
needs no servers; with redis://… they go to real workers: `celery -A cms worker`.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")

app = Celery("cms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
