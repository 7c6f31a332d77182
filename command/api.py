"""The command screen's API under /api/command/: for commanders (403 for every other role), on
their own territory (404 outside), every filter checked (400 with the parameter named), every
answer aggregated in the database and cached until the data changes (selectors.cached)."""

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView

from cases.flow import Status
from cases.models import Source
from core.api_errors import Problem

from . import selectors
from .selectors import CommandError, Filters


def _choices_list(allowed):
    def check(value):
        words = [w for w in value.split(",") if w]
        wrong = [w for w in words if w not in allowed]
        if wrong:
            raise serializers.ValidationError(
                f"unknown {', '.join(map(repr, wrong))}; one or more of {', '.join(allowed)}"
            )
        return value

    return check


STATUSES = sorted(set(Status.values) | set(selectors.INCIDENT_STATUSES))


class ScreenQuery(serializers.Serializer):
    """The panel's filters, shared by every endpoint."""

    unit = serializers.CharField(required=False, allow_blank=True, max_length=17)
    period = serializers.ChoiceField(choices=selectors.PERIODS, required=False, default="week")
    date = serializers.DateField(required=False, help_text="a day in the period (default today)")
    start = serializers.DateField(required=False, help_text="first day (period=custom)")
    end = serializers.DateField(required=False, help_text="last day (period=custom)")
    category = serializers.CharField(required=False, allow_blank=True, max_length=20)
    item = serializers.CharField(required=False, allow_blank=True, max_length=20)
    status = serializers.CharField(
        required=False, allow_blank=True, max_length=300, validators=[_choices_list(STATUSES)]
    )
    source = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        validators=[_choices_list(sorted(Source.values))],
    )
    zoom = serializers.IntegerField(
        required=False, min_value=selectors.MIN_ZOOM, max_value=selectors.MAX_ZOOM, default=12
    )
    layer = serializers.ChoiceField(choices=selectors.LAYERS, required=False, default="cases")
    level = serializers.ChoiceField(
        choices=selectors.CHOROPLETH_LEVELS, required=False, allow_blank=True
    )
    measure = serializers.ChoiceField(
        choices=selectors.MEASURES, required=False, default="cases_per_100"
    )
    classes = serializers.ChoiceField(
        choices=selectors.CLASSIFIERS, required=False, default="natural"
    )
    bbox = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def validate_bbox(self, value):
        if not value:
            return None
        try:
            box = [float(v) for v in value.split(",")]
        except ValueError:
            box = []
        if (
            len(box) != 4
            or not all(-180 <= box[i] <= 180 for i in (0, 2))
            or not all(-90 <= box[i] <= 90 for i in (1, 3))
            or box[0] >= box[2]
            or box[1] >= box[3]
        ):
            raise serializers.ValidationError(
                "min_lon,min_lat,max_lon,max_lat in WGS84 degrees, min below max"
            )
        return box

    def validate(self, data):
        if data.get("period") == "custom" and not (data.get("start") and data.get("end")):
            raise serializers.ValidationError({"start": ["period=custom needs start and end"]})
        return data


PARAMETERS = [
    OpenApiParameter("unit", str, description="a unit's code (default: your widest)"),
    OpenApiParameter("period", str, enum=list(selectors.PERIODS), description="default week"),
    OpenApiParameter("date", OpenApiTypes.DATE, description="a day in the period (today)"),
    OpenApiParameter("start", OpenApiTypes.DATE, description="period=custom: first day"),
    OpenApiParameter("end", OpenApiTypes.DATE, description="period=custom: last day"),
    OpenApiParameter("category", str, description="a catalogue category's code"),
    OpenApiParameter("item", str, description="a catalogue item's code"),
    OpenApiParameter("status", str, description="comma-separated statuses"),
    OpenApiParameter("source", str, description="comma-separated case sources"),
]


def screen_request(request):
    """(unit, filters, checked query) of a request; 403/404/400 as the selectors say."""
    query = ScreenQuery(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    q = query.validated_data
    unit = selectors.command_unit_for(user=request.user, code=q.get("unit") or None)
    span, previous = selectors.period_span(
        q["period"], day=q.get("date") or selectors.today(), start=q.get("start"), end=q.get("end")
    )
    filters = Filters(
        span=span,
        previous=previous,
        category=q.get("category") or "",
        item=q.get("item") or "",
        statuses=tuple(w for w in (q.get("status") or "").split(",") if w),
        sources=tuple(w for w in (q.get("source") or "").split(",") if w),
        period=q["period"],
    )
    filters.item_ids()  # an unknown code is a 400 before anything is cached
    return unit, filters, q


def _level(unit, q, *, default_grid: bool) -> str:
    """The level asked for, or by default the one right below the unit (the choropleth) or
    its grids (Gi* is on per-grid rates)."""
    below = selectors.levels_below(unit.level)
    grid = selectors.Level.GRID
    default = (grid if grid in below else below[0]) if default_grid and below else ""
    level = q.get("level") or default or (below[0] if below else "")
    if not level:
        raise CommandError([Problem("level", f"a {unit.level} has no level below to map")])
    return level


def _answer(kind, key, build):
    # The cache keeps the answer as JSON bytes: a county's cells at street zoom are 100,000
    # triples, and rendering them again on every hit cost more than the hit saved.
    result = selectors.cached(
        kind, key, lambda: json.dumps(build(), separators=(",", ":")).encode()
    )
    response = HttpResponse(result.body, content_type="application/json")
    response["X-Data-Version"] = result.version
    response["X-Cache"] = "hit" if result.hit else "miss"
    response["Cache-Control"] = "private, no-cache"
    return response


class Grids(serializers.Serializer):
    type = serializers.CharField()
    features = serializers.ListField(child=serializers.DictField())


class HeatSerializer(serializers.Serializer):
    layer = serializers.CharField()
    zoom = serializers.IntegerField()
    cell_m = serializers.FloatField(help_text="side of a cell in EPSG:3857 metres")
    cells = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="[ix, iy, n]: the cell from (ix, iy) * cell_m to (ix + 1, iy + 1) * cell_m",
    )
    total = serializers.IntegerField()
    max = serializers.IntegerField()


