"""The backends come from the environment: every channel logs unless WANGGE_NOTIFICATION_BACKENDS
names another backend, and a malformed value stops the server with the reason."""

from core.tests.test_deploy import production_settings, run

WEBHOOK = "notifications.backends.WebhookSmsBackend"
LOG = "notifications.backends.LogBackend"


def test_every_channel_logs_by_default():
    got = production_settings("WANGGE_NOTIFICATION_BACKENDS", WANGGE_NOTIFICATION_BACKENDS="")
    assert got["WANGGE_NOTIFICATION_BACKENDS"] == {"sms": LOG, "email": LOG, "log": LOG}


def test_the_environment_names_a_backend_per_channel():
    got = production_settings(
        "WANGGE_NOTIFICATION_BACKENDS",
        "WANGGE_SMS_WEBHOOK_URL",
        WANGGE_NOTIFICATION_BACKENDS=f" sms = {WEBHOOK} ,email=notifications.backends.EmailBackend",
        WANGGE_SMS_WEBHOOK_URL="http://sms.example.gov.cn/send",
    )
    assert got["WANGGE_NOTIFICATION_BACKENDS"] == {
        "sms": WEBHOOK,
        "email": "notifications.backends.EmailBackend",
        "log": LOG,
    }
    assert got["WANGGE_SMS_WEBHOOK_URL"] == "http://sms.example.gov.cn/send"


def test_a_malformed_value_stops_with_the_reason():
    for value in ["fax=some.Backend", f"sms:{WEBHOOK}", "sms="]:
        done = run(["-c", "import django; django.setup()"], WANGGE_NOTIFICATION_BACKENDS=value)
        assert done.returncode != 0
        assert (
            "WANGGE_NOTIFICATION_BACKENDS" in done.stderr and "channel=dotted.path" in done.stderr
        )


def test_check_names_a_backend_that_cannot_be_loaded(settings):
    from notifications.checks import backends_load

    assert backends_load() == []
    settings.WANGGE_NOTIFICATION_BACKENDS = {"sms": "notifications.backends.NoSuch", "log": LOG}
    (problem,) = backends_load()
    assert problem.id == "notifications.E001" and "sms" in problem.msg
    settings.WANGGE_NOTIFICATION_BACKENDS = {"sms": WEBHOOK}
    settings.WANGGE_SMS_WEBHOOK_URL = ""
    assert [p.id for p in backends_load()] == ["notifications.W001"]
    settings.WANGGE_NOTIFICATION_BACKENDS = {"sms": "notifications.services.LEASE"}
    assert [p.id for p in backends_load()] == ["notifications.E002"]
