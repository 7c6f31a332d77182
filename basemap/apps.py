from django.apps import AppConfig


class BasemapConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "basemap"
    verbose_name = "Basemap"

    def ready(self):
        from . import checks  # noqa: F401  (registers the tile package check)
