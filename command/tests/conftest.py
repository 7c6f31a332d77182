"""A quarter of recorded work (Q3 2026) on the shared small territory, with figures worked out
by hand in test_rankings.py."""

import datetime

import pytest

from cases import services
from cases.models import StepLimit
from cases.working_time import SHANGHAI
from patrols.models import Visit

A1A = (112.02, 32.62)  # grid 411381001001001, micro-grid ...01
A1B = (112.07, 32.65)  # grid 411381001001002
B1A = (112.15, 32.65)  # grid 411381101201001, township 411381101
G1, G2, GB = "411381001001001", "411381001001002", "411381101201001"
Q3 = (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30))


def at(month: int, day: int, hh: int, mm: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hh, mm, tzinfo=SHANGHAI)


def report(t, now, *, where, who, item="0102"):
    return services.case_report(user=t.users[who], item=item, lon=where[0], lat=where[1], now=now)


def act(t, who, case, action, now, **fields):
    case.refresh_from_db()
    return services.case_act(
        user=t.users[who],
        case=case,
        action=action,
        expected_version=case.version,
        now=now,
        **fields,
    )


@pytest.fixture
def quarter(territory):
    """September 2026.

    G1: the commander reports (item 0201, handle limit 1 working hour) Tue 1st 10:00; the
    officer dispatches it to the grid worker 10:30; they accept 11:00 (due 12:00: the sweep at
    12:00 gives them a yellow and a red card) and handle 14:00 (late); the officer sends it
    back 14:30; they handle it again 15:00 (on time); verified 16:00 (closed late).
    G2: two requests of the resident, handled by the volunteer: Wed 2nd on time, rated 4; Thu
    3rd handled, sent back, handled again, verified, rated 2.
    GB: the commander reports Tue 1st 10:00 and rejects it 10:30.
    Visits: the grid worker visits A1a-south once and A1a-north twice (both in G1).
    """
    t = territory
    StepLimit.objects.filter(terms__item__code="0201", step="handle").update(amount=1, unit="hours")
    worker, volunteer = t.users["grid_worker"].pk, t.users["volunteer"].pk

    one = report(t, at(9, 1, 10), where=A1A, who="commander", item="0201")
    act(t, "village_officer", one, "dispatch", at(9, 1, 10, 30), assignee=worker)
    act(t, "grid_worker", one, "accept", at(9, 1, 11))
    assert len(services.cards_record(now=at(9, 1, 12))) == 2
    act(t, "grid_worker", one, "handle", at(9, 1, 14), note="已办")
    act(t, "village_officer", one, "rework", at(9, 1, 14, 30), reason="不彻底")
    act(t, "grid_worker", one, "handle", at(9, 1, 15), note="办好了")
    act(t, "village_officer", one, "verify", at(9, 1, 16))

    gb = report(t, at(9, 1, 10), where=B1A, who="commander")
    act(t, "commander", gb, "reject", at(9, 1, 10, 30), reason="不属于受理范围")

    two = report(t, at(9, 2, 9), where=A1B, who="resident")
    act(t, "village_officer", two, "dispatch", at(9, 2, 9, 30), assignee=volunteer)
    act(t, "volunteer", two, "accept", at(9, 2, 10))
    act(t, "volunteer", two, "handle", at(9, 2, 11), note="已办")
    act(t, "village_officer", two, "verify", at(9, 2, 12))
    act(t, "resident", two, "rate", at(9, 2, 13), rating=4)

    three = report(t, at(9, 3, 9), where=A1B, who="resident")
    act(t, "village_officer", three, "dispatch", at(9, 3, 9, 30), assignee=volunteer)
    act(t, "volunteer", three, "accept", at(9, 3, 10))
    act(t, "volunteer", three, "handle", at(9, 3, 11), note="已办")
    act(t, "village_officer", three, "rework", at(9, 3, 11, 30), reason="没办好")
    act(t, "volunteer", three, "handle", at(9, 3, 14), note="再办")
    act(t, "village_officer", three, "verify", at(9, 3, 15))
    act(t, "resident", three, "rate", at(9, 3, 16), rating=2)

    h = t.households
    for key, day in (("A1a-south", 2), ("A1a-north", 2), ("A1a-north", 9)):
        Visit.objects.create(
            household=h[key],
            worker=t.users["grid_worker"],
            visited_at=at(9, day, 10),
            source="check_in",
        )
    return t
