"""Notification jobs run by the task worker (`manage.py procrastinate worker`). Each message
has a job deferred with it (and one per retry, at its next attempt); the minute sweep delivers
whatever is due and still undelivered, so a job lost, never deferred, or whose worker died
mid-send still delivers its message, once."""

from procrastinate.contrib.django import app

from core.tasks import with_fresh_connection
from notifications import services


# A job whose worker died is retried by core.tasks.sweep_stalled_jobs: harmless, a message is
# claimed under a row lock and only while due, and a second send carries the same key.
@app.task(queue="notifications")
def message_deliver(*, message_id: int) -> str | None:
    message = with_fresh_connection(lambda: services.message_deliver(message_id=message_id))
    return message.status if message is not None else None


@app.periodic(cron="* * * * *")
@app.task(queue="notifications", queueing_lock="notifications.deliver_due_messages")
def deliver_due_messages(timestamp: int) -> list[int]:
    """Every minute: deliver the messages whose attempt is due. Returns their ids."""
    return with_fresh_connection(services.messages_deliver_due)
