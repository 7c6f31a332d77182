"""Benchmark: the basemap's vector tiles, the project's endpoint against ST_AsMVT called directly.

On the city-scale demo (its streets, buildings, land use and names; `make bench` seeds
`wangge_bench` on first use and draws the demo's streets if it has none yet), over a fixed set
of tiles (zoom 10 to 16 around the county seat and a village), in the same run:
- project: GET /tiles/{z}/{x}/{y}.mvt through Django's whole stack (middleware, session, view),
  in process (no HTTP server: what is measured is the project, not a socket);
- direct:  the same tile statement (basemap.tiles.tile_sql) on a plain psycopg connection.
Cold is the first pass over the set after connecting, warm the third (PostgreSQL's buffers
full); no tile is cached by the project (no If-None-Match is sent). The last line is one JSON
object: tiles, project_tiles_per_s, direct_tiles_per_s, ratio (direct / project, warm), and the
cold figures beside them.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from basemap import tiles  # noqa: E402
from basemap.models import Place, Road  # noqa: E402
from territory.models import Unit  # noqa: E402

ZOOMS = range(10, 17)
SPAN = 2  # a 5 x 5 block of tiles around each centre at each zoom


def ensure_data():
    call_command("migrate", verbosity=0)  # a bench database from before the basemap
    if not Unit.objects.filter(level="grid").exists():
        print("seeding the city-scale territory (once) ...", flush=True)
        call_command("seed_demo", "--scale", "city")
    if not Road.objects.filter(area="demo").exists():
        from demo.streets import demo_streets_create

        print("drawing the demo's streets (once) ...", flush=True)
        start = time.perf_counter()
        with transaction.atomic():
            demo_streets_create(county_code=Unit.objects.get(level="county").code)
        print(f"  {time.perf_counter() - start:.1f} s", flush=True)


def tile_set():
    centres = []
    for kind in ("city", "village"):
        place = Place.objects.filter(area="demo", kind=kind).order_by("name").first()
        if place:
            p = place.geom.transform(4326, clone=True)
            centres.append((p.x, p.y))
    out = []
    for lon, lat in centres:
        for z in ZOOMS:
            cx, cy = tiles.tile_of(lon, lat, z)
            out += [
                (z, cx + dx, cy + dy)
                for dx in range(-SPAN, SPAN + 1)
                for dy in range(-SPAN, SPAN + 1)
            ]
    return sorted(set(out))


def project_pass(client, tile_list):
    start = time.perf_counter()
    size = 0
    for z, x, y in tile_list:
        response = client.get(f"/tiles/{z}/{x}/{y}.mvt")
        assert response.status_code in (200, 204), response.status_code
        size += len(response.content)
    return time.perf_counter() - start, size


def direct_pass(conn, tile_list):
    start = time.perf_counter()
    size = 0
    with conn.cursor() as cursor:
        for z, x, y in tile_list:
            cursor.execute(tiles.tile_sql(z), tiles.tile_params(z, x, y))
            size += len(cursor.fetchone()[0] or b"")
    return time.perf_counter() - start, size


def main():
    ensure_data()
    tile_list = tile_set()
    n = len(tile_list)
    user, _ = get_user_model().objects.get_or_create(
        username="bench-tiles", defaults={"is_superuser": True}
    )
    client = Client(SERVER_NAME="127.0.0.1")  # an allowed host of the local settings
    client.force_login(user)
    connection.close()
    db = settings.DATABASES["default"]
    conn = psycopg.connect(
        host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"],
        autocommit=True,
    )  # fmt: skip
    figures = {"tiles": n}
    # Interleaved, so that neither side alone profits from the buffers the other filled.
    direct_cold, size = direct_pass(conn, tile_list)
    project_cold, project_size = project_pass(client, tile_list)
    assert size == project_size, (size, project_size)
    direct_pass(conn, tile_list)
    project_pass(client, tile_list)
    direct_warm, _ = direct_pass(conn, tile_list)
    project_warm, _ = project_pass(client, tile_list)
    print(f"{n} tiles, zoom {ZOOMS.start}-{ZOOMS.stop - 1}, {size / 1024:.0f} KiB in all")
    for name, cold, warm in (
        ("project", project_cold, project_warm),
        ("direct", direct_cold, direct_warm),
    ):
        print(f"  {name:8s} cold {n / cold:7.1f} tiles/s   warm {n / warm:7.1f} tiles/s")
    figures |= {
        "project_tiles_per_s": round(n / project_warm, 1),
        "direct_tiles_per_s": round(n / direct_warm, 1),
        "ratio": round(project_warm / direct_warm, 3),
        "project_cold_tiles_per_s": round(n / project_cold, 1),
        "direct_cold_tiles_per_s": round(n / direct_cold, 1),
        "kib": round(size / 1024),
    }
    conn.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
