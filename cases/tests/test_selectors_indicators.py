"""The indicators of cases.selectors.case_indicators, on cases walked through the services with
explicit instants, so every event and card is a real one, checked against figures worked out by
hand: on time and late, a rework, a case handled across a weekend and a day off of the admin's
table, a decline and a second dispatch, a rejection, an escalation; scoped to the asking user
(404 outside), and a number of queries that does not grow with the cases or the units."""

import datetime
from datetime import date

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from cases import selectors, services
from cases.indicators import IndicatorError
from cases.models import Department, StepLimit, WorkingDayOverride
from cases.working_time import SHANGHAI

pytestmark = pytest.mark.django_db

A1B = (112.07, 32.65)  # grid 411381001001002, township 411381001
B1A = (112.15, 32.65)  # township 411381101
WEEK = (date(2026, 11, 30), date(2026, 12, 6))
NEXT_WEEK = (date(2026, 12, 7), date(2026, 12, 13))
BOTH = (WEEK[0], NEXT_WEEK[1])


def at(day: int, hh: int, mm: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 12, day, hh, mm, tzinfo=SHANGHAI)


def report(territory, now, item="0102", where=A1B, who="resident"):
    return services.case_report(
        user=territory.users[who], item=item, lon=where[0], lat=where[1], now=now
    )


def act(territory, who, case, action, now, **fields):
    case.refresh_from_db()
    return services.case_act(
        user=territory.users[who],
        case=case,
        action=action,
        expected_version=case.version,
        now=now,
        **fields,
    )


@pytest.fixture
def story(territory):
    """Four cases over two weeks of December 2026 (Monday the 7th a day off: a typhoon).

    1. item 0102, Tue 1st: reported 10:00, dispatched 10:30, declined 10:40, dispatched again
       10:45, accepted 11:00, handled 15:00 (3 working hours after the report), verified
       16:00, rated 4 at 16:30. On time throughout.
    2. item 0201 with a handle limit of 1 working hour, Fri 4th: reported 16:00, dispatched
       16:10, accepted 16:20 (due 17:20; the sweep at 17:20 gives a yellow and a red card),
       handled Tue 8th 09:30 (late; 1.5 h Friday + Saturday, Sunday, the day off + 1 h
       Tuesday = 2.5 working hours), sent back for rework 10:00 (due 11:00; the sweep at 10:59
       gives a yellow card), handled again 11:00 (on time; 4 working hours after the report),
       verified 11:30 (closed late: a red card), rated 2 at 12:00.
    3. Township B, Tue 1st: reported 10:00, rejected 10:30: not registered.
    4. Tue 8th: reported 11:00, escalated 12:00: registered, not dispatched.
    """
    WorkingDayOverride.objects.create(date=date(2026, 12, 7), is_workday=False, note="台风")
    StepLimit.objects.filter(terms__item__code="0201", step="handle").update(amount=1, unit="hours")
    volunteer = territory.users["volunteer"].pk
    one = report(territory, at(1, 10))
    act(territory, "village_officer", one, "dispatch", at(1, 10, 30), assignee=volunteer)
    act(territory, "volunteer", one, "decline", at(1, 10, 40), reason="不在家")
    act(territory, "village_officer", one, "dispatch", at(1, 10, 45), assignee=volunteer)
    act(territory, "volunteer", one, "accept", at(1, 11))
    act(territory, "volunteer", one, "handle", at(1, 15), note="已办")
    act(territory, "village_officer", one, "verify", at(1, 16))
    act(territory, "resident", one, "rate", at(1, 16, 30), rating=4)

    two = report(territory, at(4, 16), item="0201")
    act(territory, "village_officer", two, "dispatch", at(4, 16, 10), assignee=volunteer)
    act(territory, "volunteer", two, "accept", at(4, 16, 20))
    two.refresh_from_db()
    assert two.due_at == at(4, 17, 20)
    assert len(services.cards_record(now=at(4, 17, 20))) == 2  # yellow and red, case 2 only
    act(territory, "volunteer", two, "handle", at(8, 9, 30), note="已清理")
    act(territory, "village_officer", two, "rework", at(8, 10), reason="没清干净")
    assert len(services.cards_record(now=at(8, 10, 59))) == 1  # the yellow card of the rerun
    act(territory, "volunteer", two, "handle", at(8, 11), note="清干净了")
    act(territory, "village_officer", two, "verify", at(8, 11, 30))
    act(territory, "resident", two, "rate", at(8, 12), rating=2)

    three = report(territory, at(1, 10), where=B1A, who="commander")
    act(territory, "commander", three, "reject", at(1, 10, 30), reason="不属于受理范围")

    bureau = Department.objects.create(code="411381-cgj", name="城管局", county_code="411381")
    four = report(territory, at(8, 11))
    act(
        territory,
        "township_commander",
        four,
        "escalate",
        at(8, 12),
        department=bureau.code,
        reason="需要部门",
    )
    return territory


