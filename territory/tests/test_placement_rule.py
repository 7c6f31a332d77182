"""One placement rule (migration 0006): the permission check of a household write asks the
same function the trigger does, and a household written while its micro-grid is being
re-divided ends in the successor."""

import datetime
import threading
import time

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from core.tests.races import waiting_on_a_lock
from core.validity import start_of
from territory.models import Household
from territory.selectors import households_for_user
from territory.services import household_create, households_assign, role_assign, unit_retire

from .factories import HouseholdFactory, UnitFactory, UserFactory, box

VILLAGE = "411381201001"
CORNER = (112.5, 32.5)


def _three_grids_on_a_corner():
    UnitFactory(level="village", code=VILLAGE, boundary=box(112.4, 32.4, 112.6, 32.6))
    # 001 south-west, 007 south-east, 013 north-west: all three hold the corner point.
    for suffix, bounds in {
        "001": (112.4, 32.4, 112.5, 32.5),
        "007": (112.5, 32.4, 112.6, 32.5),
        "013": (112.4, 32.5, 112.5, 32.6),
    }.items():
        UnitFactory(level="grid", code=VILLAGE + suffix, parent_code=VILLAGE, boundary=box(*bounds))
    workers = {}
    for suffix in ("001", "007", "013"):
        workers[suffix] = UserFactory(username=f"worker{suffix}")
        role_assign(user=workers[suffix], role="grid_worker", unit_code=VILLAGE + suffix)
    return workers


@pytest.mark.django_db
def test_a_household_on_a_shared_corner_may_be_written_by_the_grid_it_lands_in():
    workers = _three_grids_on_a_corner()
    household = household_create(
        lon=CORNER[0], lat=CORNER[1], address="角 1号", head_name="张三", user=workers["001"]
    )
    assert household.grid.code == VILLAGE + "001"
    assert households_for_user(user=workers["001"]).filter(pk=household.pk).exists()
    for other in ("007", "013"):
        with pytest.raises(ValidationError) as exc:
            household_create(
                lon=CORNER[0],
                lat=CORNER[1],
                address="角 2号",
                head_name="李四",
                user=workers[other],
            )
        assert "not inside any grid of your territory" in str(exc.value)
    assert Household.objects.count() == 1


@pytest.mark.django_db
def test_the_api_answers_201_to_the_grid_it_lands_in_and_400_to_the_others(api):
    workers = _three_grids_on_a_corner()
    body = {"lon": CORNER[0], "lat": CORNER[1], "address": "角 1号", "head_name": "张三"}
    created = api(workers["001"]).post("/api/households/", body, format="json")
    assert created.status_code == 201, created.content
    assert api(workers["001"]).get(f"/api/households/{created.json()['id']}/").status_code == 200
    for other in ("007", "013"):
        assert api(workers[other]).post("/api/households/", body, format="json").status_code == 400


@pytest.mark.django_db
def test_territory_place_gives_the_trigger_answer():
    _three_grids_on_a_corner()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT grid_code, micro_grid_id, path"
            " FROM territory_place(ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
            list(CORNER),
        )
        grid_code, micro, path = cursor.fetchone()
    assert (grid_code, micro) == (VILLAGE + "001", None)
    assert path.endswith(f"{VILLAGE}/{VILLAGE}001")


@pytest.mark.django_db(transaction=True)
def test_a_household_written_during_a_redivision_ends_in_the_successor():
    grid = VILLAGE + "001"
    UnitFactory(level="village", code=VILLAGE, boundary=box(112.4, 32.4, 112.6, 32.6))
    UnitFactory(
        level="grid", code=grid, parent_code=VILLAGE, boundary=box(112.4, 32.4, 112.5, 32.5)
    )
    old = UnitFactory(
        level="microgrid",
        code=grid + "01",
        parent_code=grid,
        boundary=box(112.4, 32.4, 112.5, 32.5),
    )
    a_written, b_ready = threading.Event(), threading.Event()
    b_done = threading.Event()
    b_pid, errors, household = [], [], []

    def retire_and_divide():  # connection A
        try:
            with transaction.atomic():
                unit_retire(unit=old)
                for code, bounds in (
                    ("02", (112.4, 32.4, 112.45, 32.5)),
                    ("03", (112.45, 32.4, 112.5, 32.5)),
                ):
                    UnitFactory(
                        level="microgrid",
                        code=grid + code,
                        parent_code=grid,
                        boundary=box(*bounds),
                        valid_from=start_of(datetime.date.today()),
                    )
                a_written.set()
                b_ready.wait(10)
                # Commit only once B has written (without the lock) or waits for us (with it).
                deadline = time.monotonic() + 10
                while not b_done.is_set() and not waiting_on_a_lock(b_pid[0]):
                    assert time.monotonic() < deadline, "B neither finished nor waited"
                    time.sleep(0.01)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def add_household():  # connection B
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                b_pid.append(cursor.fetchone()[0])
            b_ready.set()
            a_written.wait(10)
            with transaction.atomic():
                household.append(HouseholdFactory(location=Point(112.42, 32.45, srid=4326)))
            b_done.set()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=retire_and_divide), threading.Thread(target=add_household)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    placed = Household.objects.get(pk=household[0].pk)
    assert placed.micro_grid.code == grid + "02"
    assert placed.micro_grid.valid_to is None
    assert Household.objects.filter(micro_grid_id=placed.micro_grid_id).count() == 1


