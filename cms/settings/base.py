"""Settings shared by every environment.

Everything that differs between a laptop demo, CI and production comes from environment variables,
with defaults that give the embedded mode: SpatiaLite in a file next to the project and Celery tasks
run in-process. See docs/configuration.md for the full list.
"""

import os
from pathlib import Path

import dj_database_url

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- Core -------------------------------------------------------------------------------------

SECRET_KEY = os.environ.get("SECRET_KEY", "convive-insecure-development-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "cms",
    "diagnosis",
    "maps",
    "wagtail_localize",
    "wagtail_localize.locales",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "leaflet",
    "django_celery_results",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "cms.middleware.QueryLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "cms.routing.RouteCacheMiddleware",
]

ROOT_URLCONF = "cms.urls"
WSGI_APPLICATION = "cms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "cms.context_processors.convive",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# Default: SpatiaLite file in the project (no server needed). postgis://user@host/name for PostGIS.

DEFAULT_DATABASE_URL = f"spatialite:///{BASE_DIR / 'convive.sqlite3'}"
DATABASE_URL = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
DATABASE_IS_POSTGIS = DATABASES["default"]["ENGINE"].endswith("postgis")
if DATABASE_IS_POSTGIS:
    # Wagtail's PostgreSQL search backend needs it.
    INSTALLED_APPS.append("django.contrib.postgres")
else:
    # Debian's libsqlite3-mod-spatialite installs the module under this name.
    SPATIALITE_LIBRARY_PATH = os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Cache ------------------------------------------------------------------------------------
# Rate-limit counters and the public map cache live here. Redis when configured, else in-memory.

CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Languages --------------------------------------------------------------------------------
# Spanish is the default; the interface (gettext) and the content (Wagtail locales) share the list.

LANGUAGE_CODE = "es"
LANGUAGES = [
    ("es", "Español"),
    ("en", "English"),
    ("fr", "Français"),
    ("pt", "Português"),
]
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "America/Bogota")
USE_I18N = True
USE_TZ = True

# Machine translation in wagtail-localize's translation editor: off unless configured. Pages it
# worded carry a notice for readers until a person has reviewed every machine-made segment
# (cms.machine_translation). DeepL: CONVIVE_MACHINE_TRANSLATOR=deepl + DEEPL_AUTH_KEY;
# LibreTranslate (self-hostable): =libretranslate + LIBRETRANSLATE_URL [+ LIBRETRANSLATE_API_KEY].
_MACHINE_TRANSLATORS = {
    "deepl": lambda: {
        "CLASS": "wagtail_localize.machine_translators.deepl.DeepLTranslator",
        "OPTIONS": {"AUTH_KEY": os.environ["DEEPL_AUTH_KEY"]},
    },
    "libretranslate": lambda: {
        "CLASS": "wagtail_localize.machine_translators.libretranslate.LibreTranslator",
        "OPTIONS": {
            "LIBRETRANSLATE_URL": os.environ["LIBRETRANSLATE_URL"],
            "API_KEY": os.environ.get("LIBRETRANSLATE_API_KEY", ""),
        },
    },
}
if os.environ.get("CONVIVE_MACHINE_TRANSLATOR"):
    WAGTAILLOCALIZE_MACHINE_TRANSLATOR = _MACHINE_TRANSLATORS[
        os.environ["CONVIVE_MACHINE_TRANSLATOR"]
    ]()

# --- Static and media -------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Questionnaire response exports (personal data): never under MEDIA_ROOT, never served by URL.
# Empty: "<MEDIA_ROOT>-private" (diagnosis.models.response_export_storage).
CONVIVE_PRIVATE_MEDIA_ROOT = os.environ.get("CONVIVE_PRIVATE_MEDIA_ROOT", "")
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploads larger than this are refused before Django reads them into memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# --- Wagtail ----------------------------------------------------------------------------------

WAGTAIL_SITE_NAME = "Convive"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "xlsx", "geojson", "txt", "zip"]
# No Gravatar: every admin page would send a hash of each staff member's e-mail address to a
# third party, and field work happens where the connection is slow. Wagtail shows its own avatar.
WAGTAIL_GRAVATAR_PROVIDER_URL = None

# --- Celery -----------------------------------------------------------------------------------
# No broker configured → tasks run in-process (eager). redis://… → real workers.
# Post-submit work is also recorded on the row, so a broker outage loses nothing (see
# diagnosis.services.concern_sweep_pending).

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A short publish timeout: a dead broker must not hold a resident's request.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    # A broker that accepts the connection but never answers must not hang the request either.
    "socket_connect_timeout": 1,
    "socket_timeout": 1,
}
CELERY_BEAT_SCHEDULE = {
    "concern-sweep": {"task": "diagnosis.tasks.concern_sweep", "schedule": 60.0},
    "response-export-cleanup": {
        "task": "diagnosis.tasks.response_export_cleanup",
        "schedule": 3600.0,
    },
    "complaint-sweep": {"task": "cms.tasks.complaint_sweep", "schedule": 600.0},
}

# --- Maps -------------------------------------------------------------------------------------

