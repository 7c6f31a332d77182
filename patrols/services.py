"""Writes for patrols. One user action, one transaction; bad input raises PatrolError and
writes nothing. A worker writes only within the grids they patrol."""

import contextlib
import datetime
import logging
import uuid
from dataclasses import dataclass, field

import numpy as np
import psycopg
from django.contrib.gis.geos import LineString, Point
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core import coords, photo_store
from core.api_errors import ApiError, Problem
from territory.codes import Level
from territory.models import Unit
from territory.services import to_geos

from . import photos, selectors, tracks
from .models import (
    Incident,
    IncidentPhoto,
    RoadSegment,
    Track,
    TrackFix,
    Visit,
)

MAX_PHOTOS = 6
MAX_FIXES = 20_000
VISIT_RADIUS_M = 30.0
VISIT_MIN_STAY = datetime.timedelta(minutes=3)
SEVERITIES = frozenset(Incident.Severity.values)
log = logging.getLogger(__name__)


class PatrolError(ApiError):
    """Bad input for a patrol write, given as field -> message: HTTP 400."""

    def __init__(self, problems: dict[str, str] | list[Problem]):
        if isinstance(problems, dict):
            problems = [Problem(where, message) for where, message in problems.items()]
        super().__init__(problems)


class Conflict(PatrolError):
    """The id is taken by something else (another worker's incident): HTTP 409."""

    status = 409
    code = "conflict"


class Forbidden(PatrolError):
    """The user's roles do not allow the action anywhere: HTTP 403."""

    status = 403
    code = "permission_denied"


class TooLarge(PatrolError):
    status = 413
    code = "too_large"


# The photo store's refusals (507 full, 503 unwritable) are core.photo_store's, for every app.
PhotoStoreFull = photo_store.PhotoStoreFull
PhotoStoreUnavailable = photo_store.PhotoStoreUnavailable


def _position(lon, lat, crs: str) -> tuple[float, float]:
    try:
        return coords.point_to_wgs84(lon, lat, crs)
    except ValueError as exc:  # UnknownCRS, CoordinateError
        raise PatrolError({"location": str(exc)}) from exc


def _when(value: datetime.datetime | None, *, now, field_name: str) -> datetime.datetime:
    if value is None:
        return now
    if timezone.is_naive(value):
        raise PatrolError({field_name: "a time needs its offset (ISO 8601 with Z or +08:00)"})
    if value > now + datetime.timedelta(minutes=5):
        raise PatrolError({field_name: "in the future"})
    if value < now - datetime.timedelta(days=30):
        raise PatrolError({field_name: "more than 30 days ago"})
    return value


# --- incidents --------------------------------------------------------------------------


@dataclass
class IncidentResult:
    incident: Incident
    created: bool
    photos_added: int = 0
    placement: selectors.Placement | None = None  # known when the incident was just created


def incident_create(
    *,
    user,
    incident_id: uuid.UUID,
    item_code: str,
    lon: float,
    lat: float,
    crs: str = coords.WGS84,
    description: str = "",
    severity: int = Incident.Severity.LOW,
    observed_at: datetime.datetime | None = None,
    photo_files: list[tuple[str, bytes]] = (),
) -> IncidentResult:
    """Log an incident, exactly once: the id comes from the phone, and a retry with the same
    id returns the incident stored the first time (adding any photo it did not have yet).

    This is the busiest write of the system (every worker, every patrol), so beyond
    authentication it is one prepared statement: it places the point (grid, micro-grid),
    checks that the worker patrols there, and inserts the incident with its audit event,
    yielding to an existing row with the same id (ON CONFLICT DO NOTHING)."""
    now = timezone.now()
    if len(photo_files) > MAX_PHOTOS:
        raise PatrolError({"photos": f"at most {MAX_PHOTOS} photos"})
    x, y = _position(lon, lat, crs)
    observed_at = _when(observed_at, now=now, field_name="observed_at")
    item = selectors.catalogue_item(item_code)
    if item is None:
        raise PatrolError({"item": f"unknown item {item_code!r} (see /api/incident-categories/)"})
    if severity not in SEVERITIES:
        raise PatrolError({"severity": f"expected one of {sorted(SEVERITIES)}"})
    if photo_files:
        # Decoding is the costly step: nobody gets it where they may not log an incident.
        # The statement below checks again, atomically with the insert.
        _patrolled_placement(x=x, y=y, user=user)
        headers = photos.check(photo_files)
        processed = [
            photos.process(data, name=name, header=header)
            for (name, data), header in zip(photo_files, headers, strict=True)
        ]
    else:
        processed = []
    incident = Incident(
        id=incident_id,
        reporter=user,
        item=item,
        description=description.strip()[:2000],
        severity=severity,
        location=Point(x, y, srid=4326),
        observed_at=observed_at,
        created_at=now,
    )
    # One statement is atomic by itself; photos join it in a transaction.
    with (
        photo_store.files_removed_on_failure() as written,
        transaction.atomic() if processed else contextlib.nullcontext(),
    ):
        row = _place_and_insert(incident, x=x, y=y, actor=user, at=now, photos=len(processed))
        if row is None:
            raise PatrolError(_NO_GRID)
        placement, stored = selectors.Placement(*row[:7]), row[7]
        if not placement.patrolled:
            raise PatrolError(_NOT_PATROLLED)
        if not stored:
            existing = Incident.objects.filter(pk=incident_id).first()
        else:
            added = _attach(incident, processed, written, known=set()) if processed else 0
    if not stored:
        return _incident_retry(existing, user=user, processed=processed)
    incident.grid_id, incident.micro_grid_id = placement.grid_id, placement.micro_grid_id
    incident.territory_path = placement.path
    incident._state.adding = False
    return IncidentResult(incident, True, added, placement)


