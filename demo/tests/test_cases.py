"""The demo case generator: its calendar arithmetic is WorkingCalendar's, and what it writes is a
history the services could have written (checked from the rows, independently of the
generator: a broken walk fails here)."""

import datetime
import random
import re
from collections import Counter
from copy import copy
from datetime import UTC, timedelta

import pytest
from django.db import connection

from cases import flow, services
from cases.flow import CaseState, Status
from cases.models import Card, Case, CaseCounter, CaseEvent, Department
from cases.working_time import SHANGHAI, WorkingCalendar
from demo.cases import FastCalendar, _dt, _us, demo_cases_create
from demo.seeding import demo_seed
from demo.users import demo_users_create

NOW = datetime.datetime(2026, 11, 20, 9, 37, tzinfo=UTC)


def test_fast_calendar_is_the_working_calendar():
    # 2026's Spring Festival and National Day with their make-up days, and 2027 (unknown to the
    # package: estimated), plus an override (a typhoon closure).
    calendar = WorkingCalendar(overrides={datetime.date(2025, 7, 9): False})
    fast = FastCalendar(calendar, datetime.date(2024, 12, 1), datetime.date(2027, 6, 30))
    rng = random.Random(3)
    first = _us(datetime.datetime(2024, 12, 2, tzinfo=UTC))
    last = _us(datetime.datetime(2027, 1, 20, tzinfo=UTC))
    specials = [
        datetime.datetime(2026, 2, 13, 9, 30, tzinfo=SHANGHAI),  # before Spring Festival
        datetime.datetime(2026, 9, 30, 17, 30, tzinfo=SHANGHAI),  # a closing time
        datetime.datetime(2026, 9, 28, 12, 0, tzinfo=SHANGHAI),  # a make-up Sunday, noon
        datetime.datetime(2025, 7, 8, 16, 0, tzinfo=SHANGHAI),  # the day before the closure
        datetime.datetime(2026, 12, 30, 15, 0, tzinfo=SHANGHAI),  # into 2027
    ]
    instants = [_us(s) for s in specials] + [rng.randrange(first, last) for _ in range(300)]
    for us in instants:
        at = _dt(us)
        assert _dt(fast.clock_start(us)) == calendar.clock_start(at)
        for hours in (1, 4, 7):
            real = calendar.add_working_hours(at, hours)
            assert _dt(fast.add_hours(us, hours * 3_600_000_000)) == real.at
        for days in (0, 1, 5, 20):
            real = calendar.add_working_days(at, days)
            assert _dt(fast.add_days(us, days)) == real.at
            assert fast.estimated(us, _us(real.at)) == real.estimated
            start = calendar.clock_start(at)
            warning = calendar.warning_at(start, real.at, 0.8)
            assert _dt(fast.warning(us, _us(real.at), 0.8)) == warning.at


def _replay(case: Case, events: list[CaseEvent]) -> CaseState:
    """The state the events lead to, by the flow alone; asserts each step was legal."""
    first = events[0]
    assert (first.seq, first.action, first.from_status, first.to_status) == (
        1,
        "report",
        "",
        Status.REPORTED,
    )
    assert first.at == case.created_at
    state = CaseState()
    for before, event in zip(events, events[1:], strict=False):
        assert event.seq == before.seq + 1
        assert event.at > before.at, (case.number, event.seq)
        assert event.from_status == state.status
        state = flow.next_state(state, event.action)  # IllegalTransition if not a flow step
        assert event.to_status == state.status, (case.number, event.action)
    return state


