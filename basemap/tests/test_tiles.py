"""The tile endpoint: vector tiles made in the database, decoded back; bad input; caching."""

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import GEOSGeometry

from basemap import tiles
from basemap.models import Building, LandUse, Place, Poi, Road, Water
from territory.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LON, LAT = 112.07, 32.65


def _m(wkt):
    return GEOSGeometry(f"SRID=4326;{wkt}").transform(3857, clone=True)


@pytest.fixture
def town():
    d = 0.002
    Road.objects.create(
        area="t",
        kind="primary",
        name="新华路",
        geom=_m(f"LINESTRING({LON - d} {LAT}, {LON + d} {LAT})"),
    )
    Road.objects.create(
        area="t",
        kind="footway",
        name="小巷",
        geom=_m(f"LINESTRING({LON} {LAT - d}, {LON} {LAT + d})"),
    )
    Building.objects.create(
        area="t",
        kind="apartments",
        geom=_m(
            f"MULTIPOLYGON((({LON + 0.0002} {LAT + 0.0002}, {LON + 0.0006} {LAT + 0.0002}, "
            f"{LON + 0.0006} {LAT + 0.0005}, {LON + 0.0002} {LAT + 0.0005}, {LON + 0.0002} {LAT + 0.0002})))"
        ),
    )
    LandUse.objects.create(
        area="t",
        kind="farmland",
        geom=_m(
            f"MULTIPOLYGON((({LON - 0.05} {LAT - 0.05}, {LON + 0.05} {LAT - 0.05}, "
            f"{LON + 0.05} {LAT + 0.05}, {LON - 0.05} {LAT + 0.05}, {LON - 0.05} {LAT - 0.05})))"
        ),
    )
    Water.objects.create(
        area="t",
        kind="river",
        name="湍河",
        geom=_m(f"LINESTRING({LON - d} {LAT - d}, {LON + d} {LAT + d})"),
    )
    Place.objects.create(area="t", kind="town", name="花洲街道", geom=_m(f"POINT({LON} {LAT})"))
    Poi.objects.create(
        area="t", kind="school", name="中心小学", geom=_m(f"POINT({LON + 0.0001} {LAT})")
    )


@pytest.fixture
def client(client):
    client.force_login(UserFactory())
    return client


def _decode(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.content)


def _url(z, lon=LON, lat=LAT):
    x, y = tiles.tile_of(lon, lat, z)
    return f"/tiles/{z}/{x}/{y}.mvt"


def test_a_street_level_tile_has_every_layer_with_names_and_kinds(town, client):
    layers = _decode(client.get(_url(16)))
    assert set(layers) == {"landuse", "water", "roads", "buildings", "places", "pois"}
    roads = {f["properties"]["name"]: f for f in layers["roads"]["features"]}
    assert roads["新华路"]["properties"]["kind"] == "primary"
    assert roads["新华路"]["geometry"]["type"] == "LineString"
    assert "小巷" in roads
    assert layers["buildings"]["features"][0]["geometry"]["type"] == "Polygon"
    assert layers["places"]["features"][0]["properties"] == {"kind": "town", "name": "花洲街道"}
    assert layers["pois"]["features"][0]["properties"]["name"] == "中心小学"


def test_a_county_level_tile_carries_main_roads_only(town, client):
    layers = _decode(client.get(_url(10)))
    assert {f["properties"]["name"] for f in layers["roads"]["features"]} == {"新华路"}
    assert "buildings" not in layers and "pois" not in layers
    assert "landuse" in layers and "places" in layers


def test_an_empty_tile_is_204(town, client):
    response = client.get(_url(15, lon=-70.0, lat=-30.0))
    assert response.status_code == 204 and response.content == b""
    assert "max-age" in response["Cache-Control"]


def test_the_same_tile_again_is_a_304_by_its_etag(town, client):
    first = client.get(_url(15))
    assert first["ETag"] and "private" in first["Cache-Control"]
    again = client.get(_url(15), headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304 and again.content == b""
    Road.objects.create(
        area="t",
        kind="primary",
        name="人民路",
        geom=_m(f"LINESTRING({LON} {LAT - 0.001}, {LON + 0.001} {LAT})"),
    )
    assert client.get(_url(15), headers={"If-None-Match": first["ETag"]}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/23/0/0.mvt",  # beyond the deepest zoom
        "/tiles/3/8/0.mvt",  # x outside the 8x8 grid of zoom 3
        "/tiles/3/0/8.mvt",
        "/tiles/99/9999999/9999999.mvt",
        "/tiles/-1/0/0.mvt",
        "/tiles/a/0/0.mvt",
        "/tiles/1/0/0.png",
        "/tiles/1/0/123456789012345678901234567890.mvt",
    ],
)
def test_a_tile_outside_the_grid_is_a_404(path, client):
    assert client.get(path).status_code == 404


def test_tiles_are_for_logged_in_users_and_read_only(town, client, django_user_model):
    assert client.post(_url(15)).status_code == 405
    client.logout()
    assert client.get(_url(15)).status_code == 403


def test_every_zoom_makes_a_tile():
    # Pure: the statement for each zoom is well formed down to the layers it omits.
    for z in range(tiles.MAX_ZOOM + 1):
        assert tiles.tile_sql(z).startswith(("WITH", "SELECT"))
    assert tiles.tile_of(112.07, 32.65, 0) == (0, 0)
    assert tiles.valid(0, 0, 0) and not tiles.valid(1, 2, 0)
