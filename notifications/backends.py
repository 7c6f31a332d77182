"""How a message leaves the server, one backend per channel, named by the setting
WANGGE_NOTIFICATION_BACKENDS (channel -> dotted path; docs/operations.md).

A backend's `send(message)` returns when the other side has the message, raises
`PermanentFailure` when it never will (a refused number: the message is dead at once) and
anything else when it may on a later attempt. Every attempt of one message carries the same
`message.key`, so a receiver that keeps keys (the SMS gateway) never delivers it twice."""

import hashlib
import hmac
import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class PermanentFailure(Exception):
    """The receiver refused the message for good: trying again would give the same answer."""


class TemporaryFailure(Exception):
    """The receiver could not take the message now (down, busy, no answer)."""


class LogBackend:
    """Writes the message to the log (logger `notifications.backends`) and counts it sent:
    the default for every channel, so a development server needs no gateway."""

    def send(self, message) -> None:
        log.info(
            "notification %s via %s to %s [%s] %s: %s",
            message.key,
            message.channel,
            message.masked_address or "-",
            message.language,
            message.subject,
            message.body,
        )


class EmailBackend:
    """Django's mail (EMAIL_HOST and friends). SMTP keeps no idempotency key: a crash between
    the server's acceptance and our record can send an e-mail twice, so the Message-ID is
    derived from the key and a mail client shows the two as one."""

    def send(self, message) -> None:
        import smtplib

        if not message.address:
            raise PermanentFailure("no e-mail address")
        digest = hashlib.sha256(message.key.encode()).hexdigest()[:32]
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "wangge.invalid"
        mail = EmailMessage(
            subject=message.subject,
            body=message.body,
            to=[message.address],
            headers={"Message-ID": f"<{digest}@{domain}>", "X-Wangge-Key": message.key},
        )
        try:
            mail.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as error:
            raise PermanentFailure(f"the mail server refused the address: {error}") from error


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would become a GET somewhere else: treat it as the gateway's answer.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# No proxy from the environment either: the gateway is on the county's network, and a
# forgotten http_proxy must not carry phone numbers elsewhere.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 under the shared secret of the timestamp, a
    dot and the body (the gateway refuses a body or a timestamp that was changed)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookSmsBackend:
    """POSTs {to, text, key} as JSON to WANGGE_SMS_WEBHOOK_URL, the county's SMS gateway, with
    the headers `Idempotency-Key` (the message's key), `X-Wangge-Timestamp` (Unix seconds) and
    `X-Wangge-Signature` (`sign`). 2xx: sent; 409: the gateway already has this key, sent;
    408/429 and 5xx, a timeout or a dropped connection: try again; any other answer: dead."""

    def send(self, message) -> None:
        url = settings.WANGGE_SMS_WEBHOOK_URL
        if not url:
            # Not the message's fault: it is delivered once the gateway is configured.
            raise TemporaryFailure("WANGGE_SMS_WEBHOOK_URL is not set")
        if not settings.WANGGE_SMS_WEBHOOK_SECRET:
            raise TemporaryFailure("WANGGE_SMS_WEBHOOK_SECRET is not set")
        if not message.address:
            raise PermanentFailure("no phone number")
        body = json.dumps(
            {"to": message.address, "text": message.body, "key": message.key},
            ensure_ascii=False,
        ).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Idempotency-Key": message.key,
                "X-Wangge-Timestamp": timestamp,
                "X-Wangge-Signature": sign(settings.WANGGE_SMS_WEBHOOK_SECRET, timestamp, body),
            },
        )
        try:
            with _opener.open(request, timeout=settings.WANGGE_SMS_WEBHOOK_TIMEOUT_S) as answer:
                answer.read()
        except urllib.error.HTTPError as error:
            status, reason = error.code, _excerpt(error)
            if status == 409:
                return
            if status in (408, 429) or status >= 500:
                raise TemporaryFailure(f"the gateway answered {status}: {reason}") from error
            raise PermanentFailure(f"the gateway answered {status}: {reason}") from error
        except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as e:
            raise TemporaryFailure(f"no answer from the gateway: {e!r}") from e


def _excerpt(error: urllib.error.HTTPError) -> str:
    try:
        return error.read(300).decode("utf-8", "replace").strip() or str(error.reason)
    except OSError:
        return str(error.reason)


def backend_for(channel: str):
    """The backend configured for `channel` (ImproperlyConfigured when none is)."""
    path = settings.WANGGE_NOTIFICATION_BACKENDS.get(channel)
    if not path:
        raise ImproperlyConfigured(f"WANGGE_NOTIFICATION_BACKENDS has no backend for {channel!r}")
    return _load(path)()


@cache
def _load(path: str):
    return import_string(path)
