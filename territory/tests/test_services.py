import datetime

import numpy as np
import pytest
import shapely
from django.core.exceptions import ValidationError

from core import coords
from core.validity import start_of
from territory.boundary_io import RawFeature
from territory.models import Household, Unit
from territory.services import TerritoryError, boundaries_import, household_create
from territory.topology import topology_check

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
    from territory.services import unit_replace

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


# --- boundary imports stay inside the importer's territory (issue 9 §6) -------------------

# Township B's land, with B1a's household (112.15, 32.65) in it.
IN_TOWNSHIP_B = shapely.box(112.12, 32.62, 112.18, 32.68)


def test_township_commander_cannot_import_a_grid_lying_in_another_township(territory):
    """The reported attack: a grid under his own village, drawn in township B."""
    b1a = territory.households["B1a"]
    with pytest.raises(TerritoryError) as caught:
        boundaries_import(
            features=[feature(0, "411381001001003", IN_TOWNSHIP_B)],
            level="grid",
            parent_code="411381001001",
            user=territory.users["township_commander"],
        )
    [problem] = caught.value.problems
    assert problem.where == "feature 0 (411381001001003).geometry"
    assert "lie outside its parent 411381001001" in problem.message
    # 0.06 x 0.06 degrees at 32.65° N: about 37.5 km², all of it outside.
    outside = float(problem.message.split(" m²")[0].replace(",", ""))
    assert 3.6e7 < outside < 3.9e7
    assert not Unit.objects.filter(code="411381001001003").exists()
    assert Household.objects.get(pk=b1a.pk).territory_path == b1a.territory_path


@pytest.mark.parametrize(("spill_deg", "accepted"), [(0.0, True), (5e-10, True), (2e-9, False)])
def test_containment_tolerance_is_measured_in_square_metres(territory, spill_deg, accepted):
    """A grid along the village's east edge (112.1), 0.08° tall, pushed east by `spill_deg`:
    5e-10° sticks out ~0.4 m² (noise, under the 1 m² tolerance), 2e-9° ~1.7 m² (refused)."""
    grid = shapely.box(112.06, 32.61, 112.1 + spill_deg, 32.69)
    kwargs = {
        "features": [feature(0, "411381001001003", grid)],
        "level": "grid",
        "parent_code": "411381001001",
        "user": territory.users["township_commander"],
    }
    if accepted:
        assert boundaries_import(**kwargs).created == ["411381001001003"]
        return
    with pytest.raises(TerritoryError, match=r"1\.\d m² lie outside its parent 411381001001"):
        boundaries_import(**kwargs)


def test_superuser_and_the_command_path_are_held_to_containment_too(territory):
    for user in (territory.users["admin"], None):
        with pytest.raises(TerritoryError, match="lie outside its parent"):
            boundaries_import(
                features=[feature(0, "411381001001003", IN_TOWNSHIP_B)],
                level="grid",
                parent_code="411381001001",
                user=user,
            )


def test_import_may_not_take_households_from_outside_the_importers_territory(territory):
    """Legacy data: village A1's boundary already spills over township B. A grid inside it
    passes containment, but would pull B1a's household (grid codes: the lower wins) into the
    township commander's territory: refused, naming how many."""
    from .factories import box

    Unit.objects.filter(code="411381001001").update(boundary=box(112.0, 32.6, 112.2, 32.7))
    b1a = territory.households["B1a"]
    with pytest.raises(TerritoryError) as caught:
        boundaries_import(
            features=[feature(0, "411381001001003", IN_TOWNSHIP_B)],
            level="grid",
            parent_code="411381001001",
            user=territory.users["township_commander"],
        )
    assert [p.as_dict() for p in caught.value.problems] == [
        {
            "where": "feature 0 (411381001001003).geometry",
            "message": "would take 1 household(s) from outside your territory into this unit",
        }
    ]
    assert not Unit.objects.filter(code="411381001001003").exists()
    assert Household.objects.get(pk=b1a.pk).grid.code == "411381101201001"
    # The whole territory is the superuser's: the same import goes through for them.
    boundaries_import(
        features=[feature(0, "411381001001003", IN_TOWNSHIP_B)],
        level="grid",
        parent_code="411381001001",
        user=territory.users["admin"],
    )
    assert Household.objects.get(pk=b1a.pk).grid.code == "411381001001003"


def test_replace_keeps_the_unit_inside_its_parent_and_around_its_children(territory):
    from territory.services import unit_replace

    from .factories import box

    grid = Unit.objects.current().get(code="411381001001002")
    with pytest.raises(TerritoryError, match="lie outside its parent 411381001001"):
        unit_replace(unit=grid, boundary=box(112.05, 32.6, 112.15, 32.7))
    grid_a = Unit.objects.current().get(code="411381001001001")
    with pytest.raises(TerritoryError, match="its child 41138100100100102") as caught:
        unit_replace(unit=grid_a, boundary=box(112.0, 32.6, 112.05, 32.66))
    assert caught.value.problems[0].where == "unit 411381001001001.geometry"
    Unit.objects.filter(code="411381001001").update(boundary=box(112.0, 32.6, 112.2, 32.7))
    with pytest.raises(TerritoryError, match="would take 1 household"):
        unit_replace(
            unit=grid,
            boundary=box(112.05, 32.6, 112.2, 32.7),
            user=territory.users["township_commander"],
        )
    assert Unit.objects.filter(code__in=["411381001001001", "411381001001002"]).count() == 2


