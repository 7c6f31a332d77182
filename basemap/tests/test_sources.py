"""WANGGE_BASEMAP_FILE: an offline .mbtiles or .pmtiles package served at the same tile URL."""

import gzip
import sqlite3

import mapbox_vector_tile
import pytest
from django.core.exceptions import ImproperlyConfigured
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

from basemap import sources
from territory.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Z, X, Y = 14, 13485, 6609  # Dengzhou's town at zoom 14


def _mvt(name):
    return mapbox_vector_tile.encode(
        [
            {
                "name": "roads",
                "features": [
                    {"geometry": "LINESTRING(0 0, 4096 4096)", "properties": {"name": name}}
                ],
            }
        ]
    )


def _mbtiles(path, tiles):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name text, value text)")
    db.execute("INSERT INTO metadata VALUES ('format', 'pbf')")
    db.execute("CREATE TABLE tiles (zoom_level int, tile_column int, tile_row int, tile_data blob)")
    for (z, x, y), data in tiles.items():
        db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, (1 << z) - 1 - y, data))
    db.commit()
    db.close()


def _pmtiles(path, tiles):
    with path.open("wb") as f:
        writer = Writer(f)
        for (z, x, y), data in sorted(tiles.items(), key=lambda t: zxy_to_tileid(*t[0])):
            writer.write_tile(zxy_to_tileid(z, x, y), data)
        writer.finalize(
            {
                "tile_type": TileType.MVT,
                "tile_compression": Compression.GZIP,
                "min_zoom": 0,
                "max_zoom": 14,
                "min_lon_e7": 1110000000,
                "min_lat_e7": 320000000,
                "max_lon_e7": 1130000000,
                "max_lat_e7": 330000000,
                "center_zoom": 10,
                "center_lon_e7": 1120900000,
                "center_lat_e7": 326800000,
            },
            {"name": "test"},
        )


@pytest.fixture
def client(client):
    client.force_login(UserFactory())
    return client


@pytest.mark.parametrize("kind", ["mbtiles", "pmtiles"])
def test_a_tile_package_is_served_at_the_tile_url(kind, tmp_path, settings, client):
    path = tmp_path / f"county.{kind}"
    (_mbtiles if kind == "mbtiles" else _pmtiles)(path, {(Z, X, Y): gzip.compress(_mvt("新华路"))})
    settings.WANGGE_BASEMAP_FILE = str(path)
    response = client.get(f"/tiles/{Z}/{X}/{Y}.mvt")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"  # the browser inflates it
    layers = mapbox_vector_tile.decode(gzip.decompress(response.content))
    assert layers["roads"]["features"][0]["properties"]["name"] == "新华路"
    # The TMS row flip: the tile north of it is not the same one; a tile it lacks is blank.
    assert client.get(f"/tiles/{Z}/{X}/{Y - 1}.mvt").status_code == 204
    assert (
        client.get(
            f"/tiles/{Z}/{X}/{Y}.mvt", headers={"If-None-Match": response["ETag"]}
        ).status_code
        == 304
    )


def test_an_uncompressed_mbtiles_tile_goes_as_it_is(tmp_path, settings, client):
    path = tmp_path / "plain.mbtiles"
    _mbtiles(path, {(Z, X, Y): _mvt("人民路")})
    settings.WANGGE_BASEMAP_FILE = str(path)
    response = client.get(f"/tiles/{Z}/{X}/{Y}.mvt")
    assert not response.has_header("Content-Encoding")
    assert (
        mapbox_vector_tile.decode(response.content)["roads"]["features"][0]["properties"]["name"]
        == "人民路"
    )


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("missing.mbtiles", None, "no such file"),
        ("junk.mbtiles", b"not sqlite", "unreadable"),
        ("junk.pmtiles", b"not pmtiles either", "unreadable"),
        ("county.png", b"x", "must end in"),
    ],
)
def test_a_wrong_package_is_said_clearly(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImproperlyConfigured, match=message):
        sources._file_source(str(path))


def test_the_system_check_names_an_unreadable_package(tmp_path, settings):
    from basemap.checks import basemap_file_readable

    settings.WANGGE_BASEMAP_FILE = str(tmp_path / "gone.pmtiles")
    assert [e.id for e in basemap_file_readable(None)] == ["basemap.E001"]
    settings.WANGGE_BASEMAP_FILE = ""
    assert basemap_file_readable(None) == []
