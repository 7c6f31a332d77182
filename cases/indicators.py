"""The case indicators of a territory over a period (pure: no database, no clock), for the weekly
report: what each one means, how the rates are formed, the shape of a row, the working-time
table the query computes hours with, and the xlsx and CSV files. The query itself is
cases.selectors.case_indicators (one SQL statement per call).

The period is a span of whole local days (Asia/Shanghai), `start` to `end` inclusive: from
`start` 00:00 to the day after `end` 00:00. Every indicator counts what was RECORDED in that
span (cases.models.CaseEvent by its `at`, cases.models.Card by its `at`), so the weeks of a
quarter add up to the quarter. A case belongs to the territory where it happened
(Case.territory_path, fixed when it was raised: a later re-division never moves old cases).

- reported (上报): cases raised in the period (their `report` event).
- registered (受理): cases taken into the flow in the period: their first action after the
  report was a dispatch (派单) or an escalation (吹哨), not a rejection, cancellation,
  withdrawal or merge. Every action legal on a reported case changes its status
  (cases.flow), so that first action is the event numbered 2; a case declined and dispatched
  again is registered once, when it was first dispatched.
- dispatched (派单): dispatch actions in the period (a dispatch after the handler declined,
  退单, counts again; a reassignment, 改派, does not).
- handled (消单): handle actions in the period (a case sent back for rework and handled again
  counts twice: each is an answer given).
- handled on time: handle actions whose handling step run earned no red card due before the
  handle. The run is the one the handle ends, started by the event just before it (accept,
  report-in after an escalation, or rework); its red card (Card, colour red, step handle,
  step_started_at = that event's instant) records its due time in `at`.
- on-time handling rate = handled on time / handled (none when nothing was handled).
- closed (办结): cases verified (社区核单) in the period. Verification, not publication, closes
  a case: it is the community's acceptance of the result, happens once per case, and a case
  whose item is never disclosed (ServiceTerms.public) is still closed by it.
- closed on time: closed cases that earned no red card on any step up to their verification
  (a red card of the publishing step, after it, does not count).
- on-time closing rate = closed on time / closed.
- overdue (红牌): red cards recorded for the period (a step run past its due time within it).
- yellow cards (黄牌): yellow cards for the period.
- rework (返工): rework actions in the period.
- average handling time: over the handle actions of the period, the working hours (office
  hours of working days, cases.working_time) from the case's report to that handle: how long
  the resident waited for an answer, on the office's clock. Reports earlier than
  HOURS_LOOKBACK_DAYS before the period count from that floor.
- satisfaction: the residents' ratings (1-5) given in the period: their count and average.
"""

import csv
import datetime
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, timedelta

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.api_errors import ApiError, Problem

from .working_time import SHANGHAI, WorkingCalendar

# A report spans at most this many days: a year and a little, for the annual report.
MAX_PERIOD_DAYS = 400
# How far before the period the working-time table reaches back (reports older than this are
# counted from it): three years, beyond any case a county keeps open.
HOURS_LOOKBACK_DAYS = 3 * 366


class IndicatorError(ApiError):
    """A period or unit the indicators cannot be computed for: HTTP 400."""


# --- the period ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def instants(self, tz=SHANGHAI) -> tuple[datetime.datetime, datetime.datetime]:
        """[from, to): local midnight of `start` to local midnight after `end`, in UTC."""
        lo = datetime.datetime.combine(self.start, datetime.time(), tz).astimezone(UTC)
        hi = datetime.datetime.combine(self.end + timedelta(days=1), datetime.time(), tz)
        return lo, hi.astimezone(UTC)

    def __str__(self):
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


