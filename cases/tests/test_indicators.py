"""The indicators' definitions without a database: the period and its checks, the presets, the
rates and averages from the additive sums, the per-day working-time table against
WorkingCalendar (across Spring Festival 2026 with its make-up days, a day off of the admin's
table, instants outside office hours), and the files."""

import csv
import datetime
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from cases import indicators
from cases.indicators import Counts, IndicatorError, Period
from cases.working_time import SHANGHAI, WorkingCalendar


def at(y, m, d, hh=0, mm=0):
    return datetime.datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def test_a_period_is_whole_local_days():
    p = indicators.period("2026-12-01", "2026-12-07")
    assert p.days == 7
    lo, hi = p.instants()
    assert lo == at(2026, 12, 1) and hi == at(2026, 12, 8)
    assert lo.tzinfo == datetime.UTC


@pytest.mark.parametrize(
    "start, end, where",
    [
        ("2026-12-08", "2026-12-01", "end"),
        ("2026-02-30", "2026-03-01", "start"),
        ("2026-12-1", "2026-12-02", "start"),
        ("", "2026-12-02", "start"),
        (None, None, "start"),
        ("2025-01-01", "2026-02-05", "end"),
        (datetime.datetime(2026, 1, 1), "2026-01-02", "start"),
    ],
)
def test_bad_periods_are_refused(start, end, where):
    with pytest.raises(IndicatorError) as refused:
        indicators.period(start, end)
    assert refused.value.status == 400
    assert where in {p.where for p in refused.value.problems}


def test_the_longest_period():
    start = date(2026, 1, 1)
    assert indicators.period(start, start + timedelta(days=399)).days == 400
    with pytest.raises(IndicatorError):
        indicators.period(start, start + timedelta(days=400))


def test_the_presets():
    wednesday = date(2026, 12, 2)
    assert indicators.this_week(wednesday) == Period(date(2026, 11, 30), date(2026, 12, 6))
    assert indicators.last_week(wednesday) == Period(date(2026, 11, 23), date(2026, 11, 29))
    assert indicators.this_quarter(wednesday) == Period(date(2026, 10, 1), date(2026, 12, 31))
    assert indicators.this_quarter(date(2026, 2, 14)) == Period(date(2026, 1, 1), date(2026, 3, 31))
    sunday = date(2026, 12, 6)
    assert indicators.this_week(sunday).start == date(2026, 11, 30)


def test_rates_and_averages_come_from_the_sums():
    c = Counts(
        handled=4,
        handled_on_time=3,
        closed=2,
        closed_on_time=2,
        handling_seconds=4 * 3600 * 2.5,
        rated=3,
        rating_sum=13,
    )
    r = indicators.row(unit_code="411381", unit_name="邓州市", level="county", counts=c)
    assert r.on_time_handling_rate == 0.75 and r.on_time_closing_rate == 1.0
    assert r.avg_handling_hours == 2.5
    assert r.satisfaction_avg == pytest.approx(13 / 3) and r.satisfaction_count == 3
    empty = indicators.row(unit_code="x", unit_name="x", level="", counts=Counts())
    # Nothing to rate is no rate: neither 0% nor 100%.
    assert (empty.on_time_handling_rate, empty.on_time_closing_rate) == (None, None)
    assert (empty.avg_handling_hours, empty.satisfaction_avg) == (None, None)


def test_a_units_sums_are_its_childrens_added():
    a = Counts(reported=2, handled=1, handled_on_time=1, handling_seconds=3600.0)
    b = Counts(reported=3, handled=1, handling_seconds=7200.0)
    whole = indicators.total([a, b])
    assert (whole.reported, whole.handled, whole.handled_on_time) == (5, 2, 1)
    r = indicators.row(unit_code="u", unit_name="u", level="", counts=whole)
    # The average of the unit weighs each handling, not each child.
    assert r.avg_handling_hours == 1.5 and r.on_time_handling_rate == 0.5


