"""Writes for the case flow: raising a case (a resident, a worker's incident, the 12345 hotline)
and acting on it. One user action, one transaction; a refused action raises CaseError (or a
subclass) inside it and writes nothing.

An action (case_act) locks the case's row, checks that the user may see the case (404), that
the version they read is still the case's (409 stale), then asks cases.flow (409 illegal here,
403 not for this role, 400 something missing), writes the event, moves the step's clock and
calls the notification hook, all in one transaction: of two people acting at once on the same
version, the second waits for the first's commit and is refused, so no transition is lost or
applied twice."""

import datetime
import hashlib
import json
import secrets
from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import coords, photo_store
from core.api_errors import ApiError, Problem
from notifications.models import Channel
from notifications.services import message_enqueue
from patrols import photos
from patrols import selectors as patrol_selectors
from patrols.models import Incident, IncidentCategory
from territory.models import Household, RoleChoices
from territory.selectors import households_for_user, jurisdiction_for, resident_home_for

from . import flow, selectors
from .flow import Action, Field, Status
from .models import (
    Case,
    CaseEvent,
    CasePhoto,
    Department,
    HotlineCaller,
    LimitUnit,
    Source,
    default_yellow_share,
)
from .working_time import SHANGHAI

# A case's description: Open311's limit ("free form text limited to 4,000 characters").
MAX_DESCRIPTION = 4000
MAX_NOTE = 2000  # an action's note or reason
MAX_PHOTOS = 6  # on one action, as on an incident


class CaseError(ApiError):
    """Bad input for a case write, given as field -> message: HTTP 400."""

    def __init__(self, problems: dict[str, str], **kwargs):
        super().__init__([Problem(where, message) for where, message in problems.items()], **kwargs)


class CaseConflict(CaseError):
    """The action is not possible in the case's state, or an order number was reused for
    other content: HTTP 409."""

    status = 409
    code = "conflict"


class StaleCase(CaseError):
    """The case changed since the client read it: HTTP 409 `stale`."""

    status = 409
    code = "stale"


class CaseForbidden(CaseError):
    status = 403
    code = "permission_denied"


class UploadTooLarge(CaseError):
    """A photo, or the photos together, over the upload's limits: HTTP 413."""

    status = 413
    code = "too_large"


@dataclass
class Intake:
    case: Case
    created: bool


# --- the notification hook ---------------------------------------------------------------------


def _notify(case: Case, event: CaseEvent) -> None:
    """Every step tells the resident and whoever now holds the case (Dengzhou: "every step
    sends the resident a text message"), through the outbox, inside the step's transaction:
    the messages exist if and only if the step commits, and a retried delivery carries the
    same key (case, event, person, channel), so nobody gets a step twice.

    The resident: by SMS to the contact phone the case carries, else the reporter's e-mail.
    The holders (the assignee, the members of the department holding it) by e-mail, or in the
    log channel while they have none (the in-app inbox comes with the case desk). Whoever took
    the step is not told of it."""
    topic = f"case:{case.pk}"
    context = {"number": case.number, "status": Status(case.status).label}
    body = _("Case %(number)s: %(status)s.")

    def send(channel: str, who: str, **target) -> None:
        message_enqueue(
            channel=channel,
            key=f"{topic}:event:{event.seq}:{who}:{channel}",
            body=body,
            context=context,
            topic=topic,
            **target,
        )

    told = {event.actor_id}
    if case.contact_phone:
        # The contact is the reporter's phone when a resident reported: in their language.
        language = case.reporter.language if case.reporter_id else None
        send(Channel.SMS, "contact", address=case.contact_phone, language=language or None)
    elif case.reporter is not None and case.reporter_id not in told and case.reporter.email:
        send(Channel.EMAIL, f"user:{case.reporter_id}", recipient=case.reporter)
        told.add(case.reporter_id)
    holders = {}
    if case.assignee_id:
        holders[case.assignee_id] = case.assignee
    if case.department_id:
        holders |= {u.pk: u for u in case.department.members.all()}
    for pk, user in sorted(holders.items()):
        if pk not in told:
            send(Channel.EMAIL if user.email else Channel.LOG, f"user:{pk}", recipient=user)


