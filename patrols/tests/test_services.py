"""Incidents, check-ins, tracks, due households and coverage on PostGIS."""

import datetime
import io
import threading
import time
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, connections, transaction
from django.http import Http404
from django.utils import timezone
from PIL import Image

from core.tests.races import waiting_on_a_lock
from core.validity import start_of
from patrols import selectors, services
from patrols.models import Incident, IncidentEvent, IncidentPhoto, Track, Visit
from patrols.tracks import Fix
from territory import services as territory_services
from territory.models import Household, Unit
from territory.tests.factories import UnitFactory, box

GRID = "411381001001001"  # grid A1a: micro-grids south (…01) and north (…02)
SOUTH = (112.02, 32.62)


def png(colour=(255, 0, 0)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


def log(user, *, where=SOUTH, incident_id=None, photos=(), **extra):
    return services.incident_create(
        user=user,
        incident_id=incident_id or uuid.uuid4(),
        item_code="0201",
        lon=where[0],
        lat=where[1],
        photo_files=list(photos),
        **extra,
    )


def test_an_incident_is_placed_by_the_database_with_its_boundary_versions(territory):
    result = log(territory.users["grid_worker"], description="垃圾堆放", photos=[("a.png", png())])
    incident = result.incident
    assert result.created and result.photos_added == 1
    assert incident.grid == territory.units[GRID]
    assert incident.micro_grid == territory.units["41138100100100101"]
    assert incident.territory_path.endswith("/41138100100100101")
    assert IncidentEvent.objects.filter(incident=incident, action="created").count() == 1
    photo = IncidentPhoto.objects.get(incident=incident)
    assert Image.open(photo.image.open("rb")).format == "JPEG"


def test_the_intake_statement_is_prepared_on_the_connection(territory):
    # Django turns psycopg's prepared statements off unless the settings say otherwise; the
    # intake then plans its statement on every incident, which costs more than running it.
    def executions():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COALESCE(sum(generic_plans + custom_plans), 0) "
                "FROM pg_prepared_statements WHERE statement LIKE %s",
                ["%INSERT INTO patrols_incident %"],
            )
            return cursor.fetchone()[0]

    before = executions()
    log(territory.users["grid_worker"])
    log(territory.users["grid_worker"])
    assert executions() - before == 2


def test_a_retry_with_the_same_id_stores_nothing_twice(territory):
    worker = territory.users["grid_worker"]
    key = uuid.uuid4()
    first = log(worker, incident_id=key, photos=[("a.png", png())])
    again = log(worker, incident_id=key, photos=[("a.png", png())])
    assert first.created and not again.created and again.incident.pk == key
    assert Incident.objects.count() == 1 and IncidentPhoto.objects.count() == 1
    more = log(worker, incident_id=key, photos=[("b.png", png((0, 0, 255)))])
    assert more.photos_added == 1 and IncidentPhoto.objects.count() == 2
    with pytest.raises(services.Conflict):
        log(territory.users["grid_chief"], incident_id=key)


@pytest.mark.parametrize(
    ("where", "extra", "message"),
    [
        ((112.5, 32.65), {}, "in no grid"),
        ((112.07, 32.65), {}, "outside the grids you patrol"),  # grid A1b, not theirs
        ((500000.0, 3600000.0), {}, "out of range"),  # metres: a projected CRS
        (SOUTH, {"crs": "utm50"}, "unknown CRS"),
        (SOUTH, {"observed_at": timezone.now() + datetime.timedelta(days=1)}, "in the future"),
        (SOUTH, {"observed_at": timezone.now() - datetime.timedelta(days=400)}, "30 days ago"),
        (SOUTH, {"severity": 9}, "expected one of"),
    ],
)
def test_bad_incidents_are_refused_and_nothing_is_written(territory, where, extra, message):
    with pytest.raises(services.PatrolError, match=message):
        log(territory.users["grid_worker"], where=where, **extra)
    assert not Incident.objects.exists()


def test_a_non_image_photo_writes_nothing(territory):
    with pytest.raises(services.photos.PhotoError):
        log(territory.users["grid_worker"], photos=[("x.png", b"not an image")])
    assert not Incident.objects.exists()


def test_photo_files_go_when_their_transaction_fails(territory):
    # The database refuses a second photo of one incident (a trigger standing in for any
    # failure after the first files were written): nothing stays, rows or files.
    with connection.cursor() as cursor:
        cursor.execute(
            """CREATE FUNCTION pg_temp.one_photo() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                 IF EXISTS (SELECT 1 FROM patrols_incidentphoto
                             WHERE incident_id = NEW.incident_id) THEN
                   RAISE EXCEPTION 'one photo only';
                 END IF;
                 RETURN NEW;
               END $$;
               CREATE TRIGGER one_photo BEFORE INSERT ON patrols_incidentphoto
                 FOR EACH ROW EXECUTE FUNCTION pg_temp.one_photo();"""
        )
    key = uuid.uuid4()
    with pytest.raises(DatabaseError):
        log(
            territory.users["grid_worker"],
            incident_id=key,
            photos=[("a.png", png()), ("b.png", png((0, 0, 255)))],
        )
    assert not Incident.objects.filter(pk=key).exists()
    assert not default_storage.exists(f"incidents/{key}")  # nor the incident's folder