CALENDAR = WorkingCalendar(overrides={date(2026, 3, 3): False})
INSTANTS = [
    at(2026, 2, 10, 7),  # before opening
    at(2026, 2, 13, 12, 30),  # lunch, the Friday before Spring Festival
    at(2026, 2, 14, 10),  # Saturday 14 February: a make-up working day
    at(2026, 2, 17, 10),  # Spring Festival
    at(2026, 2, 24, 16, 45),
    at(2026, 2, 28, 9),  # Saturday 28 February: a make-up working day
    at(2026, 3, 3, 11),  # a day off of the admin's table
    at(2026, 3, 4, 17, 30),  # closing time
    at(2026, 3, 4, 23, 59),
]


@pytest.mark.parametrize("i", range(len(INSTANTS)))
def test_the_table_gives_the_calendars_working_hours(i):
    table = indicators.working_table(CALENDAR, date(2026, 1, 1), date(2026, 3, 31))
    a = INSTANTS[i]
    for b in INSTANTS[i:]:
        expected = CALENDAR.working_hours_between(a, b).hours
        assert table.hours_between(a, b) == pytest.approx(expected, abs=1e-9), (a, b)


def test_the_table_across_spring_festival_by_hand():
    table = indicators.working_table(CALENDAR, date(2026, 1, 1), date(2026, 3, 31))
    # Friday 13 Feb 16:00 to Saturday 14 Feb (a make-up day) 10:00: 1.5 + 1.5 hours.
    assert table.hours_between(at(2026, 2, 13, 16), at(2026, 2, 14, 10)) == 3.0
    # Saturday 14 Feb 17:00 to Tuesday 24 Feb 9:00: the holiday (15-23 Feb) counts nothing.
    assert table.hours_between(at(2026, 2, 14, 17), at(2026, 2, 24, 9)) == 1.0


def test_instants_beyond_the_table_count_from_its_edges():
    table = indicators.working_table(CALENDAR, date(2026, 3, 2), date(2026, 3, 6))
    assert table.seconds_at(at(2026, 1, 5, 10)) == 0
    # Monday 2 March + Wednesday to Friday (Tuesday is off): 4 days of 7 hours.
    assert table.seconds_at(at(2026, 3, 20, 10)) == 4 * 7 * 3600


def test_table_for_reaches_back_before_the_period():
    table = indicators.table_for(CALENDAR, Period(date(2026, 10, 1), date(2026, 12, 31)))
    assert table.first == date(2026, 10, 1) - timedelta(days=indicators.HOURS_LOOKBACK_DAYS)
    assert table.last == date(2026, 12, 31)


ROWS = [
    indicators.row(
        unit_code="411381",
        unit_name="邓州市",
        level="county",
        counts=Counts(reported=5, handled=2, handled_on_time=1, handling_seconds=9000.0),
    ),
    indicators.row(
        unit_code="411381001", unit_name="=HYPERLINK()", level="township", counts=Counts()
    ),
]


def test_the_csv_has_a_bom_and_reads_back():
    data = indicators.to_csv(ROWS)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Code", "Territory", "Reported"]
    assert rows[1][:3] == ["411381", "邓州市", "5"]
    header = rows[0]
    assert rows[1][header.index("On-time handling rate")] == "50.0%"
    assert rows[1][header.index("Average handling time (working hours)")] == "1.2"
    assert rows[2][header.index("On-time handling rate")] == ""
    # A name that looks like a formula stays text in a spreadsheet.
    assert rows[2][1] == "'=HYPERLINK()"


def test_the_workbook_has_its_title_header_and_formats():
    sheet = load_workbook(io.BytesIO(indicators.to_xlsx(ROWS, heading="标题"))).active
    assert sheet["A1"].value == "标题" and sheet["A1"].font.bold
    assert [c.value for c in sheet[2]] == [str(c.label) for c in indicators.COLUMNS]
    assert all(c.font.bold for c in sheet[2]) and sheet.freeze_panes == "C3"
    formats = {
        c.name: sheet.cell(row=3, column=j).number_format
        for j, c in enumerate(indicators.COLUMNS, 1)
    }
    assert formats["reported"] == "0" and formats["on_time_handling_rate"] == "0.0%"
    assert formats["avg_handling_hours"] == "0.0" and formats["satisfaction_avg"] == "0.00"
    assert sheet["B4"].value == "=HYPERLINK()" and sheet["B4"].data_type == "s"
    assert indicators.filename("411381", Period(date(2026, 12, 1), date(2026, 12, 7)), "xlsx") == (
        "indicators_411381_20261201-20261207.xlsx"
    )
