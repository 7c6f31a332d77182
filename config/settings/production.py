"""Deployment settings. HTTPS is assumed (WANGGE_HTTPS=1, the default) and `manage.py check
--deploy` passes without a warning. A county intranet that serves plain HTTP sets WANGGE_HTTPS=0,
which turns off the redirect, HSTS and secure cookies together (check --deploy then warns, as it
should); each can also be set on its own with the DJANGO_SECURE_* variables below."""

from .base import *  # noqa: F403
from .base import env


def flag(name: str, default: bool) -> bool:
    return env(name, "1" if default else "0") == "1"


DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
WANGGE_ID_HASH_KEY = env("WANGGE_ID_HASH_KEY")
if not SECRET_KEY or not WANGGE_ID_HASH_KEY:
    raise RuntimeError("production needs DJANGO_SECRET_KEY and WANGGE_ID_HASH_KEY")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

HTTPS = flag("WANGGE_HTTPS", True)
SECURE_SSL_REDIRECT = flag("DJANGO_SECURE_SSL_REDIRECT", HTTPS)
SESSION_COOKIE_SECURE = flag("DJANGO_SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# One year, the span browsers and check --deploy expect. Start lower (e.g. 3600) on a first
# deployment: a browser that saw the header refuses plain HTTP to this host until it expires.
SECURE_HSTS_SECONDS = int(env("DJANGO_SECURE_HSTS_SECONDS", str(365 * 24 * 3600) if HTTPS else "0"))
# Covers the names under this host only (not its siblings on the county's domain).
SECURE_HSTS_INCLUDE_SUBDOMAINS = flag("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
# Browsers' preload lists hold public names only; an intranet host can never be on them, so the
# header does not ask (DJANGO_SECURE_HSTS_PRELOAD=1 for a public host that applies).
SECURE_HSTS_PRELOAD = flag("DJANGO_SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W021"]  # noqa: F405

# Behind a reverse proxy (nginx terminating TLS): WANGGE_BEHIND_PROXY=1 trusts the proxy's
# X-Forwarded-Proto for "is this HTTPS", and the X-Forwarded-For hop it appended (the
# WANGGE_PROXY_COUNT-th from the right, 1 by default) for the client's address, which login
# throttling counts by (without it every client would share the proxy's address). Set it only
# when the proxy sets X-Forwarded-Proto itself and appends to X-Forwarded-For (nginx:
# proxy_set_header X-Forwarded-Proto $scheme; X-Forwarded-For $proxy_add_x_forwarded_for).
if flag("WANGGE_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    WANGGE_PROXY_COUNT = int(env("WANGGE_PROXY_COUNT", "1"))
    AXES_CLIENT_IP_CALLABLE = "core.authentication.client_address_behind_proxy"
