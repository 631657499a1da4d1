"""Settings for the Celery worker that the integration tests start in a subprocess.

The project's base settings (database, broker and media all come from the environment the tests
pass), plus a file mailbox: the worker is another process, so Django's in-memory test outbox cannot
show what it sent, and the tests read these files instead.
"""

import os

from cms.settings.base import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["CONVIVE_TEST_MAILBOX"]
