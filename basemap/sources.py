"""Where a tile's bytes come from: the database (tiles.py), or an offline tile package that a
surveying bureau hands a county (WANGGE_BASEMAP_FILE, an .mbtiles or .pmtiles file), read in
place by the server itself: no tile server to install.

A source returns (bytes, content encoding) or None for a tile it does not have."""

import sqlite3
import threading
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from . import tiles


def database_tile(z: int, x: int, y: int):
    with connection.cursor() as cursor:
        cursor.execute(tiles.tile_sql(z), tiles.tile_params(z, x, y))
        data = bytes(cursor.fetchone()[0] or b"")
    return (data, None) if data else None


def _encoding(data: bytes):
    # Packages store vector tiles gzipped (MBTiles by convention, PMTiles per its header): the
    # browser inflates them itself when told.
    return "gzip" if data[:2] == b"\x1f\x8b" else None


class MBTiles:
    """SQLite; rows are in TMS order (y counted from the south), hence the flip."""

    def __init__(self, path: Path):
        self.path = path
        self.local = threading.local()
        self._connect()  # fails now, at the first tile, if the file is not an MBTiles

    def _connect(self):
        db = getattr(self.local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            db.execute("SELECT 1 FROM tiles LIMIT 1")
            self.local.db = db
        return db

    def __call__(self, z, x, y):
        row = (
            self._connect()
            .execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, (1 << z) - 1 - y),
            )
            .fetchone()
        )
        if not row or not row[0]:
            return None
        data = bytes(row[0])
        return data, _encoding(data)


class PMTiles:
    """One file, read by range (memory-mapped: the OS pages in only the directory and the
    tiles asked for)."""

    def __init__(self, path: Path):
        from pmtiles.reader import MmapSource, Reader

        self.file = path.open("rb")
        self.reader = Reader(MmapSource(self.file))
        compression = self.reader.header()["tile_compression"]  # fails now if not a PMTiles
        self.encoding = {"GZIP": "gzip", "BROTLI": "br", "ZSTD": "zstd"}.get(compression.name)

    def __call__(self, z, x, y):
        data = self.reader.get(z, x, y)
        if not data:
            return None
        data = bytes(data)
        return data, self.encoding or _encoding(data)


@cache
def _file_source(name: str):
    path = Path(name)
    if not path.is_file():
        raise ImproperlyConfigured(f"WANGGE_BASEMAP_FILE={name}: no such file")
    try:
        if path.suffix == ".mbtiles":
            return MBTiles(path)
        if path.suffix == ".pmtiles":
            return PMTiles(path)
    except Exception as error:  # a corrupt package: said once, clearly, at the first tile
        raise ImproperlyConfigured(f"WANGGE_BASEMAP_FILE={name}: unreadable ({error})") from error
    raise ImproperlyConfigured(f"WANGGE_BASEMAP_FILE={name}: must end in .mbtiles or .pmtiles")


def tile(z: int, x: int, y: int):
    name = settings.WANGGE_BASEMAP_FILE
    return _file_source(str(name))(z, x, y) if name else database_tile(z, x, y)
