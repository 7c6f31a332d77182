import json

import pytest
import shapely
from django.urls import reverse
from rest_framework.test import APIClient

from cases.services import hotline_caller_create
from core import coords
from core.tests.errors import refusal
from core.validity import start_of
from territory.models import Household, Unit

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
            "feature 0.geometry",
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
    assert set(refusal(response, 400, "invalid")) == {"level", "crs"}


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


def test_unit_list_searches_by_code_prefix_or_name_within_ones_territory(territory, api):
    Unit.objects.filter(code="411381001001002").update(name="东关社区二网格", name_en="Dongguan 2")

    def codes(user, q, **more):
        answer = api(territory.users[user]).get(reverse("api-grids"), {"q": q, **more})
        assert answer.status_code == 200
        return {f["properties"]["code"] for f in answer.json()["features"]}

    assert codes("commander", "4113811", level="grid") == {"411381101201001"}
    assert codes("commander", "东关") == {"411381001001002"}
    assert codes("commander", "dongguan") == {"411381001001002"}
    assert codes("commander", "4113810010010") == {
        "411381001001001",
        "411381001001002",
        "41138100100100101",
        "41138100100100102",
    }
    assert codes("commander", "no such grid") == set()
    # Within one's territory only: the grid worker's grid is 411381001001001.
    assert codes("grid_worker", "东关") == set()
    # Characters a LIKE pattern would read as wildcards are text here.
    assert codes("commander", "%") == set() and codes("commander", "_") == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x" * 101}, "q"),
        ({"q": "网格\x00"}, "q"),
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
    assert field in refusal(response, 400)


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

    def vertices(zoom, crs="wgs84"):
        data = client.get(
            reverse("api-units"), {"level": "county", "zoom": zoom, "crs": crs}
        ).json()
        return shapely.get_num_coordinates(shapely.geometry.shape(data["features"][0]["geometry"]))

    assert vertices(8) < 10 < vertices(18)
    # In GCJ-02 too: long edges are cut before converting (coords.DENSIFY_STEP_M), but not
    # those of a geometry simplified for the map, where the cuts would undo the simplification.
    assert vertices(8, "gcj02") == vertices(8) and vertices(18, "gcj02") > vertices(18)


def test_as_of_returns_the_boundary_that_held(territory, api):
    import datetime

    from territory.services import unit_replace
    from territory.tests.factories import box

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
        assert field in refusal(response, 400), (body, response.json())
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


# --- issue 9 §6: boundary imports, dates, lengths, deep bodies, the topology check ---------


def _import(client, *features, **fields):
    payload = {"level": "grid", "parent_code": "411381001001", "features": fc(*features)}
    return client.post(reverse("api-units-import"), payload | fields, format="json")


IN_TOWNSHIP_B = [
    [[112.12, 32.62], [112.18, 32.62], [112.18, 32.68], [112.12, 32.68], [112.12, 32.62]]
]


def test_grid_imported_under_ones_village_but_drawn_in_another_township_is_refused(territory, api):
    """The reported attack: the township commander of A imports a grid under his village A1
    whose polygon lies in township B. Nothing is written, and B1a's household stays where
    it was: out of sight of A's village officer, in sight of B's commander."""
    b1a = territory.households["B1a"]
    response = _import(
        api(territory.users["township_commander"]), feat("411381001001003", IN_TOWNSHIP_B)
    )
    assert response.status_code == 400, response.json()
    [error] = response.json()["errors"]
    assert error["where"] == "feature 0 (411381001001003).geometry"
    assert "m² lie outside its parent 411381001001" in error["message"]
    assert not Unit.objects.filter(code="411381001001003").exists()
    officer = api(territory.users["village_officer"])
    assert officer.get(reverse("api-household", args=[b1a.pk])).status_code == 404
    seen = api(territory.users["commander"]).get(reverse("api-household", args=[b1a.pk])).json()
    assert seen["properties"]["grid"] == "411381101201001"


def test_grid_just_inside_its_village_is_imported_and_slightly_outside_is_not(territory, api):
    client = api(territory.users["township_commander"])
    inside = [[[112.06, 32.61], [112.1, 32.61], [112.1, 32.69], [112.06, 32.69], [112.06, 32.61]]]
    outside = [[[x + 2e-9 if x == 112.1 else x, y] for x, y in inside[0]]]
    response = _import(client, feat("411381001001004", outside))
    assert response.status_code == 400
    assert "1.7 m² lie outside" in response.json()["errors"][0]["message"]
    assert _import(client, feat("411381001001003", inside)).status_code == 201


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"valid_from": "9999-12-31"}, "valid_from", "more than a year ahead"),
        ({"valid_from": "1900-01-01"}, "valid_from", "before 1949-10-01"),
        ({"parent_code": "4" * 200}, "parent_code", "no more than 17"),
    ],
)
def test_import_fields_out_of_bounds_are_field_errors(territory, api, fields, field, message):
    response = _import(api(territory.users["commander"]), feat("411381001001003", SQUARE), **fields)
    assert message in " ".join(refusal(response, 400)[field])
    assert not Unit.objects.filter(code="411381001001003").exists()


