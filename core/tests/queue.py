"""Helpers for tests that run the real task worker on the test database.

The worker works on its own connections, so these tests are transactional
(`django_db(transaction=True)`): it sees only what was committed. procrastinate's tables are
not Django-managed, so the flush at the end of such a test leaves them alone: `queue` empties
them before and after."""

import json

import pytest
from django.core.management import call_command
from django.db import connection

QUEUE_TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)


def clear_queue() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(QUEUE_TABLES)} CASCADE")


@pytest.fixture
def queue(transactional_db):
    clear_queue()
    yield
    clear_queue()


def run_worker() -> None:
    """The command `make run` starts, until the queue is empty."""
    call_command("procrastinate", "worker", "--one-shot")


def queued_jobs(task_name: str | None = None) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, task_name, args, status, attempts, worker_id FROM procrastinate_jobs"
            " WHERE %s::text IS NULL OR task_name = %s ORDER BY id",
            [task_name, task_name],
        )
        columns = [c.name for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:  # Django reads jsonb as text and leaves decoding to its JSONField
        row["args"] = json.loads(row["args"])
    return rows


def simulate_dead_worker(job_id: int, *, silent_for: str = "1 hour", attempts: int = 0) -> int:
    """Make the job look as if a worker took it and then died: a worker row whose last
    heartbeat is `silent_for` old holds it in `doing`, after `attempts` earlier tries.
    Returns the worker's id."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - %s::interval)"
            " RETURNING id",
            [silent_for],
        )
        (worker_id,) = cursor.fetchone()
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s, attempts = %s"
            " WHERE id = %s",
            [worker_id, attempts, job_id],
        )
    return worker_id
