"""Realistic cases with consistent histories, written in bulk: the demo's (`seed_demo`, a few
thousand over the last two years) and the city-scale benchmark's (bench/cases.py, a million).

Every case walks cases.flow one action at a time (flow.next_state refuses a wrong step, so the
generator cannot write a history the services could not have written), with the effects
services._apply has: who holds the case, the running step and its clock. Each step's deadline and
yellow-card instant come from the item's terms (cases.selectors.service_terms_for) on the working
calendar (cases.selectors.working_calendar), as services._start_step sets them; `FastCalendar`
does the same arithmetic by bisection over the precomputed office periods (the generator asks it
some ten million times; demo/tests/test_cases.py checks it against WorkingCalendar). Most steps
are taken within their limit, some late; a case whose next step would fall after `now` stays
open there, so the open cases' cards (cases.services.cards_record) and the indicators computed
from the events mean something. The cards of step runs that ended are written too, as the
minute sweep would have recorded them.

Where a case happened is a household's point (households are placed by the one placement rule,
territory_place): its grid, micro-grid and path are the household's. Numbers follow
services._next_number (county, local day, the day's sequence), and CaseCounter is raised to match
so cases raised later through the services continue the day's sequence. Rows go in by COPY with
explicit ids (the sequences are moved past them); no notification is queued for the past.
Deterministic for a given seed and `now`."""

import bisect
import contextlib
import datetime
import json
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from cases import flow, selectors
from cases.flow import Action, CaseState, Status, Step
from cases.models import Case, Department, LimitUnit, Responsible, Source
from cases.working_time import SHANGHAI, WorkingCalendar
from patrols.models import IncidentCategory
from territory.codes import Level
from territory.models import RoleAssignment, RoleChoices, Unit

HOTLINE_SYSTEM = "12345热线"
RESIDENT, INCIDENT, HOTLINE = str(Source.RESIDENT), str(Source.INCIDENT), str(Source.HOTLINE)
_CLOSED = ("merged", "cancelled", "rejected")
CALLBACK_SYSTEM = "12345热线回访"  # the hotline's call-back survey rates hotline cases
SPAN = timedelta(days=730)
US = timedelta(microseconds=1)
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)


def _us(at: datetime.datetime) -> int:
    return (at - EPOCH) // US


def _dt(us: int) -> datetime.datetime:
    return EPOCH + timedelta(microseconds=us)


# --- the working calendar, by bisection ----------------------------------------------------------


