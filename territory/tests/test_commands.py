import json
import re
from pathlib import Path

import pyogrio
import pytest
import shapely
from django.conf import settings
from django.core.management import CommandError, call_command

from core import coords
from territory.models import Household, Unit

pytestmark = pytest.mark.django_db

DENGZHOU_FILE = (
    Path(settings.BASE_DIR) / "fixtures" / "boundaries" / "411381_dengzhou_gcj02.geojson"
)


def test_import_the_real_dengzhou_boundary_from_gcj02(capsys):
    call_command(
        "import_boundaries",
        str(DENGZHOU_FILE),
        "--level",
        "county",
        "--crs",
        "gcj02",
        "--code",
        "411381",
        "--name",
        "邓州市",
        verbosity=0,
    )
    county = Unit.objects.current().get(code="411381")
    raw = shapely.geometry.shape(json.loads(DENGZHOU_FILE.read_text()))
    stored = shapely.from_wkb(bytes(county.boundary.wkb))
    assert shapely.get_num_coordinates(raw) == 1187
    # Its edges longer than coords.DENSIFY_STEP_M were cut before conversion.
    converted = coords.geometry_to_wgs84(raw, "gcj02")
    assert shapely.get_num_coordinates(stored) == shapely.get_num_coordinates(converted) > 1187
    # GCJ-02 is offset by hundreds of metres from the true (WGS84) position around Dengzhou.
    x0, y0 = shapely.get_coordinates(raw)[0]
    x1, y1 = shapely.get_coordinates(stored)[0]
    assert 300 < coords.distance_m(x0, y0, x1, y1) < 700
    assert 2.3e9 < county.area_m2 < 2.5e9  # Dengzhou: about 2,369 km²
    assert "imported 1 new" in capsys.readouterr().out


def test_malformed_file_fails_with_a_message_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [ {"type": "Feat')
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("import_boundaries", str(bad), "--level", "county", verbosity=0)
    assert not Unit.objects.exists()


def test_invalid_feature_in_a_file_is_located(tmp_path, territory):
    path = tmp_path / "grids.geojson"
    bowtie = [[[112.0, 32.6], [112.05, 32.7], [112.05, 32.6], [112.0, 32.7], [112.0, 32.6]]]
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": "411381001001007", "name": "坏"},
                        "geometry": {"type": "Polygon", "coordinates": bowtie},
                    }
                ],
            }
        )
    )
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_boundaries",
            str(path),
            "--level",
            "grid",
            "--parent",
            "411381001001",
            verbosity=0,
        )
    assert "feature 0 (411381001001007).geometry: invalid geometry: Self-intersection" in str(
        caught.value
    )
    assert "at (112.025, 32.65)" in str(caught.value)
    assert not Unit.objects.filter(code="411381001001007").exists()


def test_projected_file_is_reprojected_and_gcj_claim_refused(tmp_path, territory):
    frame = pyogrio.read_dataframe(str(DENGZHOU_FILE)).set_crs(4326, allow_override=True)
    projected = tmp_path / "projected.gpkg"
    pyogrio.write_dataframe(frame.to_crs(3857), projected)
    with pytest.raises(CommandError, match="declares"):
        call_command(
            "import_boundaries",
            str(projected),
            "--level",
            "county",
            "--crs",
            "gcj02",
            "--code",
            "411382",
            "--name",
            "x",
            verbosity=0,
        )


def test_shapefile_import(tmp_path, territory):
    import geopandas as gpd

    frame = gpd.GeoDataFrame(
        {"code": ["411381101201002"], "name": ["河西网格"]},
        geometry=[shapely.box(112.1, 32.6, 112.12, 32.62)],
        crs=4326,
    )
    path = tmp_path / "grids.shp"
    pyogrio.write_dataframe(frame, path, encoding="UTF-8")
    call_command(
        "import_boundaries", str(path), "--level", "grid", "--parent", "411381101201", verbosity=0
    )
    unit = Unit.objects.current().get(code="411381101201002")
    assert unit.name == "河西网格" and unit.path.endswith("/411381101201/411381101201002")