SLIVER = (112.505, 32.45)  # in grid 007 and in nothing of 007's, but in 00101 of grid 001
OUTSIDE = (112.45, 32.605)  # north of every grid, but in 01301, which pokes out of 013


def _micro_grids_past_their_grids(workers):
    for code, parent, bounds in (
        ("00101", "001", (112.4, 32.4, 112.51, 32.5)),  # 0.01° into 007
        ("00701", "007", (112.52, 32.4, 112.6, 32.5)),  # leaves 007's west strip uncovered
        ("01301", "013", (112.4, 32.5, 112.5, 32.61)),  # 0.01° north of the village
    ):
        UnitFactory(
            level="microgrid",
            code=VILLAGE + code,
            parent_code=VILLAGE + parent,
            boundary=box(*bounds),
        )
    workers["00101"] = UserFactory(username="worker00101")
    role_assign(user=workers["00101"], role="microgrid_worker", unit_code=VILLAGE + "00101")


def _placed(x, y):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT grid_code, micro_grid_code, path"
            " FROM territory_place(ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
            [x, y],
        )
        return cursor.fetchone()


@pytest.mark.django_db
def test_the_micro_grid_is_one_of_the_grids_own():
    workers = _three_grids_on_a_corner()
    _micro_grids_past_their_grids(workers)
    grid, micro, path = _placed(*SLIVER)
    assert (grid, micro) == (VILLAGE + "007", None)  # not 00101, a cell of grid 001
    assert path.endswith(f"/{VILLAGE}007")
    assert _placed(*OUTSIDE) == (None, None, "")  # 01301 alone does not place a point
    grid, micro, _ = _placed(112.5, 32.45)  # on the edge 001|007: 001, and its 00101
    assert (grid, micro) == (VILLAGE + "001", VILLAGE + "00101")
    grid, micro, _ = _placed(112.51, 32.5)  # 00101's corner, on 007's edge: 007 alone
    assert (grid, micro) == (VILLAGE + "007", None)
    # The worker of the grid the household lands in writes it; the worker of 00101 may not.
    household = household_create(
        lon=SLIVER[0], lat=SLIVER[1], address="缝 1号", head_name="王五", user=workers["007"]
    )
    assert (household.grid.code, household.micro_grid) == (VILLAGE + "007", None)
    for other in ("001", "00101"):
        with pytest.raises(ValidationError):
            household_create(
                lon=SLIVER[0],
                lat=SLIVER[1],
                address="缝 2号",
                head_name="赵六",
                user=workers[other],
            )


@pytest.mark.django_db
def test_the_batch_re_placement_asks_the_same_rule():
    workers = _three_grids_on_a_corner()
    _micro_grids_past_their_grids(workers)
    in_sliver = HouseholdFactory(location=Point(*SLIVER, srid=4326))
    outside = HouseholdFactory(location=Point(*OUTSIDE, srid=4326))
    Household.objects.update(grid=None, micro_grid=None, territory_path="x")
    households_assign()  # a small batch: territory_assign_households, in SQL
    in_sliver.refresh_from_db()
    outside.refresh_from_db()
    assert (in_sliver.grid.code, in_sliver.micro_grid) == (VILLAGE + "007", None)
    assert (outside.grid, outside.micro_grid, outside.territory_path) == (None, None, "")


@pytest.mark.django_db
def test_territory_place_is_inlined_into_the_statement_that_asks_it():
    # Not inlined, it is planned again on every call from the trigger or the intake (~0.5 ms
    # a household against ~0.1 ms); inlined, its plan is cached with the caller's.
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT path FROM territory_place(ST_SetSRID(ST_MakePoint(112.5, 32.5), 4326))"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Function Scan" not in plan and "territory_unit" in plan, plan