class Heat(GenericAPIView):
    serializer_class = HeatSerializer

    @extend_schema(
        parameters=[
            *PARAMETERS,
            OpenApiParameter("layer", str, enum=list(selectors.LAYERS)),
            OpenApiParameter("zoom", int, description="the map's zoom: the cell size"),
            OpenApiParameter("bbox", str, description="min_lon,min_lat,max_lon,max_lat"),
        ]
    )
    def get(self, request):
        """Households, incidents or cases counted per square cell of the zoom's size."""
        unit, filters, q = screen_request(request)
        key = {
            "unit": unit.path,
            "filters": filters.key(),
            "layer": q["layer"],
            "zoom": q["zoom"],
            "bbox": q.get("bbox"),
        }
        return _answer(
            "heat",
            key,
            lambda: selectors.density_bins(
                unit=unit, layer=q["layer"], zoom=q["zoom"], filters=filters, bbox=q.get("bbox")
            ),
        )


LEVEL_PARAMETERS = [
    OpenApiParameter(
        "level",
        str,
        enum=list(selectors.CHOROPLETH_LEVELS),
        description="default: the level below the unit (the choropleth), the grids (hot spots)",
    ),
    OpenApiParameter("measure", str, enum=list(selectors.MEASURES)),
    OpenApiParameter("zoom", int, description="the map's zoom: how far outlines are simplified"),
]


class Choropleth(GenericAPIView):
    serializer_class = Grids

    @extend_schema(
        parameters=[
            *PARAMETERS,
            *LEVEL_PARAMETERS,
            OpenApiParameter("classes", str, enum=list(selectors.CLASSIFIERS)),
        ]
    )
    def get(self, request):
        """The units at a level with cases per 100 households, overdue rate and patrol
        coverage, classed by natural breaks or quantiles, with the legend."""
        unit, filters, q = screen_request(request)
        level = _level(unit, q, default_grid=False)
        key = {
            "unit": unit.path,
            "filters": filters.key(),
            "level": level,
            "measure": q["measure"],
            "classes": q["classes"],
            "zoom": q["zoom"],
        }
        return _answer(
            "choropleth",
            key,
            lambda: selectors.choropleth(
                unit=unit,
                level=level,
                measure=q["measure"],
                filters=filters,
                scheme=q["classes"],
                zoom=q["zoom"],
            ),
        )


class HotSpots(GenericAPIView):
    serializer_class = Grids

    @extend_schema(parameters=[*PARAMETERS, *LEVEL_PARAMETERS])
    def get(self, request):
        """Getis-Ord Gi* of a rate over the units at a level (Queen contiguity): z, confidence
        (90/95/99, 0 when not significant) and hot or cold."""
        unit, filters, q = screen_request(request)
        level = _level(unit, q, default_grid=True)
        key = {
            "unit": unit.path,
            "filters": filters.key(),
            "level": level,
            "measure": q["measure"],
            "zoom": q["zoom"],
        }
        return _answer(
            "hotspots",
            key,
            lambda: selectors.hot_spots(
                unit=unit, level=level, measure=q["measure"], filters=filters, zoom=q["zoom"]
            ),
        )


class CardsSerializer(serializers.Serializer):
    cards = serializers.ListField(child=serializers.DictField())
    truncated = serializers.BooleanField()


class Cards(GenericAPIView):
    serializer_class = CardsSerializer

    @extend_schema(parameters=[PARAMETERS[0]])
    def get(self, request):
        """The unit's cases showing a yellow or red card now, red first."""
        unit, _, _ = screen_request(request)
        from django.utils import timezone

        now = timezone.now().replace(second=0, microsecond=0)
        return _answer(
            "cards",
            {"unit": unit.path, "minute": now.isoformat()},
            lambda: selectors.open_cards(unit=unit, now=now),
        )


class WorkersSerializer(serializers.Serializer):
    workers = serializers.ListField(child=serializers.DictField())
    tracks = serializers.DictField()
    visited_today = serializers.IntegerField()
    households = serializers.IntegerField()
    coverage_today = serializers.FloatField(allow_null=True)


class Workers(GenericAPIView):
    serializer_class = WorkersSerializer

    @extend_schema(parameters=[PARAMETERS[0]])
    def get(self, request):
        """Each worker's last known position in the unit and today's tracks and visits."""
        unit, _, _ = screen_request(request)
        from django.utils import timezone

        now = timezone.now()
        return _answer(
            "workers",
            {"unit": unit.path, "user": request.user.pk, "day": selectors.today().isoformat()},
            lambda: selectors.workers(user=request.user, unit=unit, now=now),
        )


class SummarySerializer(serializers.Serializer):
    unit = serializers.DictField()
    headline = serializers.DictField()


class Summary(GenericAPIView):
    serializer_class = SummarySerializer

    @extend_schema(parameters=PARAMETERS)
    def get(self, request):
        """The unit (name, extent, the trail down to it, the levels below) and its headline
        indicators for the period against the period before."""
        unit, filters, _ = screen_request(request)
        return _answer(
            "summary",
            {"unit": unit.path, "user": request.user.pk, "filters": filters.key()},
            lambda: {
                "unit": selectors.unit_summary(user=request.user, unit=unit),
                "headline": selectors.headline(user=request.user, unit=unit, filters=filters),
            },
        )
