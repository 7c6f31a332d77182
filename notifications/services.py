"""Writes of the outbox: enqueue a message in the caller's transaction, and deliver it.

Delivering is three steps so that no transaction stays open while a backend talks to the
outside: claim the row (`SELECT ... FOR UPDATE SKIP LOCKED`, due and still to deliver: status
`sending` and a lease), send, record the outcome. A worker that dies between the claim and the
record leaves the message `sending` until its lease runs out; the minute sweep then tries it
again, with the same key, which the SMS gateway recognises."""

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise

from notifications import backends
from notifications.backoff import retry_delay
from notifications.models import TO_DELIVER, Channel, Message, Status

log = logging.getLogger(__name__)

# How long a claimed message is left to its worker before another may take it: well above the
# longest a backend may take (the webhook's and SMTP's timeouts).
LEASE = timedelta(minutes=5)
# Messages one sweep delivers at most; the next minute's sweep takes the rest.
SWEEP_BATCH = 500


def message_enqueue(
    *,
    channel: str,
    key: str,
    body,
    subject="",
    context: Mapping | None = None,
    recipient=None,
    address: str | None = None,
    language: str | None = None,
    topic: str = "",
) -> Message:
    """Put a message in the outbox, in the caller's transaction: it exists, and is delivered,
    if and only if the step that causes it commits. `subject` and `body` are (lazy)
    translatable strings with `%(name)s` placeholders filled from `context`, rendered now in
    `language`, else the recipient's (`recipient.language` when the user model has one), else
    the site's. `address` defaults to the recipient's e-mail for e-mail. A message whose `key`
    is already in the outbox is not written again: the existing one is returned."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            "message_enqueue must run inside the transaction of the step it reports "
            "(transaction.atomic), so that a rolled-back step sends nothing"
        )
    existing = Message.objects.filter(key=key).first()
    if existing is not None:
        return existing
    if channel not in Channel.values:
        raise ValidationError({"channel": f"one of {', '.join(Channel.values)}"})
    if not key or len(key) > Message._meta.get_field("key").max_length:
        raise ValidationError({"key": "a key of 1 to 200 characters names the message"})
    language = _language(language, recipient)
    if address is None:
        address = (recipient.email if recipient is not None else "") if channel == "email" else ""
    if channel in (Channel.SMS, Channel.EMAIL) and not address:
        raise ValidationError({"address": f"a {channel} message needs an address"})
    for name, value in (("address", address), ("topic", topic)):
        if len(value) > Message._meta.get_field(name).max_length:
            raise ValidationError({name: f"at most {Message._meta.get_field(name).max_length}"})
    with translation.override(language):
        # Lazy values (a status label) are rendered by the % below, in this language too.
        values = dict(context or {})
        try:
            subject_text = _text(subject) % values if values else _text(subject)
            body_text = _text(body) % values if values else _text(body)
        except (KeyError, ValueError, TypeError) as error:
            raise ValidationError({"context": f"the text's placeholders: {error!r}"}) from error
    if not body_text.strip():
        raise ValidationError({"body": "a message says something"})
    message, created = Message.objects.get_or_create(
        key=key,
        defaults={
            "recipient": recipient,
            "address": address,
            "channel": channel,
            "language": language,
            "subject": subject_text[:200],
            "body": body_text,
            "topic": topic,
        },
    )
    if created:
        _defer(message)
    return message


def _language(language, recipient) -> str:
    known = dict(settings.LANGUAGES)
    for candidate in (language, getattr(recipient, "language", None), settings.LANGUAGE_CODE):
        try:
            variant = translation.get_supported_language_variant(candidate or "")
        except LookupError:
            continue  # a language the site does not speak: the next choice
        if variant in known:
            return variant
    return settings.LANGUAGE_CODE


def _text(value) -> str:
    return str(value) if isinstance(value, str | Promise) else ""


def _defer(message: Message, *, at: datetime | None = None) -> None:
    from notifications.tasks import message_deliver as task  # the task module imports this one

    # In this transaction rather than on_commit: procrastinate's Django connector writes the
    # job on this connection, so the job exists if and only if the message does. The minute
    # sweep (notifications.tasks.deliver_due_messages) still covers a job that was lost.
    (task.configure(schedule_at=at) if at is not None else task).defer(message_id=message.pk)


def message_deliver(*, message_id: int, now: datetime | None = None) -> Message | None:
    """Try to deliver one message, if it is due and no other worker holds it. Returns the
    message as this attempt left it, or None when there was nothing to do."""
    now = now or timezone.now()
    message = _claim(message_id, now)
    if message is None:
        return None
    try:
        backends.backend_for(message.channel).send(message)
    except backends.PermanentFailure as error:
        return _record_failure(message, error, now=now, permanent=True)
    except Exception as error:  # noqa: BLE001 - whatever a backend raised, a later try may pass
        return _record_failure(message, error, now=now, permanent=False)
    return _record_sent(message)


def _claim(message_id: int, now: datetime) -> Message | None:
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status__in=TO_DELIVER, next_attempt_at__lte=now)
            .first()
        )
        if message is None:
            return None
        message.status = Status.SENDING
        message.attempts += 1
        message.next_attempt_at = now + LEASE
        message.save(update_fields=["status", "attempts", "next_attempt_at"])
    return message


def _record_sent(message: Message) -> Message:
    with transaction.atomic():
        # Sent whatever else happened meanwhile: a second worker that took the message after
        # our lease ran out sent it under the same key, which the receiver kept once.
        Message.objects.filter(pk=message.pk).exclude(status=Status.SENT).update(
            status=Status.SENT, sent_at=timezone.now(), last_error=""
        )
    message.refresh_from_db()
    return message


def _record_failure(
    message: Message, error: Exception, *, now: datetime, permanent: bool
) -> Message:
    reason = (str(error) or repr(error))[:2000]
    with transaction.atomic():
        current = Message.objects.select_for_update().get(pk=message.pk)
        if current.status != Status.SENDING or current.attempts != message.attempts:
            return current  # another worker's later attempt owns the message now
        current.last_error = reason
        if permanent or current.attempts >= settings.WANGGE_NOTIFICATION_MAX_ATTEMPTS:
            current.status = Status.DEAD
            log.warning(
                "message %s is dead after %s attempts: %s", current.pk, current.attempts, reason
            )
        else:
            current.status = Status.FAILED
            current.next_attempt_at = now + retry_delay(
                current.attempts,
                base_s=settings.WANGGE_NOTIFICATION_RETRY_BASE_S,
                cap_s=settings.WANGGE_NOTIFICATION_RETRY_CAP_S,
            )
            _defer(current, at=current.next_attempt_at)
        current.save(update_fields=["status", "last_error", "next_attempt_at"])
    return current


def messages_deliver_due(*, now: datetime | None = None) -> list[int]:
    """Deliver every message whose attempt is due (a job lost or never deferred, a lease run
    out). Returns the ids of the messages it tried."""
    now = now or timezone.now()
    due = list(
        Message.objects.filter(status__in=TO_DELIVER, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    return [pk for pk in due if message_deliver(message_id=pk, now=now) is not None]


def messages_requeue(*, messages) -> int:
    """Give dead messages another round of attempts, now. Returns how many."""
    with transaction.atomic():
        dead = list(
            Message.objects.select_for_update().filter(
                pk__in=[m.pk for m in messages], status=Status.DEAD
            )
        )
        now = timezone.now()
        for message in dead:
            message.status = Status.PENDING
            message.attempts = 0
            message.next_attempt_at = now
            message.save(update_fields=["status", "attempts", "next_attempt_at"])
            _defer(message)
    return len(dead)
