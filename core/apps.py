from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every app stands on: API plumbing (errors, parsers), operations (health, backup,
    the task queue's wiring) and, later, coordinates and geometry helpers."""

    name = "core"
    verbose_name = _("Core")