@pytest.mark.parametrize(("fmt", "crs"), [("gpkg", "wgs84"), ("geojson", "gcj02")])
def test_export_round_trips(tmp_path, territory, fmt, crs):
    out = tmp_path / f"grids.{fmt}"
    call_command(
        "export_boundaries", str(out), "--level", "grid", "--parent", "411381001", "--crs", crs
    )
    frame = pyogrio.read_dataframe(out)
    assert sorted(frame["code"]) == ["411381001001001", "411381001001002"]
    exported = frame.set_index("code").geometry["411381001001001"]
    back = coords.geometry_to_wgs84(exported, crs)
    assert shapely.hausdorff_distance(back, shapely.box(112.0, 32.6, 112.05, 32.7)) < 1e-7
    if crs == "gcj02":
        assert shapely.hausdorff_distance(exported, shapely.box(112.0, 32.6, 112.05, 32.7)) > 1e-3


def test_check_topology_command_fails_on_a_gap(territory, capsys):
    call_command("check_topology", "411381")
    assert "0 gaps, 0 overlaps" in capsys.readouterr().out
    Unit.objects.filter(code="411381101201001").update(
        boundary=Unit.objects.get(code="411381001001002").boundary
    )
    with pytest.raises(CommandError, match="topology defect"):
        call_command("check_topology", "411381")


def _grid_file(tmp_path, box_, name="新网格", code="411381001001003"):
    path = tmp_path / "grid.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": code, "name": name},
                        "geometry": shapely.geometry.mapping(shapely.box(*box_)),
                    }
                ],
            },
            ensure_ascii=False,
        )
    )
    return str(path)


def _import_grid(path, *extra):
    call_command(
        "import_boundaries",
        path,
        "--level",
        "grid",
        "--parent",
        "411381001001",
        *extra,
        verbosity=0,
    )


def test_command_refuses_a_grid_outside_its_village(tmp_path, territory):
    """The same rule as the API: a grid of village A1 drawn in township B."""
    with pytest.raises(CommandError) as caught:
        _import_grid(_grid_file(tmp_path, (112.12, 32.62, 112.18, 32.68)))
    assert "feature 0 (411381001001003).geometry: " in str(caught.value)
    assert "m² lie outside its parent 411381001001" in str(caught.value)
    assert not Unit.objects.filter(code="411381001001003").exists()
    assert Household.objects.get(pk=territory.households["B1a"].pk).grid.code == "411381101201001"


def test_command_grid_just_inside_is_imported_slightly_outside_is_not(tmp_path, territory):
    with pytest.raises(CommandError, match=r"1\.7 m² lie outside"):
        _import_grid(_grid_file(tmp_path, (112.06, 32.61, 112.1 + 2e-9, 32.69)))
    _import_grid(_grid_file(tmp_path, (112.06, 32.61, 112.1, 32.69)))
    assert Unit.objects.current().filter(code="411381001001003").exists()


