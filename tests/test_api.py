import json

import pytest
import shapely
from django.urls import reverse

from gis import coords
from gis.models import Household, Unit
from gis.validity import start_of

pytestmark = pytest.mark.django_db

SQUARE = [[[112.1, 32.6], [112.11, 32.6], [112.11, 32.61], [112.1, 32.61], [112.1, 32.6]]]
BOWTIE = [[[112.1, 32.6], [112.11, 32.61], [112.11, 32.6], [112.1, 32.61], [112.1, 32.6]]]


def fc(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def feat(code, coordinates, name="新网格"):
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name},
        "geometry": {"type": "Polygon", "coordinates": coordinates},
    }


@pytest.mark.parametrize(
    ("payload", "where", "message"),
    [
        (
            {"level": "grid", "parent_code": "411381101201", "features": "{not json"},
            "features",
            "malformed JSON",
        ),
        (
            {
                "level": "grid",
                "parent_code": "411381101201",
                "features": fc(
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Polygon", "coordinates": 5},
                    }
                ),
            },
            "features.features[0].geometry",
            "malformed GeoJSON geometry",
        ),
        (
            {
                "level": "grid",
                "parent_code": "411381101201",
                "features": fc(feat("411381101201002", BOWTIE)),
            },
            "feature 0 (411381101201002).geometry",
            "Self-intersection",
        ),
        (
            {
                "level": "grid",
                "parent_code": "411381101201",
                "features": fc(
                    feat(
                        "411381101201002",
                        [
                            [
                                [12500000, 3800000],
                                [12500100, 3800000],
                                [12500100, 3800100],
                                [12500000, 3800000],
                            ]
                        ],
                    )
                ),
            },
            "feature 0 (411381101201002).geometry",
            "out of range",
        ),
        (
            {
                "level": "grid",
                "parent_code": "411381101299",
                "features": fc(feat("411381101299002", SQUARE)),
            },
            "parent_code",
            "unknown parent 411381101299",
        ),
        (
            {
                "level": "grid",
                "parent_code": "411381101201",
                "features": fc(feat("411381101201002", SQUARE), feat("411381101201002", SQUARE)),
            },
            "feature 1 (411381101201002).code",
            "duplicate code",
        ),
        (
            {
                "level": "grid",
                "parent_code": "411381101201",
                "features": fc(feat("411381101201001", SQUARE)),
            },
            "code 411381101201001",
            "a current unit has this code",
        ),
    ],
)
def test_import_bad_input_is_400_with_a_path_and_writes_nothing(
    territory, api, payload, where, message
):
    before = Unit.objects.count()
    response = api(territory.users["commander"]).post(
        reverse("api-units-import"), payload, format="json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(e["where"] == where and message in e["message"] for e in errors), errors
    assert Unit.objects.count() == before


def test_import_wrong_crs_and_level_are_field_errors(territory, api):
    client = api(territory.users["commander"])
    response = client.post(
        reverse("api-units-import"),
        {"level": "hamlet", "crs": "epsg3857", "features": fc()},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"level", "crs"}


def test_import_in_gcj02_then_read_back_in_gcj02(territory, api):
    client = api(territory.users["commander"])
    gcj = shapely.geometry.mapping(coords.geometry_from_wgs84(shapely.Polygon(SQUARE[0]), "gcj02"))
    response = client.post(
        reverse("api-units-import"),
        {
            "level": "grid",
            "parent_code": "411381101201",
            "crs": "gcj02",
            "features": fc(
                {
                    "type": "Feature",
                    "properties": {"code": "411381101201002", "name": "新"},
                    "geometry": gcj,
                }
            ),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    wgs = (
        api(territory.users["commander"]).get(reverse("api-unit", args=["411381101201002"])).json()
    )
    back = (
        api(territory.users["commander"])
        .get(reverse("api-unit", args=["411381101201002"]), {"crs": "gcj02"})
        .json()
    )
    wgs_shape = shapely.geometry.shape(wgs["geometry"])
    assert shapely.hausdorff_distance(wgs_shape, shapely.Polygon(SQUARE[0])) < 1e-7
    assert (
        shapely.hausdorff_distance(
            shapely.geometry.shape(back["geometry"]), shapely.geometry.shape(gcj)
        )
        < 1e-7
    )


def test_huge_upload_is_refused(territory, api, settings):
    settings.WANGGE_MAX_UPLOAD_BYTES = 1000
    payload = {
        "level": "grid",
        "parent_code": "411381101201",
        "features": fc(*[feat(f"411381101201{i:03d}", SQUARE) for i in range(2, 40)]),
    }
    response = api(territory.users["commander"]).post(
        reverse("api-units-import"), payload, format="json"
    )
    assert response.status_code == 400 and "too large" in json.dumps(response.json())


def test_unit_list_filters_bbox_level_parent_and_paginates(territory, api):
    client = api(territory.users["commander"])
    west = client.get(
        reverse("api-units"), {"level": "grid", "bbox": "112.0,32.6,112.04,32.7"}
    ).json()
    assert [f["properties"]["code"] for f in west["features"]] == ["411381001001001"]
    kids = client.get(reverse("api-units"), {"parent": "411381001001"}).json()
    assert {f["properties"]["code"] for f in kids["features"]} == {
        "411381001001001",
        "411381001001002",
    }
    page = client.get(reverse("api-units"), {"page_size": 3}).json()
    assert page["count"] == 10 and len(page["features"]) == 3 and page["next"]
    counts = {
        f["properties"]["code"]: f["properties"]["households"]
        for f in client.get(reverse("api-units"), {"level": "grid"}).json()["features"]
    }
    assert counts == {"411381001001001": 2, "411381001001002": 1, "411381101201001": 1}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "112,33,111,32"}, "bbox"),
        ({"zoom": "x"}, "zoom"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"crs": "web-mercator"}, "crs"),
        ({"level": "hamlet"}, "level"),
    ],
)
def test_bad_query_parameters_are_400(territory, api, params, field):
    response = api(territory.users["commander"]).get(reverse("api-units"), params)
    assert response.status_code == 400 and field in response.json()