def parse_date(value, name: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        raise IndicatorError([Problem(name, "a date (YYYY-MM-DD), not a date-time")])
    if isinstance(value, datetime.date):
        return value
    text = value.strip() if isinstance(value, str) else ""
    try:
        if len(text) != 10:
            raise ValueError
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise IndicatorError([Problem(name, f"a date (YYYY-MM-DD), not {value!r}")]) from None


def period(start, end) -> Period:
    """The period from two dates (or YYYY-MM-DD strings), checked: in order, at most
    MAX_PERIOD_DAYS long."""
    problems = []
    dates = {}
    for name, value in (("start", start), ("end", end)):
        if value is None or value == "":
            problems.append(Problem(name, "required: a date (YYYY-MM-DD)"))
            continue
        try:
            dates[name] = parse_date(value, name)
        except IndicatorError as exc:
            problems += exc.problems
    if problems:
        raise IndicatorError(problems)
    result = Period(dates["start"], dates["end"])
    if result.end < result.start:
        raise IndicatorError([Problem("end", "the end comes before the start")])
    if result.days > MAX_PERIOD_DAYS:
        raise IndicatorError(
            [Problem("end", f"a period of at most {MAX_PERIOD_DAYS} days, not {result.days}")]
        )
    return result


def this_week(today: datetime.date) -> Period:
    monday = today - timedelta(days=today.weekday())
    return Period(monday, monday + timedelta(days=6))


def last_week(today: datetime.date) -> Period:
    monday = today - timedelta(days=today.weekday() + 7)
    return Period(monday, monday + timedelta(days=6))


def this_quarter(today: datetime.date) -> Period:
    first_month = 3 * ((today.month - 1) // 3) + 1
    start = datetime.date(today.year, first_month, 1)
    after = (
        datetime.date(today.year + 1, 1, 1)
        if first_month == 10
        else datetime.date(today.year, first_month + 3, 1)
    )
    return Period(start, after - timedelta(days=1))


# --- what the query sums, and the row it becomes -------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """The additive sums the query returns per territory: a unit's are its children's added
    (plus what lies directly in it), and the rates and averages come from them."""

    reported: int = 0
    registered: int = 0
    dispatched: int = 0
    handled: int = 0
    handled_on_time: int = 0
    handling_seconds: float = 0.0
    closed: int = 0
    closed_on_time: int = 0
    overdue: int = 0
    yellow: int = 0
    rework: int = 0
    rated: int = 0
    rating_sum: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Counts)))


def total(counts: Iterable[Counts]) -> Counts:
    out = Counts()
    for c in counts:
        out = out + c
    return out


def rate(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to rate (not 0%, not 100%)."""
    return part / whole if whole else None


def average(amount: float, count: int) -> float | None:
    return amount / count if count else None


@dataclass(frozen=True)
class IndicatorRow:
    """One territory's indicators over the period (the API's row, the export's line)."""

    unit_code: str
    unit_name: str
    level: str
    reported: int
    registered: int
    dispatched: int
    handled: int
    handled_on_time: int
    on_time_handling_rate: float | None  # 0..1
    closed: int
    closed_on_time: int
    on_time_closing_rate: float | None  # 0..1
    overdue: int
    yellow: int
    rework: int
    avg_handling_hours: float | None  # working hours
    satisfaction_avg: float | None  # 1..5
    satisfaction_count: int

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def row(*, unit_code: str, unit_name: str, level: str, counts: Counts) -> IndicatorRow:
    c = counts
    return IndicatorRow(
        unit_code=unit_code,
        unit_name=unit_name,
        level=level,
        reported=c.reported,
        registered=c.registered,
        dispatched=c.dispatched,
        handled=c.handled,
        handled_on_time=c.handled_on_time,
        on_time_handling_rate=rate(c.handled_on_time, c.handled),
        closed=c.closed,
        closed_on_time=c.closed_on_time,
        on_time_closing_rate=rate(c.closed_on_time, c.closed),
        overdue=c.overdue,
        yellow=c.yellow,
        rework=c.rework,
        avg_handling_hours=(None if not c.handled else c.handling_seconds / c.handled / 3600.0),
        satisfaction_avg=average(c.rating_sum, c.rated),
        satisfaction_count=c.rated,
    )


# --- working time as a per-day table -------------------------------------------------------------
# Working seconds from a fixed origin to an instant, W(t), turn "working hours between a and b"
# into W(b) - W(a): two lookups, no loop over days. The table holds, for each local day from the
# origin, the working seconds before that day; within a day, the office seconds up to the time
# of day, capped by the day's own total (0 on a day off). The query indexes the table as an
# array by day number.


@dataclass(frozen=True)
class WorkingTable:
    first: datetime.date
    before: tuple[float, ...]  # seconds before day i; one more entry than days, for the last day
    office: tuple[tuple[int, int], ...]  # office periods as seconds of the local day
    tz: object = SHANGHAI

    @property
    def last(self) -> datetime.date:
        return self.first + timedelta(days=len(self.before) - 2)

    def seconds_at(self, at: datetime.datetime) -> float:
        """W(at), as the query computes it (instants before the table count from its first
        day, after it from its last)."""
        local = at.astimezone(self.tz)
        day = min(max(local.date(), self.first), self.last)
        if local.date() < self.first:
            tod = 0
        elif local.date() > self.last:
            tod = 86400
        else:
            tod = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        i = (day - self.first).days
        in_day = sum(max(0.0, min(tod, closes) - opens) for opens, closes in self.office)
        return self.before[i] + min(in_day, self.before[i + 1] - self.before[i])

    def hours_between(self, a: datetime.datetime, b: datetime.datetime) -> float:
        return (self.seconds_at(b) - self.seconds_at(a)) / 3600.0


def _seconds(t: datetime.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def working_table(
    calendar: WorkingCalendar, first: datetime.date, last: datetime.date
) -> WorkingTable:
    office = tuple((_seconds(o), _seconds(c)) for o, c in calendar.office_hours)
    per_day = float(sum(c - o for o, c in office))
    before = [0.0]
    day = first
    while day <= last:
        before.append(before[-1] + (per_day if calendar.is_workday(day) else 0.0))
        day += timedelta(days=1)
    return WorkingTable(first=first, before=tuple(before), office=office, tz=calendar.tz)


def table_for(calendar: WorkingCalendar, p: Period) -> WorkingTable:
    return working_table(calendar, p.start - timedelta(days=HOURS_LOOKBACK_DAYS), p.end)


# --- the columns, and the files ------------------------------------------------------------------

COUNT, RATE, HOURS, SCORE, TEXT = "count", "rate", "hours", "score", "text"


@dataclass(frozen=True)
class Column:
    name: str  # the IndicatorRow field
    label: object  # lazy: the header in the user's language
    kind: str
    width: int


COLUMNS: tuple[Column, ...] = (
    Column("unit_code", pgettext_lazy("indicators", "Code"), TEXT, 18),
    Column("unit_name", pgettext_lazy("indicators", "Territory"), TEXT, 24),
    Column("reported", pgettext_lazy("indicators", "Reported"), COUNT, 10),
    Column("registered", pgettext_lazy("indicators", "Registered"), COUNT, 10),
    Column("dispatched", pgettext_lazy("indicators", "Dispatched"), COUNT, 10),
    Column("handled", pgettext_lazy("indicators", "Handled"), COUNT, 10),
    Column("on_time_handling_rate", pgettext_lazy("indicators", "On-time handling rate"), RATE, 14),
    Column("closed", pgettext_lazy("indicators", "Closed"), COUNT, 10),
    Column("on_time_closing_rate", pgettext_lazy("indicators", "On-time closing rate"), RATE, 14),
    Column("overdue", pgettext_lazy("indicators", "Overdue (red cards)"), COUNT, 12),
    Column("yellow", pgettext_lazy("indicators", "Yellow cards"), COUNT, 10),
    Column("rework", pgettext_lazy("indicators", "Rework"), COUNT, 10),
    Column(
        "avg_handling_hours",
        pgettext_lazy("indicators", "Average handling time (working hours)"),
        HOURS,
        16,
    ),
    Column("satisfaction_avg", pgettext_lazy("indicators", "Satisfaction (average)"), SCORE, 12),
    Column("satisfaction_count", pgettext_lazy("indicators", "Ratings"), COUNT, 10),
)
NUMBER_FORMATS = {COUNT: "0", RATE: "0.0%", HOURS: "0.0", SCORE: "0.00", TEXT: "@"}


def filename(unit_code: str, p: Period, extension: str) -> str:
    return f"indicators_{unit_code}_{p.start:%Y%m%d}-{p.end:%Y%m%d}.{extension}"


def title(unit_name: str, unit_code: str, p: Period) -> str:
    return str(_("Case indicators: %(unit)s (%(code)s), %(start)s to %(end)s")) % {
        "unit": unit_name,
        "code": unit_code,
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
    }


def cell_text(value, kind: str) -> str:
    """A value as the CSV and the page show it (empty: nothing to rate)."""
    if value is None:
        return ""
    if kind == RATE:
        return f"{value * 100:.1f}%"
    if kind == HOURS:
        return f"{value:.1f}"
    if kind == SCORE:
        return f"{value:.2f}"
    return str(value)


def _safe_text(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: a unit name typed in by someone
    # must stay text (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(rows: Sequence[IndicatorRow], columns: Sequence[Column] = COLUMNS) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese names as Chinese."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([str(c.label) for c in columns])
    for r in rows:
        writer.writerow(
            [
                _safe_text(v) if c.kind == TEXT else cell_text(v, c.kind)
                for c in columns
                for v in [getattr(r, c.name)]
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(
    rows: Sequence[IndicatorRow], *, heading: str, columns: Sequence[Column] = COLUMNS
) -> bytes:
    """A workbook with a title row (the unit and period), a bold frozen header, one line per
    territory (the unit first), rates as percentages, hours to one decimal, counts as
    integers; an empty cell where there is nothing to rate."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = str(pgettext_lazy("indicators", "Indicators"))[:31]
    write_sheet(sheet, rows, heading=heading, columns=columns)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_sheet(
    sheet, rows: Sequence, *, heading: str, columns: Sequence[Column], first_bold: bool = True
) -> None:
    """One sheet of the report's style (to_xlsx's): the rows are objects with an attribute per
    column (the first, in bold, the unit itself, unless `first_bold` is off)."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet.cell(row=1, column=1, value=heading).font = Font(bold=True, size=13)
    bold = Font(bold=True)
    for j, c in enumerate(columns, start=1):
        cell = sheet.cell(row=2, column=j, value=str(c.label))
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(j)].width = c.width
    for i, r in enumerate(rows, start=3):
        for j, c in enumerate(columns, start=1):
            value = getattr(r, c.name)
            # Strings are written as strings: openpyxl never reads "=..." as a formula then.
            cell = sheet.cell(row=i, column=j)
            cell.value = value
            if c.kind == TEXT and isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"
            cell.number_format = NUMBER_FORMATS[c.kind]
            if i == 3 and first_bold:
                cell.font = bold  # the unit itself, above its children
    sheet.freeze_panes = "C3"
