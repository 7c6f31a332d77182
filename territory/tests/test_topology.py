import pytest

from territory.models import Unit
from territory.topology import topology_check

from .factories import box

pytestmark = pytest.mark.django_db


def test_fixture_territory_tiles_exactly(territory):
    report = topology_check(unit=Unit.objects.get(code="411381"))
    assert report.ok and report.parents_checked == 6 and report.children_checked == 9


def test_gap_and_overlap_are_reported_with_area_location_and_units(territory):
    # Shrink grid A1b to leave a 0.01-degree strip uncovered; grow micro-grid 01 over 02.
    Unit.objects.filter(code="411381001001002").update(boundary=box(112.06, 32.6, 112.1, 32.7))
    Unit.objects.filter(code="41138100100100101").update(boundary=box(112.0, 32.6, 112.05, 32.66))
    report = topology_check(unit=Unit.objects.get(code="411381"))
    gap = report.gaps[0]
    assert gap.units == ["411381001001"]
    # 0.01 x 0.1 degree at 32.65 N is about 0.938 km x 11.09 km = 10.4 km²
    assert 10.2e6 < gap.area_m2 < 10.6e6
    assert 112.05 <= gap.location[0] <= 112.06
    overlap = report.overlaps[0]
    assert overlap.units == ["41138100100100101", "41138100100100102"]
    assert 5.1e6 < overlap.area_m2 < 5.3e6  # 0.05 x 0.01 degree
    assert len(report.defects) == 2 and not report.ok


def test_spill_outside_the_parent(territory):
    Unit.objects.filter(code="411381101201001").update(boundary=box(112.1, 32.6, 112.21, 32.7))
    report = topology_check(unit=Unit.objects.get(code="411381101"))
    assert [d.units for d in report.spills] == [["411381101201001", "411381101201"]]