@pytest.mark.parametrize(
    ("extra", "name", "message"),
    [
        (
            ("--valid-from", "9999-12-31"),
            "新网格",
            "valid_from: 9999-12-31 is more than a year ahead",
        ),
        (("--valid-from", "1900-01-01"), "新网格", "before 1949-10-01"),
        ((), "网" * 101, "feature 0 (411381001001003).name: 101 characters, at most 100"),
    ],
)
def test_command_refuses_absurd_dates_and_long_names(tmp_path, territory, extra, name, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        _import_grid(_grid_file(tmp_path, (112.06, 32.61, 112.09, 32.69), name=name), *extra)
    assert not Unit.objects.filter(code="411381001001003").exists()


def test_command_refuses_gcj02_outside_china(tmp_path, territory):
    path = _grid_file(tmp_path, (-74.01, 40.70, -73.99, 40.72), code="411381001001001")
    with pytest.raises(CommandError) as caught:
        _import_grid(path, "--crs", "gcj02", "--replace")
    assert "feature 0 (411381001001001).geometry: 5 of 5 point(s) lie outside China" in str(
        caught.value
    )
    assert "where gcj02 is not defined" in str(caught.value)
    assert Household.objects.get(pk=territory.households["A1b"].pk).grid.code == "411381001001002"
    assert Unit.objects.current().get(code="411381001001001").boundary.extent[0] == 112.0


def test_command_replace_that_would_leave_households_without_a_grid_needs_confirming(
    tmp_path, territory
):
    path = _grid_file(tmp_path, (112.05, 32.6, 112.06, 32.62), code="411381001001002")
    with pytest.raises(CommandError) as caught:
        _import_grid(path, "--replace")
    assert (
        "feature 0 (411381001001002).geometry: would leave 1 household(s) of 411381001001002 "
        "without a grid (1 in all)" in str(caught.value)
    )
    assert "--allow-orphans" in str(caught.value)
    household = Household.objects.get(pk=territory.households["A1b"].pk)
    assert household.grid.code == "411381001001002"
    _import_grid(path, "--replace", "--allow-orphans")
    household.refresh_from_db()
    assert household.grid is None
    assert Unit.objects.current().get(code="411381001001002").boundary.extent[2] == 112.06


def test_command_refuses_a_zero_area_spike_given_in_gcj02(tmp_path, territory):
    """A collinear ring, valid to GEOS (no self-intersection at these coordinates)."""
    path = tmp_path / "spike.geojson"
    spike = [[[112.06, 32.62], [112.07, 32.63], [112.08, 32.64], [112.06, 32.62]]]
    feature = {
        "type": "Feature",
        "properties": {"code": "411381001001003", "name": "刺"},
        "geometry": {"type": "Polygon", "coordinates": spike},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(CommandError) as caught:
        _import_grid(str(path), "--crs", "gcj02")
    assert (
        "feature 0 (411381001001003).geometry: as given in gcj02: the polygon has no area"
        in str(caught.value)
    )
    assert not Unit.objects.filter(code="411381001001003").exists()


_SQUARE = [[112.06, 32.61], [112.09, 32.61], [112.09, 32.69], [112.06, 32.69], [112.06, 32.61]]


@pytest.mark.parametrize(
    ("geometry", "crs", "message"),
    [
        (
            {"type": "Polygon", "coordinates": [[[*p, 10.0] for p in _SQUARE]]},
            "gcj02",
            "coordinates are 3D (they carry heights)",
        ),
        (
            {"type": "Polygon", "coordinates": [[[*p, 10.0] for p in _SQUARE]]},
            "wgs84",  # was a DataError from the database
            "coordinates are 3D (they carry heights)",
        ),
        (
            {"type": "Polygon", "coordinates": [[[str(x), str(y)] for x, y in _SQUARE]]},
            "wgs84",
            "coordinates must be numbers (are some given as strings?)",
        ),
        (
            {"type": "Polygonn", "coordinates": [_SQUARE]},
            "wgs84",
            "unknown geometry type 'Polygonn'; expected Polygon or MultiPolygon",
        ),
    ],
)
def test_command_names_the_real_reason_a_geometry_is_refused(
    tmp_path, territory, geometry, crs, message
):
    path = tmp_path / "grid.geojson"
    feature = {
        "type": "Feature",
        "properties": {"code": "411381001001003", "name": "新"},
        "geometry": geometry,
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(CommandError) as caught:
        _import_grid(str(path), "--crs", crs)
    assert f"feature 0 (411381001001003).geometry: {message}" in str(caught.value)
    assert not Unit.objects.filter(code="411381001001003").exists()


@pytest.mark.parametrize(
    ("ring", "message"),
    [
        (_SQUARE[:-1], "a ring is not closed (its last point must repeat its first)"),
        # NaN in the first point: GEOS sees an unclosed ring
        ([[112.06, float("nan")], *_SQUARE[1:]], "coordinates contain NaN or infinity"),
    ],
)
def test_command_names_the_feature_geos_cannot_build(tmp_path, territory, ring, message):
    path = tmp_path / "grid.geojson"
    feature = {
        "type": "Feature",
        "properties": {"code": "411381001001003", "name": "新"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(CommandError) as caught:
        _import_grid(str(path))
    assert f"feature 0 (411381001001003).geometry: {message}" in str(caught.value)
    assert not Unit.objects.filter(code="411381001001003").exists()