class FastCalendar:
    """WorkingCalendar's arithmetic (cases.working_time) over a fixed range of days, on integer
    microseconds: the office periods in order with the office time before each, so a deadline
    is two bisections instead of a walk over the days."""

    def __init__(self, calendar: WorkingCalendar, first: datetime.date, last: datetime.date):
        self.opens, self.closes, self.before = [], [], []
        self.workdays, self.closing = [], []
        self.unknown = []
        total = 0
        day = first
        while day <= last:
            is_workday, known = calendar.day(day)
            if not known:
                self.unknown.append(day)
            if is_workday:
                for opens, closes in calendar._periods(day):
                    self.opens.append(_us(opens))
                    self.closes.append(_us(closes))
                    self.before.append(total)
                    total += _us(closes) - _us(opens)
                self.workdays.append(day)
                self.closing.append(_us(calendar._closing(day)))
            day += timedelta(days=1)
        self.after = [
            b + (c - o) for b, o, c in zip(self.before, self.opens, self.closes, strict=False)
        ]
        self.tz = calendar.tz

    def local_date(self, us: int) -> datetime.date:
        return _dt(us).astimezone(self.tz).date()

    def clock_start(self, us: int) -> int:
        i = bisect.bisect_right(self.closes, us)
        return max(us, self.opens[i])

    def office_time(self, us: int) -> int:
        """Office time from the range's start to `us`."""
        i = bisect.bisect_right(self.closes, us)
        if i < len(self.opens) and us >= self.opens[i]:
            return self.before[i] + us - self.opens[i]
        return self.before[i] if i < len(self.before) else self.after[-1]

    def add_hours(self, us: int, amount_us: int) -> int:
        if amount_us <= 0:
            return self.clock_start(us)
        target = self.office_time(us) + amount_us
        i = bisect.bisect_left(self.after, target)
        return self.opens[i] + (target - self.before[i])

    def add_days(self, us: int, days: int) -> int:
        first = self.local_date(us)
        if days == 0:
            j = bisect.bisect_left(self.workdays, first)
            while self.closing[j] <= us:
                j += 1
            return self.closing[j]
        return self.closing[bisect.bisect_right(self.workdays, first) + days - 1]

    def warning(self, start: int, deadline: int, share: float) -> int:
        start = self.clock_start(start)
        limit = timedelta(microseconds=self.office_time(deadline) - self.office_time(start))
        return self.add_hours(start, (limit * float(share)) // US)

    def estimated(self, start: int, end: int) -> bool:
        """Does a day the calendar only guessed lie between the two instants' dates?"""
        i = bisect.bisect_left(self.unknown, self.local_date(start))
        return i < len(self.unknown) and self.unknown[i] <= self.local_date(end)

    def step(self, terms, step: Step, at: int) -> tuple[int, int, bool]:
        """(due, yellow, estimated) of `step` started at `at`, as services._start_step."""
        amount, unit = terms.limits[step]
        if unit == LimitUnit.WORKING_HOURS:
            due = self.add_hours(at, amount * 3_600_000_000)
        else:
            due = self.add_days(at, amount)
        yellow = self.warning(at, due, terms.yellow_share)
        return due, yellow, self.estimated(at, due)


# --- who and where -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spot:
    lon: float
    lat: float
    grid_id: int
    micro_grid_id: int | None
    path: str
    codes: tuple = ()
    township: str | None = None
    village: str | None = None
    county: str = ""

    @classmethod
    def of(cls, lon, lat, grid_id, micro_grid_id, path) -> "Spot":
        codes = tuple(path.split("/"))
        township = next((c for c in codes if len(c) == 9), None)
        village = next((c for c in codes if len(c) == 12), None)
        county = selectors.county_of(path)
        return cls(lon, lat, grid_id, micro_grid_id, path, codes, township, village, county)


@dataclass
class Staff:
    """Who acts where: a worker per grid, an officer per village/community (the station), a
    commander per township (the centre) and for the county, a member per department, the
    departments handling each item (most specific area first) and the volunteers."""

    workers: dict = field(default_factory=dict)  # grid id -> user id
    officers: dict = field(default_factory=dict)  # village code -> user id
    commanders: dict = field(default_factory=dict)  # township or county code -> user id
    volunteers: dict = field(default_factory=dict)  # village code -> user id
    members: dict = field(default_factory=dict)  # department id -> user id
    departments: dict = field(default_factory=dict)  # item id -> [(department id, area code)]
    county_bureaus: dict = field(default_factory=dict)  # county code -> [department id]
    codes: dict = field(default_factory=dict)  # department id -> code
    usernames: dict = field(default_factory=dict)  # user id -> username


def staff_ensure(*, prefix: str = "demo") -> int:
    """One login per grid (a grid worker), village (its officer), township (a commander) and
    department (a member) that has none yet, so that every case has someone to act on it. They
    get no usable password: they stand for the county's staff, not for demo logins. Returns how
    many were made."""
    User = get_user_model()
    units = Unit.objects.current()
    held = defaultdict(set)
    for role, code in RoleAssignment.objects.values_list("role", "unit_code"):
        held[role].add(code)
    plan = []
    for level, role, tag in (
        (Level.GRID, RoleChoices.GRID_WORKER, "gw"),
        (Level.VILLAGE, RoleChoices.VILLAGE_OFFICER, "of"),
        (Level.TOWNSHIP, RoleChoices.COMMANDER, "cm"),
    ):
        for code in units.filter(level=level).order_by("code").values_list("code", flat=True):
            if code not in held[role]:
                plan.append((f"{prefix}-{tag}-{code}", role, code))
    departments = list(Department.objects.filter(members__isnull=True, active=True))
    names = [username for username, _, _ in plan] + [f"{prefix}-dp-{d.code}" for d in departments]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    people = _people(7, n=len(names))
    User.objects.bulk_create(
        [
            User(username=n, password="!", first_name=person[0])
            for n, person in zip(names, people, strict=True)
            if n not in existing
        ],
        batch_size=2000,
    )
    ids = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(user_id=ids[n], role=role, unit_code=code) for n, role, code in plan],
        batch_size=2000,
        ignore_conflicts=True,
    )
    Through = Department.members.through
    Through.objects.bulk_create(
        [Through(department_id=d.pk, user_id=ids[f"{prefix}-dp-{d.code}"]) for d in departments],
        ignore_conflicts=True,
    )
    return len(names) - len(existing)