CONVIVE_TILE_URL = os.environ.get(
    "CONVIVE_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
)
CONVIVE_TILE_ATTRIBUTION = os.environ.get(
    "CONVIVE_TILE_ATTRIBUTION",
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
)
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (4.65, -74.06),
    "DEFAULT_ZOOM": 12,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 19,
    "TILES": [("OpenStreetMap", CONVIVE_TILE_URL, {"attribution": CONVIVE_TILE_ATTRIBUTION})],
    "RESET_VIEW": False,
}
# Side of the public grid cell in metres: exact points are snapped to it before anyone sees them.
CONVIVE_PUBLIC_GRID_METRES = float(os.environ.get("CONVIVE_PUBLIC_GRID_METRES", "150"))

# --- Participation rules ----------------------------------------------------------------------

# Published counts below this are shown as "fewer than k". Never below 3 (enforced in cms.checks).
CONVIVE_SUPPRESSION_K = int(os.environ.get("CONVIVE_SUPPRESSION_K", "5"))
CONVIVE_PHOTO_MAX_BYTES = 10 * 1024 * 1024
CONVIVE_PHOTO_MAX_PIXELS = 40_000_000
# Submissions per client per window; the client is a keyed hash of its address, never stored raw.
CONVIVE_RATE_LIMIT = os.environ.get("CONVIVE_RATE_LIMIT", "20/3600")
CONVIVE_RATE_LIMIT_ENABLED = env_bool("CONVIVE_RATE_LIMIT_ENABLED", True)
# Prioritisation ballots per client address and window (many residents share one address).
CONVIVE_BALLOT_RATE_LIMIT = os.environ.get("CONVIVE_BALLOT_RATE_LIMIT", "30/3600")
# Behind a reverse proxy, the request header carrying the client address (e.g. X-Forwarded-For).
# Empty: use REMOTE_ADDR. Only set it when the proxy overwrites the header.
CONVIVE_TRUSTED_PROXY_HEADER = os.environ.get("CONVIVE_TRUSTED_PROXY_HEADER", "")
CONVIVE_MODERATOR_EMAILS = env_list("CONVIVE_MODERATOR_EMAILS")
# Feedback and complaints on commitments per client address and window.
CONVIVE_FEEDBACK_RATE_LIMIT = os.environ.get("CONVIVE_FEEDBACK_RATE_LIMIT", "10/3600")

# --- Accountability -----------------------------------------------------------------------------

# The ISO 4217 code of the municipality's currency: budgets are entered and shown in it, written
# the way each language writes money (cms.commitments.money).
CONVIVE_CURRENCY = os.environ.get("CONVIVE_CURRENCY", "COP")

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "convive@localhost")

LOGIN_URL = "wagtailadmin_login"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "convive": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    },
}

# Debian bookworm ships GDAL 3.6, which cannot block file/network access from spatial references.
# Convive only reads geometries as GeoJSON/WKB with SRID 4326 and never accepts user-supplied
# spatial reference definitions, so the warning does not apply.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# --- Open311 GeoReport v2 (diagnosis.open311, docs/open311.md) ------------------------------------
# Comma-separated API keys; empty: anyone may POST a service request (still moderated).
CONVIVE_OPEN311_API_KEYS = env_list("CONVIVE_OPEN311_API_KEYS")
# Service requests one client may POST per window ("N/seconds"), counted as for the concern form.
CONVIVE_OPEN311_RATE_LIMIT = os.environ.get("CONVIVE_OPEN311_RATE_LIMIT", "20/3600")
# Texts of the discovery document; empty: a generic, translated sentence.
CONVIVE_OPEN311_CONTACT = os.environ.get("CONVIVE_OPEN311_CONTACT", "")
CONVIVE_OPEN311_KEY_SERVICE = os.environ.get("CONVIVE_OPEN311_KEY_SERVICE", "")

# Open-data exports (docs/open-data.md): expired files are deleted every hour.
CELERY_BEAT_SCHEDULE["open-data-export-cleanup"] = {
    "task": "diagnosis.tasks.open_data_export_cleanup",
    "schedule": 3600.0,
}
# How long an export's file is kept (hours), new exports one client may ask for per window, and
# the licence written into every file and API response.
CONVIVE_OPEN_DATA_EXPORT_HOURS = float(os.environ.get("CONVIVE_OPEN_DATA_EXPORT_HOURS", "48"))
CONVIVE_OPEN_DATA_EXPORT_RATE_LIMIT = os.environ.get(
    "CONVIVE_OPEN_DATA_EXPORT_RATE_LIMIT", "10/3600"
)
CONVIVE_OPEN_DATA_LICENCE = os.environ.get("CONVIVE_OPEN_DATA_LICENCE", "CC BY 4.0")
CONVIVE_OPEN_DATA_LICENCE_URL = os.environ.get(
    "CONVIVE_OPEN_DATA_LICENCE_URL", "https://creativecommons.org/licenses/by/4.0/"
)

# Importing reports from another system's CSV (diagnosis.open311_csv, docs/open311-import.md).
CONVIVE_OPEN311_IMPORT_MAX_BYTES = int(
    os.environ.get("CONVIVE_OPEN311_IMPORT_MAX_BYTES", str(10 * 1024 * 1024))
)
CONVIVE_OPEN311_IMPORT_MAX_ROWS = int(os.environ.get("CONVIVE_OPEN311_IMPORT_MAX_ROWS", "20000"))