# --- raising a case ----------------------------------------------------------------------------


def case_report(
    *,
    user,
    item,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = coords.WGS84,
    point: Point | None = None,
    household: int | Household | None = None,
    description: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    source: str | None = None,
    photo_files: list[tuple[str, bytes]] = (),
    now: datetime.datetime | None = None,
) -> Case:
    """A resident's request (群众点单), or a case a worker or the station raises directly:
    at a point (lon/lat in `crs`, or a WGS84 `point`) or at "my home" (a household where the
    user is registered). `photo_files` (name, bytes) go on its report event.
    Where it happened is placed now (territory_place, under the shared placement lock) and
    kept: grid, micro-grid and path of the boundary versions that hold at this instant."""
    now = now or timezone.now()
    item = _item(item)
    description = _description(description)
    processed = _photos(photo_files)
    with photo_store.files_removed_on_failure() as written, transaction.atomic():
        if point is not None:
            if lon is not None or lat is not None or household is not None:
                raise CaseError({"point": "give one place: a point, lon/lat or your home"})
            point = _point(point.x, point.y, coords.WGS84)
        else:
            point = _report_point(user=user, lon=lon, lat=lat, crs=crs, household=household)
        place = _place(point)
        role = _reporter_role(user=user, path=place[2])
        if source is None:
            source = Source.RESIDENT if role == RoleChoices.RESIDENT else Source.INCIDENT
        if source not in (Source.RESIDENT, Source.INCIDENT):
            raise CaseError({"source": "a case is raised here by a resident or a worker"})
        case = Case(
            source=source,
            item=item,
            description=description,
            reporter=user,
            contact_name=_short(contact_name, 50, "contact_name"),
            contact_phone=_short(contact_phone, 20, "contact_phone"),
            point=point,
            grid_id=place[0],
            micro_grid_id=place[1],
            territory_path=place[2],
        )
        case = _open(case, actor=user, now=now)
        _attach(case.events.get(seq=1), processed, written)
        return case


def case_from_incident(*, user, incident) -> Intake:
    """ "Make this a case" on a worker's incident (one tap). Idempotent: an incident has at most
    one case, and asking again (or twice at once) gives the same one. Where it happened is the
    incident's own placement, made when it was logged."""
    pk = getattr(incident, "pk", incident)
    incident = patrol_selectors.incident_for_user(user=user, pk=pk)
    existing = Case.objects.filter(incident=incident).first()
    if existing is not None:
        return Intake(existing, False)
    if incident.grid_id is None:
        raise CaseError({"incident": "this incident lies in no grid"})
    _reporter_role(user=user, path=incident.territory_path, residents=False)
    return _incident_case(incident, actor=user, now=timezone.now())


# Incidents older than this are not made cases by the sweep: an item switched to auto_case
# today does not open cases for last year's incidents.
AUTO_CASE_WINDOW = datetime.timedelta(days=7)
AUTO_CASE_BATCH = 500


def cases_from_auto_incidents(*, now: datetime.datetime | None = None) -> list[Case]:
    """The incidents of an item whose terms say so (ServiceTerms.auto_case: gas, fire, an open
    manhole) become cases by themselves, reported by the worker who logged them. Run every
    minute by the task worker (cases.tasks); running it twice makes no second case."""
    now = now or timezone.now()
    incidents = (
        Incident.objects.filter(
            item__terms__auto_case=True,
            item__terms__active=True,
            case__isnull=True,
            grid__isnull=False,
            created_at__gte=now - AUTO_CASE_WINDOW,
        )
        .select_related("item", "reporter")
        .order_by("created_at")[:AUTO_CASE_BATCH]
    )
    made = []
    for incident in incidents:
        intake = _incident_case(incident, actor=incident.reporter, now=now, auto=True)
        if intake.created:
            made.append(intake.case)
    return made


