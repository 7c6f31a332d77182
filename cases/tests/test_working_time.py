"""Deadlines on the Chinese working calendar (chinesecalendar 1.11.0 knows 2004-2026). Office
hours are the default 08:30-12:00 and 14:00-17:30 (seven hours a day) unless a test says
otherwise; every expected instant is worked out by hand in the comment beside it."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.working_time import (
    MAX_SPAN_DAYS,
    SHANGHAI,
    WorkingCalendar,
    package_is_workday,
    package_knows,
    parse_office_hours,
)

CAL = WorkingCalendar()


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


# The schedule, as the State Council published it and the package has it.


@pytest.mark.parametrize(
    ("day", "is_workday"),
    [
        (date(2026, 1, 1), False),  # New Year
        (date(2026, 1, 4), True),  # a Sunday made a working day
        (date(2026, 2, 13), True),
        (date(2026, 2, 14), True),  # Saturday, Spring Festival make-up day
        *[(date(2026, 2, d), False) for d in range(15, 24)],  # Spring Festival, 15-23
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday, make-up day
        (date(2026, 3, 1), False),
        (date(2026, 9, 20), True),  # Sunday, National Day make-up day
        (date(2026, 9, 25), False),  # Mid-autumn, a Friday
        *[(date(2026, 10, d), False) for d in range(1, 8)],  # National Day, 1-7
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, make-up day
        (date(2026, 10, 11), False),
    ],
)
def test_the_2026_schedule(day, is_workday):
    assert CAL.is_workday(day) is is_workday
    assert CAL.is_known(day)


# Spring Festival 2026.


def test_hours_run_over_the_make_up_saturday_and_skip_the_festival():
    # Fri 13th 16:00-17:30 (1.5 h), Sat 14th a full day (7 h): 8.5 h; 7.5 h left: Tue 24th
    # a full day (7 h), then 0.5 h on Wed 25th from 08:30.
    deadline = CAL.add_working_hours(at(2026, 2, 13, 16), 16)
    assert deadline.at == at(2026, 2, 25, 9)
    assert not deadline.estimated
    # 8 h: 1.5 on the 13th, 3.5 on the 14th's morning, 3 in its afternoon -> 17:00 Saturday.
    assert CAL.add_working_hours(at(2026, 2, 13, 16), 8).at == at(2026, 2, 14, 17)


def test_a_request_raised_on_the_first_day_of_the_festival_waits_for_the_24th():
    assert CAL.add_working_hours(at(2026, 2, 15, 10), 2).at == at(2026, 2, 24, 10, 30)


def test_days_count_the_make_up_saturday():
    # Thu 12th: not counted; 13th (1), Sat 14th (2), Tue 24th (3).
    assert CAL.add_working_days(at(2026, 2, 12, 10), 3).at == at(2026, 2, 24, 17, 30)
    # From the Saturday itself: the next working day is the 24th; then 25, 26, 27, Sat 28th.
    assert CAL.add_working_days(at(2026, 2, 14, 10), 1).at == at(2026, 2, 24, 17, 30)
    assert CAL.add_working_days(at(2026, 2, 14, 10), 5).at == at(2026, 2, 28, 17, 30)


def test_working_time_across_the_festival():
    # 13th 16:00-17:30 (1.5), 14th (7), 24th 08:30-10:00 (1.5).
    assert CAL.working_hours_between(at(2026, 2, 13, 16), at(2026, 2, 24, 10)).hours == 10
    assert CAL.working_hours_between(at(2026, 2, 15), at(2026, 2, 24)).hours == 0


# National Day 2026 (and Mid-autumn the week before).


def test_hours_skip_national_day():
    # Wed Sep 30 15:00-17:30 (2.5 h); Oct 1-7 off; Oct 8 08:30-12:00 (3.5) -> 1 h left: 15:00.
    assert CAL.add_working_hours(at(2026, 9, 30, 15), 7).at == at(2026, 10, 8, 15)


def test_days_around_national_day_and_mid_autumn():
    # Thu Sep 24: Fri 25th to Sun 27th off; Mon 28th (1), Tue 29th (2).
    assert CAL.add_working_days(at(2026, 9, 24, 9), 2).at == at(2026, 9, 29, 17, 30)
    # Raised on Saturday 19th: Sunday 20th is a working day.
    assert CAL.add_working_days(at(2026, 9, 19, 9), 1).at == at(2026, 9, 20, 17, 30)
    # Fri Oct 9: Saturday 10th is a working day, then Mon 12th.
    assert CAL.add_working_days(at(2026, 10, 9, 9), 1).at == at(2026, 10, 10, 17, 30)
    assert CAL.add_working_days(at(2026, 10, 9, 9), 2).at == at(2026, 10, 12, 17, 30)
    # Sep 30 + 1: the holiday week, then Thu Oct 8.
    assert CAL.add_working_days(at(2026, 9, 30, 9), 1).at == at(2026, 10, 8, 17, 30)


# A year the package does not know.


def test_a_deadline_in_2027_is_computed_on_weekdays_and_flagged():
    # Dec 31 16:00-17:30 (1.5); Jan 1 2027 is guessed a working day (a Friday): 3.5 in the
    # morning, 2 in the afternoon -> 16:00. Really New Year's Day: hence the flag.
    deadline = CAL.add_working_hours(at(2026, 12, 31, 16), 7)
    assert deadline.at == at(2027, 1, 1, 16)
    assert deadline.estimated
    assert deadline.unknown_years == {2027}
    assert not CAL.is_known(date(2027, 1, 1))
    assert CAL.add_working_days(at(2026, 12, 30, 9), 2).unknown_years == {2027}
    assert CAL.working_hours_between(at(2026, 12, 31), at(2027, 1, 5)).estimated


def test_a_deadline_that_stays_in_2026_is_not_flagged():
    deadline = CAL.add_working_hours(at(2026, 12, 30, 9), 7)
    assert deadline.at == at(2026, 12, 31, 9)
    assert not deadline.estimated
    assert not CAL.add_working_days(at(2026, 12, 29, 9), 2).estimated


def test_an_override_in_2027_wins_but_the_rest_of_the_year_stays_flagged():
    cal = WorkingCalendar(overrides={date(2027, 1, 1): False})
    deadline = cal.add_working_hours(at(2026, 12, 31, 16), 7)
    # Jan 1 off, Sat 2nd and Sun 3rd (guessed) off: Mon Jan 4th 16:00.
    assert deadline.at == at(2027, 1, 4, 16)
    assert deadline.estimated  # Jan 2-4 are still guesses


def test_once_the_2027_schedule_is_typed_in_nothing_is_flagged():
    schedule = {date(2027, 1, 1): False, date(2027, 1, 4): False}  # say Jan 1-4 off
    cal = WorkingCalendar(overrides=schedule, known_years={2027})
    deadline = cal.add_working_hours(at(2026, 12, 31, 16), 7)
    assert deadline.at == at(2027, 1, 5, 16)
    assert not deadline.estimated


def test_years_before_the_package_are_flagged_too():
    assert CAL.add_working_hours(at(2003, 6, 2, 9), 1).estimated


# Overrides.


def test_overrides_win_over_the_package():
    closed = WorkingCalendar(overrides={date(2026, 2, 24): False})  # a typhoon
    assert CAL.add_working_days(at(2026, 2, 12, 10), 3).at == at(2026, 2, 24, 17, 30)
    assert closed.add_working_days(at(2026, 2, 12, 10), 3).at == at(2026, 2, 25, 17, 30)
    opened = WorkingCalendar(overrides={date(2026, 3, 1): True})  # a Sunday
    assert opened.add_working_hours(at(2026, 2, 28, 17), 1).at == at(2026, 3, 1, 9)
    assert CAL.add_working_hours(at(2026, 2, 28, 17), 1).at == at(2026, 3, 2, 9)
    # A make-up day the county does not keep.
    assert not WorkingCalendar(overrides={date(2026, 2, 14): False}).is_workday(date(2026, 2, 14))


def test_overrides_are_dates_and_booleans():
    with pytest.raises(TypeError):
        WorkingCalendar(overrides={at(2026, 3, 1): True})
    with pytest.raises(TypeError):
        WorkingCalendar(overrides={date(2026, 3, 1): 1})


# Where the counting starts.


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        (at(2026, 3, 2, 20), at(2026, 3, 3, 9, 30)),  # Monday night -> Tuesday
        (at(2026, 3, 3, 2), at(2026, 3, 3, 9, 30)),  # small hours
        (at(2026, 3, 3, 7), at(2026, 3, 3, 9, 30)),  # before opening
        (at(2026, 3, 7, 10), at(2026, 3, 9, 9, 30)),  # Saturday -> Monday
        (at(2026, 3, 8, 23, 59), at(2026, 3, 9, 9, 30)),  # Sunday night
        (at(2026, 3, 2, 12, 30), at(2026, 3, 2, 15)),  # lunch
        (at(2026, 3, 2, 12), at(2026, 3, 2, 15)),  # at the lunch closing
        (at(2026, 3, 2, 11, 30), at(2026, 3, 2, 14, 30)),  # across lunch
        (at(2026, 3, 2, 17), at(2026, 3, 3, 9)),  # across the night
        (at(2026, 3, 6, 17), at(2026, 3, 9, 9)),  # across the weekend
    ],
)
def test_one_hour_from(start, deadline):
    assert CAL.add_working_hours(start, 1).at == deadline


def test_a_limit_running_out_at_a_closing_ends_there():
    assert CAL.add_working_hours(at(2026, 3, 2, 11), 1).at == at(2026, 3, 2, 12)
    assert CAL.add_working_hours(at(2026, 3, 2, 8, 30), 7).at == at(2026, 3, 2, 17, 30)


def test_zero_hours_is_the_start_of_the_clock():
    assert CAL.add_working_hours(at(2026, 3, 2, 10, 15), 0).at == at(2026, 3, 2, 10, 15)
    assert CAL.add_working_hours(at(2026, 3, 2, 12, 30), 0).at == at(2026, 3, 2, 14)
    assert CAL.add_working_hours(at(2026, 3, 2, 17, 30), 0).at == at(2026, 3, 3, 8, 30)
    assert CAL.clock_start(at(2026, 2, 15, 9)) == at(2026, 2, 24, 8, 30)


@pytest.mark.parametrize(
    ("hours", "deadline"),
    [
        (0.5, at(2026, 3, 2, 9)),
        (2.25, at(2026, 3, 2, 10, 45)),
        (timedelta(minutes=20), at(2026, 3, 2, 8, 50)),
        (1 / 3, at(2026, 3, 2, 8, 50)),
        (3.75, at(2026, 3, 2, 14, 15)),
    ],
)
def test_fractional_hours(hours, deadline):
    assert CAL.add_working_hours(at(2026, 3, 2, 8, 30), hours).at == deadline


def test_zero_working_days_is_the_close_of_the_current_working_day():
    assert CAL.add_working_days(at(2026, 3, 2, 10), 0).at == at(2026, 3, 2, 17, 30)
    assert CAL.add_working_days(at(2026, 3, 2, 18), 0).at == at(2026, 3, 3, 17, 30)
    assert CAL.add_working_days(at(2026, 3, 7, 10), 0).at == at(2026, 3, 9, 17, 30)


def test_the_day_of_the_start_is_not_counted_whatever_the_hour():
    for hour in (0, 8, 10, 17, 23):
        assert CAL.add_working_days(at(2026, 3, 2, hour), 1).at == at(2026, 3, 3, 17, 30)
    # Friday evening and Saturday alike: Monday.
    assert CAL.add_working_days(at(2026, 3, 6, 19), 1).at == at(2026, 3, 9, 17, 30)
    assert CAL.add_working_days(at(2026, 3, 7, 9), 1).at == at(2026, 3, 9, 17, 30)


# Long limits.


def test_a_year_of_working_days_lands_in_2027_and_is_flagged():
    deadline = CAL.add_working_days(at(2026, 1, 5, 9), 250)
    assert deadline.at.year == 2027
    assert deadline.unknown_years == {2027}
    # Jan 5 09:00-17:30 (not counted, 6.5 h), then 250 whole working days.
    assert CAL.working_hours_between(at(2026, 1, 5, 9), deadline.at).hours == 6.5 + 250 * 7


def test_very_long_hours_are_exact():
    start = at(2025, 1, 2, 9)
    deadline = CAL.add_working_hours(start, 7 * 240)  # about a working year
    assert CAL.working_hours_between(start, deadline.at).hours == 7 * 240
    assert deadline.at.year == 2025  # it has about 250 working days
    assert not deadline.estimated


def test_a_runaway_limit_is_an_error_not_a_hang():
    with pytest.raises(ValueError, match=str(MAX_SPAN_DAYS)):
        CAL.add_working_hours(at(2026, 3, 2, 9), 10_000_000)
    with pytest.raises(ValueError, match=str(MAX_SPAN_DAYS)):
        CAL.add_working_days(at(2026, 3, 2, 9), 1_000_000)


# Time zones.


def test_any_aware_instant_is_read_and_results_are_in_shanghai():
    start = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
    deadline = CAL.add_working_hours(start, 1)
    assert deadline.at == datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
    assert deadline.at.tzinfo == SHANGHAI
    assert deadline.at.hour == 9 and deadline.at.minute == 30
    # 21:00 on the day New York moves its clocks is 09:00 the next morning in Shanghai.
    new_york = datetime(2026, 3, 8, 21, tzinfo=ZoneInfo("America/New_York"))
    assert CAL.add_working_hours(new_york, 1).at == at(2026, 3, 9, 10)


def test_a_zone_with_daylight_saving_counts_real_hours():
    berlin = ZoneInfo("Europe/Berlin")
    # 2026-03-29, a Sunday made a working day here: clocks jump from 02:00 to 03:00.
    cal = WorkingCalendar(
        office_hours=((time(0), time(6)),), overrides={date(2026, 3, 29): True}, tz=berlin
    )
    day = cal.working_hours_between(
        datetime(2026, 3, 29, tzinfo=berlin), datetime(2026, 3, 29, 6, tzinfo=berlin)
    )
    assert day.hours == 5
    assert cal.add_working_hours(datetime(2026, 3, 29, tzinfo=berlin), 3).at.hour == 4


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="naive"):
        CAL.add_working_hours(datetime(2026, 3, 2, 9), 1)
    with pytest.raises(ValueError, match="naive"):
        CAL.working_hours_between(at(2026, 3, 2), datetime(2026, 3, 3))
    with pytest.raises(TypeError):
        CAL.add_working_days(date(2026, 3, 2), 1)


# Bad limits and office hours.


@pytest.mark.parametrize("hours", [-1, float("nan"), float("inf"), timedelta(hours=-1)])
def test_impossible_hours_are_refused(hours):
    with pytest.raises(ValueError):
        CAL.add_working_hours(at(2026, 3, 2), hours)


@pytest.mark.parametrize("hours", [True, "2", None])
def test_hours_are_numbers(hours):
    with pytest.raises(TypeError):
        CAL.add_working_hours(at(2026, 3, 2), hours)


@pytest.mark.parametrize("days", [1.5, True, "1"])
def test_days_are_whole_numbers(days):
    with pytest.raises(TypeError):
        CAL.add_working_days(at(2026, 3, 2), days)
    with pytest.raises(ValueError):
        CAL.add_working_days(at(2026, 3, 2), -1)


def test_office_hours_are_configurable():
    cal = WorkingCalendar(office_hours=parse_office_hours("09:00-17:00"))
    assert cal.add_working_hours(at(2026, 3, 2, 9), 8).at == at(2026, 3, 2, 17)
    assert cal.add_working_days(at(2026, 3, 2, 9), 1).at == at(2026, 3, 3, 17)
    assert parse_office_hours("08:30-12:00, 14:00-17:30") == CAL.office_hours


@pytest.mark.parametrize(
    "text", ["", "8-12", "12:00-08:30", "08:30-12:00,11:00-17:30", "14:00-17:30,08:30-12:00"]
)
def test_bad_office_hours_are_refused(text):
    with pytest.raises(ValueError):
        parse_office_hours(text)


# The yellow card's measure.


def test_share_of_the_limit_used():
    start = at(2026, 3, 2, 8, 30)
    deadline = CAL.add_working_hours(start, 7).at  # 17:30 the same day
    assert CAL.share_used(start, deadline, at(2026, 3, 2, 14)).used == 0.5
    assert CAL.share_used(start, deadline, at(2026, 3, 2, 13)).used == 0.5  # lunch stops it
    assert CAL.share_used(start, deadline, at(2026, 3, 3, 10)).used == 8.5 / 7
    assert CAL.share_used(start, start, start).used == 0
    assert CAL.share_used(start, start, at(2026, 3, 2, 9)).used == float("inf")


def test_the_yellow_card_instant():
    start = at(2026, 2, 13, 16)
    deadline = CAL.add_working_hours(start, 10).at  # 13th 1.5 h, 14th 7 h, 24th 1.5 h: 10:00
    assert deadline == at(2026, 2, 24, 10)
    # 80% = 8 h: 1.5 on the 13th, then 6.5 on the make-up Saturday: 17:00 on the 14th.
    warning = CAL.warning_at(start, deadline, 0.8)
    assert warning.at == at(2026, 2, 14, 17)
    assert not warning.estimated
    assert CAL.share_used(start, deadline, warning.at).used == pytest.approx(0.8)
    assert CAL.warning_at(start, deadline, 1).at == deadline
    assert CAL.warning_at(at(2026, 12, 31, 9), at(2027, 1, 4, 17, 30), 0.1).estimated
    for share in (-0.1, 1.5, float("nan"), "0.8"):
        with pytest.raises(ValueError):
            CAL.warning_at(start, deadline, share)


# Properties.

INSTANTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(SHANGHAI)
)
LIMITS = st.integers(min_value=0, max_value=400 * 3600 * 10**6).map(
    lambda us: timedelta(microseconds=us)
)
OVERRIDES = st.dictionaries(
    st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 6, 30)), st.booleans(), max_size=8
)


@settings(max_examples=300, deadline=None)
@given(start=INSTANTS, limit=LIMITS, overrides=OVERRIDES)
def test_working_time_to_the_deadline_is_the_limit(start, limit, overrides):
    cal = WorkingCalendar(overrides=overrides)
    deadline = cal.add_working_hours(start, limit)
    assert deadline.at >= start
    assert cal.working_hours_between(start, deadline.at).duration == limit
    assert cal.working_hours_between(deadline.at, start).duration == -limit


@settings(max_examples=300, deadline=None)
@given(start=INSTANTS, end=INSTANTS)
def test_the_deadline_of_the_working_time_is_the_end(start, end):
    used = CAL.working_hours_between(start, end).duration
    if used <= timedelta(0):
        return  # the end comes before the clock starts
    deadline = CAL.add_working_hours(start, used).at
    # The last office instant up to the end: the end itself when it is in office hours.
    assert deadline <= end
    assert CAL.working_hours_between(deadline, end).duration == timedelta(0)
    if _in_office(end):
        assert deadline == end


@settings(max_examples=200, deadline=None)
@given(a=INSTANTS, b=INSTANTS, c=INSTANTS)
def test_working_time_adds_up(a, b, c):
    ab = CAL.working_hours_between(a, b).duration
    bc = CAL.working_hours_between(b, c).duration
    assert ab + bc == CAL.working_hours_between(a, c).duration


@settings(max_examples=200, deadline=None)
@given(start=INSTANTS, first=LIMITS, second=LIMITS)
def test_deadlines_grow_with_the_limit_and_compose(start, first, second):
    one = CAL.add_working_hours(start, first).at
    both = CAL.add_working_hours(start, first + second).at
    assert one <= both
    if second > timedelta(0):
        assert CAL.add_working_hours(one, second).at == both


def _in_office(instant):
    local = instant.astimezone(SHANGHAI)
    return CAL.is_workday(local.date()) and any(
        opens < local.time() <= closes for opens, closes in CAL.office_hours
    )


def test_what_the_package_knows():
    assert package_is_workday(date(2026, 2, 14)) is True
    assert package_is_workday(date(2026, 2, 16)) is False
    assert package_is_workday(date(2027, 1, 1)) is None
    assert package_knows(2026) and not package_knows(2027) and not package_knows(2003)
