from django.apps import AppConfig


class PatrolsConfig(AppConfig):
    """Routes, GPS tracks, visits and incident pins (filled by the patrols issue)."""

    name = "patrols"
