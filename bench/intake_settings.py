"""The production settings, plus the minimal peer endpoint the intake benchmark compares with."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
os.environ.setdefault("WANGGE_ID_HASH_KEY", "bench-only-id-key")
# Plain http on 127.0.0.1: no redirect to https, no HSTS, no secure-only cookies.
os.environ.setdefault("WANGGE_HTTPS", "0")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "0")

from config.settings.production import *  # noqa: E402, F403

ROOT_URLCONF = "bench.intake_urls"
MEDIA_ROOT = os.environ.get("WANGGE_BENCH_MEDIA", "/tmp/wangge-bench-media")
# Warnings (a 503 each during the crash round's outage) and 500s with their traceback go to
# gunicorn's stderr, which the crash round keeps when an answer was neither 2xx nor 503.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False}},
}
# The login page links static files; the benchmark does not run collectstatic.
STORAGES = STORAGES | {  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
}