# With codes: the phone page says them in the worker's language and offers the fix.
_NO_GRID = [Problem("location", "this point lies in no grid", code="no_grid")]
_NOT_PATROLLED = [
    Problem("location", "this point lies outside the grids you patrol", code="not_patrolled")
]


def _patrolled_placement(*, x: float, y: float, user) -> None:
    with connection.cursor() as cursor:
        cursor.execute(selectors.PLACEMENT_SQL, selectors.placement_params(x=x, y=y, user=user))
        row = cursor.fetchone()
    if row is None:
        raise PatrolError(_NO_GRID)
    if not row[6]:
        raise PatrolError(_NOT_PATROLLED)


# Place, check and insert in one statement: the incident row and its 'created' event are
# written only where the worker patrols, and a row with the same id wins (ON CONFLICT): a
# retry or a simultaneous duplicate stores nothing.
_PLACE_AND_INSERT = (
    "WITH place AS ("
    + selectors.PLACEMENT_SQL
    + """), stored AS (
    INSERT INTO patrols_incident (id, reporter_id, item_id, description, severity, status,
                                  location, observed_at, created_at,
                                  grid_id, micro_grid_id, territory_path)
    SELECT %(id)s, %(user)s, %(item)s, %(description)s, %(severity)s, '"""
    + Incident.Status.REPORTED
    + """',
           ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326), %(observed_at)s, %(created_at)s,
           grid_id, micro_id, COALESCE(micro_path, grid_path)
      FROM place WHERE patrolled
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), audit AS (
    INSERT INTO patrols_incidentevent (incident_id, actor_id, action, at, detail)
    SELECT id, %(user)s, 'created', %(created_at)s,
           jsonb_build_object('photos', %(photos)s::integer) FROM stored
)
SELECT grid_id, grid_code, grid_path, micro_id, micro_code, micro_path, patrolled,
       EXISTS (SELECT 1 FROM stored)
  FROM place
"""
)


def _place_and_insert(incident: Incident, *, x: float, y: float, actor, at, photos: int):
    """(placement..., stored) or None when the point lies in no grid. A prepared statement on
    Django's own connection (so inside its transaction): planning this statement costs more
    than running it, and every patrol runs it."""
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            _PLACE_AND_INSERT,
            selectors.placement_params(x=x, y=y, user=actor)
            | {
                "id": incident.id,
                "item": incident.item_id,
                "description": incident.description,
                "severity": incident.severity,
                "observed_at": incident.observed_at,
                "created_at": at,
                "photos": photos,
            },
            prepare=True,
        )
        return cursor.fetchone()


def _incident_retry(existing: Incident, *, user, processed) -> IncidentResult:
    if existing.reporter_id != user.pk:
        raise Conflict({"id": "this id belongs to another incident"})
    with photo_store.files_removed_on_failure() as written, transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=existing.pk)
        if (
            incident.photos.count()
            + len(
                {p.sha256 for p in processed}
                - set(incident.photos.values_list("sha256", flat=True))
            )
            > MAX_PHOTOS
        ):
            raise PatrolError({"photos": f"at most {MAX_PHOTOS} photos"})
        added = _attach(incident, processed, written)
    return IncidentResult(incident, False, added)


def _attach(incident: Incident, processed: list[photos.Photo], written: list, known=None) -> int:
    have = set(incident.photos.values_list("sha256", flat=True)) if known is None else known
    added = 0
    for photo in processed:
        if photo.sha256 in have:
            continue
        have.add(photo.sha256)
        record = IncidentPhoto(
            incident=incident,
            sha256=photo.sha256,
            width=photo.width,
            height=photo.height,
            original_format=photo.original_format,
        )
        photo_store.store(record.image, "photo.jpg", photo.jpeg, written)
        photo_store.store(record.thumbnail, "thumb.jpg", photo.thumbnail, written)
        record.save()
        incident.__dict__.setdefault("_new_photos", []).append(record)
        added += 1
    return added


# --- visits and tracks ------------------------------------------------------------------


