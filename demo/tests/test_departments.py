"""The demo's departments: county bureaus over the county and a police station and a justice
office per township, valid by the admin's own rules, added once and never over an edit."""

import pytest
from django.contrib.gis.geos import Point

from cases.models import Department, DepartmentArea
from cases.selectors import departments_for
from demo.departments import COUNTY_BUREAUS, TOWNSHIP_STATIONS, demo_departments_create
from patrols.models import IncidentCategory

pytestmark = pytest.mark.django_db


def test_the_demo_departments_cover_the_county_and_each_township(territory):
    added = demo_departments_create()
    assert added == len(COUNTY_BUREAUS) + 2 * len(TOWNSHIP_STATIONS)
    for department in Department.objects.prefetch_related("areas", "items"):
        department.full_clean()
        for area in department.areas.all():
            area.full_clean()
        assert department.items.exists(), department.code
    assert set(
        DepartmentArea.objects.filter(department__code__endswith="-pcs").values_list(
            "unit_code", flat=True
        )
    ) == {"411381001", "411381101"}
    # Every item the bureaus name is in the catalogue.
    named = {c for _, _, _, codes in COUNTY_BUREAUS + TOWNSHIP_STATIONS for c in codes}
    assert named <= set(IncidentCategory.objects.values_list("code", flat=True))


def test_a_public_order_matter_goes_to_the_township_station_first(territory):
    demo_departments_create()
    item = IncidentCategory.objects.get(code="0302")
    found = departments_for(item=item, point_or_unit=Point(112.15, 32.65, srid=4326))
    assert [d.code for d in found] == ["411381101-pcs", "411381-gaj"]
    sewage = IncidentCategory.objects.get(code="0203")  # the bureau handles the whole category
    found = departments_for(item=sewage, point_or_unit=Point(112.02, 32.62, srid=4326))
    assert [d.code for d in found] == ["411381-sthjj"]


def test_seeding_the_demo_departments_again_keeps_every_edit(territory):
    demo_departments_create()
    bureau = Department.objects.get(code="411381-cgj")
    bureau.name = "城市管理综合执法局"
    bureau.save()
    bureau.items.set([])
    bureau.areas.all().delete()
    before = Department.objects.count(), DepartmentArea.objects.count()
    assert demo_departments_create() == 0
    assert (Department.objects.count(), DepartmentArea.objects.count()) == before
    bureau.refresh_from_db()
    assert bureau.name == "城市管理综合执法局"
    assert not bureau.items.exists() and not bureau.areas.exists()
