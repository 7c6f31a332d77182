"""Reads for the case flow: the working calendar, the catalogue's terms and the departments,
and the cases, scoped to who may see them (a 404 outside)."""

import datetime
import hashlib
import hmac
from dataclasses import dataclass, replace

from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.gis.geos import Point
from django.db import connection
from django.db.models import Count, F, JSONField, OuterRef, Prefetch, Q, Subquery
from django.http import Http404

from core.api_errors import Problem
from patrols.models import IncidentCategory
from territory.codes import CODE_LENGTH, Level
from territory.models import RoleAssignment, RoleChoices, Unit, subtree_q
from territory.selectors import jurisdiction_for

from . import catalogue, flow
from .flow import Status, Step
from .models import (
    Card,
    Case,
    CaseEvent,
    CasePhoto,
    Department,
    DepartmentArea,
    HotlineCaller,
    Responsible,
    ServiceTerms,
    Source,
    WorkingDayOverride,
    default_yellow_share,
)
from .working_time import DEFAULT_OFFICE_HOURS, WorkingCalendar, package_knows


def working_calendar(*, office_hours=DEFAULT_OFFICE_HOURS) -> WorkingCalendar:
    """The calendar the deadlines are computed on: the package, with the admin's overrides
    (WorkingDayOverride) winning. A year the package does not know counts as known once its
    New Year's Day row is in the table (the schedule is typed in from the State Council's
    notice, which always starts with it); until then its deadlines are flagged as estimated."""
    overrides = dict(WorkingDayOverride.objects.values_list("date", "is_workday"))
    known_years = {
        day.year
        for day in overrides
        if day.month == 1 and day.day == 1 and not package_knows(day.year)
    }
    return WorkingCalendar(office_hours=office_hours, overrides=overrides, known_years=known_years)


# --- The service catalogue's terms and the departments ---------------------------------------


def service_terms_for(*, item) -> catalogue.Terms:
    """The terms an item's cases run on: its row in the admin, any step it lacks (a step added
    to the flow after the terms were typed in) or an item with no row yet on the seed's
    fallback, so a case always has a limit. Inactive terms count as none."""
    row = ServiceTerms.objects.filter(item=item, active=True).prefetch_related("limits").first()
    if row is None:
        return replace(catalogue.FALLBACK, yellow_share=default_yellow_share())
    limits = dict(catalogue.FALLBACK.limits)
    limits.update({Step(limit.step): (limit.amount, limit.unit) for limit in row.limits.all()})
    return catalogue.Terms(
        responsible=row.responsible,
        limits=limits,
        auto_case=row.auto_case,
        public=row.public,
        yellow_share=row.effective_yellow_share,
    )


def departments_for(*, item, point_or_unit) -> list[Department]:
    """The active departments that handle `item` (directly or through its category) where it
    happened, the most specific area first: a township's station before the county bureau, then
    by code. `point_or_unit` is a Point (WGS84), a Unit or a unit code; a place in no current
    unit, or outside every department's county, gets none."""
    depth = _depth_of_codes(point_or_unit)
    if not depth:
        return []
    handled = [item.pk] + ([item.parent_id] if item.parent_id else [])
    areas = (
        DepartmentArea.objects.filter(
            unit_code__in=depth,
            department__active=True,
            department__county_code__in=depth,
            department__items__in=handled,
        )
        .select_related("department")
        .distinct()
    )
    best: dict[int, tuple[int, Department]] = {}
    for area in areas:
        d = depth[area.unit_code]
        if area.department_id not in best or d > best[area.department_id][0]:
            best[area.department_id] = (d, area.department)
    ranked = sorted(best.values(), key=lambda pair: (-pair[0], pair[1].code))
    return [department for _, department in ranked]


def _depth_of_codes(point_or_unit) -> dict[str, int]:
    """The codes of the units a place lies in, each with its depth in the tree (root 0)."""
    if isinstance(point_or_unit, Point):
        paths = Unit.objects.current().containing(point_or_unit).values_list("path", flat=True)
    elif isinstance(point_or_unit, Unit):
        # The path is the database's (a trigger sets it): an instance just created lacks it.
        paths = [point_or_unit.path] if point_or_unit.path else _paths(pk=point_or_unit.pk)
    else:
        paths = _paths(code=point_or_unit, valid_to__isnull=True)
    return {code: i for path in paths for i, code in enumerate(path.split("/"))}