def _incident_case(incident: Incident, *, actor, now, auto: bool = False) -> Intake:
    case = Case(
        source=Source.INCIDENT,
        item=incident.item,
        description=incident.description,
        reporter=actor,
        point=incident.location,
        grid_id=incident.grid_id,
        micro_grid_id=incident.micro_grid_id,
        territory_path=incident.territory_path,
        incident=incident,
    )
    try:
        with transaction.atomic():
            return Intake(_open(case, actor=actor, now=now, auto=auto), True)
    except IntegrityError:
        # The same incident made a case at the same moment on another connection.
        existing = Case.objects.filter(incident=incident).first()
        if existing is None:
            raise
        return Intake(existing, False)


def case_from_hotline(
    *,
    caller: HotlineCaller,
    order_number: str,
    item,
    lon: float,
    lat: float,
    crs: str = coords.WGS84,
    description: str = "",
    contact_name: str = "",
    contact_phone: str = "",
) -> Intake:
    """A 12345 hotline order, idempotent on the hotline's own order number: sent again with the
    same content it gives the case made the first time; with other content it is a 409."""
    order_number = (order_number or "").strip()
    if not order_number or len(order_number) > 64:
        raise CaseError({"order_number": "the hotline's order number, 1 to 64 characters"})
    item = _item(item)
    description = _description(description)
    point = _point(lon, lat, crs)
    contact_name = _short(contact_name, 50, "contact_name")
    contact_phone = _short(contact_phone, 20, "contact_phone")
    digest = hashlib.sha256(
        json.dumps(
            [
                item.code,
                description,
                round(point.x, 7),
                round(point.y, 7),
                contact_name,
                contact_phone,
            ],
            ensure_ascii=False,
        ).encode()
    ).hexdigest()

    def answer(existing: Case) -> Intake:
        if existing.intake_digest != digest:
            raise CaseConflict(
                {
                    "order_number": f"order {order_number} was sent before with other content "
                    f"(case {existing.number})"
                }
            )
        return Intake(existing, False)

    existing = Case.objects.filter(hotline_caller=caller, hotline_order=order_number).first()
    if existing is not None:
        return answer(existing)
    try:
        with transaction.atomic():
            place = _place(point)
            if selectors.county_of(place[2]) != caller.county_code:
                raise CaseError({"location": "this point lies outside the caller's county"})
            case = Case(
                source=Source.HOTLINE,
                item=item,
                description=description,
                contact_name=contact_name,
                contact_phone=contact_phone,
                point=point,
                grid_id=place[0],
                micro_grid_id=place[1],
                territory_path=place[2],
                hotline_caller=caller,
                hotline_order=order_number,
                intake_digest=digest,
            )
            return Intake(_open(case, actor=None, system=caller.name, now=timezone.now()), True)
    except IntegrityError:
        existing = Case.objects.filter(hotline_caller=caller, hotline_order=order_number).first()
        if existing is None:
            raise
        return answer(existing)


def case_from_open311(
    *,
    client_name: str,
    county_code: str,
    item,
    point: Point,
    description: str = "",
    contact: dict | None = None,
    attributes: dict | None = None,
    details: dict | None = None,
) -> Case:
    """A request an Open311 client posted (open311.adapter): no user, the client system named
    as the reporter in the first event, as the hotline is. The point (WGS84) is placed by the
    one placement rule and must lie in `county_code`. `contact` is the person's name and phone
    (`name`, `phone`: the case's contact, masked like any other); `details` the rest of what
    the client sent about the person (e-mail, device, account, photo, address), kept on the
    case and shown by no API; `attributes` the answers to the service definition.

    Not idempotent: GeoReport v2 has no idempotency key, so a client's retried POST is a
    second case, which the station merges (duplicate_candidates finds it: same item, nearby,
    same days)."""
    item = _item(item)
    description = _description(description)
    contact = contact or {}
    contact_name = _short(contact.get("name", ""), 50, "contact_name")
    contact_phone = _short(contact.get("phone", ""), 20, "contact_phone")
    point = _point(point.x, point.y, coords.WGS84)
    with transaction.atomic():
        place = _place(point)
        if selectors.county_of(place[2]) != county_code:
            raise CaseError({"location": f"this point lies outside jurisdiction {county_code}"})
        case = Case(
            source=Source.OPEN311,
            item=item,
            description=description,
            contact_name=contact_name,
            contact_phone=contact_phone,
            point=point,
            grid_id=place[0],
            micro_grid_id=place[1],
            territory_path=place[2],
            attributes=dict(attributes or {}),
            reporter_details={k: v for k, v in (details or {}).items() if v},
        )
        return _open(case, actor=None, system=client_name, now=timezone.now())


