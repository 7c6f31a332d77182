"""Reads of the outbox. The outbox knows no territory: the caller shows a topic's messages only
to whoever may see what the topic names (a case's history to those who may see the case), and
shows their addresses masked (`Message.masked_address`)."""

from django.db.models import QuerySet

from notifications.models import Message


def messages_for_topic(*, topic: str) -> QuerySet[Message]:
    """The messages about `topic` ("case:123"), oldest first, with their recipients."""
    return (
        Message.objects.filter(topic=topic).select_related("recipient").order_by("created_at", "pk")
    )
