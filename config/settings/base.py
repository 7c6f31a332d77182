"""Settings shared by every environment. Everything that differs between machines comes from
the environment (DATABASE_URL with the postgis:// scheme, WANGGE_* variables)."""

import os
from pathlib import Path

import dj_database_url
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
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "accounts",
    "gis.apps.TerritoryConfig",
    "patrols",
    "cases",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
                "gis.context_processors.navigation",
                "gis.context_processors.basemap",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", "postgis://wangge@127.0.0.1:54329/wangge"), conn_max_age=60
    )
}
DATABASES["default"]["ENGINE"] = "django.contrib.gis.db.backends.postgis"
# Django binds its own queries on the client and never prepares them; psycopg prepares only
# the statements the code marks `prepare=True` (the incident intake), whose planning costs
# more than running them. Django turns this off by default for connection poolers: behind
# PgBouncer older than 1.21 in transaction mode, set DATABASE_PREPARED_STATEMENTS=0.
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
    1_000_000 if env("DATABASE_PREPARED_STATEMENTS", "1") == "1" else None
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "map"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

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
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "gis.api.errors.exception_handler",
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
}

# Basemap tiles: empty means "no basemap" (the boundaries alone), which always works offline.
# Point it at an intranet tile server, e.g. http://tiles.example.gov/{z}/{x}/{y}.png
WANGGE_BASEMAP_URL = env("WANGGE_BASEMAP_URL", "")
WANGGE_BASEMAP_ATTRIBUTION = env("WANGGE_BASEMAP_ATTRIBUTION", "")
# CRS the basemap tiles are drawn in (gcj02 for AMap/Tencent-style tiles, wgs84 otherwise):
# the map page converts geometries to it so boundaries sit on the right street.
WANGGE_BASEMAP_CRS = env("WANGGE_BASEMAP_CRS", "wgs84")

LEAFLET_CONFIG = {
    "TILES": [("basemap", WANGGE_BASEMAP_URL, {"attribution": WANGGE_BASEMAP_ATTRIBUTION})]
    if WANGGE_BASEMAP_URL
    else [],
    "DEFAULT_CENTER": (32.68, 112.09),
    "DEFAULT_ZOOM": 9,
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
}

# Key of the HMAC that replaces household ID numbers (see docs/privacy.md). Changing it makes
# stored hashes unmatchable, so production must set it once and keep it.
WANGGE_ID_HASH_KEY = env("WANGGE_ID_HASH_KEY", "dev-only-id-hash-key")

# Areas below this are rounding noise of coordinate precision, not gaps or overlaps.
WANGGE_TOPOLOGY_TOLERANCE_M2 = float(env("WANGGE_TOPOLOGY_TOLERANCE_M2", "0.01"))
WANGGE_MAX_UPLOAD_BYTES = int(env("WANGGE_MAX_UPLOAD_BYTES", str(50 * 1024 * 1024)))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("WANGGE_LOG_LEVEL", "WARNING")},
}

# Debian 12's GDAL 3.6 cannot sandbox file access; boundary files are read by pyogrio's own GDAL.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
# Batch jobs run in a background thread; inline (in the request) when true.
WANGGE_JOBS_INLINE = env("WANGGE_JOBS_INLINE", "0") == "1"
