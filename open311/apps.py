from django.apps import AppConfig


class Open311Config(AppConfig):
    """Open311 GeoReport v2 at /open311/v2/ (docs/open311.md): a layer above `cases`."""

    name = "open311"
    verbose_name = "Open311"
