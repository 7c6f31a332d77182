"""The outbox. A message is a row written in the transaction of the step that causes it, with
its text already rendered in the recipient's language; the task worker delivers it and records
each attempt on the row, so the row alone says what happened to it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.addresses import mask_address


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    LOG = "log", _("Log")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")  # not tried yet
    SENDING = "sending", _("Sending")  # claimed by a worker until next_attempt_at (its lease)
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")  # an attempt failed; the next one is due at next_attempt_at
    DEAD = "dead", _("Dead")  # given up: refused for good, or its last attempt failed


# The statuses a worker may still deliver, once next_attempt_at has come.
TO_DELIVER = (Status.PENDING, Status.FAILED, Status.SENDING)


class Message(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    # Personal data: a phone number or an e-mail address, shown masked everywhere.
    address = models.CharField(_("address"), max_length=254, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=16)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    # The caller's name for this message ("case:123:event:456:user:7:sms"): enqueuing it again is
    # a no-op, and the SMS gateway gets it as Idempotency-Key, so a retry is never a second text.
    key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    # What the message is about, in the caller's words ("case:123"), to find its messages.
    topic = models.CharField(_("topic"), max_length=100, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The minute sweep's question: which messages still to deliver are due.
            models.Index(
                fields=["next_attempt_at"],
                name="notifications_message_due",
                condition=Q(status__in=["pending", "failed", "sending"]),
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False)
                | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="notifications_message_sent_at_iff_sent",
            ),
        ]
        permissions = [("requeue_message", _("Can re-queue dead messages"))]

    def __str__(self):
        return f"{self.channel} {self.key}"

    @property
    def masked_address(self) -> str:
        return mask_address(self.address)