def test_a_later_re_division_does_not_move_past_incidents(territory):
    incident = log(territory.users["grid_worker"]).incident
    old_micro = incident.micro_grid
    south = Unit.objects.current().get(code="41138100100100101")
    territory_services.unit_replace(unit=south, boundary=box(112.0, 32.6, 112.05, 32.66))
    incident.refresh_from_db()
    assert incident.micro_grid == old_micro and incident.micro_grid.valid_to is not None


def test_check_in_only_at_households_of_ones_grids(territory):
    worker = territory.users["grid_worker"]
    visit = services.visit_check_in(user=worker, household_id=territory.households["A1a-north"].pk)
    assert visit.source == Visit.Source.CHECK_IN
    with pytest.raises(Http404):
        services.visit_check_in(user=worker, household_id=territory.households["A1b"].pk)


def walk_past(household, now):
    x, y = household.location.x, household.location.y
    start = now - datetime.timedelta(minutes=30)
    fixes = [Fix(start, x - 0.002, y, 5)]
    fixes += [
        Fix(start + datetime.timedelta(minutes=m), x + 0.00002 * (m % 2), y, 5) for m in range(2, 8)
    ]
    fixes += [Fix(start + datetime.timedelta(minutes=9), x + 0.002, y, 5)]
    return fixes


def test_a_track_is_stored_once_with_its_visits_and_dropped_fixes(territory):
    worker = territory.users["grid_worker"]
    household = territory.households["A1a-south"]
    now = timezone.now()
    fixes = walk_past(household, now) + [Fix(now + datetime.timedelta(hours=2), 112.02, 32.62, 5)]
    key = uuid.uuid4()
    result = services.track_upload(user=worker, client_id=key, fixes=fixes)
    assert result.created and result.track.fixes_kept == 8
    assert result.dropped == [{"index": 8, "reason": "recorded in the future"}]
    assert [v.household for v in result.visits] == [household]
    assert result.track.length_m > 350
    again = services.track_upload(user=worker, client_id=key, fixes=fixes)
    assert not again.created and Track.objects.count() == 1 and Visit.objects.count() == 1


def test_a_track_outside_ones_grids_is_refused(territory):
    now = timezone.now()
    fixes = [Fix(now - datetime.timedelta(minutes=m), 112.15, 32.65, 5) for m in (3, 2, 1)]
    with pytest.raises(services.PatrolError, match="no fix lies in the grids you patrol"):
        services.track_upload(
            user=territory.users["grid_worker"], client_id=uuid.uuid4(), fixes=fixes
        )
    assert not Track.objects.exists()


def test_due_households_follow_the_policy(territory):
    north = territory.households["A1a-north"]
    north.elderly_living_alone = True
    north.save()
    south = territory.households["A1a-south"]
    Visit.objects.create(
        household=south,
        worker=territory.users["grid_worker"],
        visited_at=timezone.now() - datetime.timedelta(days=3),
        source=Visit.Source.CHECK_IN,
    )
    Visit.objects.create(
        household=north,
        worker=territory.users["grid_worker"],
        visited_at=timezone.now() - datetime.timedelta(days=8),
        source=Visit.Source.CHECK_IN,
    )
    due = selectors.households_due(unit=Unit.objects.get(code=GRID))
    assert [(d.household, d.interval_days, d.overdue_days) for d in due] == [(north, 7, 1)]


def test_todays_route_visits_every_due_household(territory):
    for i in range(5):
        Household.objects.create(
            location=Point(112.01 + 0.005 * i, 32.63, srid=4326), address=f"路{i}", head_name="赵六"
        )
    route, stops = selectors.todays_route(unit=Unit.objects.get(code=GRID), start=(112.0, 32.6))
    assert len(stops) == 7 and not route.follows_roads
    assert route.total_m > 0 and len(route.line) == 8


def test_todays_route_stops_once_per_building_listing_its_households(territory):
    # A building of 40 flats at one point (as geocoded), and one across the street, 30 m away.
    building, across = (112.03, 32.64), (112.03, 32.64027)
    for flat in range(40):
        Household.objects.create(
            location=Point(*building, srid=4326),
            address=f"邓州市团结路12号3栋{flat // 12 + 1}单元{flat % 12 + 1:02d}室",
            head_name="赵六",
        )
    Household.objects.create(
        location=Point(*across, srid=4326), address="团结路15号", head_name="钱七"
    )
    route, stops = selectors.todays_route(unit=Unit.objects.get(code=GRID), start=(112.0, 32.6))
    # The fixture's two households, the building, the house across: four stops, no 0 m legs.
    assert len(stops) == 4 and min(route.legs_m) > 1
    tower = next(s for s in stops if len(s.households) == 40)
    assert tower.label == "邓州市团结路12号3栋" and tower.location == building
    assert sum(len(s.households) for s in stops) == 43


