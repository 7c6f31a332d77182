"""Benchmark: the command screen (issue 13) at city scale, READ-ONLY, on the case benchmark's
database (`make bench` gives it wangge_cbench, filled by bench/cases.py: 580,000 households and
1,000,000 cases over two years). Every connection this script opens is set
`default_transaction_read_only`: it cannot write, not even a session (requests are answered
in-process for an unsaved superuser, no login).

(a) the density endpoint (GET /api/command/heat/, the whole view with its cache) for the
    county and for a township at three zooms, cases over the last 400 days: bytes, median and
    p95 warm (the cache holds) and cold (cache cleared before each request), against the
    same aggregation as one hand-written SQL statement (the database's limit): ratios.
(b) the naive way: folium's HeatMap with the raw points of the county's cases in that period:
    HTML bytes, and the time to the first drawn frame in headless Chromium (Leaflet and the
    heat plugin inlined from local files, every other request refused), against the project's
    page /command/ answered in-process the same way (first frame: the density cells drawn).
(c) choropleth and Gi* for every grid of the city: seconds.

The last printed line is one JSON object with keys heat_bytes_county, heat_p95_ms_warm,
heat_ratio_cold (project / raw SQL), naive_html_bytes, first_frame_s, gi_star_s (and more).
Goals: county heat payload under 200 KB, p95 under 150 ms warm and within 1.5x of the raw SQL
cold, first drawn frame under 1 s. The machine may be shared: compare ratios of one run.
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402


def _read_only(sender, connection, **kwargs):
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")


connection_created.connect(_read_only)

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.staticfiles import finders  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.urls import resolve  # noqa: E402
from rest_framework.test import APIRequestFactory, force_authenticate  # noqa: E402

from command import selectors  # noqa: E402
from command.api import Heat  # noqa: E402
from territory.codes import Level  # noqa: E402
from territory.models import Unit  # noqa: E402

ZOOMS = (10, 12, 14)
DAYS = 400


def log(text: str) -> None:
    print(text, flush=True)


def pct(times, q):
    times = sorted(times)
    return times[min(len(times) - 1, max(0, int(round(q * len(times))) - 1))]


def bench_user():
    """An unsaved superuser: sees everything, is never written (no session, no last_login)."""
    return get_user_model()(username="bench-command", is_superuser=True, is_staff=True)


def period() -> dict:
    end = selectors.today()
    start = end - datetime.timedelta(days=DAYS - 1)
    return {"period": "custom", "start": start.isoformat(), "end": end.isoformat()}


# --- (a) the density endpoint against one hand-written statement ---------------------------------

RAW_SQL = """
SELECT floor(ST_X(ST_Transform(point, 3857)) / %(cell)s)::int,
       floor(ST_Y(ST_Transform(point, 3857)) / %(cell)s)::int, count(*)
  FROM cases_case
 WHERE (territory_path = %(path)s OR territory_path LIKE %(below)s)
   AND created_at >= %(lo)s AND created_at < %(hi)s
 GROUP BY 1, 2
"""


def heat_request(user, unit, zoom):
    factory = APIRequestFactory()
    request = factory.get("/api/command/heat/", {"unit": unit.code, "zoom": zoom, **period()})
    force_authenticate(request, user=user)
    start = time.perf_counter()
    response = Heat.as_view()(request)
    if hasattr(response, "render"):
        response.render()
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.content[:300]
    return elapsed, response


def span():
    """The period's [from, to) instants: local midnights, as the endpoint counts them."""
    p = period()
    return selectors.indicators.period(p["start"], p["end"]).instants()


def raw_heat(unit, zoom):
    lo, hi = span()
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            RAW_SQL,
            {
                "cell": selectors.cell_metres(zoom),
                "path": unit.path,
                "below": unit.path + "/%",
                "lo": lo,
                "hi": hi,
            },
        )
        rows = cursor.fetchall()
    return (time.perf_counter() - start) * 1000, rows


