"""Time limits on the Chinese working calendar (pure: no database, no clock).

A case's step has a limit in working hours or working days (the catalogue's); its deadline and
"how much of the limit is used" (the yellow card; the average handling time) are computed here.

Which days are working days: the overrides first (the admin's table, cases.WorkingDayOverride,
where the State Council's schedule is typed in when the package does not know it yet or a
county closes for a typhoon), then the `chinesecalendar` package (public holidays and the
weekend days made working days, 调休; it knows the years it was released for: 1.11.0 knows
2004-2026), then, for a year neither knows, Monday to Friday. A result that rests on such a
guessed day says so (`Deadline.estimated`, `unknown_years`), so a deadline in 2027 is never
silently wrong; it becomes exact once the schedule is typed in (a year counts as covered by the
overrides when it is passed in `known_years`; see cases.selectors.working_calendar).

The rules, after the Civil Code (民法典) on periods (arts. 201 and 203):
- Working hours count only inside office hours of working days; a start outside them starts
  counting at the next office opening. A limit that runs out exactly at a closing time ends
  there (12:00, not 14:00).
- Working days: the day of the start is not counted (开始的当日不计入); the deadline is the
  closing time of the Nth working day after it (有业务时间的，停止业务活动的时间为截止时间), so
  a case raised on Friday evening or on Saturday with a 1-day limit is due on Monday at 17:30.
  0 days means the close of the current (or next) working day.
- Instants are aware datetimes; any time zone is accepted and results are in the calendar's
  (Asia/Shanghai, with no daylight saving since 1991). Arithmetic is done in UTC, so a zone
  with daylight saving would still count real hours. Naive datetimes are refused: a deadline
  silently off by eight hours is the error this module exists to prevent.
"""

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A government office's day in Henan (8:30-12:00, 14:00-17:30: seven hours); configurable
# because counties differ (summer hours, a service hall open at noon).
DEFAULT_OFFICE_HOURS = ((time(8, 30), time(12)), (time(14), time(17, 30)))
# No limit is ever this long; beyond it a caller has passed nonsense (hours for seconds).
MAX_SPAN_DAYS = 20 * 366


@dataclass(frozen=True)
class Deadline:
    at: datetime
    # Years whose working days were guessed (Monday-Friday) on the way to `at`.
    unknown_years: frozenset[int] = field(default_factory=frozenset)

    @property
    def estimated(self) -> bool:
        return bool(self.unknown_years)


@dataclass(frozen=True)
class WorkingTime:
    duration: timedelta  # negative when the end is before the start
    unknown_years: frozenset[int] = field(default_factory=frozenset)

    @property
    def hours(self) -> float:
        return self.duration / timedelta(hours=1)

    @property
    def estimated(self) -> bool:
        return bool(self.unknown_years)


@dataclass(frozen=True)
class Share:
    used: float  # 0.8 = four fifths of the limit; 1.0 = due; above 1 = overdue
    unknown_years: frozenset[int] = field(default_factory=frozenset)

    @property
    def estimated(self) -> bool:
        return bool(self.unknown_years)


def parse_office_hours(text: str) -> tuple[tuple[time, time], ...]:
    """'08:30-12:00,14:00-17:30' -> office periods (for a setting or an admin field)."""
    periods = []
    for part in text.split(","):
        try:
            opens, closes = (time.fromisoformat(p.strip()) for p in part.split("-"))
        except ValueError:
            raise ValueError(f"office hours are 'HH:MM-HH:MM,...', not {text!r}") from None
        periods.append((opens, closes))
    return _checked_periods(periods)


