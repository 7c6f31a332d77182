"""Settings shared by every environment. Everything that differs between machines comes from
the environment (DATABASE_URL with the postgis:// scheme, WANGGE_* variables)."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


SECRET_KEY = env("DJANGO_SECRET_KEY", "insecure-dev-key-change-me")
DEBUG = False
ALLOWED_HOSTS = [h for h in env("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "axes",
    # The task queue: jobs in PostgreSQL tables, a worker process beside the web server.
    "procrastinate.contrib.django",
    "core",
    "accounts",
    "territory.apps.TerritoryConfig",
    "microgrids",
    "patrols",
    "notifications",
    "cases",
    "open311",
    "command",
    "basemap",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.RequestDeadlineMiddleware",
    "core.middleware.NulCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.ServiceUnavailableMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as axes asks: turns a lockout flagged during the request into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "territory.context_processors.navigation",
                "territory.context_processors.basemap",
            ]
        },
    }
]


def database_url() -> str:
    """DATABASE_URL, or the embedded cluster that scripts/db.sh made for this checkout."""
    url = env("DATABASE_URL")
    if url is not None:
        if not url.strip():
            raise ImproperlyConfigured(
                "DATABASE_URL is set but empty: unset it to use the embedded database "
                "(make run starts it), or set it to postgis://user:password@host:port/db."
            )
        return url
    port, password = BASE_DIR / "var" / "pgport", BASE_DIR / "var" / "db-password"
    if not (port.exists() and password.exists()):
        raise ImproperlyConfigured(
            "DATABASE_URL is not set and this checkout has no embedded database yet: run "
            "`make run` (or scripts/db.sh start), or set DATABASE_URL=postgis://user:pass@host:port/db."
        )
    return (
        f"postgis://wangge:{password.read_text().strip()}@127.0.0.1:"
        f"{port.read_text().strip()}/wangge"
    )


DATABASES = {"default": dj_database_url.parse(database_url(), conn_max_age=60)}
DATABASES["default"]["ENGINE"] = "django.contrib.gis.db.backends.postgis"
# A database that does not answer is an error within seconds, not a hung worker.
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = int(
    env("WANGGE_DB_CONNECT_TIMEOUT", "5")
)
# The web server sets these (config/gunicorn.py) below its request timeout, so that a locked
# table answers a clear 503 instead of a worker killed mid-request. Workers, migrations and
# commands run without them: a batch job or a city-scale seed may rightly take minutes.
_server_options = [
    f"-c {name}={int(env(var))}"
    for name, var in (
        ("statement_timeout", "WANGGE_STATEMENT_TIMEOUT_MS"),
        ("lock_timeout", "WANGGE_LOCK_TIMEOUT_MS"),
    )
    if env(var)
]
if _server_options:
    DATABASES["default"]["OPTIONS"]["options"] = " ".join(_server_options)
# Django binds its own queries on the client and never prepares them; psycopg prepares only
# the statements the code marks `prepare=True` (the incident intake), whose planning costs
# more than running them. Django turns this off by default for connection poolers: behind
# PgBouncer older than 1.21 in transaction mode, set DATABASE_PREPARED_STATEMENTS=0.
DATABASES["default"]["OPTIONS"]["prepare_threshold"] = (
    1_000_000 if env("DATABASE_PREPARED_STATEMENTS", "1") == "1" else None
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # each role's own page (territory.roles.home_for)
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Login throttling (django-axes): every password check goes through AxesStandaloneBackend.
# An account is locked after WANGGE_LOGIN_FAILURE_LIMIT failures from any address, an address
# after WANGGE_LOGIN_ADDRESS_FAILURE_LIMIT failures over any accounts (higher: an office shares
# one NAT address), for WANGGE_LOGIN_COOLOFF_MINUTES after the last counted failure. Attempts
# while locked are not counted, so the owner's retries do not prolong it. Failures and lockouts
# are logged (logger "axes") and listed in the admin; `manage.py axes_reset_username NAME`
# unlocks an account at once.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "core.authentication.AccountAndAddressHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(env("WANGGE_LOGIN_FAILURE_LIMIT", "5"))
WANGGE_LOGIN_ADDRESS_FAILURE_LIMIT = int(env("WANGGE_LOGIN_ADDRESS_FAILURE_LIMIT", "30"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("WANGGE_LOGIN_COOLOFF_MINUTES", "15")))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "core.authentication.lockout_response"
# The log names the account and the address (what an operator looks for); axes always masks
# the password.
AXES_SENSITIVE_PARAMETERS = []
# HTTP Basic auth on the API, for machine clients only (people log in with the form).
WANGGE_API_BASIC_AUTH = env("WANGGE_API_BASIC_AUTH", "0") == "1"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Listed before the apps' static folders, so the npm-vendored Leaflet in static/vendor/leaflet
# is the one django-leaflet's admin widgets load.
STATICFILES_DIRS = [BASE_DIR / "static", ("leaflet", BASE_DIR / "static" / "vendor" / "leaflet")]
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Session first: without credentials the API answers 403 (no Basic challenge, so a
        # browser never pops a password dialog); failed Basic credentials answer 401.
        "rest_framework.authentication.SessionAuthentication",
        "core.authentication.ApiBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    # DRF's three, with a JSON parser that refuses absurdly nested bodies (400, not a 500).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Wangge API",
    "DESCRIPTION": "Grid governance: territory, grids, micro-grids and households.",
    "VERSION": "0.1.0",
    # Swagger UI from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Fields named alike with other choices elsewhere (an incident's status) get their own name.
    "ENUM_NAME_OVERRIDES": {"CaseStatusEnum": "cases.flow.Status"},
    # Every operation's error answers, and GeoJSON pages as they are sent (core/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.document_answers",
    ],
}

# Basemap tiles: empty means "no basemap" (the boundaries alone), which always works offline.
# Point it at an intranet tile server, e.g. http://tiles.example.gov/{z}/{x}/{y}.png
WANGGE_BASEMAP_URL = env("WANGGE_BASEMAP_URL", "")
WANGGE_BASEMAP_ATTRIBUTION = env("WANGGE_BASEMAP_ATTRIBUTION", "")
# CRS the basemap tiles are drawn in (gcj02 for AMap/Tencent-style tiles, wgs84 otherwise):
# the map page converts geometries to it so boundaries sit on the right street.
WANGGE_BASEMAP_CRS = env("WANGGE_BASEMAP_CRS", "wgs84")
# An offline tile package (.mbtiles or .pmtiles of vector tiles, WGS84 web-Mercator grid) that
# the server reads itself and serves at /tiles/{z}/{x}/{y}.mvt in place of its own tiles.
WANGGE_BASEMAP_FILE = env("WANGGE_BASEMAP_FILE", "")

LEAFLET_CONFIG = {
    "TILES": [("basemap", WANGGE_BASEMAP_URL, {"attribution": WANGGE_BASEMAP_ATTRIBUTION})]
    if WANGGE_BASEMAP_URL
    else [],
    "DEFAULT_CENTER": (32.68, 112.09),
    "DEFAULT_ZOOM": 9,
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
}


def _basemap_origin(url):
    """Where the basemap tiles come from, as a CSP source ({s} subdomains become *)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}" if parts.netloc else None