def _paths(**lookup) -> list[str]:
    return list(Unit.objects.filter(**lookup).values_list("path", flat=True)[:1])


# --- Cases: who sees which, and what a user is to a case ---------------------------------------
# Seen by: the station and the centre above the place (commanders, village officers), the grid's
# workers (their grids' cases), the department a case is dispatched or escalated to, whoever it
# is assigned to (a volunteer's small service order), and the reporter (a resident's own).
# Anything else is a 404: nobody learns that a case exists outside their reach.


def _case_paths(j) -> tuple[str, ...]:
    # DIVIDES_GRIDS is the station and the centre (commander, village officer), PATROLS the
    # grid's workers: together the territorial roles that see a place's cases.
    return tuple(sorted(set(j.division_paths) | set(j.patrol_paths)))


def department_ids(*, user) -> list[int]:
    """The active departments `user` is a member of, asked once per request: kept on the user
    object as territory.selectors.jurisdiction_for keeps its answer."""
    cached = getattr(user, "_wangge_case_departments", None)
    if cached is None:
        cached = list(
            Department.objects.filter(members=user, active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        user._wangge_case_departments = cached
    return cached


def _reach(user) -> Q:
    j = jurisdiction_for(user=user)
    reach = subtree_q("territory_path", _case_paths(j)) | Q(assignee=user) | Q(reporter=user)
    # The user's departments as values, not a subquery: inside the OR a subquery stops the
    # planner from combining the indexes, and the list's count scanned every case
    # (bench/cases.py; cases/tests/test_selectors_plan.py).
    departments = department_ids(user=user)
    if departments:
        reach |= Q(department__in=departments)
    return reach


def visible_cases(*, user):
    """The cases a user may see, bare (no joins): also the base of the row lock of an action."""
    if not user or not user.is_authenticated:
        return Case.objects.none()
    if jurisdiction_for(user=user).everything:
        return Case.objects.all()
    return Case.objects.filter(_reach(user))


def cases_for_user(*, user):
    """The cases a user may see, with what a list shows (item, grid, assignee, department)."""
    return (
        visible_cases(user=user)
        # Not the reporter (no list shows them), and the grids fetched apart: the planner's
        # work grows with every relation joined, and at six it spent 19 ms choosing the join
        # order of a query that ran in 1 ms (bench/cases.py); two small queries cost less.
        .select_related("item", "item__parent", "assignee", "department")
        .prefetch_related(
            Prefetch("grid", queryset=Unit.objects.defer("boundary")),
            Prefetch("micro_grid", queryset=Unit.objects.defer("boundary")),
        )
    )


def case_for_user(*, user, pk, now: datetime.datetime | None = None) -> Case:
    """One case the user may see (404 otherwise); given `now`, it carries its `card` then
    (models.card_conditions)."""
    cases = cases_for_user(user=user)
    if now is not None:
        cases = cases.with_card(now)
    case = cases.filter(pk=pk).first() if _is_int(pk) else None
    if case is None:
        raise Http404("no such case in your reach")
    case._seen_by = user.pk  # fetched within this user's reach: case_history need not ask again
    return case


def _is_int(value) -> bool:
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return True


def case_history(*, user, case) -> list[CaseEvent]:
    """The events of a case the user may see, in order (404 when they may not see the case).
    A case this user got from case_for_user is in their reach already: not checked twice."""
    seen = getattr(case, "_seen_by", None) == user.pk
    if not seen and not visible_cases(user=user).filter(pk=case.pk).exists():
        raise Http404("no such case in your reach")
    return list(
        CaseEvent.objects.filter(case=case)
        .select_related("actor")
        .prefetch_related("photos")
        .order_by("seq")
    )


@dataclass(frozen=True)
class Standing:
    """What a user is to one case: the flow roles they may act in on it (cases.flow), whether
    they are the county centre (评哨), and whether they see its contact in clear."""

    roles: frozenset
    county_centre: bool = False
    sees_contact: bool = False


def _is_county_path(path: str) -> bool:
    # A city's or county's path ends with its 6-digit code; below, codes are longer.
    return len(path.rsplit("/", 1)[-1]) == CODE_LENGTH[Level.COUNTY]


def county_of(path: str) -> str:
    """The county code in a territory path (the deepest 6-digit code; a city's comes first)."""
    counties = [code for code in path.split("/") if len(code) == CODE_LENGTH[Level.COUNTY]]
    return counties[-1] if counties else ""


def standing(*, user, case: Case) -> Standing:
    j = jurisdiction_for(user=user)
    if j.everything:
        return Standing(frozenset(RoleChoices.values), county_centre=True, sees_contact=True)
    path = case.territory_path
    roles = set()
    if j.covers(path, j.territory_edit_paths):
        roles.add(RoleChoices.COMMANDER)
    # division_paths are the commanders' and the officers' subtrees; the flow gives both the
    # same rights (the station), so a user holding both needs no finer split.
    if RoleChoices.VILLAGE_OFFICER in j.roles and j.covers(path, j.division_paths):
        roles.add(RoleChoices.VILLAGE_OFFICER)
    member = case.department_id is not None and (
        Department.objects.filter(pk=case.department_id, members=user).exists()
    )
    if member:
        roles.add(RoleChoices.DEPARTMENT_STAFF)
    assigned = case.assignee_id is not None and case.assignee_id == user.pk
    if assigned:
        # Dispatched to them: they work it in the handler roles they hold.
        roles |= set(j.roles) & set(flow.HANDLERS)
    reporter = case.reporter_id is not None and case.reporter_id == user.pk
    if reporter and case.source == Source.RESIDENT:
        roles.add(RoleChoices.RESIDENT)
    county_centre = RoleChoices.COMMANDER in roles and any(
        _is_county_path(p) and j.covers(path, (p,)) for p in j.territory_edit_paths
    )
    sees_contact = reporter or assigned or member or j.covers(path, j.personal_paths)
    return Standing(frozenset(roles), county_centre=county_centre, sees_contact=sees_contact)


def allowed_actions_for(*, user, case: Case) -> list[str]:
    """The case page's buttons: the actions the flow allows in the case's state to any role the
    user holds on this case (the county centre alone rates an escalation)."""
    me = standing(user=user, case=case)
    actions = []
    for role in sorted(me.roles):
        for action in flow.allowed_actions(case.state, role):
            if action == flow.Action.RATE_ESCALATION and not me.county_centre:
                continue
            if action not in actions:
                actions.append(action)
    order = list(flow.TRANSITIONS)
    return [str(a.value) for a in sorted(actions, key=order.index)]


def contact_shown(*, user):
    """A test `case -> bool`: does `user` see the case's contact (name, phone) in clear? Those
    who see personal data there (territory.roles.SEES_PERSONAL_DATA), the reporter, the
    assignee and the department holding it; masked for everyone else. One query for a whole
    list (the user's departments)."""
    j = jurisdiction_for(user=user)
    if j.everything:
        return lambda case: True
    departments = set(department_ids(user=user))

    def shown(case) -> bool:
        return (
            user.pk in (case.reporter_id, case.assignee_id)
            or (case.department_id is not None and case.department_id in departments)
            or j.covers(case.territory_path, j.personal_paths)
        )

    return shown


# --- The public disclosure of cases (晒单 pages and feed, Open311 GET requests) ----------------


def _last_event(*, action=None):
    events = CaseEvent.objects.filter(case=OuterRef("pk"))
    if action is not None:
        events = events.filter(action=action)
    return events.order_by("-seq")


def public_case_rows(
    *,
    unit: Unit,
    numbers=(),
    item_codes=(),
    start: datetime.datetime | None = None,
    end: datetime.datetime | None = None,
    statuses=None,
):
    """The cases of every source placed at or below `unit` whose item is publicly disclosed
    (ServiceTerms.public: a cult or a family dispute never shows), newest first, as one
    query whatever is sliced from it. `numbers` (case numbers) overrides every other filter.
    Each row carries `grid_spot` (a point of its grid's surface: the public never sees the
    exact place), `last_event_at` and `last_event_fields` (the last action's), `verified_at`
    (when the result was last confirmed), `published_at` and `result_note` (the note of the
    last handling: staff's words, still to be scrubbed by the caller); the item, its category,
    the grid and the department come joined. The caller shows only public fields."""
    cases = Case.objects.filter(subtree_q("territory_path", [unit.path]), item__terms__public=True)
    if numbers:
        cases = cases.filter(number__in=list(numbers))
    else:
        if item_codes:
            cases = cases.filter(item__code__in=list(item_codes))
        if start is not None:
            cases = cases.filter(created_at__gte=start)
        if end is not None:
            cases = cases.filter(created_at__lte=end)
        if statuses is not None:
            cases = cases.filter(status__in=list(statuses))
    last = _last_event()
    return (
        cases.select_related("item", "item__parent", "department", "grid")
        .only(
            "number",
            "status",
            "description",
            "satisfaction",
            "territory_path",
            "created_at",
            "due_at",
            "item",
            "department",
            "grid",
            "item__code",
            "item__name",
            "item__name_en",
            "item__parent__code",
            "item__parent__name",
            "item__parent__name_en",
            "department__name",
            "grid__code",
            "grid__name",
            "grid__name_en",
        )
        .annotate(
            grid_spot=PointOnSurface("grid__boundary"),
            last_event_at=Subquery(last.values("at")[:1]),
            last_event_fields=Subquery(last.values("fields")[:1], output_field=JSONField()),
            # By action, not status: the resident's rating keeps a case verified, later.
            verified_at=Subquery(_last_event(action=flow.Action.VERIFY).values("at")[:1]),
            published_at=Subquery(_last_event(action=flow.Action.PUBLISH).values("at")[:1]),
            result_note=Subquery(_last_event(action=flow.Action.HANDLE).values("note")[:1]),
        )
        .order_by("-created_at", "-id")
    )


def public_cases(*, county: Unit, limit: int = 1000, **filters) -> list[Case]:
    """A county's publicly disclosed cases (public_case_rows), at most `limit`, in one query."""
    return list(public_case_rows(unit=county, **filters)[:limit])


# Levels whose public page lists their cases: a village or community, and the township and the
# county above it (their villages named on each case).
PUBLIC_LEVELS = (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)


def public_unit(*, code: str) -> Unit:
    """The current county, township or village of `code`, for its public page (404 otherwise)."""
    unit = (
        Unit.objects.current().filter(code=code, level__in=PUBLIC_LEVELS).defer("boundary").first()
        if isinstance(code, str) and code.isdigit()
        else None
    )
    if unit is None:
        raise Http404("no such village, township or county")
    return unit


def public_published(*, unit: Unit):
    """The 晒单: the published cases at or below `unit` (public_case_rows)."""
    return public_case_rows(unit=unit, statuses=[Status.PUBLISHED])


def public_grid_counts(*, unit: Unit) -> list[dict]:
    """The grids at or below `unit` with their number of published cases: the current grids,
    and any older grid version a published case was placed in whose code is no longer current
    (a re-division), so that every case is counted on a polygon. Each row: code, name,
    name_en, cases, boundary (WGS84). Two queries whatever the number of grids."""
    counted = dict(
        public_published(unit=unit)
        .order_by()
        .values("grid__code")
        .annotate(n=Count("id"))
        .values_list("grid__code", "n")
    )
    current = Unit.objects.current().in_subtree([unit.path]).filter(level=Level.GRID)
    gone = set(counted) - set(current.values_list("code", flat=True))
    grids = Unit.objects.filter(
        Q(pk__in=current.values("pk"))
        | Q(
            pk__in=Unit.objects.filter(code__in=gone, level=Level.GRID)
            .order_by("code", "-valid_from")
            .distinct("code")
            .values("pk")
        )
    ).order_by("code")
    return [
        {
            "code": g.code,
            "name": g.name,
            "name_en": g.name_en,
            "cases": counted.get(g.code, 0),
            "boundary": g.boundary,
        }
        for g in grids.only("code", "name", "name_en", "boundary")
    ]


def public_units_with_cases() -> list[Unit]:
    """The counties, townships and villages holding published cases of disclosed items, in
    code order (the public index), from the paths of those cases: two queries."""
    paths = (
        Case.objects.filter(status=Status.PUBLISHED, item__terms__public=True)
        .order_by()
        .values_list("territory_path", flat=True)
        .distinct()
    )
    wanted = {
        code
        for path in paths
        for code in path.split("/")
        if len(code) in (CODE_LENGTH[Level.COUNTY], CODE_LENGTH[Level.TOWNSHIP])
        or len(code) == CODE_LENGTH[Level.VILLAGE]
    }
    return list(
        Unit.objects.current()
        .filter(code__in=wanted, level__in=PUBLIC_LEVELS)
        .defer("boundary")
        .order_by("path")
    )


def village_names(codes) -> dict[str, Unit]:
    """The current villages of `codes` (code -> unit), in one query."""
    return {
        u.code: u
        for u in Unit.objects.current()
        .filter(code__in=set(codes), level=Level.VILLAGE)
        .only("code", "name", "name_en")
    }


# --- Suggestions: who should take a case, and which cases it may repeat -----------------------


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "user" or "department"
    id: int
    name: str
    role: str = ""  # a user's role there; a department's code


def dispatch_suggestions(*, case: Case) -> list[Suggestion]:
    """Who should take a case, from how its item is handled (ServiceTerms.responsible): the
    grid's own workers for a grid matter, the departments handling the item where it happened
    (most specific area first) for a department matter, the volunteers above the place for a
    small service order. Where the case happened is its fixed grid version, not today's."""
    terms = service_terms_for(item=case.item)
    if terms.responsible == Responsible.DEPARTMENT:
        return [
            Suggestion("department", d.pk, d.name, d.code)
            for d in departments_for(item=case.item, point_or_unit=case.grid)
        ]
    if terms.responsible == Responsible.VOLUNTEER:
        roles = [RoleChoices.VOLUNTEER]
        codes = [c for c in case.territory_path.split("/") if c]
    else:
        roles = [RoleChoices.MICROGRID_WORKER, RoleChoices.GRID_WORKER, RoleChoices.GRID_CHIEF]
        codes = [case.grid.code] + ([case.micro_grid.code] if case.micro_grid_id else [])
    rank = {role: i for i, role in enumerate(roles)}
    assignments = (
        RoleAssignment.objects.filter(role__in=roles, unit_code__in=codes, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    seen, out = set(), []
    # The micro-grid's worker first, then the grid's workers, then its chief; deepest unit first.
    for a in sorted(assignments, key=lambda a: (rank[a.role], -len(a.unit_code))):
        if a.user_id not in seen:
            seen.add(a.user_id)
            out.append(Suggestion("user", a.user_id, display_name(a.user), a.role))
    return out


def display_name(user) -> str:
    return (user.last_name + user.first_name) or user.username


DUPLICATE_METRES = 200
DUPLICATE_DAYS = 7


def duplicate_candidates(
    *, case: Case, metres: float = DUPLICATE_METRES, days: int = DUPLICATE_DAYS, user=None
):
    """Open cases of the same item raised within `days` of this one and `metres` of it (on the
    geography: metres on the ground, not degrees), nearest first; only those `user` may see
    when given. Closed cases (rejected, cancelled, merged) are no merge targets."""
    window = datetime.timedelta(days=days)
    base = visible_cases(user=user) if user is not None else Case.objects.all()
    return (
        base.filter(
            item_id=case.item_id,
            created_at__gte=case.created_at - window,
            created_at__lte=case.created_at + window,
        )
        .exclude(pk=case.pk)
        .exclude(status__in=[Status.REJECTED, Status.CANCELLED, Status.MERGED])
        .extra(
            where=["ST_DWithin(cases_case.point::geography, ST_GeomFromEWKB(%s)::geography, %s)"],
            params=[bytes(case.point.ewkb), float(metres)],
        )
        .annotate(distance_m=_distance_to(case.point))
        .order_by("distance_m", "pk")
    )


def _distance_to(point):
    from django.db.models import FloatField
    from django.db.models.expressions import RawSQL

    return RawSQL(
        "ST_Distance(cases_case.point::geography, ST_GeomFromEWKB(%s)::geography)",
        (bytes(point.ewkb),),
        output_field=FloatField(),
    )


# --- The hotline's caller systems ---------------------------------------------------------------


def hotline_caller_for_key(key: str) -> HotlineCaller | None:
    """The active caller system holding `key`, or None. The row is found by the key's first
    characters; the key itself is compared as SHA-256 digests in constant time."""
    if not isinstance(key, str) or len(key) < KEY_PREFIX_LENGTH or len(key) > 200:
        return None
    caller = HotlineCaller.objects.filter(key_prefix=key[:KEY_PREFIX_LENGTH], active=True).first()
    if caller is None:
        return None
    if not hmac.compare_digest(key_digest(key), caller.key_hash):
        return None
    return caller


KEY_PREFIX_LENGTH = 12


def key_digest(key: str) -> str:
    # Keys are 256 random bits: a plain digest cannot be brute-forced, unlike a password.
    return hashlib.sha256(key.encode()).hexdigest()


# --- The case desk (cases/views/desk.py) -------------------------------------------------------


def may_use_case_desk(*, user) -> bool:
    """The desk is for staff: every role but the resident's (who has "my requests")."""
    j = jurisdiction_for(user=user)
    return j.everything or bool(j.roles - {RoleChoices.RESIDENT})


def case_cards(*, case: Case):
    """The yellow and red cards a case's steps earned, newest first, with who held it then.
    Shown to everyone who may see the case: its holders and their superiors."""
    return Card.objects.filter(case=case).select_related("assignee", "department").order_by("-at")


def departments_of_case_county(*, case: Case):
    """The active departments of the county a case lies in: where the township may escalate."""
    return Department.objects.filter(
        county_code=county_of(case.territory_path), active=True
    ).order_by("code")


# --- photos on case events and a resident's own requests ---------------------------------------


def case_photo_for_user(*, user, case, pk) -> CasePhoto:
    """A photo of a case the user may see (404 otherwise: nobody learns it exists)."""
    photo = (
        CasePhoto.objects.filter(
            pk=pk, event__case_id=case, event__case__in=visible_cases(user=user)
        ).first()
        if _is_int(case) and _is_int(pk)
        else None
    )
    if photo is None:
        raise Http404("no such photo in your reach")
    return photo


def requests_of(*, user):
    """The requests a resident raised themself (群众点单), newest first, each with its events
    and their photos: their "my requests" page."""
    return (
        cases_for_user(user=user)
        .filter(reporter=user, source=Source.RESIDENT)
        .prefetch_related(
            Prefetch(
                "events",
                queryset=CaseEvent.objects.order_by("seq").prefetch_related("photos"),
            )
        )
        .order_by("-created_at", "-id")
    )


def request_catalogue() -> list[tuple[IncidentCategory, list[IncidentCategory]]]:
    """The active categories with their active items, in catalogue order: what a resident
    chooses from."""
    items = IncidentCategory.objects.filter(
        active=True, parent__isnull=False, parent__active=True
    ).select_related("parent")
    grouped: dict = {}
    for item in items.order_by("parent__code", "code"):
        grouped.setdefault(item.parent, []).append(item)
    return list(grouped.items())


# --- Indicators per territory and period (cases.indicators defines them) ----------------------
# One statement per call: the events of the period joined to their cases in the unit's subtree,
# and the cards of the period, each summed per child of the unit (the first code of the case's
# path below the unit's); the unit's own row is the sum of its children's. Working hours come
# from a per-day table passed as one array (cases.indicators.WorkingTable), so no loop over
# cases or days runs in Python or SQL.

_INDICATOR_ACTIONS = ["report", "dispatch", "escalate", "handle", "verify", "rework", "rate"]

# The events of the period in the unit's subtree, summed per child in one pass. `late`: the
# handle's run (started by the event just before it) has a red card due before the handle;
# `red_before`: the verified case earned a red card on a step up to its verification. Both are
# probes of the card table's unique index, made only for the handle and verify rows. The
# working seconds W(t) of an instant (cases.indicators.WorkingTable) are read from two arrays
# indexed by its local day (constants of the statement: no join, no subquery) plus the office
# seconds of that day up to its time.
_INDICATORS_SQL = """
SELECT {key} AS k, 'e' AS part,
       count(*) FILTER (WHERE e.action = 'report'),
       count(*) FILTER (WHERE e.action IN ('dispatch', 'escalate') AND e.seq = 2),
       count(*) FILTER (WHERE e.action = 'dispatch'),
       count(*) FILTER (WHERE e.action = 'handle'),
       count(*) FILTER (WHERE e.action = 'handle' AND NOT EXISTS (
           SELECT 1
             FROM cases_caseevent p
             JOIN cases_card r ON r.case_id = p.case_id AND r.step_started_at = p.at
            WHERE p.case_id = e.case_id AND p.seq = e.seq - 1
              AND r.colour = 'red' AND r.step = 'handle' AND r.at < e.at)),
       count(*) FILTER (WHERE e.action = 'verify'),
       count(*) FILTER (WHERE e.action = 'verify' AND NOT EXISTS (
           SELECT 1 FROM cases_card r
            WHERE r.case_id = e.case_id AND r.colour = 'red' AND r.step <> 'publish'
              AND r.at < e.at)),
       count(*) FILTER (WHERE e.action = 'rework'),
       count(*) FILTER (WHERE e.action = 'rate'),
       coalesce(sum((e.fields ->> 'rating')::int) FILTER (WHERE e.action = 'rate'), 0),
       coalesce(sum({w_at} - {w_created}) FILTER (WHERE e.action = 'handle'), 0)::float8
  FROM cases_caseevent e
  JOIN cases_case c ON c.id = e.case_id
 WHERE e.at >= %(lo)s AND e.at < %(hi)s
   AND e.action = ANY(%(actions)s)
   AND (c.territory_path = %(path)s OR c.territory_path LIKE %(below)s)
 GROUP BY 1
UNION ALL
SELECT {card_key}, 'c',
       count(*) FILTER (WHERE colour = 'red'), count(*) FILTER (WHERE colour = 'yellow'),
       0, 0, 0, 0, 0, 0, 0, 0, 0.0::float8
  FROM cases_card
 WHERE at >= %(lo)s AND at < %(hi)s
   AND (territory_path = %(path)s OR territory_path LIKE %(below)s)
 GROUP BY 1
"""


def _local(instant: str) -> str:
    return f"({instant} AT TIME ZONE %(tz)s)"


def _working_seconds_sql(instant: str, table) -> str:
    """W(instant): the working seconds before its local day, plus the office seconds of that
    day up to its time of day capped by the day's own (0 on a day off). The office periods are
    integers of the calendar's settings, written into the statement; the instant lies within
    the table (the caller clamps it)."""
    local = _local(instant)
    i = f"(({local})::date - %(first)s::date + 1)"
    tod = f"extract(epoch FROM ({local})::time)"
    office = " + ".join(f"greatest(0, least({tod}, {int(c)}) - {int(o)})" for o, c in table.office)
    return f"((%(before)s::float8[])[{i}] + least({office}, (%(work)s::float8[])[{i}]))"


def may_see_indicators(*, user) -> bool:
    """The station and the centre (commanders, village officers) read their territory's
    indicators (territory.roles.DIVIDES_GRIDS gives exactly their subtrees)."""
    if not user or not user.is_authenticated:
        return False
    j = jurisdiction_for(user=user)
    return j.everything or bool(j.division_paths)


def indicator_unit_for(*, user, unit_code=None) -> Unit:
    """The unit whose indicators `user` asks for: `unit_code`, or their own (the widest unit of
    their station or centre). A malformed or unknown code is a 400 (IndicatorError); a unit
    outside their reach a 404."""
    from .indicators import IndicatorError

    j = jurisdiction_for(user=user)
    if not may_see_indicators(user=user):
        raise Http404("no indicators in your reach")
    if unit_code in (None, ""):
        if j.division_paths:
            unit_code = sorted(j.division_paths, key=len)[0].rsplit("/", 1)[-1]
        else:  # a superuser with no unit of their own: the first top of the tree
            top = Unit.objects.current().filter(parent_code="").order_by("code").first()
            if top is None:
                raise IndicatorError([Problem("unit", "required: a territory code")])
            unit_code = top.code
    if not isinstance(unit_code, str) or not unit_code.isdigit() or len(unit_code) > 17:
        raise IndicatorError([Problem("unit", f"a territory code (digits), not {unit_code!r}")])
    unit = (
        Unit.objects.filter(code=unit_code)
        .order_by(F("valid_to").desc(nulls_first=True), "-valid_from")
        .defer("boundary")
        .first()
    )
    if unit is None:
        raise IndicatorError([Problem("unit", f"no territorial unit {unit_code}")])
    if not (j.everything or j.covers(unit.path, j.division_paths)):
        raise Http404("no such unit in your reach")
    return unit


def indicator_statement(
    *, unit: Unit, period, by_child: bool, code_length: int | None = None
) -> tuple[str, dict]:
    """The one statement of case_indicators and its parameters (for EXPLAIN and the bench):
    rows (child code, part, sums in the order of _PARTS[part]). With `code_length` the rows are
    per unit of that code length below `unit` (every grid of a county: 15), not per child
    (division codes extend their parent's, territory.codes)."""
    from . import indicators

    p = period
    table = indicators.table_for(working_calendar(), p)
    lo, hi = p.instants()
    key = f"split_part(substr(c.territory_path, {len(unit.path) + 2}), '/', 1)"
    card_key = f"split_part(substr(territory_path, {len(unit.path) + 2}), '/', 1)"
    if code_length is not None:
        pattern = f"'(?:^|/)([0-9]{{{int(code_length)}}})(?:/|$)'"
        key = f"coalesce(substring(c.territory_path FROM {pattern}), '')"
        card_key = f"coalesce(substring(territory_path FROM {pattern}), '')"
    elif not by_child:
        key = card_key = "''"
    # Reports before the table's first day count from it (indicators.HOURS_LOOKBACK_DAYS).
    created = "greatest(c.created_at, %(floor)s)"
    sql = _INDICATORS_SQL.format(
        key=key,
        card_key=card_key,
        w_at=_working_seconds_sql("e.at", table),
        w_created=_working_seconds_sql(created, table),
    )
    params = {
        "lo": lo,
        "hi": hi,
        "actions": _INDICATOR_ACTIONS,
        "path": unit.path,
        "below": _like_prefix(unit.path) + "/%",
        "tz": str(table.tz),
        "floor": datetime.datetime.combine(table.first, datetime.time(), table.tz),
        "first": table.first,
        "before": list(table.before[:-1]),
        "work": [b - a for a, b in zip(table.before, table.before[1:], strict=False)],
    }
    return sql, params


def case_indicators(*, user, unit_code, start, end, by_child=False):
    """The indicators (cases.indicators) of a unit over the period from `start` to `end`
    (dates, inclusive), as a list of IndicatorRow: the unit first, then with `by_child` one row
    per child unit (current children, and any retired child its cases still name), by code.
    404 for a unit outside the user's reach; 400 (IndicatorError) for a bad period or code.
    A fixed number of queries, whatever the number of cases or units."""
    from . import indicators

    unit = indicator_unit_for(user=user, unit_code=unit_code)
    p = indicators.period(start, end)
    counts = indicator_counts(unit=unit, period=p, by_child=by_child)
    rows = [
        indicators.row(
            unit_code=unit.code,
            unit_name=unit.name,
            level=unit.level,
            counts=indicators.total(counts.values()),
        )
    ]
    if by_child:
        children = {
            u.code: u
            for u in Unit.objects.filter(
                Q(parent_code=unit.code) | Q(code__in=[k for k in counts if k])
            )
            .order_by("code", F("valid_to").desc(nulls_first=True), "-valid_from")
            .distinct("code")
            .defer("boundary")
            if u.code in counts or (u.parent_code == unit.code and u.valid_to is None)
        }
        for code in sorted(set(children) | {k for k in counts if k}):
            child = children.get(code)
            rows.append(
                indicators.row(
                    unit_code=code,
                    unit_name=child.name if child else code,
                    level=child.level if child else "",
                    counts=counts.get(code, indicators.Counts()),
                )
            )
    return rows


def indicator_counts(*, unit: Unit, period, by_child=False, code_length=None) -> dict:
    """The additive sums (cases.indicators.Counts) of indicator_statement, per key: the child
    code, the code of the given length, or '' (what lies directly in the unit). One query."""
    from . import indicators

    sql, params = indicator_statement(
        unit=unit, period=period, by_child=by_child, code_length=code_length
    )
    sums: dict[str, dict[str, float]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for k, part, *values in cursor.fetchall():
            into = sums.setdefault(k, {})
            names = _PARTS[part]
            for name, value in zip(names, values, strict=True):
                if name:
                    into[name] = into.get(name, 0) + (
                        float(value) if name == "handling_seconds" else int(value)
                    )
    return {k: indicators.Counts(**v) for k, v in sums.items()}


_PARTS = {
    "e": (
        "reported",
        "registered",
        "dispatched",
        "handled",
        "handled_on_time",
        "closed",
        "closed_on_time",
        "rework",
        "rated",
        "rating_sum",
        "handling_seconds",
    ),
    "c": ("overdue", "yellow", "", "", "", "", "", "", "", "", ""),
}


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def indicator_units_for(*, user) -> list[Unit]:
    """The units the indicators page offers: the user's own stations and centres and their
    current children (the whole tree's top units and theirs for a superuser), in path order."""
    if not may_see_indicators(user=user):
        return []
    j = jurisdiction_for(user=user)
    if j.everything:
        tops = Unit.objects.current().filter(parent_code="")
    else:
        tops = Unit.objects.current().filter(path__in=j.division_paths)
    top_codes = list(tops.values_list("code", flat=True))
    return list(
        Unit.objects.current()
        .filter(Q(code__in=top_codes) | Q(parent_code__in=top_codes))
        .defer("boundary")
        .order_by("path")
    )
