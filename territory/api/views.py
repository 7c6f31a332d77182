"""Thin API views: parse, call a selector or service, serialize. Every queryset starts from a
territory-scoped selector."""

import math

from django.conf import settings
from django.contrib.gis.db.models import GeometryField
from django.db.models import F, Func, Value
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework_gis.pagination import GeoJsonPagination

from core import coords
from core.api_errors import ApiError, Problem
from core.parsers import JSONParser
from territory import selectors, services
from territory.boundary_io import FORMATS, BoundaryFileError, features_from_geojson
from territory.codes import Level
from territory.exports import units_export
from territory.models import ScheduledChange
from territory.topology import TopologyTooLarge, topology_check

from . import params
from .serializers import (
    BoundaryImportSerializer,
    GridFeatureSerializer,
    HouseholdFeatureSerializer,
    HouseholdWriteSerializer,
    ImportResultSerializer,
    ScheduledChangeSerializer,
    UnitFeatureSerializer,
    UnitFiguresSerializer,
)

CRS_PARAM = OpenApiParameter(
    "crs",
    str,
    enum=["wgs84", "cgcs2000", "gcj02", "bd09"],
    description="CRS of returned coordinates (and of bbox)",
)
AS_OF_PARAM = OpenApiParameter(
    "as_of", OpenApiTypes.DATE, description="boundaries that held on this date"
)
COMMON = [CRS_PARAM, OpenApiParameter("bbox", str, description="min_lon,min_lat,max_lon,max_lat")]
UNIT_PARAMS = [
    *COMMON,
    AS_OF_PARAM,
    OpenApiParameter("level", str, enum=list(Level.ORDER)),
    OpenApiParameter("parent", str, description="only the children of this code"),
    OpenApiParameter("top", bool, description="only the top units of your territory"),
    OpenApiParameter("q", str, description="a code prefix, or part of the name (zh or en)"),
    OpenApiParameter("zoom", int, description="map zoom: geometry simplified to half a pixel"),
]


class Pagination(GeoJsonPagination):
    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 5000


class SimplifyPreserveTopology(Func):
    function = "ST_SimplifyPreserveTopology"
    output_field = GeometryField(srid=4326)  # SRID 4326, WGS84