def indicators(territory, who="commander", unit="411381", period=BOTH, by_child=False):
    return selectors.case_indicators(
        user=territory.users[who],
        unit_code=unit,
        start=period[0],
        end=period[1],
        by_child=by_child,
    )


def test_each_indicator_on_the_worked_example(story):
    [county] = indicators(story)
    assert county.unit_code == "411381" and county.level == "county"
    assert (county.reported, county.registered, county.dispatched) == (4, 3, 3)
    assert (county.handled, county.handled_on_time) == (3, 2)
    assert county.on_time_handling_rate == pytest.approx(2 / 3)
    assert (county.closed, county.closed_on_time, county.on_time_closing_rate) == (2, 1, 0.5)
    assert (county.overdue, county.yellow, county.rework) == (1, 2, 1)
    # (3 + 2.5 + 4) working hours over three handlings, across the weekend and the day off.
    assert county.avg_handling_hours == pytest.approx(9.5 / 3)
    assert (county.satisfaction_avg, county.satisfaction_count) == (3.0, 2)


def test_the_weeks_add_up_to_the_fortnight(story):
    [first] = indicators(story, period=WEEK)
    [second] = indicators(story, period=NEXT_WEEK)
    assert (first.reported, first.registered, first.dispatched, first.handled) == (3, 2, 3, 1)
    assert (first.closed, first.overdue, first.yellow, first.satisfaction_count) == (1, 1, 1, 1)
    assert first.avg_handling_hours == pytest.approx(3.0)
    assert (second.reported, second.registered, second.handled, second.handled_on_time) == (
        1,
        1,
        2,
        1,
    )
    assert (second.closed, second.closed_on_time, second.rework, second.yellow) == (1, 0, 1, 1)
    assert second.avg_handling_hours == pytest.approx(3.25)
    assert second.satisfaction_avg == 2.0


def test_by_child_gives_the_unit_and_each_child(story):
    county, *townships = indicators(story, by_child=True)
    assert county.reported == 4
    assert [t.unit_code for t in townships] == ["411381001", "411381101"]
    assert [t.reported for t in townships] == [3, 1]
    assert [t.registered for t in townships] == [3, 0]
    assert townships[0].unit_name == story.units["411381001"].name
    assert townships[1].on_time_handling_rate is None  # nothing handled: no rate, not 0%
    township, *villages = indicators(
        story, who="township_commander", unit="411381001", by_child=True
    )
    assert township.handled == 3 and [v.unit_code for v in villages] == ["411381001001"]
    assert villages[0].avg_handling_hours == pytest.approx(9.5 / 3)


def test_the_default_unit_is_the_users_own(story):
    [own] = selectors.case_indicators(
        user=story.users["village_officer"], unit_code=None, start=BOTH[0], end=BOTH[1]
    )
    assert (own.unit_code, own.reported) == ("411381001001", 3)


@pytest.mark.parametrize(
    "who, unit",
    [
        ("township_commander", "411381"),
        ("township_commander", "411381101"),
        ("village_officer", "411381001"),
        ("grid_worker", "411381001001001"),
        ("resident", "411381001001002"),
        ("department_staff", "411381"),
    ],
)
def test_a_unit_outside_ones_reach_is_404(story, who, unit):
    with pytest.raises(Http404):
        indicators(story, who=who, unit=unit)


@pytest.mark.parametrize(
    "unit, start, end",
    [
        ("4113x1", "2026-12-01", "2026-12-02"),
        ("999999", "2026-12-01", "2026-12-02"),
        ("411381", "2026-12-31", "2026-12-01"),
        ("411381", "2026-12-01", "2028-02-01"),
        ("411381", "2026-13-01", "2026-12-02"),
        ("411381", "", "2026-12-02"),
    ],
)
def test_bad_parameters_are_refused(story, unit, start, end):
    with pytest.raises(IndicatorError):
        selectors.case_indicators(
            user=story.users["commander"], unit_code=unit, start=start, end=end
        )


def test_the_number_of_queries_does_not_grow_with_cases_or_units(story):
    def queries(**kwargs):
        with CaptureQueriesContext(connection) as captured:
            indicators(story, **kwargs)
        return len(captured)

    few = queries(by_child=True)
    for hour in range(9, 12):
        report(story, at(9, hour))
        report(story, at(9, hour), where=B1A, who="commander")
    assert queries(by_child=True) == few
    assert queries(by_child=False) <= few
    assert queries(by_child=True, unit="411381001") == few
