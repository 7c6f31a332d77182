from .base import *  # noqa: F403

INSTALLED_APPS += ["demo"]  # noqa: F405  (dev and test only, like config.settings.local)

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WANGGE_ID_HASH_KEY = "test-id-hash-key"
LANGUAGE_CODE = "en"
# The live server's request threads must not keep connections open past their request, or the
# test database cannot be dropped at the end of the run.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# The test databases are thrown away: they alone may trade durability for speed (per session;
# the cluster itself keeps fsync and synchronous commits for the real data).
_options = DATABASES["default"]["OPTIONS"]  # noqa: F405
_options["options"] = (_options.get("options", "") + " -c synchronous_commit=off").strip()