class UnitList(GenericAPIView):
    """Units of your territory as a GeoJSON FeatureCollection."""

    serializer_class = UnitFeatureSerializer
    pagination_class = Pagination
    levels: tuple[str, ...] | None = None

    def get_queryset(self):
        request = self.request
        as_of = params.as_of_param(request)
        crs = params.crs_param(request)
        if request.query_params.get("top") in ("1", "true"):
            qs = selectors.top_units_for_user(user=request.user)
        else:
            qs = selectors.units_for_user(user=request.user, as_of=as_of)
        level = request.query_params.get("level")
        if level:
            if level not in Level.ORDER:
                raise ValidationError({"level": [f"expected one of {', '.join(Level.ORDER)}"]})
            qs = qs.at_level(level)
        if self.levels:
            qs = qs.filter(level__in=self.levels)
        parent = request.query_params.get("parent")
        if parent:
            qs = qs.filter(parent_code=parent)
        text = request.query_params.get("q", "")
        if len(text) > 100:
            raise ValidationError({"q": ["at most 100 characters"]})
        qs = qs.matching(text)
        bbox = params.bbox_param(request, crs)
        if bbox is not None:
            qs = qs.in_bbox(bbox)
        tolerance = params.simplify_tolerance(params.zoom_param(request))
        if tolerance:
            qs = qs.annotate(
                display_boundary=SimplifyPreserveTopology(F("boundary"), Value(tolerance))
            )
        return qs.order_by("code")

    def extra_context(self, units):
        return {"counts": selectors.household_counts_by_unit(units=units)}

    @extend_schema(
        parameters=UNIT_PARAMS,
        operation_id="units_list",
        responses={200: UnitFeatureSerializer(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        context = {"crs": params.crs_param(request), "request": request, **self.extra_context(page)}
        return self.get_paginated_response(
            self.get_serializer(page, many=True, context=context).data
        )


class GridList(UnitList):
    """Grids and micro-grids of your territory, with household counts and grid chiefs."""

    serializer_class = GridFeatureSerializer
    levels = (Level.GRID, Level.MICROGRID)

    def extra_context(self, units):
        chiefs = selectors.grid_chiefs_by_code(codes=[u.code for u in units])
        return {**super().extra_context(units), "chiefs": chiefs}

    @extend_schema(parameters=UNIT_PARAMS, responses={200: GridFeatureSerializer(many=True)})
    def get(self, request):
        return super().get(request)


class UnitDetail(GenericAPIView):
    serializer_class = UnitFeatureSerializer

    @extend_schema(
        parameters=[CRS_PARAM, AS_OF_PARAM],
        responses={200: UnitFeatureSerializer},
        description="One unit as a GeoJSON Feature, with its figures under properties.figures.",
    )
    def get(self, request, code):
        unit = selectors.unit_for_user(
            user=request.user, code=code, as_of=params.as_of_param(request)
        )
        figures = selectors.unit_figures(unit=unit)
        context = {
            "crs": params.crs_param(request),
            "counts": {unit.code: (figures["households"], figures["population"])},
        }
        data = UnitFeatureSerializer(unit, context=context).data
        data["properties"]["figures"] = UnitFiguresSerializer(figures).data
        return Response(data)


class UnitTopology(GenericAPIView):
    @extend_schema(
        parameters=[CRS_PARAM, AS_OF_PARAM, OpenApiParameter("tolerance_m2", float)],
        responses={200: OpenApiTypes.OBJECT},
        description="Gaps, overlaps and spills between this unit's descendants and their "
        "parents (locations in the requested CRS), for roles that edit the territory. A "
        f"subtree of more than {settings.WANGGE_TOPOLOGY_MAX_UNITS} units is refused (400): "
        "check a smaller unit.",
    )
    def get(self, request, code):
        as_of = params.as_of_param(request)
        crs = params.crs_param(request)
        unit = selectors.unit_for_user(user=request.user, code=code, as_of=as_of)
        j = selectors.jurisdiction_for(user=request.user)
        if not j.covers(unit.path, j.territory_edit_paths):
            # Seen (it is in the territory, so not a 404) but not the user's to edit.
            raise PermissionDenied("only roles that edit the territory may check its topology")
        try:
            tolerance = float(
                request.query_params.get("tolerance_m2", settings.WANGGE_TOPOLOGY_TOLERANCE_M2)
            )
        except ValueError as exc:
            raise ValidationError({"tolerance_m2": ["expected a number"]}) from exc
        if not math.isfinite(tolerance) or tolerance < 0:
            raise ValidationError({"tolerance_m2": ["expected a number of m², 0 or more"]})
        try:
            report = topology_check(
                unit=unit,
                as_of=as_of,
                tolerance_m2=tolerance,
                max_units=settings.WANGGE_TOPOLOGY_MAX_UNITS,
            )
        except TopologyTooLarge as exc:
            raise ValidationError({"code": [str(exc)]}) from exc
        for defect in report.defects:
            defect.location = coords.point_from_wgs84(*defect.location, crs)
        return Response({**report.as_dict(), "crs": crs})


class FileDownloadNegotiation(DefaultContentNegotiation):
    """`?format=gpkg` names the file format here, not a DRF renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class UnitExport(GenericAPIView):
    content_negotiation_class = FileDownloadNegotiation

    @extend_schema(
        parameters=[
            OpenApiParameter("level", str, enum=list(Level.ORDER), required=True),
            OpenApiParameter("parent", str),
            OpenApiParameter("format", str, enum=list(FORMATS)),
            CRS_PARAM,
            AS_OF_PARAM,
        ],
        responses={
            (200, FORMATS["geojson"][2]): OpenApiTypes.OBJECT,
            (200, FORMATS["gpkg"][2]): OpenApiTypes.BINARY,
        },
        description="Download the units of one level of your territory as GeoJSON or GeoPackage.",
    )
    def get(self, request):
        level = request.query_params.get("level")
        if level not in Level.ORDER:
            raise ValidationError({"level": [f"expected one of {', '.join(Level.ORDER)}"]})
        fmt = request.query_params.get("format", "geojson")
        if fmt not in FORMATS:
            raise ValidationError({"format": [f"expected one of {', '.join(FORMATS)}"]})
        crs = params.crs_param(request)
        as_of = params.as_of_param(request)
        units = selectors.units_for_user(user=request.user, as_of=as_of).at_level(level)
        parent = request.query_params.get("parent")
        if parent:
            root = selectors.unit_for_user(user=request.user, code=parent, as_of=as_of)
            units = units.in_subtree([root.path])
        try:
            data, _ = units_export(units=units, fmt=fmt, crs=crs)
        except BoundaryFileError as exc:
            raise ValidationError({"format": [str(exc)]}) from exc
        _, suffix, mime = FORMATS[fmt]
        response = HttpResponse(data, content_type=mime)
        response["Content-Disposition"] = (
            f'attachment; filename="{export_file_name(level, parent, crs, suffix)}"'
        )
        return response


def export_file_name(level: str, parent: str | None, crs: str, suffix: str) -> str:
    """e.g. grids-411381-gcj02.geojson: the CRS in the name, for the formats and the programs
    that keep no marker of a CRS without an EPSG code."""
    plural = "cities" if level == Level.CITY else f"{level}s"
    scope = "".join(c for c in (parent or "") if c.isalnum())[:20]
    return "-".join(part for part in (plural, scope, crs) if part) + suffix


class UnitImport(GenericAPIView):
    serializer_class = BoundaryImportSerializer
    parser_classes = [JSONParser]

    @extend_schema(
        responses={201: ImportResultSerializer, 202: ImportResultSerializer},
        description="Import units of one level from a GeoJSON FeatureCollection, all or nothing. "
        "Problems come back as HTTP 400 with a path per problem "
        "(feature 3 (CODE).geometry, ...). Dated after today (valid_from), the import is "
        "checked now and scheduled: 202 with the scheduled change (its id and instant, "
        "Location: its URL); the units change at the start of that day.",
    )
    def post(self, request):
        params.refuse_large_upload(request, "features")
        if not selectors.may_import_boundaries(user=request.user):
            raise PermissionDenied("your role cannot import boundaries")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        features, problems = features_from_geojson(data["features"], crs=data["crs"])
        if problems:
            raise services.TerritoryError(
                [Problem(f"features.{w}" if w else "features", m) for w, m in problems]
            )
        result = services.boundaries_import(
            features=features,
            level=data["level"],
            crs=data["crs"],
            parent_code=data.get("parent_code") or None,
            repair=data["repair"],
            replace=data["replace"],
            valid_from=data.get("valid_from"),
            allow_orphans=data["allow_orphans"],
            user=request.user,
        )
        body = ImportResultSerializer(result).data
        if result.scheduled is None:
            return Response(body, status=status.HTTP_201_CREATED)
        location = reverse("api-scheduled-change", args=[result.scheduled.pk])
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


class ScheduledChangePages(PageNumberPagination):
    page_size = 50


STATUSES = [*ScheduledChange.Status.values, "all"]


class ScheduledChangeList(GenericAPIView):
    """Boundary changes dated ahead in the territory you edit, soonest first."""

    serializer_class = ScheduledChangeSerializer
    pagination_class = ScheduledChangePages

    def get_queryset(self):
        request = self.request
        code = request.query_params.get("unit")
        under = selectors.unit_for_user(user=request.user, code=code) if code else None
        qs = selectors.scheduled_changes_for_user(user=request.user, under=under)
        wanted = request.query_params.get("status", "pending")
        if wanted not in STATUSES:
            raise ValidationError({"status": [f"expected one of {', '.join(STATUSES)}"]})
        if wanted != "all":
            qs = qs.filter(status=wanted)
        return qs.order_by("effective_at", "id")

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=STATUSES, description="default: pending"),
            OpenApiParameter("unit", str, description="only changes at or below this unit"),
        ],
        responses={200: ScheduledChangeSerializer(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ScheduledChangeDetail(GenericAPIView):
    serializer_class = ScheduledChangeSerializer

    @extend_schema(responses={200: ScheduledChangeSerializer})
    def get(self, request, pk):
        change = selectors.scheduled_change_for_user(user=request.user, pk=pk)
        return Response(self.get_serializer(change).data)


class ScheduledChangeCancel(GenericAPIView):
    serializer_class = ScheduledChangeSerializer

    @extend_schema(
        request=None,
        responses={200: ScheduledChangeSerializer},
        description="Cancel a pending change: nothing of it will be written. 409 when it was "
        "already applied, failed or cancelled.",
    )
    def post(self, request, pk):
        change = selectors.scheduled_change_for_user(user=request.user, pk=pk)
        change = services.scheduled_change_cancel(change=change, user=request.user)
        return Response(self.get_serializer(change).data)


class HouseholdContextMixin:
    def _context(self):
        user = self.request.user
        return {
            "crs": params.crs_param(self.request),
            "personal": lambda h: selectors.may_see_personal_data(user=user, household=h),
        }


class HouseholdList(HouseholdContextMixin, GenericAPIView):
    """Households of your territory as GeoJSON; personal data masked unless your role may see it."""

    serializer_class = HouseholdFeatureSerializer
    pagination_class = Pagination

    def get_queryset(self):
        request = self.request
        qs = selectors.households_for_user(user=request.user)
        grid = request.query_params.get("grid")
        if grid:
            unit = selectors.grid_for_user(user=request.user, code=grid)
            qs = qs.in_subtree([unit.path])
        bbox = params.bbox_param(request, params.crs_param(request))
        if bbox is not None:
            qs = qs.in_bbox(bbox)
        return qs.order_by("id")

    @extend_schema(
        parameters=[*COMMON, OpenApiParameter("grid", str)],
        operation_id="households_list",
        responses={200: HouseholdFeatureSerializer(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            HouseholdFeatureSerializer(page, many=True, context=self._context()).data
        )

    @extend_schema(request=HouseholdWriteSerializer, responses={201: HouseholdFeatureSerializer})
    def post(self, request):
        serializer = HouseholdWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        household = services.household_create(user=request.user, **serializer.validated_data)
        return Response(
            HouseholdFeatureSerializer(household, context=self._context()).data,
            status=status.HTTP_201_CREATED,
        )


def _etag(record) -> str:
    # Strong: If-Match compares strongly (RFC 9110 13.1.1), a weak tag would never match.
    return f'"{record.version}"'


def _version_in_if_match(header: str) -> int | None:
    """The version named by an If-Match of one ETag ("3", or W/"3" from a lenient client);
    None when it names none."""
    tags = [t.strip() for t in header.split(",") if t.strip()]
    if len(tags) != 1:
        return None
    tag = tags[0].removeprefix("W/")
    if (
        len(tag) < 3
        or tag[0] != '"'
        or tag[-1] != '"'
        or not (tag[1:-1].isascii() and tag[1:-1].isdigit())
    ):
        return None
    return int(tag[1:-1])


def _precondition(status_code: int, code: str, message: str) -> ApiError:
    return ApiError([Problem("If-Match", message)], status=status_code, code=code)


IF_MATCH_PARAM = OpenApiParameter(
    "If-Match",
    str,
    location=OpenApiParameter.HEADER,
    description='the ETag read with GET (e.g. "3"); or send "version" in the body',
)


class HouseholdDetail(HouseholdContextMixin, GenericAPIView):
    """A household; its ETag is its edit version. A change must name the version it was made
    on (If-Match, or "version" in the body), so that it cannot silently overwrite a change
    someone else made in between."""

    serializer_class = HouseholdFeatureSerializer

    def _answer(self, household) -> Response:
        response = Response(HouseholdFeatureSerializer(household, context=self._context()).data)
        response["ETag"] = _etag(household)
        return response

    @extend_schema(parameters=[CRS_PARAM])
    def get(self, request, pk):
        return self._answer(selectors.household_for_user(user=request.user, pk=pk))

    @extend_schema(
        parameters=[IF_MATCH_PARAM],
        request=HouseholdWriteSerializer,
        responses={
            200: HouseholdFeatureSerializer,
            409: OpenApiResponse(description="the body's version is stale"),
            412: OpenApiResponse(description="If-Match does not name the current version"),
            428: OpenApiResponse(description="neither If-Match nor version was sent"),
        },
    )
    def patch(self, request, pk):
        # 404 before any precondition answer: a reader outside learns nothing from a write.
        household = selectors.household_for_writer(user=request.user, pk=pk)
        serializer = HouseholdWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = {k: v for k, v in serializer.validated_data.items() if k in request.data}
        crs = changes.pop("crs", "wgs84")
        body_version = changes.pop("version", None)
        if_match = request.headers.get("If-Match")
        if if_match is None and body_version is None:
            raise _precondition(
                status.HTTP_428_PRECONDITION_REQUIRED,
                "precondition_required",
                'send the ETag you read in If-Match (or its version as "version"), so that '
                "your change cannot overwrite one made since",
            )
        header_version = None
        if if_match is not None and if_match.strip() != "*":
            header_version = _version_in_if_match(if_match)
            if header_version is None:
                raise _precondition(
                    status.HTTP_412_PRECONDITION_FAILED,
                    "precondition_failed",
                    "If-Match must hold the one ETag you read",
                )
            if body_version is not None and body_version != header_version:
                raise ValidationError({"version": ["disagrees with If-Match"]})
        try:
            household = services.household_update(
                household=household,
                user=request.user,
                crs=crs,
                expected_version=header_version if header_version is not None else body_version,
                **changes,
            )
        except services.StaleVersion as exc:
            if header_version is None:
                raise  # 409, the API's answer to a stale body
            raise _precondition(
                status.HTTP_412_PRECONDITION_FAILED, "precondition_failed", exc.problems[0].message
            ) from exc
        return self._answer(household)
