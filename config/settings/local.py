from .base import *  # noqa: F403
from .base import env

# `make run` serves like production (gunicorn, whitenoise, JSON errors, no debug pages);
# `make dev` (runserver) turns debugging on.
DEBUG = env("WANGGE_DEBUG", "0") == "1"