# --- dates and lengths ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("valid_from", "message"),
    [
        (datetime.date(9999, 12, 31), "more than a year ahead"),
        (datetime.date(1900, 1, 1), "before 1949-10-01"),
        (datetime.date(2023, 6, 1), "before parent 411381001001 began (2024-01-01)"),
    ],
)
def test_absurd_or_premature_valid_from_is_refused(territory, valid_from, message):
    with pytest.raises(TerritoryError) as caught:
        boundaries_import(
            features=[feature(0, "411381001001003", shapely.box(112.06, 32.61, 112.09, 32.69))],
            level="grid",
            parent_code="411381001001",
            valid_from=valid_from,
        )
    assert any(p.where == "valid_from" and message in p.message for p in caught.value.problems)
    assert not Unit.objects.filter(code="411381001001003").exists()


def test_replace_dated_before_the_current_version_is_reported_with_the_other_problems(
    territory,
):
    with pytest.raises(TerritoryError) as caught:
        boundaries_import(
            features=[
                feature(
                    0, "411381001001002", shapely.box(112.05, 32.6, 112.1, 32.7), name="x" * 101
                )
            ],
            level="grid",
            parent_code="411381001001",
            replace=True,
            valid_from=datetime.date(2024, 1, 1),
        )
    wheres = {p.where for p in caught.value.problems}
    assert wheres == {"code 411381001001002.valid_from", "feature 0 (411381001001002).name"}


def test_names_longer_than_their_column_are_refused_per_feature(territory):
    with pytest.raises(TerritoryError) as caught:
        boundaries_import(
            features=[
                feature(
                    0,
                    "411381001001003",
                    shapely.box(112.06, 32.61, 112.09, 32.69),
                    name="名" * 101,
                    name_en="e" * 101,
                )
            ],
            level="grid",
            parent_code="411381001001",
        )
    assert {(p.where, p.message) for p in caught.value.problems} == {
        ("feature 0 (411381001001003).name", "101 characters, at most 100"),
        ("feature 0 (411381001001003).name_en", "101 characters, at most 100"),
    }


def test_replace_that_would_leave_households_without_a_grid_needs_confirming(territory):
    from territory.services import unit_replace

    from .factories import box

    grid = Unit.objects.current().get(code="411381001001002")
    with pytest.raises(TerritoryError, match=r"would leave 1 household\(s\) of 411381001001002"):
        unit_replace(unit=grid, boundary=box(112.05, 32.6, 112.06, 32.62))
    assert Household.objects.get(pk=territory.households["A1b"].pk).grid_id == grid.pk
    unit_replace(unit=grid, boundary=box(112.05, 32.6, 112.06, 32.62), allow_orphans=True)
    assert Household.objects.get(pk=territory.households["A1b"].pk).grid is None


# --- issue 10 §3: conversions that keep a tiling a tiling ------------------------------------


def _metres_from(point, geometry) -> float:
    scale = np.cos(np.radians(point[1]))
    flat = shapely.transform(
        geometry.boundary, lambda xy: np.column_stack([xy[:, 0] * scale, xy[:, 1]])
    )
    return flat.distance(shapely.Point(point[0] * scale, point[1])) * 6371008.8 * np.pi / 180


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_a_layer_that_tiles_in_gcj02_or_bd09_still_tiles_once_imported(territory, crs):
    """A county drawn with its 4 corners and 3 x 3 townships of 5.6 x 6.7 km (their corners on
    its edges). Converted corner by corner, the townships' edges bent away from the county's:
    the import was refused for spills of thousands of m²."""
    x0, y0, d = 112.3, 32.8, 0.06
    boundaries_import(
        features=[feature(0, "411382", shapely.box(x0, y0, x0 + 3 * d, y0 + 3 * d), "新县")],
        level="county",
        crs=crs,
    )
    cells = [(i, j) for i in range(3) for j in range(3)]
    boundaries_import(
        features=[
            feature(
                k,
                f"411382{k + 1:03d}",
                shapely.box(x0 + i * d, y0 + j * d, x0 + (i + 1) * d, y0 + (j + 1) * d),
            )
            for k, (i, j) in enumerate(cells)
        ],
        level="township",
        parent_code="411382",
        crs=crs,
    )
    report = topology_check(unit=Unit.objects.current().get(code="411382"))
    assert report.children_checked == 9
    assert report.ok, report.defects
    # The middle of the edge the first two townships share, as stored, is where the exact
    # conversion of that middle puts it.
    first = shapely.from_wkb(bytes(Unit.objects.current().get(code="411382001").boundary.wkb))
    middle = coords.to_wgs84(x0 + d / 2, y0 + d, crs)
    assert _metres_from((float(middle[0]), float(middle[1])), first) < 0.01


def test_a_problem_found_after_conversion_is_located_in_the_input_crs(territory):
    """A GCJ-02 grid 400 m wide sticking out of its village: the spill was located in WGS84,
    hundreds of metres off the drawing the importer has in front of them."""
    given = coords.geometry_from_wgs84(shapely.box(112.098, 32.62, 112.102, 32.622), "gcj02")
    with pytest.raises(TerritoryError) as caught:
        boundaries_import(
            features=[feature(0, "411381001001003", given)],
            level="grid",
            parent_code="411381001001",
            crs="gcj02",
        )
    [problem] = caught.value.problems
    assert "lie outside its parent 411381001001" in problem.message
    assert given.contains(shapely.Point(problem.location))
    assert problem.as_dict()["location_crs"] == "gcj02"
