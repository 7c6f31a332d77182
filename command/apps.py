from django.apps import AppConfig


class CommandConfig(AppConfig):
    """The command screen (一张屏): density, hot spots, cards, rankings and star ratings over the
    recorded cases, incidents and patrols of one's territory. It reads every app below it and
    no app reads it."""

    name = "command"
