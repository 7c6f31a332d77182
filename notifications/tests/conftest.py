import pytest

from notifications.tests.gateway import FakeSmsGateway

SECRET = "test-webhook-secret"


@pytest.fixture
def gateway(settings):
    """The fake SMS gateway, and the SMS channel delivered to it through the webhook."""
    with FakeSmsGateway(SECRET) as fake:
        settings.WANGGE_NOTIFICATION_BACKENDS = {
            **settings.WANGGE_NOTIFICATION_BACKENDS,
            "sms": "notifications.backends.WebhookSmsBackend",
        }
        settings.WANGGE_SMS_WEBHOOK_URL = fake.url
        settings.WANGGE_SMS_WEBHOOK_SECRET = SECRET
        yield fake
