from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo territory of Dengzhou and one login per role: installed only by the local and
    test settings, never in production."""

    name = "demo"
    verbose_name = "Demo"
