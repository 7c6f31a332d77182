"""Query parameters shared by the GeoJSON endpoints, parsed strictly (bad value -> HTTP 400)."""

import datetime

from django.conf import settings
from django.contrib.gis.geos import Polygon
from rest_framework.exceptions import ValidationError

from core import coords


def crs_param(request) -> str:
    try:
        return coords.check_crs(request.query_params.get("crs", coords.WGS84))
    except coords.UnknownCRS as exc:
        raise ValidationError({"crs": [str(exc)]}) from exc


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def bool_param(request, name: str, default: bool = False) -> bool:
    """A yes/no query parameter, read strictly: 1/true/yes/on or 0/false/no/off (any case);
    absent or empty is the default, anything else a 400."""
    raw = request.query_params.get(name)
    if raw is None or raw.strip() == "":
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValidationError({name: [f"expected true or false (1/0, yes/no), got {raw!r}"]})


def as_of_param(request) -> datetime.date | datetime.datetime | None:
    """A date (the state at the end of that day) or an ISO 8601 instant."""
    raw = request.query_params.get("as_of")
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return datetime.date.fromisoformat(raw)
        return datetime.datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationError(
            {"as_of": ["expected a date (YYYY-MM-DD) or an ISO 8601 date-time"]}
        ) from exc


def refuse_large_upload(request, field: str, limit: int | None = None) -> None:
    """HTTP 400 before reading a body larger than `limit` (WANGGE_MAX_UPLOAD_BYTES)."""
    limit = settings.WANGGE_MAX_UPLOAD_BYTES if limit is None else limit
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        raise ValidationError({field: [f"upload too large (over {limit // 2**20} MiB)"]})


def bbox_param(request, crs: str) -> Polygon | None:
    """bbox=min_lon,min_lat,max_lon,max_lat in the request's CRS, as a WGS84 polygon."""
    raw = request.query_params.get("bbox")
    if not raw:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in raw.split(","))
    except ValueError as exc:
        raise ValidationError({"bbox": ["expected min_lon,min_lat,max_lon,max_lat"]}) from exc
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise ValidationError({"bbox": ["coordinates out of range or min >= max"]})
    (wx0, wx1), (wy0, wy1) = coords.to_wgs84([x0, x1], [y0, y1], crs)
    bbox = Polygon.from_bbox((float(wx0), float(wy0), float(wx1), float(wy1)))
    bbox.srid = 4326  # WGS84, like every stored geometry
    return bbox


def zoom_param(request) -> int | None:
    raw = request.query_params.get("zoom")
    if raw in (None, ""):
        return None
    try:
        zoom = int(raw)
    except ValueError as exc:
        raise ValidationError({"zoom": ["expected an integer map zoom, 0-22"]}) from exc
    if not 0 <= zoom <= 22:
        raise ValidationError({"zoom": ["expected an integer map zoom, 0-22"]})
    return zoom


def simplify_tolerance(zoom: int | None) -> float | None:
    """Half a screen pixel at `zoom` in degrees: simpler geometry is invisible at that zoom."""
    if zoom is None or zoom >= 18:
        return None
    return 360.0 / (256 * 2**zoom) / 2
