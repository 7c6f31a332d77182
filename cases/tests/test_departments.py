"""Departments (职能部门): which items they handle is kept apart from which areas they cover.
departments_for finds who handles an item where it happened, the most specific area first; a
department covers only its own county, and the admin refuses anything else, saving nothing."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from cases.models import Department, DepartmentArea
from cases.selectors import departments_for
from patrols.models import IncidentCategory
from territory.tests.factories import UnitFactory, box

pytestmark = pytest.mark.django_db

TOWNSHIP_A = Point(112.02, 32.62, srid=4326)  # township 411381001, grid A1a
TOWNSHIP_B = Point(112.15, 32.65, srid=4326)  # township 411381101
OUTSIDE = Point(113.5, 33.5, srid=4326)


def department(code, county, areas, items, **fields):
    row = Department.objects.create(
        code=code, name=code, name_en=code, county_code=county, **fields
    )
    row.items.set(IncidentCategory.objects.filter(code__in=items))
    for area in areas:
        DepartmentArea.objects.create(department=row, unit_code=area)
    return row


@pytest.fixture
def public_order(territory):
    """The county's public security bureau and township A's police station both handle public
    order risks (0302): the bureau by the item, the station by its whole category (03)."""
    return {
        "bureau": department("411381-gaj", "411381", ["411381"], ["0302", "0305"]),
        "station": department("411381001-pcs", "411381", ["411381001"], ["03"]),
        "item": IncidentCategory.objects.get(code="0302"),
    }


def codes(departments):
    return [d.code for d in departments]


def test_the_township_station_comes_before_the_county_bureau(public_order):
    item = public_order["item"]
    assert codes(departments_for(item=item, point_or_unit=TOWNSHIP_A)) == [
        "411381001-pcs",
        "411381-gaj",
    ]
    # Township B has no station: the bureau alone.
    assert codes(departments_for(item=item, point_or_unit=TOWNSHIP_B)) == ["411381-gaj"]


def test_a_unit_or_its_code_is_as_good_as_a_point(territory, public_order):
    item = public_order["item"]
    grid = territory.units["411381001001001"]
    expected = ["411381001-pcs", "411381-gaj"]
    assert codes(departments_for(item=item, point_or_unit=grid)) == expected
    assert codes(departments_for(item=item, point_or_unit="41138100100100101")) == expected
    assert codes(departments_for(item=item, point_or_unit="411381101201001")) == ["411381-gaj"]
    assert departments_for(item=item, point_or_unit="999999") == []


def test_a_category_covers_its_items_and_an_item_only_itself(public_order):
    cult = IncidentCategory.objects.get(code="0304")  # in category 03, not in the bureau's list
    assert codes(departments_for(item=cult, point_or_unit=TOWNSHIP_A)) == ["411381001-pcs"]
    assert departments_for(item=cult, point_or_unit=TOWNSHIP_B) == []


def test_an_item_no_one_handles_has_no_department(public_order):
    request = IncidentCategory.objects.get(code="0801")
    assert departments_for(item=request, point_or_unit=TOWNSHIP_A) == []


def test_a_point_outside_the_county_has_no_department(public_order):
    assert departments_for(item=public_order["item"], point_or_unit=OUTSIDE) == []


def test_inactive_departments_are_not_suggested(public_order):
    public_order["station"].active = False
    public_order["station"].save()
    item = public_order["item"]
    assert codes(departments_for(item=item, point_or_unit=TOWNSHIP_A)) == ["411381-gaj"]


def test_equally_specific_departments_come_in_code_order(public_order):
    department("411381-aaa", "411381", ["411381"], ["0302"])
    item = public_order["item"]
    assert codes(departments_for(item=item, point_or_unit=TOWNSHIP_B)) == [
        "411381-aaa",
        "411381-gaj",
    ]


def test_a_department_covering_the_township_and_the_county_counts_once(public_order):
    DepartmentArea.objects.create(department=public_order["bureau"], unit_code="411381001")
    item = public_order["item"]
    # Both now cover township A at the same depth: code order.
    assert codes(departments_for(item=item, point_or_unit=TOWNSHIP_A)) == [
        "411381-gaj",
        "411381001-pcs",
    ]


@pytest.fixture
def other_county(territory):
    """A second county (Xichuan 411326) beside Dengzhou, with a township."""
    UnitFactory(level="county", code="411326", boundary=box(111.8, 32.6, 112.0, 32.7))
    UnitFactory(
        level="township",
        code="411326001",
        parent_code="411326",
        boundary=box(111.8, 32.6, 111.9, 32.7),
    )


def test_a_department_of_another_county_is_not_suggested_here(public_order, other_county):
    department("411326-gaj", "411326", ["411326"], ["0302"])
    item = public_order["item"]
    assert codes(departments_for(item=item, point_or_unit=TOWNSHIP_B)) == ["411381-gaj"]
    assert codes(departments_for(item=item, point_or_unit=Point(111.85, 32.65, srid=4326))) == [
        "411326-gaj"
    ]


def test_validation_keeps_coverage_within_the_departments_county(other_county):
    row = Department(code="411381-x", name="x", county_code="411381001")
    with pytest.raises(ValidationError, match="not a current county"):
        row.full_clean()
    row.county_code = "411381"
    row.full_clean()
    row.save()
    for code, message in (
        ("411326001", "outside the department's county 411381"),
        ("411326", "outside the department's county 411381"),
        ("411381999", "not a current unit"),
    ):
        with pytest.raises(ValidationError, match=message):
            DepartmentArea(department=row, unit_code=code).full_clean()
    DepartmentArea(department=row, unit_code="41138100100100101").full_clean()


# --- the admin ------------------------------------------------------------------------------------


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _department_post(code, county, areas, items=(), **fields):
    data = {
        "code": code,
        "name": fields.get("name", "城管局"),
        "name_en": "Urban management",
        "county_code": county,
        "active": "on",
        "items": [i.pk for i in IncidentCategory.objects.filter(code__in=items)],
        "areas-TOTAL_FORMS": str(len(areas)),
        "areas-INITIAL_FORMS": "0",
        "areas-MIN_NUM_FORMS": "0",
        "areas-MAX_NUM_FORMS": "1000",
    }
    for i, area in enumerate(areas):
        data[f"areas-{i}-unit_code"] = area
    if "loaded_version" in fields:
        data["loaded_version"] = fields["loaded_version"]
    return data


def test_the_admin_adds_a_department_with_its_areas(territory):
    client = _client(territory.users["admin"])
    response = client.post(
        reverse("admin:cases_department_add"),
        _department_post("411381-cgj", "411381", ["411381", "411381001"], ["05"]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = Department.objects.get(code="411381-cgj")
    assert set(row.areas.values_list("unit_code", flat=True)) == {"411381", "411381001"}
    assert list(row.items.values_list("code", flat=True)) == ["05"]


@pytest.mark.parametrize(
    "county, areas, message",
    [
        ("411381", ["411326001"], "outside the department"),
        ("411381", ["411381", "411381999"], "not a current unit"),
        ("411381001", ["411381001"], "not a current county"),
        ("", ["411381"], "This field is required"),
    ],
)
def test_the_admin_refuses_coverage_outside_the_county_and_saves_nothing(
    territory, other_county, county, areas, message
):
    client = _client(territory.users["admin"])
    response = client.post(
        reverse("admin:cases_department_add"), _department_post("411381-cgj", county, areas)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Department.objects.exists() and not DepartmentArea.objects.exists()


def test_moving_a_department_to_another_county_is_refused_while_its_areas_stay_behind(
    territory, other_county, public_order
):
    bureau = public_order["bureau"]
    area = bureau.areas.get()
    client = _client(territory.users["admin"])
    data = _department_post(
        bureau.code, "411326", [], ["0302"], name="改名", loaded_version=bureau.version
    )
    data.update(
        {
            "areas-TOTAL_FORMS": "1",
            "areas-INITIAL_FORMS": "1",
            "areas-0-id": area.pk,
            "areas-0-department": bureau.pk,
            "areas-0-unit_code": "411381",
            "areas-0-loaded_version": area.version,
        }
    )
    response = client.post(reverse("admin:cases_department_change", args=[bureau.pk]), data)
    assert response.status_code == 200
    assert "outside the department&#x27;s county 411326" in response.content.decode()
    bureau.refresh_from_db()
    assert (bureau.county_code, bureau.name) == ("411381", "411381-gaj")


@pytest.fixture
def staff(territory):
    """Staff logins for the county commander and township A's commander, with every
    permission of the cases app."""

    def login(name):
        user = territory.users[name]
        user.is_staff = True
        user.save()
        user.user_permissions.set(Permission.objects.filter(content_type__app_label="cases"))
        return _client(user)

    return login


def test_a_township_commander_sees_only_the_stations_of_their_township(
    territory, staff, public_order
):
    department("411381101-pcs", "411381", ["411381101"], ["03"])
    client = staff("township_commander")
    listing = client.get(reverse("admin:cases_department_changelist"))
    assert listing.status_code == 200
    text = listing.content.decode()
    assert "411381001-pcs" in text
    assert "411381101-pcs" not in text and "411381-gaj" not in text
    other = Department.objects.get(code="411381101-pcs")
    page = client.get(reverse("admin:cases_department_change", args=[other.pk]), follow=True)
    assert page.status_code == 404 or "doesn’t exist" in page.content.decode()
    # Their own station is shown, but the county's departments are the county's to edit.
    station = public_order["station"]
    url = reverse("admin:cases_department_change", args=[station.pk])
    assert client.get(url).status_code == 200
    data = _department_post(
        station.code, "411381", [], ["03"], name="改名", loaded_version=station.version
    )
    assert client.post(url, data).status_code == 403
    station.refresh_from_db()
    assert station.name == "411381001-pcs"
    response = client.post(
        reverse("admin:cases_department_add"),
        _department_post("411381001-sfs", "411381", ["411381001"]),
    )
    assert response.status_code == 200
    assert "not a county you command" in response.content.decode()
    assert not Department.objects.filter(code="411381001-sfs").exists()


def test_the_county_commander_sees_and_edits_the_countys_departments(
    territory, staff, public_order
):
    client = staff("commander")
    text = client.get(reverse("admin:cases_department_changelist")).content.decode()
    assert "411381001-pcs" in text and "411381-gaj" in text
    response = client.post(
        reverse("admin:cases_department_add"),
        _department_post("411381001-sfs", "411381", ["411381001"], ["10"]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Department.objects.filter(code="411381001-sfs").exists()


def test_staff_offered_as_members_are_department_staff_of_ones_territory(territory, staff):
    client = staff("commander")
    page = client.get(reverse("admin:cases_department_add")).content.decode()
    assert ">department_staff<" in page
    assert ">grid_worker<" not in page and ">resident<" not in page