def _checked_periods(periods: Iterable) -> tuple[tuple[time, time], ...]:
    periods = tuple((opens, closes) for opens, closes in periods)
    if not periods:
        raise ValueError("office hours need at least one period")
    previous_close = None
    for opens, closes in periods:
        if not (isinstance(opens, time) and isinstance(closes, time)):
            raise ValueError("office hours are pairs of datetime.time")
        if opens.tzinfo or closes.tzinfo:
            raise ValueError("office hours are local times, without a time zone")
        if not opens < closes:
            raise ValueError(f"an office period must open before it closes: {opens}-{closes}")
        if previous_close is not None and opens < previous_close:
            raise ValueError("office periods must be in order and must not overlap")
        previous_close = closes
    return periods


def _duration(hours) -> timedelta:
    if isinstance(hours, timedelta):
        duration = hours
    elif isinstance(hours, numbers.Real) and not isinstance(hours, bool):
        if not math.isfinite(hours):
            raise ValueError(f"a limit must be a finite number of hours, not {hours}")
        duration = timedelta(hours=float(hours))
    else:
        raise TypeError(f"a limit is a number of hours or a timedelta, not {hours!r}")
    if duration < timedelta(0):
        raise ValueError(f"a limit cannot be negative: {hours}")
    return duration


def package_is_workday(day: date) -> bool | None:
    """What the chinesecalendar package says of a day; None for a year it has no data for."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def package_knows(year: int) -> bool:
    return package_is_workday(date(year, 1, 1)) is not None


class WorkingCalendar:
    def __init__(
        self,
        office_hours=DEFAULT_OFFICE_HOURS,
        overrides: Mapping[date, bool] | None = None,
        tz: ZoneInfo = SHANGHAI,
        known_years: Iterable[int] = (),
    ):
        """`overrides` {date: is_workday} win over the package; `known_years` are the years the
        overrides hold the whole schedule of (their other days follow the weekday rule and are
        no guess)."""
        self.office_hours = _checked_periods(office_hours)
        self.tz = tz
        self.overrides = {}
        for day, is_workday in (overrides or {}).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"an override is for a date, not {day!r}")
            if not isinstance(is_workday, bool):
                raise TypeError(f"an override says True or False, not {is_workday!r}")
            self.overrides[day] = is_workday
        self.known_years = frozenset(known_years)
        self._days: dict[date, tuple[bool, bool]] = {}

    # Days.

    def day(self, day: date) -> tuple[bool, bool]:
        """(is it a working day, is that known rather than guessed)."""
        if isinstance(day, datetime):
            raise TypeError("pass a date; for an instant use its local date")
        cached = self._days.get(day)
        if cached is None:
            cached = self._days[day] = self._look_up(day)
        return cached

    def _look_up(self, day: date) -> tuple[bool, bool]:
        if day in self.overrides:
            return self.overrides[day], True
        if day.year not in self.known_years:
            says = package_is_workday(day)
            if says is not None:
                return says, True
        return day.weekday() < 5, day.year in self.known_years

    def is_workday(self, day: date) -> bool:
        return self.day(day)[0]

    def is_known(self, day: date) -> bool:
        return self.day(day)[1]

    def _periods(self, day: date) -> list[tuple[datetime, datetime]]:
        return [
            (
                datetime.combine(day, opens, self.tz).astimezone(UTC),
                datetime.combine(day, closes, self.tz).astimezone(UTC),
            )
            for opens, closes in self.office_hours
        ]

    def _closing(self, day: date) -> datetime:
        return datetime.combine(day, self.office_hours[-1][1], self.tz).astimezone(UTC)

    def _instant(self, at: datetime) -> datetime:
        if not isinstance(at, datetime):
            raise TypeError(f"an instant is a datetime, not {at!r}")
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"a naive datetime has no time zone: {at}; pass an aware one")
        return at.astimezone(UTC)

    def _local_date(self, at_utc: datetime) -> date:
        return at_utc.astimezone(self.tz).date()

    def _days_from(self, first: date):
        """first, first + 1, ... (bounded: a runaway limit is an error, not a hang)."""
        for offset in range(MAX_SPAN_DAYS + 1):
            yield first + timedelta(days=offset)
        raise ValueError(f"the limit reaches more than {MAX_SPAN_DAYS} days beyond {first}")

    def _result(self, at_utc: datetime, unknown: set) -> Deadline:
        return Deadline(at_utc.astimezone(self.tz), frozenset(unknown))

    # Arithmetic.

    def add_working_hours(self, start: datetime, hours) -> Deadline:
        """The instant `hours` (a number or a timedelta) of office time after `start`."""
        remaining = _duration(hours)
        now = self._instant(start)
        unknown: set[int] = set()
        for day in self._days_from(self._local_date(now)):
            is_workday, known = self.day(day)
            if not known:
                unknown.add(day.year)
            if not is_workday:
                continue
            for opens, closes in self._periods(day):
                if closes <= now:
                    continue
                begin = max(now, opens)
                available = closes - begin
                if remaining <= available:
                    return self._result(begin + remaining, unknown)
                remaining -= available
                now = closes
        raise AssertionError("unreachable")  # pragma: no cover

    def clock_start(self, at: datetime) -> datetime:
        """Where the counting starts: `at` itself in office hours, else the next opening."""
        return self.add_working_hours(at, 0).at

    def add_working_days(self, start: datetime, days: int) -> Deadline:
        """The closing time of the `days`-th working day after the day of `start`."""
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError(f"a limit in working days is a whole number, not {days!r}")
        if days < 0:
            raise ValueError(f"a limit cannot be negative: {days}")
        now = self._instant(start)
        first = self._local_date(now)
        counted = 0
        unknown: set[int] = set()
        for day in self._days_from(first):
            is_workday, known = self.day(day)
            if not known:
                unknown.add(day.year)
            if not is_workday:
                continue
            if days == 0:
                if self._closing(day) > now:
                    return self._result(self._closing(day), unknown)
                continue
            if day == first:
                continue  # the day of the start is not counted
            counted += 1
            if counted == days:
                return self._result(self._closing(day), unknown)
        raise AssertionError("unreachable")  # pragma: no cover

    def working_hours_between(self, start: datetime, end: datetime) -> WorkingTime:
        """Office time from `start` to `end` (negative when `end` comes first)."""
        a, b = self._instant(start), self._instant(end)
        if b < a:
            forward = self.working_hours_between(end, start)
            return WorkingTime(-forward.duration, forward.unknown_years)
        total = timedelta(0)
        unknown: set[int] = set()
        last = self._local_date(b)
        for day in self._days_from(self._local_date(a)):
            if day > last:
                break
            is_workday, known = self.day(day)
            if not known:
                unknown.add(day.year)
            if not is_workday:
                continue
            for opens, closes in self._periods(day):
                overlap = min(b, closes) - max(a, opens)
                if overlap > timedelta(0):
                    total += overlap
        return WorkingTime(total, frozenset(unknown))

    def warning_at(self, start: datetime, deadline: datetime, share: float) -> Deadline:
        """When `share` of the limit from `start` to `deadline` is used: the yellow card's
        instant. Computed once when the step starts and stored beside its deadline, the
        periodic card task only compares two timestamps with the clock, in SQL."""
        if not (isinstance(share, numbers.Real) and 0 <= share <= 1):
            raise ValueError(f"a share of the limit is from 0 to 1, not {share!r}")
        limit = self.working_hours_between(start, deadline)
        warning = self.add_working_hours(start, limit.duration * float(share))
        return Deadline(warning.at, warning.unknown_years | limit.unknown_years)

    def share_used(self, start: datetime, deadline: datetime, now: datetime) -> "Share":
        """How much of a step's limit is used at `now`: the yellow card's measure."""
        used = self.working_hours_between(start, now)
        limit = self.working_hours_between(start, deadline)
        years = used.unknown_years | limit.unknown_years
        if limit.duration > timedelta(0):
            return Share(used.duration / limit.duration, years)
        # A zero limit (due at once) is used up as soon as any office time passes.
        return Share(0.0 if used.duration <= timedelta(0) else math.inf, years)