def visit_check_in(
    *, user, household_id: int, visited_at: datetime.datetime | None = None, note: str = ""
) -> Visit:
    household = selectors.household_for_patrol(user=user, pk=household_id)
    when = _when(visited_at, now=timezone.now(), field_name="visited_at")
    return Visit.objects.create(
        household=household,
        worker=user,
        visited_at=when,
        source=Visit.Source.CHECK_IN,
        note=note[:500],
    )


@dataclass
class TrackResult:
    track: Track
    created: bool
    dropped: list[dict] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)


def track_upload(*, user, client_id: uuid.UUID, fixes: list[tracks.Fix]) -> TrackResult:
    """Store a batch of fixes after validation (what is dropped is reported with reasons),
    and the visits it shows: stays near a household of the worker's grids. A batch resent
    with the same client id is stored once."""
    existing = Track.objects.filter(worker=user, client_id=client_id).first()
    if existing is not None:
        return _track_resent(existing)
    if not fixes:
        raise PatrolError({"fixes": "the batch holds no fixes"})
    if len(fixes) > MAX_FIXES:
        raise PatrolError({"fixes": f"at most {MAX_FIXES} fixes per batch"})
    checked = tracks.check_fixes(fixes, now=timezone.now())
    if not checked.kept:
        raise PatrolError({"fixes": "no fix passed validation: " + checked.dropped[0]["reason"]})
    units = list(selectors.patrol_units_for_user(user=user))
    grids = [u for u in units if u.level == Level.GRID] or units
    in_unit = [_unit_of(fix, grids) for fix in checked.kept]
    if not any(in_unit):
        raise PatrolError({"fixes": "no fix lies in the grids you patrol"})
    households = [
        h
        for unit in units
        for h in selectors.households_in_patrol_unit(unit=unit).only("id", "location")
    ]
    targets = np.array([(h.location.x, h.location.y) for h in households]).reshape(-1, 2)
    stays = tracks.detect_stays(
        checked.kept, targets, radius_m=VISIT_RADIUS_M, min_stay=VISIT_MIN_STAY
    )
    try:
        track, visits = _track_insert(user, client_id, checked, in_unit, households, stays)
    except IntegrityError as exc:
        # The same batch sent twice at once: both passed the lookup above, the unique
        # constraint let one insert through and this one waited for it to commit. Answer as
        # for a resend.
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) != (
            "track_once_per_batch"
        ):
            raise
        return _track_resent(Track.objects.get(worker=user, client_id=client_id))
    return TrackResult(track, True, checked.dropped, visits)


def _track_resent(track: Track) -> TrackResult:
    return TrackResult(track, False, track.fixes_dropped, list(track.visit_set.all()))


def _track_insert(user, client_id, checked, in_unit, households, stays):
    kept = checked.kept
    # A savepoint inside a caller's transaction: a refused insert leaves that one usable.
    with transaction.atomic():
        track = Track.objects.create(
            worker=user,
            client_id=client_id,
            started_at=kept[0].recorded_at,
            ended_at=kept[-1].recorded_at,
            path=LineString([(f.lon, f.lat) for f in kept], srid=4326) if len(kept) > 1 else None,
            length_m=tracks.path_length_m(kept),
            fixes_kept=len(kept),
            fixes_dropped=checked.dropped,
        )
        TrackFix.objects.bulk_create(
            TrackFix(
                track=track,
                recorded_at=f.recorded_at,
                location=Point(f.lon, f.lat, srid=4326),
                accuracy_m=f.accuracy_m,
                grid=unit,
            )
            for f, unit in zip(kept, in_unit, strict=True)
        )
        visits = Visit.objects.bulk_create(
            Visit(
                household=households[s.target],
                worker=user,
                visited_at=s.arrived,
                left_at=s.left,
                source=Visit.Source.TRACK,
                track=track,
            )
            for s in stays
        )
    return track, visits


def _unit_of(fix: tracks.Fix, units: list[Unit]) -> Unit | None:
    point = Point(fix.lon, fix.lat, srid=4326)
    for unit in units:
        if unit.boundary.covers(point):
            return unit
    return None


# --- road network -----------------------------------------------------------------------


def road_network_import(*, lines, source: str, names=None, kinds=None, replace=False) -> int:
    """Store road lines (shapely LineStrings, WGS84); with `replace`, first drop the segments
    of the same source. Returns how many were stored."""
    names = names or [""] * len(lines)
    kinds = kinds or [""] * len(lines)
    rows = []
    for line, name, kind in zip(lines, names, kinds, strict=True):
        length = tracks.line_length_m(np.asarray(line.coords))
        rows.append(
            RoadSegment(
                geometry=to_geos(line),
                name=(name or "")[:200],
                kind=(kind or "")[:50],
                source=source[:200],
                length_m=length,
            )
        )
    with transaction.atomic():
        if replace:
            RoadSegment.objects.filter(source=source[:200]).delete()
        RoadSegment.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
