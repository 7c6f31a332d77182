from .base import *  # noqa: F403
from .base import env

# `make run` serves like production (gunicorn, whitenoise, JSON errors, no debug pages);
# `make dev` (runserver) turns debugging on.
DEBUG = env("WANGGE_DEBUG", "0") == "1"

# The demo territory and its logins (`manage.py seed_demo`, `create_demo_users`): here and in
# the test settings only, never in production.
INSTALLED_APPS += ["demo"]  # noqa: F405