def bench_heat(user, units, runs: int, cold_runs: int) -> dict:
    out, results = {}, []
    for label, unit in units:
        for zoom in ZOOMS:
            raw = [raw_heat(unit, zoom) for _ in range(cold_runs)]
            raw_ms = statistics.median(t for t, _ in raw)
            cold = []
            for _ in range(cold_runs):
                cache.clear()
                cold.append(heat_request(user, unit, zoom)[0])
            warm, response = [], None
            for _ in range(runs):
                t, response = heat_request(user, unit, zoom)
                warm.append(t)
            body = response.json() if hasattr(response, "json") else json.loads(response.content)
            assert body["total"] == sum(r[2] for r in raw[0][1]), (body["total"], label, zoom)
            row = {
                "extent": label,
                "zoom": zoom,
                "cells": len(body["cells"]),
                "points": body["total"],
                "bytes": len(response.content),
                "warm_p50_ms": round(statistics.median(warm), 1),
                "warm_p95_ms": round(pct(warm, 0.95), 1),
                "cold_p50_ms": round(statistics.median(cold), 1),
                "cold_p95_ms": round(pct(cold, 0.95), 1),
                "raw_p50_ms": round(raw_ms, 1),
                "ratio_cold": round(statistics.median(cold) / raw_ms, 2),
            }
            results.append(row)
            log(
                f"(a) {label} z{zoom}: {row['points']:,} cases in {row['cells']:,} cells, "
                f"{row['bytes']:,} B; warm p50 {row['warm_p50_ms']} / p95 {row['warm_p95_ms']} "
                f"ms, cold p50 {row['cold_p50_ms']} / p95 {row['cold_p95_ms']} ms; raw SQL "
                f"{row['raw_p50_ms']} ms; cold/raw {row['ratio_cold']}x"
            )
    county = [r for r in results if r["extent"] == "county"]
    out["heat"] = results
    out["heat_bytes_county"] = county[0]["bytes"]  # the county's own view (its lowest zoom)
    out["heat_p95_ms_warm"] = max(r["warm_p95_ms"] for r in results)
    out["heat_ratio_cold"] = max(r["ratio_cold"] for r in results)
    return out


# --- (b) folium's HeatMap against the project's page, first drawn frame ------------------------


def naive_html(unit) -> tuple[str, int]:
    import folium
    from folium.plugins import HeatMap

    lo, hi = span()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT ST_Y(point), ST_X(point) FROM cases_case
             WHERE (territory_path = %(path)s OR territory_path LIKE %(below)s)
               AND created_at >= %(lo)s AND created_at < %(hi)s
            """,
            {"path": unit.path, "below": unit.path + "/%", "lo": lo, "hi": hi},
        )
        points = [[round(y, 6), round(x, 6)] for y, x in cursor.fetchall()]
    x0, y0, x1, y1 = Unit.objects.filter(pk=unit.pk).values_list("boundary", flat=True)[0].extent
    started = time.perf_counter()
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=10, tiles=None)
    HeatMap(points).add_to(m)
    html = m.get_root().render()
    log(
        f"(b) folium HeatMap: {len(points):,} raw points, {len(html.encode()):,} B of HTML "
        f"({len(html.encode()) / max(1, len(points)):.1f} B a point), made in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return html, len(points)


def _local_asset(url: str) -> tuple[bytes, str] | None:
    """The local file for a CDN asset folium names: Leaflet from static/vendor, the heat
    plugin from folium's own package; None for the rest (refused)."""
    import folium

    if url.endswith("leaflet.js"):
        return Path(finders.find("leaflet/leaflet.js")).read_bytes(), "application/javascript"
    if url.endswith("leaflet.css"):
        return Path(finders.find("leaflet/leaflet.css")).read_bytes(), "text/css"
    if url.endswith("leaflet_heat.min.js"):
        path = Path(folium.__file__).parent / "templates" / "leaflet_heat.min.js"
        return path.read_bytes(), "application/javascript"
    return None


def _django_answer(path_qs: str, user):
    """Answer a GET of the project in-process (the URL's view, no middleware, no session)."""
    from urllib.parse import urlsplit

    parts = urlsplit(path_qs)
    if parts.path.startswith(settings.STATIC_URL):
        found = finders.find(parts.path[len(settings.STATIC_URL) :])
        if not found:
            return 404, b"", "text/plain"
        kind = "application/javascript" if found.endswith(".js") else "text/css"
        if found.endswith(".png"):
            kind = "image/png"
        return 200, Path(found).read_bytes(), kind
    request = RequestFactory().get(path_qs)
    request.user = user
    request._dont_enforce_csrf_checks = True
    match = resolve(parts.path)
    response = match.func(request, *match.args, **match.kwargs)
    if hasattr(response, "render"):
        response.render()
    body = b"".join(response) if response.streaming else response.content
    return response.status_code, body, response.get("Content-Type", "text/html")


FIRST_FRAME_NAIVE = """() => {
  const c = document.querySelector('canvas.leaflet-heatmap-layer');
  if (!c || !c.width) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4 * 31) if (d[i] > 0) return true;
  return false;
}"""
FIRST_FRAME_PROJECT = """() => {
  const c = document.querySelector('canvas.heat-canvas');
  return !!c && Number(c.dataset.cells || 0) > 0;
}"""


