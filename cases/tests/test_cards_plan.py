"""The minute card sweep finds the open cases through the (status, due_at) index: at city scale
(bench/cases.py, a million cases of which a few percent are open) a scan of every case made it
several times slower than the same statement written by hand."""

import pytest
from django.db import connection
from django.utils import timezone

from cases import services

pytestmark = pytest.mark.django_db


def test_the_card_sweep_can_take_the_open_cases_from_the_status_index():
    with connection.cursor() as cursor:
        # On a small table the planner scans it whole; forbid that to see what it could use.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN " + services._CARDS_SQL,
            {"now": timezone.now(), "open": services.OPEN_STATUSES},
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "case_status_due" in plan and "Index Cond: ((status)::text = ANY" in plan, plan
