"""The public disclosure (晒单): a village's, township's or county's published cases, for
anyone, without a login, as a page, a JSON Feed (https://jsonfeed.org/version/1.1) and the
grids' case counts as GeoJSON for the page's map.

Only public fields leave here: the item and its category, the grid (and the village when the
page covers several), the dates, the working hours it took, the handling's result (through
territory.privacy.scrub_text, which masks phone and ID numbers) and the resident's stars.
Never a name, a phone, a description, a photo or a point: the map is no finer than the grid.
Every answer is the same for everyone (the language aside), so it may be cached a minute
(the pages in the visitor's browser only: they carry a CSRF token)."""

import shapely
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_cookie

from core import coords
from territory.codes import CODE_LENGTH, Level
from territory.privacy import scrub_text

from .. import selectors

PAGE_SIZE = 20
FEED_VERSION = "https://jsonfeed.org/version/1.1"
MAX_AGE_S = 60
TOLERANCE_DEG = {Level.VILLAGE: 1e-5, Level.TOWNSHIP: 3e-5, Level.COUNTY: 1e-4}


def public_answer(view=None, *, shared=True):
    """GET/HEAD only, the same for every visitor of a language: cacheable for a minute. The
    pages (`shared=False`) only in the visitor's own browser: they carry the frame's CSRF token
    (the language switcher's form), which a shared cache would hand to the next visitor."""

    def decorate(view):
        view = require_safe(view)
        view = vary_on_cookie(view)  # the language chosen with the switcher is a cookie
        if shared:
            return cache_control(public=True, max_age=MAX_AGE_S)(view)
        return cache_control(private=True, max_age=MAX_AGE_S)(view)

    return decorate(view) if view is not None else decorate


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


def _name(obj, english: bool) -> str:
    return ((obj.name_en if english else "") or obj.name) if obj is not None else ""


def _village_code(path: str) -> str:
    return next((c for c in path.split("/") if len(c) == CODE_LENGTH[Level.VILLAGE]), "")


def _entries(cases, *, unit) -> list[dict]:
    """The public fields of each case, in the current language. No query per case: the
    villages are read at once, the calendar once."""
    english = _english()
    calendar = selectors.working_calendar()
    villages = (
        selectors.village_names(_village_code(c.territory_path) for c in cases)
        if unit.level != Level.VILLAGE
        else {}
    )
    entries = []
    for case in cases:
        taken = (
            calendar.working_hours_between(case.created_at, case.verified_at)
            if case.verified_at
            else None
        )
        village = villages.get(_village_code(case.territory_path))
        entries.append(
            {
                "number": case.number,
                "category": {
                    "code": case.item.parent.code,
                    "name": _name(case.item.parent, english),
                }
                if case.item.parent_id
                else None,
                "item": {"code": case.item.code, "name": _name(case.item, english)},
                "grid": {"code": case.grid.code, "name": _name(case.grid, english)},
                "village": {"code": village.code, "name": _name(village, english)}
                if village
                else None,
                "reported_at": case.created_at,
                "published_at": case.published_at,
                "updated_at": case.last_event_at,
                "working_hours": round(taken.hours, 1) if taken else None,
                "working_hours_estimated": bool(taken and taken.estimated),
                # Staff's words about what was done: any phone or ID number in them is masked.
                "result": scrub_text(case.result_note or ""),
                "satisfaction": case.satisfaction,
            }
        )
    return entries


def _page(request, unit):
    paginator = Paginator(selectors.public_published(unit=unit), PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


@public_answer(shared=False)
def public_cases_page(request, code):
    unit = selectors.public_unit(code=code)
    page = _page(request, unit)
    english = _english()
    return render(
        request,
        "cases/public.html",
        {
            "unit": unit,
            "unit_name": _name(unit, english),
            "page": page,
            "entries": _entries(list(page.object_list), unit=unit),
            "shows_village": unit.level != Level.VILLAGE,
        },
    )


def _iso(when):
    return when.isoformat(timespec="seconds") if when else None


@public_answer
def public_cases_feed(request, code):
    """The same cases as a JSON Feed 1.1, a page at a time (`next_url`), with the structured
    fields in the `_wangge` extension."""
    unit = selectors.public_unit(code=code)
    page = _page(request, unit)
    page_url = request.build_absolute_uri(reverse("public-cases", args=[unit.code]))
    feed_url = request.build_absolute_uri(reverse("public-cases-feed", args=[unit.code]))
    items = []
    for entry in _entries(list(page.object_list), unit=unit):
        category = entry["category"]["name"] if entry["category"] else ""
        title = " · ".join(p for p in (category, entry["item"]["name"], entry["grid"]["name"]) if p)
        items.append(
            {
                "id": entry["number"],
                "url": f"{page_url}#case-{entry['number']}",
                "title": title,
                "content_text": entry["result"] or title,
                "date_published": _iso(entry["published_at"]),
                "date_modified": _iso(entry["updated_at"]),
                "tags": [t for t in (category, entry["item"]["name"]) if t],
                "_wangge": {
                    **{k: v for k, v in entry.items() if k not in ("updated_at",)},
                    "reported_at": _iso(entry["reported_at"]),
                    "published_at": _iso(entry["published_at"]),
                },
            }
        )
    feed = {
        "version": FEED_VERSION,
        "title": _("Published cases of %(name)s") % {"name": _name(unit, _english())},
        "home_page_url": page_url,
        "feed_url": feed_url,
        "language": translation.get_language(),
        "items": items,
    }
    if page.has_next():
        feed["next_url"] = f"{feed_url}?page={page.next_page_number()}"
    response = JsonResponse(feed, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/feed+json; charset=utf-8"
    return response


@public_answer
def public_cases_grids(request, code):
    """The grids of the page's unit with their number of published cases, as GeoJSON in the
    basemap's CRS (`crs`): polygons only, the map's finest grain."""
    unit = selectors.public_unit(code=code)
    crs = request.GET.get("crs") or coords.WGS84
    try:
        crs = coords.check_crs(crs)
    except coords.UnknownCRS:
        return JsonResponse({"detail": f"unknown crs {crs[:20]!r}"}, status=400)
    english = _english()
    features = []
    for grid in selectors.public_grid_counts(unit=unit):
        shape = shapely.from_wkb(bytes(grid["boundary"].wkb))
        # An overview needs no survey's vertices: about 1 m on a village, 10 m on a county.
        shape = shapely.simplify(shape, TOLERANCE_DEG[unit.level], preserve_topology=True)
        shape = coords.geometry_from_wgs84(shape, crs, densify_edges=False)
        shape = shapely.set_precision(shape, 1e-6)
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(shape),
                "properties": {
                    "code": grid["code"],
                    "name": (grid["name_en"] if english else "") or grid["name"],
                    "cases": grid["cases"],
                },
            }
        )
    return JsonResponse(
        {"type": "FeatureCollection", "crs_name": crs, "features": features},
        json_dumps_params={"ensure_ascii": False},
    )


@public_answer(shared=False)
def public_index(request):
    """The counties, townships and villages that have published cases, each linking to its
    page, villages under their township."""
    english = _english()
    units = [
        {"code": u.code, "name": _name(u, english), "level": u.level, "depth": u.path.count("/")}
        for u in selectors.public_units_with_cases()
    ]
    return render(request, "cases/public_index.html", {"units": units})