def test_coverage_counts_due_and_visited_households(territory):
    worker = territory.users["grid_worker"]
    household = territory.households["A1a-south"]
    services.track_upload(
        user=worker, client_id=uuid.uuid4(), fixes=walk_past(household, timezone.now())
    )
    today = timezone.localdate()
    report = selectors.coverage(
        unit=Unit.objects.get(code=GRID), start=today - datetime.timedelta(days=7), end=today
    )
    assert (report.households, report.due, report.visited_due) == (2, 2, 1)
    assert report.share_visited == 0.5 and report.distance_m > 350 and report.minutes_in_unit == 9
    assert [d.household for d in report.overdue] == [territory.households["A1a-north"]]


def test_two_submissions_racing_with_one_id_store_one_incident(territory):
    worker = territory.users["grid_worker"]
    key = uuid.uuid4()
    first = log(worker, incident_id=key).incident
    # The second request passed every check before the first one committed: its insert meets
    # the stored row and yields (ON CONFLICT DO NOTHING), writing neither row nor event.
    twin = Incident(
        id=key,
        reporter=worker,
        item=first.item,
        description="twin",
        severity=1,
        location=first.location,
        observed_at=first.observed_at,
    )
    row = services._place_and_insert(
        twin, x=first.location.x, y=first.location.y, actor=worker, at=timezone.now(), photos=0
    )
    assert row[6] is True and row[7] is False  # patrolled there, but nothing stored
    assert Incident.objects.get().description == ""
    assert IncidentEvent.objects.count() == 1


def test_points_of_interest_join_the_route(territory):
    from patrols.models import PatrolPoint

    hydrant = PatrolPoint.objects.create(
        name="消防栓 3号", kind="消防栓", location=Point(112.03, 32.65, srid=4326)
    )
    PatrolPoint.objects.create(
        name="外面", location=Point(112.15, 32.65, srid=4326)
    )  # not this grid
    PatrolPoint.objects.create(name="停用", location=Point(112.01, 32.65, srid=4326), active=False)
    route, stops = selectors.todays_route(unit=Unit.objects.get(code=GRID), start=(112.02, 32.6))
    assert len(stops) == 3 and hydrant in [s.point for s in stops]
    # from the south: the south household, then the hydrant (mid-grid), then the north one
    assert stops[1].point == hydrant and stops[1].label == "消防栓 3号"


def test_a_micro_grid_worker_logs_only_in_their_micro_grid(territory):
    worker = territory.users["microgrid_worker"]  # micro-grid …01, the south half of grid A1a
    assert log(worker, where=SOUTH).created
    with pytest.raises(services.PatrolError, match="outside the grids you patrol"):
        log(worker, where=(112.02, 32.68))  # the north micro-grid of the same grid


def test_an_incident_inserted_elsewhere_is_still_placed_by_the_trigger(territory):
    from patrols.models import IncidentCategory

    incident = Incident.objects.create(
        reporter=territory.users["admin"],
        item=IncidentCategory.objects.get(code="0601"),
        location=Point(112.02, 32.68, srid=4326),
        observed_at=timezone.now(),
    )
    incident.refresh_from_db()
    assert incident.grid.code == GRID and incident.micro_grid.code == f"{GRID}02"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_photo", [False, True], ids=["one statement", "with a photo"])
def test_an_incident_logged_during_a_redivision_ends_in_the_successor(territory, with_photo):
    """Connection A retires micro-grid …01 and inserts its successors, uncommitted; B logs an
    incident inside …01 and commits; A commits. B's incident is in a successor."""
    old = territory.units[f"{GRID}01"]
    worker = territory.users["grid_worker"]
    a_written, b_ready, b_done = threading.Event(), threading.Event(), threading.Event()
    b_pid, errors, logged = [], [], []

    def retire_and_divide():  # connection A
        try:
            with transaction.atomic():
                territory_services.unit_retire(unit=old)
                for code, bounds in (
                    ("03", (112.0, 32.6, 112.025, 32.65)),
                    ("04", (112.025, 32.6, 112.05, 32.65)),
                ):
                    UnitFactory(
                        level="microgrid",
                        code=GRID + code,
                        parent_code=GRID,
                        boundary=box(*bounds),
                        valid_from=start_of(datetime.date.today()),
                    )
                a_written.set()
                b_ready.wait(10)
                # Commit only once B has logged (without the lock) or waits for us (with it).
                deadline = time.monotonic() + 10
                while not b_done.is_set() and not waiting_on_a_lock(b_pid[0]):
                    assert time.monotonic() < deadline, "B neither finished nor waited"
                    time.sleep(0.01)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def log_incident():  # connection B
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                b_pid.append(cursor.fetchone()[0])
            b_ready.set()
            a_written.wait(10)
            logged.append(log(worker, photos=[("a.png", png())] if with_photo else ()))
            b_done.set()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=retire_and_divide), threading.Thread(target=log_incident)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    incident = Incident.objects.select_related("micro_grid").get(pk=logged[0].incident.pk)
    assert incident.micro_grid.code == GRID + "03"  # SOUTH lies in the western successor
    assert incident.micro_grid.valid_to is None
    assert incident.territory_path == incident.micro_grid.path
    assert logged[0].placement.micro_grid_code == GRID + "03"  # and the reply says so
