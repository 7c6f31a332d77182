from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """The outbox: messages written with the step that causes them, delivered by the task
    worker through pluggable backends (log, email, an SMS gateway's webhook)."""

    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from notifications import checks  # noqa: F401 - registers the backends' check
