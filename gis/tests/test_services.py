import datetime

import pytest
import shapely
from django.core.exceptions import ValidationError

from gis import coords
from gis.boundary_io import RawFeature
from gis.models import Household, Unit
from gis.services import TerritoryError, boundaries_import, household_create
from gis.validity import start_of

pytestmark = pytest.mark.django_db

BOWTIE = shapely.Polygon(
    [(112.0, 32.6), (112.05, 32.7), (112.05, 32.6), (112.0, 32.7), (112.0, 32.6)]
)


def feature(i, code, geometry, name="新网格", **props):
    return RawFeature(index=i, properties={"code": code, "name": name, **props}, geometry=geometry)


def grids_in_a1b():
    return [
        feature(0, "411381001001003", shapely.box(112.05, 32.6, 112.1, 32.64)),
        feature(1, "411381001001004", shapely.box(112.05, 32.64, 112.1, 32.7)),
    ]


def test_import_creates_units_and_assigns_households(territory):
    Unit.objects.filter(code="411381001001002").update(valid_to=start_of(datetime.date(2025, 1, 1)))
    result = boundaries_import(
        features=grids_in_a1b(),
        level="grid",
        parent_code="411381001001",
        valid_from=start_of(datetime.date(2025, 1, 1)),
    )
    assert result.created == ["411381001001003", "411381001001004"]
    assert Household.objects.get(pk=territory.households["A1b"].pk).grid.code == "411381001001004"


def test_import_converts_gcj02_to_wgs84(territory):
    Unit.objects.filter(code="411381001001002").update(valid_to=start_of(datetime.date(2025, 1, 1)))
    gcj = coords.geometry_from_wgs84(shapely.box(112.05, 32.6, 112.1, 32.7), "gcj02")
    boundaries_import(
        features=[feature(0, "411381001001003", gcj)],
        level="grid",
        parent_code="411381001001",
        crs="gcj02",
    )
    stored = shapely.from_wkb(
        bytes(Unit.objects.current().get(code="411381001001003").boundary.wkb)
    )
    assert shapely.hausdorff_distance(stored, shapely.box(112.05, 32.6, 112.1, 32.7)) < 1e-8


def test_replace_versions_instead_of_editing(territory):
    boundaries_import(
        features=[
            feature(0, "411381001001002", shapely.box(112.05, 32.6, 112.1, 32.7), name="改名")
        ],
        level="grid",
        parent_code="411381001001",
        replace=True,
        valid_from=start_of(datetime.date(2025, 3, 1)),
    )
    versions = Unit.objects.filter(code="411381001001002").order_by("valid_from")
    assert [(v.name, v.valid_to) for v in versions] == [
        ("grid-411381001001002", start_of(datetime.date(2025, 3, 1))),
        ("改名", None),
    ]