def staff_read() -> Staff:
    staff = Staff()
    units = Unit.objects.current()
    grid_ids = dict(units.filter(level=Level.GRID).values_list("code", "pk"))
    assignments = RoleAssignment.objects.filter(user__is_active=True).order_by("pk")
    for user_id, role, code in assignments.values_list("user_id", "role", "unit_code"):
        if role == RoleChoices.GRID_WORKER and code in grid_ids:
            staff.workers.setdefault(grid_ids[code], user_id)
        elif role == RoleChoices.VILLAGE_OFFICER:
            staff.officers.setdefault(code, user_id)
        elif role == RoleChoices.COMMANDER:
            staff.commanders.setdefault(code, user_id)
        elif role == RoleChoices.VOLUNTEER:
            staff.volunteers.setdefault(code, user_id)
    Through = Department.members.through
    for department_id, user_id in Through.objects.order_by("pk").values_list(
        "department_id", "user_id"
    ):
        staff.members.setdefault(department_id, user_id)
    items = IncidentCategory.objects.filter(parent__isnull=False)
    handled = defaultdict(list)
    for department in Department.objects.filter(active=True).prefetch_related("items", "areas"):
        staff.codes[department.pk] = department.code
        codes = {i.pk for i in department.items.all()}
        areas = [a.unit_code for a in department.areas.all()]
        if any(len(a) == 6 for a in areas):
            staff.county_bureaus.setdefault(department.county_code, []).append(department.pk)
        for item in items:
            if item.pk in codes or item.parent_id in codes:
                for area in areas:
                    handled[item.pk].append((department.pk, area))
    # The most specific area first (a township's station before the county bureau).
    staff.departments = {
        k: sorted(v, key=lambda pair: (-len(pair[1]), staff.codes[pair[0]]))
        for k, v in handled.items()
    }
    ids = {*staff.workers.values(), *staff.officers.values(), *staff.commanders.values()}
    ids |= {*staff.volunteers.values(), *staff.members.values()}
    staff.usernames = dict(
        get_user_model().objects.filter(pk__in=ids).values_list("pk", "username")
    )
    return staff