# Content-Security-Policy (django-csp): every page loads only from this server, and no inline
# script runs, so a name or address that slips through as markup still cannot run. NONCE is
# added to the header only on responses that render it: the admin's django-leaflet widgets
# start from inline <script nonce=...>; our own pages never ask for it (tests/test_xss.py).
# Swagger UI runs its start-up script from a URL of its own (SpectacularSwaggerSplitView).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"]
        + [o for o in [_basemap_origin(WANGGE_BASEMAP_URL)] if o],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Key of the HMAC that replaces household ID numbers (see docs/privacy.md). Changing it makes
# stored hashes unmatchable, so production must set it once and keep it.
WANGGE_ID_HASH_KEY = env("WANGGE_ID_HASH_KEY", "dev-only-id-hash-key")

# Areas below this are rounding noise of coordinate precision, not gaps or overlaps.
WANGGE_TOPOLOGY_TOLERANCE_M2 = float(env("WANGGE_TOPOLOGY_TOLERANCE_M2", "0.01"))
# How much of an imported or edited unit may lie outside its parent (coordinate noise of
# converted files), and how many units one topology check over the API may cover.
WANGGE_CONTAINMENT_TOLERANCE_M2 = float(env("WANGGE_CONTAINMENT_TOLERANCE_M2", "1"))
WANGGE_TOPOLOGY_MAX_UNITS = int(env("WANGGE_TOPOLOGY_MAX_UNITS", "5000"))
WANGGE_MAX_UPLOAD_BYTES = int(env("WANGGE_MAX_UPLOAD_BYTES", str(50 * 1024 * 1024)))
# `manage.py backup` writes its dated archives here; pg_dump/pg_restore come from
# /usr/lib/postgresql/<server major>/bin unless WANGGE_PG_BIN names another directory.
WANGGE_BACKUP_DIR = Path(env("WANGGE_BACKUP_DIR", str(BASE_DIR / "var" / "backups")))
WANGGE_PG_BIN = env("WANGGE_PG_BIN", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("WANGGE_LOG_LEVEL", "WARNING")},
    # What the log backend "sends" must show at the default level.
    "loggers": {"notifications.backends": {"level": "INFO"}},
}