def bench_first_frame(unit, user) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.test_browser import ARGS, CHROMIUM

    html, n_points = naive_html(unit)
    html_bytes = html.encode()
    out = {"naive_points": n_points, "naive_html_bytes": len(html_bytes)}
    refused = []

    def naive_route(route):
        url = route.request.url
        if url == "http://bench.invalid/naive.html":
            return route.fulfill(status=200, body=html_bytes, content_type="text/html")
        asset = _local_asset(url)
        if asset is None:
            refused.append(url)
            return route.abort()
        return route.fulfill(status=200, body=asset[0], content_type=asset[1])

    def project_route(route):
        url = route.request.url
        if not url.startswith("http://bench.invalid/"):
            refused.append(url)
            return route.abort()
        path = url[len("http://bench.invalid") :]
        if path.startswith("/tiles/"):
            # folium's page is drawn with no basemap (tiles=None): so is this one, and the
            # frames compare the data layers alone (bench/tiles.py measures the tiles).
            return route.fulfill(status=204, body=b"")
        status, body, kind = _django_answer(path, user)
        return route.fulfill(status=status, body=body, content_type=kind)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name, route, url, ready in (
            ("naive", naive_route, "http://bench.invalid/naive.html", FIRST_FRAME_NAIVE),
            ("project", project_route, "http://bench.invalid/command/", FIRST_FRAME_PROJECT),
        ):
            times = []
            for _ in range(3):
                cache.clear()
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.route("**/*", route)
                start = time.perf_counter()
                page.goto(url, wait_until="commit", timeout=300_000)
                page.wait_for_function(ready, timeout=300_000, polling=20)
                times.append(time.perf_counter() - start)
                page.close()
            out[f"first_frame_{name}_s"] = round(min(times), 3)
            log(f"(b) {name}: first drawn frame {min(times):.2f} s (best of 3, cache cleared)")
        browser.close()
    out["first_frame_s"] = out["first_frame_project_s"]
    if refused:
        log(f"(b) refused (not local): {sorted(set(refused))[:8]}")
    return out


# --- (c) choropleth and Gi* for every grid ----------------------------------------------------------


def bench_grids(root: Unit) -> dict:
    span, previous = selectors.period_span("quarter", day=selectors.today())
    filters = selectors.Filters(span=span, previous=previous)
    # Imports (mapclassify, esda: seconds) are the process's, once: not the request's.
    selectors.classify([1.0, 2.0, 3.0])
    selectors.gi_star([1.0, 2.0, 4.0], {0: [1], 1: [0, 2], 2: [1]})
    started = time.perf_counter()
    choropleth = selectors.choropleth(
        unit=root,
        level=Level.GRID,
        measure="cases_per_100",
        filters=filters,
        scheme="natural",
        zoom=10,  # outlines simplified for the city's view, as the page asks
    )
    choropleth_s = time.perf_counter() - started
    started = time.perf_counter()
    spots = selectors.hot_spots(
        unit=root, level=Level.GRID, measure="cases_per_100", filters=filters, zoom=10
    )
    gi_s = time.perf_counter() - started
    significant = sum(1 for f in spots["features"] if f["properties"]["confidence"])
    log(
        f"(c) {len(choropleth['features']):,} grids of {root.name}: choropleth "
        f"{choropleth_s:.2f} s (legend {choropleth['legend']['bins']}), Gi* with its adjacency "
        f"{gi_s:.2f} s ({significant:,} significant at 90% or more)"
    )
    return {
        "grids": len(choropleth["features"]),
        "choropleth_s": round(choropleth_s, 2),
        "gi_star_s": round(gi_s, 2),
        "hot_or_cold_grids": significant,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="warm requests per extent and zoom")
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    log(
        "bench: read-only on a shared machine (2 cores; other work may be running): compare "
        "the ratios of one run, not absolute times across runs"
    )
    user = bench_user()
    township = Unit.objects.current().filter(level=Level.TOWNSHIP).order_by("code").first()
    county = Unit.objects.current().get(code=township.parent_code)
    root = Unit.objects.current().filter(parent_code="").order_by("code").first() or county
    figures = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_case")
        figures["cases"] = cursor.fetchone()[0]
    log(f"bench: {figures['cases']:,} cases; county {county.code}, township {township.code}")
    figures |= bench_heat(
        user, [("county", county), ("township", township)], args.runs, args.cold_runs
    )
    figures |= bench_grids(root)
    if not args.no_browser:
        figures |= bench_first_frame(county, user)
    heat = figures.pop("heat")
    log(json.dumps({"heat": heat}))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