def spots_read(*, path_prefix: str = "") -> list[Spot]:
    """The households' points, with the placement the database gave them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(location), ST_Y(location), grid_id, micro_grid_id, territory_path "
            "FROM territory_household WHERE grid_id IS NOT NULL AND territory_path LIKE %s "
            "ORDER BY id",
            [path_prefix.replace("%", r"\%").replace("_", r"\_") + "%"],
        )
        return [Spot.of(*row) for row in cursor.fetchall()]


# --- one case's history ----------------------------------------------------------------------------


@dataclass
class Plan:
    """What becomes of a case (drawn, or fixed for the demo's showcase cases)."""

    outcome: str = "normal"  # normal, reject, cancel, merge, withdraw, escalate
    decline: bool = False
    rework: bool = False
    stuck: Status | None = None  # the case stays in this status for good (forgotten)
    stop_at: Status | None = None  # the showcase: stop once the case reaches this status
    rated: bool = True
    late: float = 0.12  # the share of steps taken after their deadline


def draw_plan(rng: random.Random, *, responsible: str, source: str) -> Plan:
    r = rng.random()
    plan = Plan(decline=rng.random() < 0.04, rework=rng.random() < 0.08)
    plan.rated = rng.random() < 0.7
    plan.late = rng.choice((0.02, 0.04, 0.08, 0.12, 0.2))
    if r < 0.03:
        plan.outcome = "reject"
    elif r < 0.05:
        plan.outcome = "cancel"
    elif r < 0.08:
        plan.outcome = "merge"
    elif r < 0.09 and source == Source.RESIDENT:
        plan.outcome = "withdraw"
    elif r < 0.15 and responsible == Responsible.GRID:
        plan.outcome = "escalate"
    if rng.random() < 0.02:
        plan.stuck = rng.choice(
            (Status.REPORTED, Status.DISPATCHED, Status.ACCEPTED, Status.HANDLED, Status.VERIFIED)
        )
    return plan


@dataclass
class Made:
    case: dict
    events: list
    cards: list


class _Stop(Exception):
    """The next action would come after `now` (or never): the case stays as it is."""


_TRANSITIONS: dict = {}


def _transition(state: tuple, action: str) -> tuple[tuple, str, str | None, bool]:
    """(the state after, the action's name, the step it starts, is the state after terminal),
    from cases.flow, remembered: the flow's own lookups are the generator's hot spot."""
    found = _TRANSITIONS.get((state, action))
    if found is None:
        after = flow.next_state(CaseState(*state), action)
        transition = flow.TRANSITIONS[flow.Action(action)]
        found = _TRANSITIONS[(state, action)] = (
            (str(after.status.value), str(after.whistle.value), after.rated),
            str(transition.action.value),
            str(transition.starts.value) if transition.starts is not None else None,
            after.status in flow.TERMINAL,
        )
    return found


class _Walk:
    """One case walking the flow, with services._apply's effects and the step's clock."""

    def __init__(self, gen: "CaseGenerator", case: dict, terms, now: int, plan: Plan):
        self.gen, self.case, self.terms, self.now, self.plan = gen, case, terms, now, plan
        self.state = ("reported", "none", False)  # CaseState as plain values
        self.events: list = []
        self.cards: list = []
        self.last = 0

    # The clock.

    def start(self, step: str | None, at: int) -> None:
        c = self.case
        if step is None:
            c.update(step="", step_started_at=None, due_at=None, yellow_at=None, estimated=False)
            return
        due, yellow, estimated = self.gen.cal.step(self.terms, step, at)
        c.update(step=step, step_started_at=at, due_at=due, yellow_at=yellow)
        c["estimated"] = estimated

    def _close_run(self, at: int) -> None:
        """The running step ends at `at`: the cards it earned meanwhile, as the sweep saw them."""
        c = self.case
        if not c["step"]:
            return
        for colour, line in (("yellow", c["yellow_at"]), ("red", c["due_at"])):
            if line < at:
                self.cards.append(
                    (
                        colour,
                        c["step"],
                        c["step_started_at"],
                        line,
                        min(line + self.gen.rng.randrange(1, 60_000_000), at - 1),
                        c["assignee_id"],
                        c["department_id"],
                    )
                )

    def when(self, late: bool | None = None, *, hours: float | None = None) -> int:
        """When the next action comes: a share of the running step's limit (beyond it when
        late), or `hours` of office time after the last action. Raises _Stop past `now`."""
        rng = self.gen.rng
        cal = self.gen.cal
        if hours is not None:
            at = cal.add_hours(self.last, int(hours * 3_600_000_000))
        else:
            c = self.case
            begin = cal.clock_start(c["step_started_at"])
            limit = cal.office_time(c["due_at"]) - cal.office_time(begin)
            late = rng.random() < self.plan.late if late is None else late
            share = rng.uniform(1.05, 2.5) if late else rng.uniform(0.03, 0.85)
            at = cal.add_hours(begin, max(int(limit * share), 60_000_000))
        at = max(at - at % 1_000_000, self.last + 1_000_000)
        if at > self.now:
            raise _Stop
        return at

    def act(self, action: Action, at: int, actor=None, system="", note="", **fields) -> None:
        status = self.state[0]
        if status == self.plan.stop_at or status == self.plan.stuck:
            raise _Stop
        # A generator bug is an IllegalTransition here.
        after, name, starts, terminal = _transition(self.state, action)
        c = self.case
        if starts is not None or terminal:
            self._close_run(at)
        if name in ("dispatch", "reassign"):
            c["assignee_id"], c["department_id"] = fields.pop("_assignee"), fields.pop("_dept")
        elif name == "decline":
            c["assignee_id"], c["department_id"] = None, None
        elif name == "escalate":
            c["assignee_id"], c["department_id"] = None, fields.pop("_dept")
        elif name == "acknowledge" or (name == "accept" and not c["assignee_id"]):
            c["assignee_id"] = actor
        elif name == "merge":
            c["duplicate_of_id"] = fields.pop("_duplicate_of")
        elif name == "rate":
            c["satisfaction"] = fields["rating"]
        elif name == "rate_escalation":
            c["whistle_rating"] = fields["rating"]
        self.state = after
        c["status"], c["whistle"] = after[0], after[1]
        if starts is not None:
            self.start(starts, at)
        elif terminal:
            self.start(None, at)
        self.events.append((name, status, after[0], actor, system, at, note, fields))
        self.last = at
        c["updated_at"] = at


class CaseGenerator:
    """Draws cases and their histories; `write` COPYs them in."""

    def __init__(self, *, now: datetime.datetime, seed: int, staff: Staff, spots: list[Spot]):
        self.now = _us(now)
        self.first = _us(now - SPAN)
        self.rng = random.Random(seed)
        self.staff = staff
        self.spots = spots
        calendar = selectors.working_calendar()
        self.cal = FastCalendar(
            calendar,
            (now - SPAN - timedelta(days=3)).astimezone(SHANGHAI).date(),
            (now + timedelta(days=400)).astimezone(SHANGHAI).date(),
        )
        items = list(
            IncidentCategory.objects.filter(parent__isnull=False, active=True)
            .select_related("parent")
            .order_by("code")
        )
        self.items = items
        self.terms = {i.pk: selectors.service_terms_for(item=i) for i in items}
        # Street scenes (市容环境, 城市部件) and pollution are most of what is reported.
        weights = [3 if i.parent.code in ("05", "06", "02") else 1 for i in items]
        self.item_weights = list(_cumulative(weights))
        self.places = dict(Unit.objects.current().values_list("code", "name"))
        self.recent = {}  # (grid, item) -> an earlier case that may be merged into
        self.counters: dict = {}
        self.next_id = {"case": 1, "event": 1, "card": 1}
        self.people = _people(seed)

    def pick_item(self) -> IncidentCategory:
        return self.items[bisect.bisect_right(self.item_weights, self.rng.random())]

    # One case.

    def make(
        self,
        *,
        created: int,
        spot: Spot,
        item: IncidentCategory,
        source: str,
        reporter: int | None = None,
        plan: Plan | None = None,
    ) -> Made:
        rng, staff = self.rng, self.staff
        source = str(source)
        terms = self.terms[item.pk]
        plan = plan or draw_plan(rng, responsible=terms.responsible, source=source)
        township, village = spot.township, spot.village
        county = spot.county
        day = _dt(created).astimezone(SHANGHAI).date()
        key = (county, day)
        n = self.counters[key] = self.counters.get(key, 0) + 1
        case_id = self.next_id["case"]
        self.next_id["case"] += 1
        name, phone = rng.choice(self.people)
        worker = staff.workers.get(spot.grid_id)
        if source == INCIDENT and worker is None:
            source = HOTLINE
        contact = ("", "") if source == INCIDENT else (name, phone)
        village_name = self.places.get(village, "")
        description = f"{item.name}：{village_name}{rng.choice(_WHERE)}，{rng.choice(_ASK)}"
        case = {
            "id": case_id,
            "number": f"{county}-{day:%Y%m%d}-{n:04d}",
            "source": source,
            "item_id": item.pk,
            "description": description,
            "reporter_id": reporter
            if source == RESIDENT
            else (worker if source == INCIDENT else None),
            "contact_name": contact[0],
            "contact_phone": contact[1],
            "point": f"SRID=4326;POINT({spot.lon} {spot.lat})",
            "grid_id": spot.grid_id,
            "micro_grid_id": spot.micro_grid_id,
            "territory_path": spot.path,
            "status": "reported",
            "whistle": "none",
            "satisfaction": None,
            "whistle_rating": None,
            "assignee_id": None,
            "department_id": None,
            "duplicate_of_id": None,
            "created_at": created,
            "updated_at": created,
        }
        walk = _Walk(self, case, terms, self.now, plan)
        station = staff.officers.get(village) or staff.commanders.get(township)
        centre = staff.commanders.get(township) or staff.commanders.get(county)
        # 群众点单: the dispatch limit starts at once.
        walk.start("dispatch", created)
        report_actor = case["reporter_id"] if source != HOTLINE else None
        walk.events.append(
            (
                "report",
                "",
                "reported",
                report_actor,
                HOTLINE_SYSTEM if source == HOTLINE else "",
                created,
                description,
                {"source": source},
            )
        )
        walk.last = created
        with contextlib.suppress(_Stop):
            self._walk(walk, plan, item, terms, spot, station, centre, county, township)
        if case["status"] not in _CLOSED:
            self.recent[(spot.grid_id, item.pk)] = (case_id, case["number"])
        return Made(case, walk.events, walk.cards)

    def _target(self, item, terms, spot, village) -> tuple[int | None, int | None]:
        """(assignee, department) of the dispatch, as dispatch_suggestions would rank them."""
        staff = self.staff
        if terms.responsible == Responsible.DEPARTMENT:
            codes = set(spot.codes)
            for department_id, area in staff.departments.get(item.pk, ()):
                if area in codes:
                    return None, department_id
        if terms.responsible == Responsible.VOLUNTEER and village in staff.volunteers:
            return staff.volunteers[village], None
        return staff.workers.get(spot.grid_id), None

    def _walk(self, w: _Walk, plan, item, terms, spot, station, centre, county, township):
        rng, staff, case = self.rng, self.staff, w.case
        village = spot.village
        if plan.outcome == "withdraw":
            w.act("withdraw", w.when(False), case["reporter_id"], reason="已自行解决")
            return
        if plan.outcome == "reject":
            w.act("reject", w.when(False), station, reason="不属于受理范围")
            return
        if plan.outcome == "merge":
            other = self.recent.get((spot.grid_id, item.pk))
            if other is not None:
                at = w.when(False)
                w.act(
                    "merge",
                    at,
                    station,
                    reason="同一事项重复上报",
                    duplicate_of=other[1],
                    _duplicate_of=other[0],
                )
                return
        assignee, department = self._target(item, terms, spot, village)
        if assignee is None and department is None:
            assignee = staff.workers.get(spot.grid_id)
        if assignee is None and department is None:
            return  # nobody serves there: the case waits for dispatch
        holder = assignee or staff.members.get(department)

        def dispatch():
            fields = (
                {"assignee": staff.usernames.get(assignee, "")}
                if assignee
                else {"department": staff.codes[department]}
            )
            w.act("dispatch", w.when(), station, _assignee=assignee, _dept=department, **fields)

        dispatch()
        if plan.decline and holder is not None:
            w.act("decline", w.when(), holder, reason="不属于本人职责，退回站点")
            dispatch()
        if holder is None:
            return
        w.act("accept", w.when(), holder)
        if plan.outcome == "cancel":
            w.act("cancel", w.when(False), station, reason="群众诉求已撤回")
            return
        escalated = False
        if plan.outcome == "escalate" and centre is not None:
            bureaus = [d for d, _ in staff.departments.get(item.pk, ()) if d in staff.members]
            bureaus = bureaus or [
                d for d in staff.county_bureaus.get(county, ()) if d in staff.members
            ]
            if bureaus:
                bureau = bureaus[0]
                w.act(
                    "escalate",
                    w.when(False),
                    centre,
                    reason="街道无法解决，吹哨报到",
                    department=staff.codes[bureau],
                    _dept=bureau,
                )
                holder = staff.members[bureau]
                w.act("acknowledge", w.when(), holder)
                escalated = True
        w.act("handle", w.when(), holder, note=f"已处理：{item.name}问题已解决")
        if plan.rework:
            w.act("rework", w.when(False), station, reason="现场核查未整改到位")
            w.act("handle", w.when(), holder, note="已返工整改完毕")
        if escalated and rng.random() < 0.85:
            county_centre = staff.commanders.get(county)
            if county_centre is not None:
                at = w.when(hours=rng.uniform(1, 20))
                w.act("rate_escalation", at, county_centre, rating=rng.choice(_RATINGS))
        w.act("verify", w.when(), station)
        rater = None
        if plan.rated and case["source"] == RESIDENT and case["reporter_id"]:
            rater = (case["reporter_id"], "")
        elif plan.rated and case["source"] == HOTLINE:
            rater = (None, CALLBACK_SYSTEM)
        if rater is not None and rng.random() < 0.5:
            at = w.when(hours=rng.uniform(0.5, 14))
            w.act("rate", at, rater[0], rater[1], rating=rng.choice(_RATINGS))
            rater = None
        w.act("publish", w.when(), station)
        if rater is not None:
            at = w.when(hours=rng.uniform(0.5, 30))
            w.act("rate", at, rater[0], rater[1], rating=rng.choice(_RATINGS))

    # Writing.

    def reserve(self) -> None:
        """Start numbering after what the database holds: ids, and the day's case numbers."""
        with connection.cursor() as cursor:
            for name, table in (
                ("case", "cases_case"),
                ("event", "cases_caseevent"),
                ("card", "cases_card"),
            ):
                cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
                self.next_id[name] = cursor.fetchone()[0]
            cursor.execute("SELECT county_code, day, last FROM cases_casecounter")
            self.counters = {(county, day): last for county, day, last in cursor.fetchall()}

    def write(self, made: Iterable[Made]) -> dict:
        """COPY a batch of cases with their events and cards (cases first: the foreign keys)."""
        cases, events, cards = [], [], []
        for m in made:
            c = m.case
            cases.append(
                (
                    c["id"],
                    c["number"],
                    c["source"],
                    c["item_id"],
                    c["description"],
                    c["reporter_id"],
                    c["contact_name"],
                    c["contact_phone"],
                    c["point"],
                    c["grid_id"],
                    c["micro_grid_id"],
                    c["territory_path"],
                    c["status"],
                    c["whistle"],
                    c["satisfaction"],
                    c["whistle_rating"],
                    c["step"],
                    _ts(c["step_started_at"]),
                    _ts(c["due_at"]),
                    _ts(c["yellow_at"]),
                    c["estimated"],
                    c["assignee_id"],
                    c["department_id"],
                    c["duplicate_of_id"],
                    "",
                    "",
                    "{}",
                    "{}",
                    _ts(c["created_at"]),
                    _ts(c["updated_at"]),
                )
            )
            for seq, (action, src, dst, actor, system, at, note, fields) in enumerate(m.events, 1):
                event_id = self.next_id["event"]
                self.next_id["event"] += 1
                where = c["point"] if seq == 1 else None
                events.append(
                    (
                        event_id,
                        c["id"],
                        seq,
                        action,
                        src,
                        dst,
                        actor,
                        system,
                        _ts(at),
                        where,
                        note,
                        json.dumps(fields, ensure_ascii=False),
                    )
                )
            for colour, step, started, at, recorded, assignee, department in m.cards:
                card_id = self.next_id["card"]
                self.next_id["card"] += 1
                cards.append(
                    (
                        card_id,
                        c["id"],
                        colour,
                        step,
                        _ts(started),
                        _ts(at),
                        _ts(recorded),
                        assignee,
                        department,
                        c["territory_path"],
                    )
                )
        with connection.cursor() as cursor:
            for table, columns, rows in (
                ("cases_case", CASE_COLUMNS, cases),
                ("cases_caseevent", EVENT_COLUMNS, events),
                ("cases_card", CARD_COLUMNS, cards),
            ):
                with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
                    for row in rows:
                        cp.write_row(row)
        return {"cases": len(cases), "events": len(events), "cards": len(cards)}

    def finish(self) -> None:
        """Move the id sequences past the rows written and raise the day counters to match."""
        sequences_past()
        with connection.cursor() as cursor:
            rows = [(county, day, last) for (county, day), last in self.counters.items()]
            cursor.executemany(
                "INSERT INTO cases_casecounter (county_code, day, last) VALUES (%s, %s, %s) "
                "ON CONFLICT (county_code, day) DO UPDATE "
                "SET last = greatest(cases_casecounter.last, EXCLUDED.last)",
                rows,
            )


CASE_COLUMNS = (
    "id",
    "number",
    "source",
    "item_id",
    "description",
    "reporter_id",
    "contact_name",
    "contact_phone",
    "point",
    "grid_id",
    "micro_grid_id",
    "territory_path",
    "status",
    "whistle",
    "satisfaction",
    "whistle_rating",
    "step",
    "step_started_at",
    "due_at",
    "yellow_at",
    "estimated",
    "assignee_id",
    "department_id",
    "duplicate_of_id",
    "hotline_order",
    "intake_digest",
    "attributes",
    "reporter_details",
    "created_at",
    "updated_at",
)
EVENT_COLUMNS = (
    "id",
    "case_id",
    "seq",
    "action",
    "from_status",
    "to_status",
    "actor_id",
    "actor_system",
    "at",
    '"where"',
    "note",
    "fields",
)
CARD_COLUMNS = (
    "id",
    "case_id",
    "colour",
    "step",
    "step_started_at",
    "at",
    "recorded_at",
    "assignee_id",
    "department_id",
    "territory_path",
)

_RATINGS = (5, 5, 5, 5, 4, 4, 4, 3, 2, 1)
_WHERE = ("路口", "小区门口", "主街东侧", "菜市场旁", "村委会附近", "学校南门", "公交站旁")
_ASK = ("请尽快处理。", "影响居民出行。", "已持续多日。", "群众反映强烈。", "希望有人来看看。")


def _ts(us: int | None):
    return None if us is None else _dt(us)


def _cumulative(weights):
    total = sum(weights)
    running = 0
    for w in weights:
        running += w
        yield running / total


def _people(seed: int, n: int = 2000) -> list[tuple[str, str]]:
    from faker import Faker

    faker = Faker("zh_CN")
    faker.seed_instance(seed)
    return [(faker.name(), faker.phone_number()) for _ in range(n)]


def creation_times(rng: random.Random, *, n: int, first: int, last: int) -> list[int]:
    """`n` instants between the two, sorted, mostly in the day (people report by day)."""
    out = []
    span = last - first
    for _ in range(n):
        at = first + int(rng.random() * span)
        local = _dt(at).astimezone(SHANGHAI)
        # Night reports are rare: move most of them into the day.
        if (local.hour < 7 or local.hour >= 22) and rng.random() < 0.8:
            at += int(rng.uniform(8, 14) * 3_600_000_000)
        out.append(min(at, last))
    out.sort()
    return out


# --- the two uses -----------------------------------------------------------------------------


# Id strides of the parts of a generation run in parallel (cases_generate's `part`).
CASE_STRIDE, ROW_STRIDE = 10_000_000, 100_000_000


def cases_generate(
    *,
    n: int,
    seed: int = 411381,
    now: datetime.datetime | None = None,
    batch: int = 20_000,
    showcase: list | None = None,
    focus: tuple[str, float] | None = None,
    progress=None,
    part: tuple[int, int] = (0, 1),
    staff: Staff | None = None,
    spots: list[Spot] | None = None,
) -> dict:
    """Write `n` cases raised over the two years before `now`, spread over the households, plus
    the `showcase` cases (demo_showcase). `focus` (path prefix, share) sends that share of them
    to one place (the demo users' community). Returns the counts written.

    `part` (k, parts) writes only the cases raised on the local days whose ordinal is k modulo
    `parts`, with ids in a range of their own: the parts of one run can go in parallel, each
    in its own process and transaction (a day's numbers stay in one part), and together write
    what `parts` = 1 would draw with the same seed, up to the ids."""
    now = now or timezone.now()
    staff = staff or staff_read()
    spots = spots if spots is not None else spots_read()
    if not spots:
        return {"cases": 0, "events": 0, "cards": 0}
    k, parts = part
    gen = CaseGenerator(now=now, seed=seed, staff=staff, spots=spots)
    gen.reserve()
    rng = gen.rng
    focused = spots_read(path_prefix=focus[0]) if focus else []
    times = creation_times(rng, n=n, first=gen.first, last=gen.now - 60_000_000)
    if parts > 1:
        gen.next_id["case"] += k * CASE_STRIDE
        gen.next_id["event"] += k * ROW_STRIDE
        gen.next_id["card"] += k * ROW_STRIDE
        times = [t for t in times if gen.cal.local_date(t).toordinal() % parts == k]
        rng = gen.rng = random.Random(seed * 1000 + k)
    totals = defaultdict(int)
    pending = []

    def flush():
        if not pending:
            return
        for key, v in gen.write(pending).items():
            totals[key] += v
        pending.clear()
        if progress:
            progress(totals["cases"])

    for created in times:
        spot = rng.choice(focused if focused and rng.random() < focus[1] else spots)
        r = rng.random()
        source = INCIDENT if r < 0.55 else HOTLINE
        pending.append(gen.make(created=created, spot=spot, item=gen.pick_item(), source=source))
        if len(pending) >= batch:
            flush()
    for show in showcase or ():
        at = _us(now - show.pop("ago"))
        pending.append(gen.make(created=at, **show))
    flush()
    gen.finish()
    if parts == 1:
        cases_analyze()
    return dict(totals)


def sequences_past() -> None:
    """Move the id sequences past the rows there (written with explicit ids)."""
    with connection.cursor() as cursor:
        for table in ("cases_case", "cases_caseevent", "cases_card"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )


def cases_analyze() -> None:
    with connection.cursor() as cursor:
        for table in ("cases_case", "cases_caseevent", "cases_card", "cases_casecounter"):
            cursor.execute(f"ANALYZE {table}")


def demo_showcase(*, now: datetime.datetime) -> list[dict]:
    """The cases the demo logins meet at once: in the demo grid worker's grid, open in each
    status and some past their limits (cards); some dispatched to the demo department (城管局);
    the demo resident's own requests in every state, rated and not."""
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=_DEMO_USERNAMES)}
    worker = users.get("grid_worker")
    resident = users.get("resident")
    if worker is None:
        return []
    grid_code = worker.role_assignments.values_list("unit_code", flat=True).first()
    items = {
        i.code: i
        for i in IncidentCategory.objects.filter(parent__isnull=False, active=True).select_related(
            "parent"
        )
    }
    grid_items = [items[c] for c in ("0201", "0503", "0301", "0404") if c in items]
    bureau_items = [items[c] for c in ("0501", "0504", "0505", "0602") if c in items]
    grid_spots = spots_read(path_prefix=_path_of(grid_code))
    show = []
    if not grid_spots:
        return show
    rng = random.Random(7)
    statuses = [
        (Status.REPORTED, 2),
        (Status.DISPATCHED, 4),
        (Status.ACCEPTED, 4),
        (Status.HANDLED, 2),
        (Status.VERIFIED, 1),
    ]
    for status, count in statuses:
        for k in range(count):
            show.append(
                {
                    "spot": rng.choice(grid_spots),
                    "item": grid_items[k % len(grid_items)],
                    "source": Source.INCIDENT,
                    "plan": Plan(stop_at=status, late=0.5 if k % 2 else 0.0),
                    "ago": timedelta(days=1 + 2 * k, hours=3),
                }
            )
    for k, status in enumerate((Status.DISPATCHED,) * 3 + (Status.ACCEPTED,) * 2):
        show.append(
            {
                "spot": rng.choice(grid_spots),
                "item": bureau_items[k % len(bureau_items)],
                "source": Source.HOTLINE,
                "plan": Plan(stop_at=status, late=0.5 if k % 2 else 0.0),
                "ago": timedelta(days=1 + 2 * k, hours=5),
            }
        )
    if resident is not None:
        home = resident.role_assignments.values_list("unit_code", flat=True).first()
        home_spots = spots_read(path_prefix=_path_of(home)) or grid_spots
        mine = [
            (Status.REPORTED, timedelta(hours=2), True),
            (Status.DISPATCHED, timedelta(days=1), True),
            (Status.ACCEPTED, timedelta(days=4), True),
            (Status.VERIFIED, timedelta(days=12), False),
            (Status.VERIFIED, timedelta(days=20), False),
            (None, timedelta(days=40), True),
            (None, timedelta(days=90), True),
            (None, timedelta(days=200), False),
        ]
        for k, (status, ago, rated) in enumerate(mine):
            show.append(
                {
                    "spot": rng.choice(home_spots),
                    "item": grid_items[k % len(grid_items)],
                    "source": Source.RESIDENT,
                    "reporter": resident.pk,
                    "plan": Plan(stop_at=status, rated=rated, late=0.0),
                    "ago": ago,
                }
            )
    return show


