from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
WANGGE_ID_HASH_KEY = env("WANGGE_ID_HASH_KEY")
if not SECRET_KEY or not WANGGE_ID_HASH_KEY:
    raise RuntimeError("production needs DJANGO_SECRET_KEY and WANGGE_ID_HASH_KEY")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
SESSION_COOKIE_SECURE = env("DJANGO_SECURE_COOKIES", "1") == "1"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
