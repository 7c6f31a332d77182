"""Reads of the outbox. The outbox knows no territory: the caller shows a topic's messages only
to whoever may see what the topic names (a case's history to those who may see the case), and
shows their addresses masked (`Message.masked_address`)."""

from django.db.models import Q, QuerySet

from notifications.models import Message


def messages_for_topic(*, topic: str) -> QuerySet[Message]:
    """The messages about `topic` ("case:123"), oldest first, with their recipients."""
    return (
        Message.objects.filter(topic=topic).select_related("recipient").order_by("created_at", "pk")
    )


# The apps whose topics the outbox carries say who may read them: `topic_scope_register("case",
# fn)` with `fn(user) -> QuerySet of topics` (a subquery: a county's millions of cases are never
# loaded). Registered in their AppConfig.ready(), since the outbox may not import them.
_TOPIC_SCOPES: dict = {}


def topic_scope_register(prefix: str, scope) -> None:
    _TOPIC_SCOPES[prefix] = scope


def messages_for_user(*, user) -> QuerySet[Message]:
    """The outbox as `user` may read it (the admin's list): everything for a superuser; for
    other staff the messages sent to themselves and those about topics they may see (a case's
    messages to whoever may see the case). A topic no app vouches for is a superuser's alone."""
    if not user.is_active:
        return Message.objects.none()
    if user.is_superuser:
        return Message.objects.all()
    seen = Q(recipient=user)
    for prefix, scope in _TOPIC_SCOPES.items():
        seen |= Q(topic__startswith=f"{prefix}:", topic__in=scope(user))
    return Message.objects.filter(seen)