_DEMO_USERNAMES = ("grid_worker", "resident", "department")


def _path_of(code: str | None) -> str:
    if not code:
        return "\0"  # matches nothing
    path = Unit.objects.current().filter(code=code).values_list("path", flat=True).first()
    return path or "\0"


DEMO_CASES = 3000


@transaction.atomic
def demo_cases_create(*, n: int = DEMO_CASES, seed: int = 411381, now=None) -> dict:
    """The demo's cases, once: none if the database has any. Staff for every grid, village,
    township and department first; then `n` cases over two years, a tenth of them in the demo
    logins' community (its public page has published cases), and the showcase; then the cards
    the open cases have earned by now, as the minute sweep records them."""
    if Case.objects.exists():
        return {}
    from cases.services import cards_record

    now = now or timezone.now()
    staff_ensure(prefix="demo")
    community = (
        RoleAssignment.objects.filter(user__username="officer", role=RoleChoices.VILLAGE_OFFICER)
        .values_list("unit_code", flat=True)
        .first()
    )
    focus = (_path_of(community), 0.1) if community else None
    figures = cases_generate(n=n, seed=seed, now=now, showcase=demo_showcase(now=now), focus=focus)
    figures["cards"] = figures.get("cards", 0) + len(cards_record(now=now))
    return figures
