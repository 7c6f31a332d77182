"""One reading of GeoJSON for the API and the command, and the CRS marker of exports."""

import json
import re

import numpy as np
import pyogrio
import pytest
import shapely
from django.core.management import CommandError, call_command
from django.urls import reverse

from core import coords
from territory.models import Unit

pytestmark = pytest.mark.django_db

SQUARE = [[112.06, 32.61], [112.09, 32.61], [112.09, 32.69], [112.06, 32.69], [112.06, 32.61]]
CODE = "411381001001003"


def _collection(geometry, **members):
    feature = {"type": "Feature", "properties": {"code": CODE, "name": "新"}, "geometry": geometry}
    return {"type": "FeatureCollection", **members, "features": [feature]}


def _through_the_api(api, territory, collection, crs="wgs84"):
    response = api(territory.users["commander"]).post(
        reverse("api-units-import"),
        {"level": "grid", "parent_code": "411381001001", "crs": crs, "features": collection},
        format="json",
    )
    assert response.status_code == 400, response.json()
    return [(e["where"], e["message"]) for e in response.json()["errors"]]


def _through_the_command(tmp_path, collection, crs="wgs84"):
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps(collection))
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_boundaries",
            str(path),
            "--level",
            "grid",
            "--parent",
            "411381001001",
            "--crs",
            crs,
            verbosity=0,
        )
    return re.findall(r"^  (.+?): (.+)$", str(caught.value), re.MULTILINE)


@pytest.mark.parametrize(
    ("coordinates", "message"),
    [
        # The API closed the ring itself and wrote the unit (201).
        ([SQUARE[:-1]], "a ring is not closed (its last point must repeat its first)"),
        # The API read the strings as numbers and wrote the unit (201).
        (
            [[[str(x), str(y)] for x, y in SQUARE]],
            "coordinates must be numbers (are some given as strings?)",
        ),
        ([[[112.06, 32.61], [112.09, 32.61], [112.06, 32.61]]], "a ring needs at least 4"),
        ([[[112.06], *SQUARE[1:]]], "a position needs a longitude and a latitude"),
    ],
)
def test_the_api_and_the_command_refuse_a_bad_geometry_alike(
    tmp_path, territory, api, coordinates, message
):
    collection = _collection({"type": "Polygon", "coordinates": coordinates})
    by_api = _through_the_api(api, territory, collection)
    by_command = _through_the_command(tmp_path, collection)
    assert by_api == by_command
    [(where, said)] = by_api
    assert where == f"feature 0 ({CODE}).geometry" and message in said
    assert not Unit.objects.filter(code=CODE).exists()


def test_an_export_marked_gcj02_is_refused_as_wgs84_and_taken_as_gcj02(tmp_path, territory, api):
    gcj = coords.geometry_from_wgs84(shapely.Polygon(SQUARE), "gcj02")
    collection = _collection(
        shapely.geometry.mapping(gcj),
        crs={"type": "name", "properties": {"name": "urn:wangge:crs:gcj02"}},
    )
    said = "the file is marked as gcj02, but its import names wgs84"
    assert _through_the_api(api, territory, collection) == [("features.crs", said)]
    assert _through_the_command(tmp_path, collection) == [("crs", said)]
    path = tmp_path / "gcj.geojson"
    path.write_text(json.dumps(collection))
    call_command(
        "import_boundaries",
        str(path),
        "--level",
        "grid",
        "--parent",
        "411381001001",
        "--crs",
        "gcj02",
        verbosity=0,
    )
    stored = shapely.from_wkb(bytes(Unit.objects.current().get(code=CODE).boundary.wkb))
    assert shapely.hausdorff_distance(stored, shapely.Polygon(SQUARE)) < 1e-7


def _metres_from(point, geometry) -> float:
    scale = np.cos(np.radians(point[1]))
    flat = shapely.transform(
        geometry.boundary, lambda xy: np.column_stack([xy[:, 0] * scale, xy[:, 1]])
    )
    return flat.distance(shapely.Point(point[0] * scale, point[1])) * 6371008.8 * np.pi / 180


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_an_export_in_gcj02_or_bd09_says_so_inside_and_in_its_name(
    tmp_path, territory, api, fmt, crs
):
    """GDAL read them as WGS84, 100-700 m off; now it reads a CRS of their own."""
    response = api(territory.users["commander"]).get(
        reverse("api-units-export"),
        {"level": "grid", "parent": "411381001", "format": fmt, "crs": crs},
    )
    assert response.status_code == 200
    name = f"grids-411381001-{crs}.{fmt}"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    path = tmp_path / name
    path.write_bytes(response.content)
    frame = pyogrio.read_dataframe(path)
    assert frame.crs is not None and frame.crs.to_epsg() is None
    assert f"urn:wangge:crs:{crs}" in frame.crs.name
    if fmt == "geojson":
        body = json.loads(response.content)
        assert body["wangge:crs"] == crs
        assert f"urn:wangge:crs:{crs}" in body["crs"]["properties"]["name"]
    # The 11 km east edge of grid A1a, cut before conversion: its middle is where the exact
    # conversion of the middle puts it (4 m off when only the corners were converted).
    exported = frame.set_index("code").geometry["411381001001001"]
    true = coords.point_from_wgs84(112.05, 32.65, crs)
    assert _metres_from(true, exported) < 0.01


def test_an_export_in_wgs84_is_named_and_left_unmarked(territory, api):
    response = api(territory.users["commander"]).get(
        reverse("api-units-export"), {"level": "village"}
    )
    assert response["Content-Disposition"] == 'attachment; filename="villages-wgs84.geojson"'
    body = json.loads(response.content)
    assert "wangge:crs" not in body and body["crs"]["properties"]["name"].endswith("CRS84")


def test_a_file_in_web_mercator_is_reprojected_by_both_and_refused_as_gcj02(
    tmp_path, territory, api
):
    """The API ignored a declared CRS (and refused metres as out of range); the command had
    GDAL read it. Both read it alike now."""
    from pyproj import Transformer

    to_mercator = Transformer.from_crs(4326, 3857, always_xy=True)
    metres = [list(to_mercator.transform(x, y)) for x, y in SQUARE]
    collection = _collection(
        {"type": "Polygon", "coordinates": [metres]},
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
    )
    said = "the file declares urn:ogc:def:crs:EPSG::3857, which cannot be gcj02"
    assert _through_the_api(api, territory, collection, crs="gcj02") == [("features.crs", said)]
    assert _through_the_command(tmp_path, collection, crs="gcj02") == [("crs", said)]
    response = api(territory.users["commander"]).post(
        reverse("api-units-import"),
        {"level": "grid", "parent_code": "411381001001", "features": collection},
        format="json",
    )
    assert response.status_code == 201, response.json()
    stored = shapely.from_wkb(bytes(Unit.objects.current().get(code=CODE).boundary.wkb))
    assert shapely.hausdorff_distance(stored, shapely.Polygon(SQUARE)) < 1e-9
