"""Settings for the test suite: fast hashing, throw-away media, rate limits off by default."""

import tempfile
from pathlib import Path

from . import base
from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="convive-test-media-"))
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CONVIVE_RATE_LIMIT_ENABLED = False
CONVIVE_TILE_URL = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"  # never reaches the internet
ALLOWED_HOSTS = ["*"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise warns when STATIC_ROOT does not exist; tests serve static files through the finders.
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="convive-test-static-"))
WHITENOISE_USE_FINDERS = True
# LEAFLET_CONFIG was built in base.py from the real tile URL; point it at the dead port too.
LEAFLET_CONFIG = {
    **base.LEAFLET_CONFIG,
    "TILES": [("OpenStreetMap", CONVIVE_TILE_URL, {"attribution": base.CONVIVE_TILE_ATTRIBUTION})],
}

# SpatiaLite test database in a file, not in shared-cache memory: with memory, the live server's
# thread (browser tests) and the test thread lock each other's tables ("database table is locked"),
# and a Celery worker process could not see it at all. pytest-django suffixes the name per xdist
# worker.
if not base.DATABASE_IS_POSTGIS:
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.mkdtemp(prefix="convive-test-db-")) / "test_convive.sqlite3")
    }