def test_zoom_simplifies_geometry(territory, api):
    county = Unit.objects.get(code="411381")
    wiggly = shapely.Polygon(
        [(112.0 + i * 0.002, 32.6 + (0.0001 if i % 2 else 0)) for i in range(101)]
        + [(112.2, 32.7), (112.0, 32.7)]
    )
    Unit.objects.filter(pk=county.pk).update(
        boundary=f"SRID=4326;{shapely.MultiPolygon([wiggly]).wkt}"
    )
    client = api(territory.users["commander"])

    def vertices(zoom):
        data = client.get(reverse("api-units"), {"level": "county", "zoom": zoom}).json()
        return shapely.get_num_coordinates(shapely.geometry.shape(data["features"][0]["geometry"]))

    assert vertices(8) < 10 < vertices(18)


def test_as_of_returns_the_boundary_that_held(territory, api):
    import datetime

    from gis.services import unit_replace
    from gis.tests.factories import box

    unit_replace(
        unit=Unit.objects.get(code="411381101201001"),
        on_date=start_of(datetime.date(2025, 6, 1)),
        boundary=box(112.1, 32.6, 112.2, 32.7),
        name="新名字",
    )
    client = api(territory.users["commander"])
    old = client.get(reverse("api-unit", args=["411381101201001"]), {"as_of": "2025-01-01"}).json()
    new = client.get(reverse("api-unit", args=["411381101201001"])).json()
    assert old["properties"]["name"] == "grid-411381101201001" and old["properties"][
        "valid_to"
    ].startswith("2025-06-01T00:00:00")
    assert new["properties"]["name"] == "新名字"


def test_household_create_bad_input_is_400_with_field(territory, api):
    client = api(territory.users["village_officer"])
    count = Household.objects.count()
    for body, field in [
        ({"lon": 512000, "lat": 3600000, "address": "a", "head_name": "b"}, "location"),
        ({"lon": 112.07, "lat": 32.6, "address": "a", "head_name": "b", "crs": "utm"}, "crs"),
        (
            {"lon": 112.07, "lat": 32.6, "address": "a", "head_name": "b", "id_number": "123"},
            "id_number",
        ),
        ({"lon": 112.07, "address": "a", "head_name": "b"}, "lat"),
        ({"lon": 112.07, "lat": 32.6, "address": "a", "head_name": "b", "members": 0}, "members"),
    ]:
        response = client.post(reverse("api-households"), body, format="json")
        assert response.status_code == 400 and field in response.json(), (body, response.json())
    assert Household.objects.count() == count


def test_household_create_in_gcj02(territory, api):
    x, y = coords.wgs84_to_gcj02(112.07, 32.62)
    response = api(territory.users["village_officer"]).post(
        reverse("api-households"),
        {
            "lon": float(x),
            "lat": float(y),
            "crs": "gcj02",
            "address": "团结路8号",
            "head_name": "赵六",
            "id_number": "11010519491231002X",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    props = response.json()["properties"]
    assert props["grid"] == "411381001001002" and props["id_number"] == "110105********002X"
    stored = Household.objects.get(pk=response.json()["id"]).location
    assert coords.distance_m(stored.x, stored.y, 112.07, 32.62) < 0.5


@pytest.mark.parametrize("name", ["api-units", "api-grids", "api-households"])
def test_list_query_budget(territory, api, django_assert_max_num_queries, name):
    client = api(territory.users["commander"])
    with django_assert_max_num_queries(6):
        response = client.get(reverse(name), {"page_size": 100})
    assert response.status_code == 200 and response.json()["features"]


def test_openapi_schema_and_local_swagger(territory, client):
    client.force_login(territory.users["commander"])
    schema = client.get(reverse("schema"), {"format": "json"})
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert {"/api/units/", "/api/units/import/", "/api/households/", "/api/grids/"} <= set(paths)
    page = client.get(reverse("swagger-ui")).content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower() and "https://" not in page


def test_geopackage_export_over_the_api(territory, api, tmp_path):
    import pyogrio

    response = api(territory.users["commander"]).get(
        reverse("api-units-export"), {"level": "village", "format": "gpkg", "crs": "cgcs2000"}
    )
    assert (
        response.status_code == 200 and response["Content-Type"] == "application/geopackage+sqlite3"
    )
    path = tmp_path / "v.gpkg"
    path.write_bytes(response.content)
    frame = pyogrio.read_dataframe(path)
    assert sorted(frame["code"]) == ["411381001001", "411381101201"] and frame.crs.to_epsg() == 4490