def hotline_caller_create(*, name: str, county_code: str) -> tuple[HotlineCaller, str]:
    """A caller system and its key, which is returned once and never stored."""
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        caller = HotlineCaller.objects.create(
            name=name,
            county_code=county_code,
            key_prefix=key[: selectors.KEY_PREFIX_LENGTH],
            key_hash=selectors.key_digest(key),
        )
    return caller, key


def _open(case: Case, *, actor, now, system: str = "", auto: bool = False) -> Case:
    """Number the case, start its dispatch limit and write its first event (inside the
    caller's transaction)."""
    case.created_at = now
    case.number = _next_number(selectors.county_of(case.territory_path), now)
    case.status = Status.REPORTED
    _start_step(case, flow.STEP_OF_STATUS[Status.REPORTED], now)
    case.save(force_insert=True)
    event = CaseEvent.objects.create(
        case=case,
        seq=1,
        action="report",
        from_status="",
        to_status=Status.REPORTED,
        actor=actor,
        actor_system=system,
        at=now,
        where=case.point,
        note=case.description,
        fields={"source": case.source} | ({"auto": True} if auto else {}),
    )
    _notify(case, event)
    return case


def _next_number(county: str, now: datetime.datetime) -> str:
    """411381-20261201-0007: the county, the local day, the day's sequence. The upsert holds
    the counter's row until the case commits, so two cases never share a number."""
    day = timezone.localtime(now, SHANGHAI).date()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO cases_casecounter (county_code, day, last) VALUES (%s, %s, 1)
            ON CONFLICT (county_code, day)
            DO UPDATE SET last = cases_casecounter.last + 1
            RETURNING last
            """,
            [county, day],
        )
        n = cursor.fetchone()[0]
    return f"{county}-{day:%Y%m%d}-{n:04d}"


def _item(item) -> IncidentCategory:
    if not isinstance(item, IncidentCategory):
        item = IncidentCategory.objects.filter(code=str(item)).select_related("parent").first()
    if item is None or item.parent_id is None or not item.active:
        raise CaseError({"item": "an active item of the catalogue (see /api/incident-categories/)"})
    return item


def _description(text: str) -> str:
    text = (text or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise CaseError({"description": f"at most {MAX_DESCRIPTION} characters"})
    return text


def _short(text: str, limit: int, name: str) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise CaseError({name: f"at most {limit} characters"})
    return text


def _point(lon, lat, crs) -> Point:
    try:
        return Point(*coords.point_to_wgs84(lon, lat, crs), srid=4326)
    except coords.UnknownCRS as exc:
        raise CaseError({"crs": str(exc)}) from exc
    except ValueError as exc:  # CoordinateError
        raise CaseError({"location": str(exc)}) from exc


def _report_point(*, user, lon, lat, crs, household) -> Point:
    if household is not None:
        if lon is not None or lat is not None:
            raise CaseError({"household": "give a point or your home, not both"})
        return _home(user, household).location
    if lon is None or lat is None:
        raise CaseError({"location": "give a point (lon, lat) or your home (household)"})
    return _point(lon, lat, crs)


def _home(user, household) -> Household:
    """'My home': a household the user sees, or for a resident the one their registration
    names (territory.selectors.resident_home_for). Not any household of their grid: the case's
    point is shown to its reporter, so naming a neighbour's id would reveal where they live."""
    pk = getattr(household, "pk", household)
    if not selectors._is_int(pk):
        raise CaseError({"household": "a household id"})
    found = households_for_user(user=user).filter(pk=pk).first()
    if found is None and RoleChoices.RESIDENT in jurisdiction_for(user=user).roles:
        home = resident_home_for(user=user)
        found = home if home is not None and home.pk == int(pk) else None
    if found is None:
        raise CaseError({"household": "not your home, nor a household you may see"})
    return found


