"""The production settings, plus the minimal peer endpoint the intake benchmark compares with."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
os.environ.setdefault("WANGGE_ID_HASH_KEY", "bench-only-id-key")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "0")  # plain http on 127.0.0.1

from config.settings.production import *  # noqa: E402, F403

ROOT_URLCONF = "bench.intake_urls"
MEDIA_ROOT = os.environ.get("WANGGE_BENCH_MEDIA", "/tmp/wangge-bench-media")
LOGGING = {"version": 1, "disable_existing_loggers": False}
# The login page links static files; the benchmark does not run collectstatic.
STORAGES = STORAGES | {  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
}