# Debian 12's GDAL 3.6 cannot sandbox file access; boundary files are read by pyogrio's own GDAL.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
# The task queue (procrastinate): jobs live in PostgreSQL next to the data and are deferred in
# the transaction of the rows they work on; `manage.py procrastinate worker` runs them. Tasks
# are the `tasks` module of each app. A worker beats every 10 s; one silent for 30 s counts as
# dead: its running jobs are retried or failed by core.tasks.sweep_stalled_jobs, and /healthz
# says "stale".
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "tasks"
PROCRASTINATE_WORKER_DEFAULTS = {"update_heartbeat_interval": 10.0, "stalled_worker_timeout": 30.0}

# Requests are stopped after this many seconds with a 503 (0: never). The web server sets it
# below its own worker timeout (config/gunicorn.py).
WANGGE_REQUEST_TIMEOUT_S = float(env("WANGGE_REQUEST_TIMEOUT_S", "0"))

# Notifications (notifications/, docs/operations.md): which backend delivers each channel, as
# "channel=dotted.path" pairs separated by commas; every channel logs by default, so nothing
# leaves a development server. Each message is tried WANGGE_NOTIFICATION_MAX_ATTEMPTS times,
# the waits doubling from WANGGE_NOTIFICATION_RETRY_BASE_S up to WANGGE_NOTIFICATION_RETRY_CAP_S.
_LOG_BACKEND = "notifications.backends.LogBackend"
WANGGE_NOTIFICATION_BACKENDS = {"sms": _LOG_BACKEND, "email": _LOG_BACKEND, "log": _LOG_BACKEND}
for _pair in filter(None, env("WANGGE_NOTIFICATION_BACKENDS", "").split(",")):
    _channel, _sep, _path = (part.strip() for part in _pair.partition("="))
    if not (_sep and _channel in WANGGE_NOTIFICATION_BACKENDS and _path):
        raise ImproperlyConfigured(
            f"WANGGE_NOTIFICATION_BACKENDS: {_pair!r} is not channel=dotted.path with a channel "
            f"of {', '.join(WANGGE_NOTIFICATION_BACKENDS)}"
        )
    WANGGE_NOTIFICATION_BACKENDS[_channel] = _path
WANGGE_NOTIFICATION_MAX_ATTEMPTS = int(env("WANGGE_NOTIFICATION_MAX_ATTEMPTS", "12"))
WANGGE_NOTIFICATION_RETRY_BASE_S = float(env("WANGGE_NOTIFICATION_RETRY_BASE_S", "30"))
WANGGE_NOTIFICATION_RETRY_CAP_S = float(env("WANGGE_NOTIFICATION_RETRY_CAP_S", "3600"))
# The SMS gateway's webhook (notifications.backends.WebhookSmsBackend) and the secret its
# signature header is computed with.
WANGGE_SMS_WEBHOOK_URL = env("WANGGE_SMS_WEBHOOK_URL", "")
WANGGE_SMS_WEBHOOK_SECRET = env("WANGGE_SMS_WEBHOOK_SECRET", "")
WANGGE_SMS_WEBHOOK_TIMEOUT_S = float(env("WANGGE_SMS_WEBHOOK_TIMEOUT_S", "10"))
# E-mail (notifications.backends.EmailBackend): Django's SMTP settings, with a timeout, so a
# mail server that does not answer holds a worker seconds, not forever.
EMAIL_HOST = env("WANGGE_EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("WANGGE_EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("WANGGE_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env("WANGGE_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env("WANGGE_EMAIL_TLS", "0") == "1"
EMAIL_TIMEOUT = float(env("WANGGE_EMAIL_TIMEOUT_S", "30"))
DEFAULT_FROM_EMAIL = env("WANGGE_EMAIL_FROM", "wangge@localhost")

# Open311 GeoReport v2 (docs/open311.md): what its discovery document tells client developers.
WANGGE_OPEN311_CONTACT = env("WANGGE_OPEN311_CONTACT", "")
WANGGE_OPEN311_KEY_SERVICE = env(
    "WANGGE_OPEN311_KEY_SERVICE", "api keys are issued by the county's social-governance centre"
)
