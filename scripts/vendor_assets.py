"""Copy the front-end libraries installed by npm into static/vendor/, so that every page loads
them from this server (government intranets have no internet). Run by scripts/bootstrap.sh."""

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

# (npm package folder, destination under static/vendor/)
COPIES = [
    ("leaflet/dist", "leaflet"),
    ("leaflet-draw/dist", "leaflet/draw"),
    # Markers that overlap at the map's zoom (households, a route's stops) drawn as one cluster
    # with its count; keyboard-reachable (Enter zooms in, or spreads them at the last zoom).
    ("leaflet.markercluster/dist", "leaflet/markercluster"),
    # WGS84 <-> GCJ-02/BD-09 in the browser: a phone's GPS position on a Chinese basemap.
    ("gcoord/dist", "gcoord"),
    # Vector tiles on a Leaflet map (the server's own basemap, basemap/static/basemap/basemap.js):
    # canvas, no worker, no eval, so the strict CSP holds.
    ("protomaps-leaflet/dist", "protomaps-leaflet"),
]


def main() -> None:
    for source, target in COPIES:
        src, dst = NODE / source, VENDOR / target
        if not src.is_dir():
            raise SystemExit(f"vendor_assets: {src} is missing; run `npm ci` first")
        stamp = dst / ".source"
        signature = str(max(p.stat().st_mtime for p in src.rglob("*")))
        if stamp.exists() and stamp.read_text() == signature:
            continue
        shutil.copytree(src, dst, dirs_exist_ok=True)
        stamp.write_text(signature)


if __name__ == "__main__":
    main()