def _place(point: Point) -> tuple[int, int | None, str]:
    """(grid id, micro-grid id, path) of `point` by the one placement rule, after the shared
    placement lock (territory_place_shared): a re-division committing meanwhile is seen."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT grid_id, micro_grid_id, path FROM territory_place_shared("
            "ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
            [point.x, point.y],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None:
        raise CaseError({"location": "this point lies in no grid"})
    return row


def _reporter_role(*, user, path: str, residents: bool = True) -> str:
    """The role a user raises a case in at `path`: the centre, the station or the grid's
    worker there; a resident anywhere in the county they are registered in."""
    j = jurisdiction_for(user=user)
    if j.everything or j.covers(path, j.territory_edit_paths):
        return RoleChoices.COMMANDER
    if j.covers(path, j.division_paths):
        return RoleChoices.VILLAGE_OFFICER
    if j.covers(path, j.patrol_paths):
        return RoleChoices.GRID_WORKER
    if residents and RoleChoices.RESIDENT in j.roles:
        counties = {selectors.county_of(p) for p in j.paths}
        if selectors.county_of(path) in counties:
            return RoleChoices.RESIDENT
    raise CaseError({"location": "this place lies outside where you may raise a case"})


# --- acting on a case --------------------------------------------------------------------------


def case_act(
    *,
    user,
    case,
    action: str,
    expected_version: int,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = coords.WGS84,
    photo_files: list[tuple[str, bytes]] = (),
    now: datetime.datetime | None = None,
    **fields,
) -> Case:
    """Take one action of the flow on a case the user may see. `fields` are the action's:
    reason, note, assignee (a user id), department (a department code), duplicate_of (a case
    id), rating (1-5). `lon`/`lat` say where the user acted (optional); `photo_files` (name,
    bytes) go on the action's event (the handler's result), or the action is not taken."""
    now = now or timezone.now()
    pk = getattr(case, "pk", case)
    where = _point(lon, lat, crs) if lon is not None or lat is not None else None
    processed = _photos(photo_files)
    with photo_store.files_removed_on_failure() as written, transaction.atomic():
        case = (
            selectors.visible_cases(user=user).select_for_update().filter(pk=pk).first()
            if selectors._is_int(pk)
            else None
        )
        if case is None:
            raise Http404("no such case in your reach")
        if case.version != expected_version:
            raise StaleCase(
                {
                    "version": f"the case changed since you read it (version {expected_version}, "
                    f"now {case.version}, status '{case.status}'); read it again"
                }
            )
        before = case.state
        try:
            flow.next_state(before, action)
        except flow.IllegalTransition as exc:
            raise CaseConflict({"action": str(exc)}) from exc
        transition = flow.TRANSITIONS[Action(action)]
        me = selectors.standing(user=user, case=case)
        role = _acting_role(me, transition)
        resolved = _resolve(case, transition, user=user, fields=fields)
        try:
            after, _ = flow.take(before, action, role=role, fields=resolved.flow_fields)
        except flow.MissingFields as exc:
            raise CaseError(exc.problems) from exc
        _apply(case, transition, after, resolved, user=user, now=now)
        case.save()
        seq = (case.events.aggregate(n=Max("seq"))["n"] or 0) + 1
        event = CaseEvent.objects.create(
            case=case,
            seq=seq,
            action=transition.action,
            from_status=before.status,
            to_status=after.status,
            actor=user,
            at=now,
            where=where,
            note=(fields.get("note") or "").strip()[:MAX_NOTE],
            fields=resolved.recorded,
        )
        _attach(event, processed, written)
        _notify(case, event)
    return case


# --- photos on an action -----------------------------------------------------------------------


def _photos(files) -> list[photos.Photo]:
    """Every photo checked and re-encoded (patrols.photos: decoded, metadata dropped) before
    any lock is taken or row written; one bad file refuses the whole action."""
    files = list(files or ())
    if len(files) > MAX_PHOTOS:
        raise CaseError({"photos": f"at most {MAX_PHOTOS} photos"})
    if not files:
        return []
    try:
        headers = photos.check(files)
        return [
            photos.process(data, name=name, header=header)
            for (name, data), header in zip(files, headers, strict=True)
        ]
    except photos.PhotoError as exc:
        raise CaseError({"photos": str(exc)}) from exc


def _attach(event: CaseEvent, processed: list[photos.Photo], written: list) -> None:
    """The photos' files and rows, inside the action's transaction (a photo sent twice in one
    action is kept once)."""
    seen = set()
    for photo in processed:
        if photo.sha256 in seen:
            continue
        seen.add(photo.sha256)
        record = CasePhoto(
            event=event,
            n=len(seen),
            sha256=photo.sha256,
            size=len(photo.jpeg),
            content_type="image/jpeg",
            width=photo.width,
            height=photo.height,
            original_format=photo.original_format,
        )
        photo_store.store(record.image, "photo.jpg", photo.jpeg, written)
        record.save(force_insert=True)


def _acting_role(me: selectors.Standing, transition: flow.Transition) -> str:
    for role in sorted(transition.roles):
        if role in me.roles:
            if transition.action == Action.RATE_ESCALATION and not me.county_centre:
                continue
            return role
    who = ", ".join(sorted(str(r) for r in transition.roles))
    if transition.action == Action.RATE_ESCALATION:
        who = "the county centre (a county commander)"
    raise CaseForbidden(
        {"action": f"you may not '{transition.action.value}' this case; only: {who}"},
    )


@dataclass
class _Resolved:
    flow_fields: dict
    recorded: dict
    assignee: object = None
    department: Department | None = None
    duplicate_of: Case | None = None


def _resolve(case: Case, transition: flow.Transition, *, user, fields: dict) -> _Resolved:
    """The action's fields as objects: who it is assigned to, which department, which case it
    repeats. Unknown names are a 400; what the action does not need is ignored."""
    needs = transition.required
    out = _Resolved(flow_fields={}, recorded={})
    for name in (Field.REASON, Field.NOTE):
        value = fields.get(name)
        if value is not None:
            if not isinstance(value, str) or len(value) > MAX_NOTE:
                raise CaseError({name: f"text of at most {MAX_NOTE} characters"})
            out.flow_fields[name] = value
            if name == Field.REASON and name in needs:
                out.recorded["reason"] = value.strip()
    if Field.RATING in needs:
        out.flow_fields[Field.RATING] = fields.get("rating")
        out.recorded["rating"] = fields.get("rating")
    if Field.ASSIGNEE in needs:
        if fields.get("assignee") is not None:
            out.assignee = _assignee(case, fields["assignee"])
            out.flow_fields[Field.ASSIGNEE] = out.assignee.pk
            out.recorded["assignee"] = out.assignee.username
        if fields.get("department") is not None:
            out.department = _department(case, fields["department"])
            out.flow_fields[Field.ASSIGNEE] = out.department.code
            out.recorded["department"] = out.department.code
    if Field.DEPARTMENT in needs and fields.get("department") is not None:
        out.department = _department(case, fields["department"])
        out.flow_fields[Field.DEPARTMENT] = out.department.code
        out.recorded["department"] = out.department.code
    if Field.DUPLICATE_OF in needs and fields.get("duplicate_of") is not None:
        out.duplicate_of = _duplicate_of(case, fields["duplicate_of"], user=user)
        out.flow_fields[Field.DUPLICATE_OF] = out.duplicate_of.pk
        out.recorded["duplicate_of"] = out.duplicate_of.number
    return out


def _assignee(case: Case, value):
    from django.contrib.auth import get_user_model

    candidate = (
        get_user_model().objects.filter(pk=value, is_active=True).first()
        if selectors._is_int(value) and not isinstance(value, bool)
        else None
    )
    if candidate is not None:
        j = jurisdiction_for(user=candidate)
        handles = set(j.roles) & set(flow.HANDLERS)
        if handles and (j.everything or j.covers(case.territory_path, j.paths)):
            return candidate
    raise CaseError({"assignee": "no worker, volunteer or department staff who serves there"})


def _department(case: Case, code) -> Department:
    department = (
        Department.objects.filter(
            code=str(code), active=True, county_code=selectors.county_of(case.territory_path)
        ).first()
        if isinstance(code, str | int) and not isinstance(code, bool)
        else None
    )
    if department is None:
        raise CaseError({"department": "no active department of this county with that code"})
    return department


def _duplicate_of(case: Case, value, *, user) -> Case:
    other = (
        selectors.visible_cases(user=user).filter(pk=value).first()
        if selectors._is_int(value) and not isinstance(value, bool)
        else None
    )
    if other is None or other.pk == case.pk:
        raise CaseError({"duplicate_of": "another case you can see"})
    if other.status in (Status.MERGED, Status.CANCELLED, Status.REJECTED):
        raise CaseError({"duplicate_of": f"case {other.number} is closed ('{other.status}')"})
    return other


def _apply(case: Case, transition, after: flow.CaseState, resolved: _Resolved, *, user, now):
    action = transition.action
    if action in (Action.DISPATCH, Action.REASSIGN):
        case.assignee, case.department = resolved.assignee, resolved.department
    elif action == Action.DECLINE:
        case.assignee, case.department = None, None
    elif action == Action.ESCALATE:
        case.assignee, case.department = None, resolved.department
    elif action == Action.ACKNOWLEDGE or (action == Action.ACCEPT and case.assignee_id is None):
        # A case sent to a department is held by the member who reported in or accepted it.
        case.assignee = user
    elif action == Action.MERGE:
        case.duplicate_of = resolved.duplicate_of
    elif action == Action.RATE:
        case.satisfaction = resolved.flow_fields[Field.RATING]
    elif action == Action.RATE_ESCALATION:
        case.whistle_rating = resolved.flow_fields[Field.RATING]
    case.status, case.whistle = after.status, after.whistle
    if transition.starts is not None:
        _start_step(case, transition.starts, now)
    elif after.status in flow.TERMINAL:
        case.step, case.step_started_at, case.due_at, case.yellow_at = "", None, None, None
        case.estimated = False


def _start_step(case: Case, step, now) -> None:
    """Start the limit of `step` now: its deadline and its yellow card's instant on the
    working calendar, from the item's terms."""
    calendar = selectors.working_calendar()
    terms = selectors.service_terms_for(item=case.item)
    amount, unit = terms.limits[step]
    if unit == LimitUnit.WORKING_HOURS:
        deadline = calendar.add_working_hours(now, amount)
    else:
        deadline = calendar.add_working_days(now, amount)
    share = terms.yellow_share if terms.yellow_share is not None else default_yellow_share()
    yellow = calendar.warning_at(calendar.clock_start(now), deadline.at, share)
    case.step, case.step_started_at = step, now
    case.due_at, case.yellow_at = deadline.at, yellow.at
    case.estimated = deadline.estimated or yellow.estimated


