"""`manage.py check` (and every server start) says at once when a configured backend cannot be
loaded, rather than each message failing at its first attempt."""

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string


@checks.register()
def backends_load(app_configs=None, **kwargs):
    problems = []
    for channel, path in settings.WANGGE_NOTIFICATION_BACKENDS.items():
        try:
            backend = import_string(path)
        except ImportError as error:
            problems.append(
                checks.Error(
                    f"WANGGE_NOTIFICATION_BACKENDS: the {channel} backend {path!r} cannot be "
                    f"loaded: {error}",
                    id="notifications.E001",
                )
            )
            continue
        if not callable(getattr(backend, "send", None)):
            problems.append(
                checks.Error(
                    f"WANGGE_NOTIFICATION_BACKENDS: {path!r} has no send(message) method",
                    id="notifications.E002",
                )
            )
        if path.endswith("WebhookSmsBackend") and not (
            settings.WANGGE_SMS_WEBHOOK_URL and settings.WANGGE_SMS_WEBHOOK_SECRET
        ):
            problems.append(
                checks.Warning(
                    "the SMS webhook backend needs WANGGE_SMS_WEBHOOK_URL and "
                    "WANGGE_SMS_WEBHOOK_SECRET: until they are set, text messages wait",
                    id="notifications.W001",
                )
            )
    return problems
