"""The database places households in grids and micro-grids (migration 0002)."""

import datetime

import pytest
from django.contrib.gis.geos import Point

from core.validity import start_of
from territory.models import Household, Unit
from territory.services import households_assign, unit_replace

from .factories import HouseholdFactory, box

pytestmark = pytest.mark.django_db


def test_household_is_placed_when_written(territory):
    south = territory.households["A1a-south"]
    assert south.grid.code == "411381001001001"
    assert south.micro_grid.code == "41138100100100101"
    assert south.territory_path.endswith("/411381001001001/41138100100100101")
    assert territory.households["A1b"].micro_grid is None


def test_household_moves_with_its_location(territory):
    household = territory.households["A1b"]
    household.location = Point(112.15, 32.65, srid=4326)
    household.save()
    household.refresh_from_db()
    assert household.grid.code == "411381101201001"


def test_point_outside_every_grid_has_no_grid(territory):
    household = HouseholdFactory(location=Point(113.5, 33.5, srid=4326))
    household.refresh_from_db()
    assert household.grid is None and household.territory_path == ""


def test_point_on_a_shared_edge_goes_to_exactly_one_grid(territory):
    household = HouseholdFactory(location=Point(112.05, 32.62, srid=4326))
    household.refresh_from_db()
    assert household.grid.code == "411381001001001"  # the lower code of the two


def test_unit_path_and_area_are_derived(territory):
    grid = Unit.objects.get(code="411381001001001")
    assert grid.path == "411381/411381001/411381001001/411381001001001"
    # 0.05 x 0.1 degrees at 32.65 N: about 4.69 km x 11.09 km
    assert 51.0e6 < grid.area_m2 < 53.0e6


def test_boundary_change_reassigns_households_and_keeps_history(territory):
    old = Unit.objects.current().get(code="411381001001002")
    household = territory.households["A1b"]
    assert household.grid_id == old.pk
    # Move the eastern grid's boundary off the household: it falls to the western grid.
    unit_replace(
        unit=Unit.objects.current().get(code="411381001001001"),
        on_date=start_of(datetime.date(2025, 6, 1)),
        boundary=box(112.0, 32.6, 112.08, 32.7),
    )
    unit_replace(
        unit=old,
        on_date=start_of(datetime.date(2025, 6, 1)),
        boundary=box(112.08, 32.6, 112.1, 32.7),
    )
    household.refresh_from_db()
    assert household.grid.code == "411381001001001" and household.grid.valid_to is None
    old.refresh_from_db()
    assert old.valid_to == start_of(datetime.date(2025, 6, 1))
    held = Unit.objects.as_of(datetime.date(2025, 1, 1)).get(code="411381001001002")
    assert held.pk == old.pk
    now = Unit.objects.as_of(datetime.date(2025, 6, 1)).get(code="411381001001002")
    assert now.pk != old.pk and list(now.predecessors.all()) == [old]


def test_reassigning_everything_is_idempotent(territory):
    Household.objects.update(grid=None, micro_grid=None, territory_path="")
    assert households_assign() == 4
    assert households_assign() == 0
    assert Household.objects.filter(grid__isnull=True).count() == 0
