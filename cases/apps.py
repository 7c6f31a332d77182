from django.apps import AppConfig


class CasesConfig(AppConfig):
    """The six-order case flow (filled by the cases issue)."""

    name = "cases"