def test_import_of_a_unit_dated_before_its_parent_is_refused(territory, api):
    inside = [[[112.06, 32.61], [112.09, 32.61], [112.09, 32.69], [112.06, 32.69], [112.06, 32.61]]]
    response = _import(
        api(territory.users["commander"]),
        feat("411381001001003", inside),
        valid_from="2023-12-31",
    )
    assert response.status_code == 400
    assert "before parent 411381001001 began" in response.json()["errors"][0]["message"]


def test_unit_name_longer_than_its_column_is_400_naming_the_feature(territory, api):
    inside = [[[112.06, 32.61], [112.09, 32.61], [112.09, 32.69], [112.06, 32.69], [112.06, 32.61]]]
    response = _import(
        api(territory.users["commander"]), feat("411381001001003", inside, name="网" * 101)
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"where": "feature 0 (411381001001003).name", "message": "101 characters, at most 100"}
    ]


def _path_values(territory):
    return {
        "/api/grids/{code}/": "411381001001001",
        "/api/units/{code}/": "411381001001",
        "/api/households/{id}/": territory.households["A1a-south"].pk,
        "/api/cases/{id}/": 1,  # the body is refused before the case is looked up
    }


def test_deeply_nested_json_is_400_on_every_endpoint_that_takes_a_body(territory, api):
    """Every POST/PUT/PATCH of the OpenAPI schema, as the superuser (whom nothing else
    stops), with 100,000 nested arrays: a clear 400, never a RecursionError (500)."""
    client = api(territory.users["admin"])
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    deep = "[" * 100_000 + "]" * 100_000
    values = _path_values(territory)
    _, hotline_key = hotline_caller_create(name="12345", county_code="411381")
    tried = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch") or "requestBody" not in operation:
                continue
            url = path
            for prefix, value in values.items():
                head = prefix.split("{")[0]
                if url.startswith(head):
                    url = url.replace("{" + prefix.split("{")[1].split("}")[0] + "}", str(value))
            assert "{" not in url, url
            caller = client
            if path.startswith("/api/hotline/"):  # a caller system, with its key, not a login
                caller = APIClient(HTTP_X_API_KEY=hotline_key)
            response = getattr(caller, method)(url, deep, content_type="application/json")
            assert response.status_code == 400, (method, url, response.status_code)
            assert "nests 100000 levels deep" in response.json()["detail"], response.json()
            tried.append((method, url))
    assert {("post", "/api/units/import/"), ("post", "/api/incidents/")} <= set(tried)
    assert len(tried) >= 10


@pytest.mark.parametrize(
    ("user", "code", "status"),
    [
        ("township_commander", "411381001", 200),
        ("township_commander", "411381", 404),  # above his territory
        ("township_commander", "411381101", 404),  # beside it
        ("village_officer", "411381001001", 403),  # in their territory, not theirs to edit
        ("volunteer", "411381001001", 403),
        ("grid_chief", "411381001001001", 403),
        ("resident", "411381001001002", 403),
        ("admin", "411381", 200),
    ],
)
def test_topology_check_is_for_those_who_edit_the_territory(territory, api, user, code, status):
    response = api(territory.users[user]).get(reverse("api-unit-topology", args=[code]))
    assert response.status_code == status, response.json()


def test_topology_check_of_too_large_a_subtree_is_refused(territory, api, settings):
    settings.WANGGE_TOPOLOGY_MAX_UNITS = 5  # township A holds 6 units with itself
    client = api(territory.users["township_commander"])
    response = client.get(reverse("api-unit-topology", args=["411381001"]))
    assert "holds 6 units, more than the 5" in refusal(response, 400)["code"][0]
    assert client.get(reverse("api-unit-topology", args=["411381001001"])).status_code == 200
    bad = client.get(reverse("api-unit-topology", args=["411381001001"]), {"tolerance_m2": "nan"})
    assert bad.status_code == 400