# --- yellow and red cards ----------------------------------------------------------------------

# One statement for every open case: a step past its yellow instant earns a yellow card, past
# its deadline a red one; the unique (case, step run, colour) makes a second sweep, or two
# workers sweeping at once, add nothing. The open statuses are named (not "not closed") so that
# the (status, due_at) index finds the few open cases among a county's million
# (bench/cases.py; cases/tests/test_cards_plan.py).
_CARDS_SQL = """
INSERT INTO cases_card (case_id, colour, step, step_started_at, at, recorded_at,
                        assignee_id, department_id, territory_path)
SELECT c.id, v.colour, c.step, c.step_started_at, v.at, %(now)s,
       c.assignee_id, c.department_id, c.territory_path
  FROM cases_case c
 CROSS JOIN LATERAL (VALUES ('yellow', c.yellow_at), ('red', c.due_at)) AS v(colour, at)
 WHERE c.step <> '' AND c.step_started_at IS NOT NULL AND c.status = ANY(%(open)s)
   AND v.at IS NOT NULL AND v.at <= %(now)s
ON CONFLICT (case_id, step_started_at, colour) DO NOTHING
RETURNING id
"""


OPEN_STATUSES = sorted(set(Status.values) - set(flow.TERMINAL))


@transaction.atomic
def cards_record(*, now: datetime.datetime | None = None) -> list[int]:
    """Records the cards the open cases' running steps have earned by `now`; the ids of the
    new ones (none on a second run)."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_CARDS_SQL, {"now": now, "open": OPEN_STATUSES})
        return [row[0] for row in cursor.fetchall()]