@pytest.mark.django_db
def test_generated_cases_have_consistent_histories():
    demo_seed(seed=7, counts={"townships": 4, "villages": 16, "grids": 60, "microgrid_grids": 2})
    demo_users_create()
    figures = demo_cases_create(n=400, seed=5, now=NOW)
    cases = list(Case.objects.select_related("item").order_by("id"))
    assert figures["cases"] == len(cases) > 400  # and the showcase
    assert figures["events"] == CaseEvent.objects.count()
    events = {}
    for event in CaseEvent.objects.order_by("case_id", "seq"):
        events.setdefault(event.case_id, []).append(event)

    calendar = services.selectors.working_calendar()
    for case in cases:
        state = _replay(case, events[case.pk])
        history = events[case.pk]
        assert case.status == history[-1].to_status == state.status
        assert case.whistle == state.whistle
        assert (case.satisfaction is not None) == state.rated
        assert case.created_at <= NOW and history[-1].at <= NOW
        # The running step's clock, as the services would have set it.
        step = flow.STEP_OF_STATUS[Status(case.status)]
        if step is None:
            assert (case.step, case.due_at, case.yellow_at) == ("", None, None)
            continue
        started = next(
            e.at
            for e in reversed(history)
            if e.seq == 1 or flow.TRANSITIONS[flow.Action(e.action)].starts is not None
        )
        assert (case.step, case.step_started_at) == (step, started)
        expected = copy(case)
        services._start_step(expected, step, started)
        assert (case.due_at, case.yellow_at) == (expected.due_at, expected.yellow_at)
        assert case.estimated == expected.estimated
    assert calendar is not None

    # Where: each case lies in its grid, placed as territory_place places its point.
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM cases_case c, territory_place(c.point) p
                WHERE p.grid_id IS DISTINCT FROM c.grid_id
                   OR p.micro_grid_id IS DISTINCT FROM c.micro_grid_id
                   OR p.path IS DISTINCT FROM c.territory_path"""
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT count(*) FROM cases_case c JOIN territory_unit g ON g.id = c.grid_id "
            "WHERE NOT ST_Covers(g.boundary, c.point)"
        )
        assert cursor.fetchone()[0] == 0

    # Numbers: unique, the county, the local day of the report and the day's sequence, and
    # the counter continues after them.
    numbers = [c.number for c in cases]
    assert len(set(numbers)) == len(numbers)
    last = Counter()
    for case in cases:
        county, day, n = re.fullmatch(r"(\d{6})-(\d{8})-(\d{4})", case.number).groups()
        assert county == "411381"
        assert day == f"{case.created_at.astimezone(SHANGHAI):%Y%m%d}"
        last[day] = max(last[day], int(n))
    counters = {f"{c.day:%Y%m%d}": c.last for c in CaseCounter.objects.all()}
    assert all(counters[day] >= n for day, n in last.items())
    assert services._next_number("411381", NOW) not in set(numbers)

    # Cards: one per colour and step run, earned before the run ended.
    for card in Card.objects.all():
        assert card.at <= NOW
    assert Card.objects.filter(colour="red").exists()
    assert Card.objects.filter(colour="yellow", case__status__in=["dispatched", "accepted"])

    # What the demo logins meet: the grid worker's dispatched cases, the department's, the
    # resident's own requests, published cases in the officer's community.
    by_name = {c.assignee.username for c in Case.objects.filter(assignee__isnull=False)}
    assert "grid_worker" in by_name
    bureau = Department.objects.get(members__username="department")
    assert Case.objects.filter(department=bureau, status="dispatched").exists()
    mine = Case.objects.filter(reporter__username="resident", source="resident")
    assert {"reported", "dispatched", "verified", "published"} <= set(
        mine.values_list("status", flat=True)
    )
    assert mine.filter(satisfaction__isnull=False).exists()
    community = "411381001001"
    published = Case.objects.filter(status="published", territory_path__contains=community)
    assert published.count() >= 10
    assert Case.objects.filter(status="published", satisfaction__isnull=False).exists()
    # A second run adds nothing; the generator draws the same cases from the same seed.
    assert demo_cases_create(n=400, seed=5, now=NOW) == {}
    assert timedelta(0) < NOW - min(c.created_at for c in cases) <= timedelta(days=731)
