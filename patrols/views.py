"""The field page (/field/): a phone-first, installable, offline-capable web app for grid
workers. Its data comes from the scoped API; these views serve the shell, the web app manifest
and the service worker (at /field/ so that its scope is the page)."""

import json
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from . import selectors
from .models import Incident

SERVICE_WORKER = Path(__file__).resolve().parent / "static" / "patrols" / "field-sw.js"


# A worker patrols a handful of grids; a superuser "patrols" a city's 6,125. Beyond this many the
# page lists the first ones and searches the rest (a select of thousands weighs 585 KB).
FIELD_UNIT_CHOICES = 100
# Basemap tiles the field page's service worker keeps for offline use, newest first: street
# zooms of a few grids, at most some tens of MB of vector tiles on a cheap phone.
FIELD_TILE_CACHE_LIMIT = 1500


@login_required
def field_page(request):
    units = list(
        selectors.patrol_units_for_user(user=request.user)
        .order_by("code")
        .values("code", "name", "level")[: FIELD_UNIT_CHOICES + 1]
    )
    if not units:
        raise PermissionDenied("the field page is for grid workers: you patrol no grid")
    searchable = len(units) > FIELD_UNIT_CHOICES
    # The status words, in the page's language, for the page's script (our labels, not data;
    # escaped for a <script> block all the same).
    statuses = json.dumps({value: str(label) for value, label in Incident.Status.choices})
    return render(
        request,
        "patrols/field.html",
        {
            "units": units[:FIELD_UNIT_CHOICES],
            "searchable": searchable,
            "incident_statuses": statuses.replace("<", "\\u003c"),
        },
    )


def manifest(request):
    return JsonResponse(
        {
            "name": "网格 Wangge 巡查",
            "short_name": "巡查",
            "description": "Patrols, routes and incident pins for grid workers",
            "start_url": "/field/",
            "scope": "/field/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#b3261e",
            "icons": [
                {
                    "src": static("wangge/icons/wangge-192.png"),
                    "sizes": "192x192",
                    "type": "image/png",
                },
                {
                    "src": static("wangge/icons/wangge-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                },
            ],
        },
        content_type="application/manifest+json",
    )


@never_cache
def service_worker(request):
    # The assets the page needs offline, with their (hashed in production) static URLs.
    assets = [
        static(name)
        for name in (
            "leaflet/leaflet.css",
            "leaflet/leaflet.js",
            "leaflet/markercluster/MarkerCluster.css",
            "leaflet/markercluster/leaflet.markercluster.js",
            "wangge/clusters.js",
            "vendor/gcoord/gcoord.global.prod.js",
            "vendor/protomaps-leaflet/protomaps-leaflet.js",
            "basemap/basemap.js",
            "wangge/site.css",
            "wangge/site.js",
            "patrols/field.js",
            "wangge/icons/wangge-192.png",
        )
    ]
    body = (
        SERVICE_WORKER.read_text()
        .replace("__ASSETS__", json.dumps(assets))
        .replace("__TILE_LIMIT__", str(int(FIELD_TILE_CACHE_LIMIT)))
    )
    response = HttpResponse(body, content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/field/"
    return response