@pytest.mark.parametrize(
    ("features", "kwargs", "where", "message"),
    [
        (
            [feature(0, "411381001001003", BOWTIE)],
            {},
            "feature 0 (411381001001003).geometry",
            "Self-intersection",
        ),
        (
            [feature(0, "411381001001003", shapely.box(500000, 3600000, 501000, 3601000))],
            {},
            "feature 0 (411381001001003).geometry",
            "out of range",
        ),
        (
            [feature(0, "411381001001003", shapely.box(112.0, 32.6, 112.1, 32.7))],
            {"parent_code": "411381009009"},
            "parent_code",
            "unknown parent 411381009009",
        ),
        (
            [feature(0, "411381001001001", shapely.box(112.0, 32.6, 112.1, 32.7))],
            {},
            "code 411381001001001",
            "a current unit has this code",
        ),
        (
            [
                feature(0, "411381001001003", shapely.box(112.0, 32.6, 112.01, 32.61)),
                feature(1, "411381001001003", shapely.box(112.0, 32.61, 112.01, 32.62)),
            ],
            {},
            "feature 1 (411381001001003).code",
            "duplicate code",
        ),
        (
            [feature(0, "4113810010010", shapely.box(112.0, 32.6, 112.1, 32.7))],
            {},
            "feature 0 (4113810010010).code",
            "a grid code has 15 digits",
        ),
        (
            [feature(0, "411381001001003", shapely.box(112.0, 32.6, 112.1, 32.7))],
            {"crs": "epsg3857"},
            "crs",
            "unknown CRS",
        ),
        (
            [feature(0, "411381001001003", shapely.Point(112.0, 32.6))],
            {},
            "feature 0 (411381001001003).geometry",
            "expected a Polygon",
        ),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(territory, features, kwargs, where, message):
    before = list(Unit.objects.values_list("pk", "code", "valid_to"))
    good = feature(9, "411381001001009", shapely.box(112.0, 32.6, 112.001, 32.601))
    with pytest.raises(TerritoryError) as caught:
        boundaries_import(
            features=[*features, good], level="grid", **({"parent_code": "411381001001"} | kwargs)
        )
    assert any(p.where == where and message in p.message for p in caught.value.problems), (
        caught.value
    )
    assert list(Unit.objects.values_list("pk", "code", "valid_to")) == before


def test_repair_on_request(territory):
    result = boundaries_import(
        features=[feature(0, "411381001001003", BOWTIE)],
        level="grid",
        parent_code="411381001001",
        repair=True,
    )
    assert result.repaired == ["411381001001003"]
    assert Unit.objects.current().get(code="411381001001003").boundary.valid


def test_user_cannot_import_below_a_parent_outside_their_territory(territory):
    with pytest.raises(TerritoryError, match="unknown parent 411381101201"):
        boundaries_import(
            features=[feature(0, "411381101201002", shapely.box(112.1, 32.6, 112.2, 32.7))],
            level="grid",
            parent_code="411381101201",
            user=territory.users["township_commander"],
        )


def test_household_create_hashes_the_id_number_and_places_it(territory):
    household = household_create(
        lon=112.07,
        lat=32.61,
        address="新华路1号",
        head_name="王五",
        id_number="11010519491231002X",
        user=territory.users["village_officer"],
    )
    assert household.grid.code == "411381001001002"
    assert household.id_number_masked == "110105********002X"
    stored = (
        Household.objects.filter(pk=household.pk)
        .values_list("id_number_hash", "id_number_masked", "head_name", "address")
        .get()
    )
    assert not any("11010519491231002X" in str(v) for v in stored)


@pytest.mark.parametrize(
    ("lon", "lat", "crs", "field"),
    [
        (200.0, 32.6, "wgs84", "location"),  # out of range
        (112.15, 32.65, "wgs84", "location"),  # township B: not the officer's territory
        (113.5, 33.5, "wgs84", "location"),  # in no grid at all
        (112.07, 32.61, "mercator", "crs"),
    ],
)
def test_household_create_refuses_bad_points(territory, lon, lat, crs, field):
    count = Household.objects.count()
    with pytest.raises(ValidationError) as caught:
        household_create(
            lon=lon,
            lat=lat,
            crs=crs,
            address="x",
            head_name="x",
            user=territory.users["village_officer"],
        )
    assert field in caught.value.message_dict
    assert Household.objects.count() == count


def test_second_edit_of_a_stale_version_is_refused(territory):
    from gis.services import unit_replace

    from .factories import box

    stale = Unit.objects.current().get(code="411381101201001")  # both editors loaded this row
    unit_replace(
        unit=stale,
        on_date=start_of(datetime.date(2025, 5, 1)),
        boundary=box(112.1, 32.6, 112.2, 32.7),
    )
    with pytest.raises(TerritoryError, match="already retired"):
        unit_replace(
            unit=stale,
            on_date=start_of(datetime.date(2025, 5, 2)),
            boundary=box(112.1, 32.6, 112.2, 32.7),
        )
    assert Unit.objects.filter(code="411381101201001").count() == 2