def test_topology_locations_come_in_the_requested_crs(territory, api):
    from territory.tests.factories import box

    Unit.objects.filter(code="41138100100100102").update(boundary=box(112.0, 32.66, 112.05, 32.7))
    client = api(territory.users["township_commander"])
    url = reverse("api-unit-topology", args=["411381001"])
    wgs_report, gcj_report = client.get(url).json(), client.get(url, {"crs": "gcj02"}).json()
    assert (wgs_report["crs"], gcj_report["crs"]) == ("wgs84", "gcj02")  # the answer says
    [wgs], [gcj] = wgs_report["defects"], gcj_report["defects"]
    assert wgs["kind"] == gcj["kind"] == "gap"
    assert gcj["location"] == pytest.approx(
        list(coords.point_from_wgs84(*wgs["location"], "gcj02"))
    )
    assert gcj["location"] != pytest.approx(wgs["location"])
    unknown = client.get(url, {"crs": "epsg3857"})
    assert unknown.status_code == 400
    assert "unknown CRS" in unknown.json()["errors"][0]["message"], unknown.json()
    assert unknown.json()["errors"][0]["where"] == "crs"


def test_schema_documents_the_household_precondition(territory, client):
    """A client generated from the schema learns that a change names the version it read."""
    client.force_login(territory.users["admin"])
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    patch = schema["paths"]["/api/households/{id}/"]["patch"]
    assert {"412", "409", "428"} <= set(patch["responses"])
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in patch["parameters"])


NEW_YORK = [[[-74.01, 40.70], [-73.99, 40.70], [-73.99, 40.72], [-74.01, 40.72], [-74.01, 40.70]]]


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_import_in_gcj02_or_bd09_outside_china_is_refused(territory, api, crs):
    """A GCJ-02 file of New York is not converted (the offset is zero there): refuse it rather
    than let it replace a Dengzhou grid."""
    before = Unit.objects.count()
    response = api(territory.users["commander"]).post(
        reverse("api-units-import"),
        {
            "level": "grid",
            "parent_code": "411381101201",
            "crs": crs,
            "replace": True,
            "features": fc(feat("411381101201001", NEW_YORK)),
        },
        format="json",
    )
    assert response.status_code == 400, response.json()
    [error] = response.json()["errors"]
    assert error["where"] == "feature 0 (411381101201001).geometry"
    assert f"5 of 5 point(s) lie outside China, where {crs} is not defined" in error["message"]
    assert Unit.objects.count() == before
    assert Household.objects.get(pk=territory.households["B1a"].pk).grid.code == "411381101201001"


def test_import_that_would_leave_households_without_a_grid_needs_confirming(territory, api):
    client = api(territory.users["commander"])
    payload = {
        "level": "grid",
        "parent_code": "411381101201",
        "replace": True,
        "features": fc(feat("411381101201001", SQUARE)),  # B1a's household lies outside it
    }
    response = client.post(reverse("api-units-import"), payload, format="json")
    assert response.status_code == 400, response.json()
    [error] = response.json()["errors"]
    assert error["where"] == "feature 0 (411381101201001).geometry"
    assert "would leave 1 household(s) of 411381101201001 without a grid" in error["message"]
    assert "allow_orphans" in error["message"]
    household = Household.objects.get(pk=territory.households["B1a"].pk)
    assert household.grid.code == "411381101201001"
    assert Unit.objects.current().get(code="411381101201001").boundary.extent[2] == 112.2

    response = client.post(
        reverse("api-units-import"), {**payload, "allow_orphans": True}, format="json"
    )
    assert response.status_code == 201, response.json()
    household.refresh_from_db()
    assert household.grid is None


SPIKE = [[[112.16, 32.62], [112.17, 32.63], [112.18, 32.64], [112.16, 32.62]]]


def test_import_checks_the_geometry_as_given_before_converting_it(territory, api):
    """All points on a line: no area as given (valid to GEOS all the same); GCJ-02 -> WGS84
    bends it into a valid sliver of about 100 m²."""
    assert shapely.Polygon(SPIKE[0]).is_valid
    # Converting its three vertices alone (densified, it bends into an invalid ring instead).
    converted = coords.geometry_to_wgs84(shapely.Polygon(SPIKE[0]), "gcj02", densify_edges=False)
    assert converted.is_valid and converted.area > 1e-10  # what would have been stored
    response = api(territory.users["commander"]).post(
        reverse("api-units-import"),
        {
            "level": "grid",
            "parent_code": "411381101201",
            "crs": "gcj02",
            "features": fc(feat("411381101201002", SPIKE)),
        },
        format="json",
    )
    assert response.status_code == 400, response.json()
    [error] = response.json()["errors"]
    assert error["where"] == "feature 0 (411381101201002).geometry"
    assert error["message"].startswith("as given in gcj02: the polygon has no area")
    assert error["location"] == [112.16, 32.62]  # in the input's CRS
    assert not Unit.objects.filter(code="411381101201002").exists()
