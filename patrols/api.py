"""Patrols over the API: due households, today's route, tracks, check-ins, coverage and
incident pins. Thin views; every read starts from a scoped selector."""

import datetime

from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core import coords
from core.parsers import JSONParser
from territory.api.params import bool_param, refuse_large_upload
from territory.api.params import crs_param as _crs
from territory.models import HOUSEHOLD_FLAGS

from . import photos, selectors, services, tracks, uploads
from .gpx import GPXError, fixes_from_gpx
from .models import Incident

MAX_UPLOAD = 8 * 6 * 1024 * 1024  # six photos of up to 8 MiB each, and the form around them


def _out(lon, lat, crs):
    x, y = coords.point_from_wgs84(lon, lat, crs)
    return [round(x, 7), round(y, 7)]


# --- due households and today's route ---------------------------------------------------

GRID_PARAM = OpenApiParameter("grid", str, required=True, description="a grid you patrol")
CRS_PARAM = OpenApiParameter("crs", str, enum=list(coords.CRS_NAMES))


def _due_feature(d: selectors.DueHousehold, crs, *, order=None, leg_m=None) -> dict:
    h = d.household
    flags = [f for f in HOUSEHOLD_FLAGS if getattr(h, f)]
    properties = {
        "household": h.pk,
        "address": h.address,
        "flags": flags,
        "last_visit": d.last_visit.isoformat() if d.last_visit else None,
        "due_on": d.due_on.isoformat(),
        "overdue_days": d.overdue_days,
        "interval_days": d.interval_days,
    }
    if order is not None:
        properties |= {"order": order, "leg_m": round(leg_m, 1)}
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": _out(h.location.x, h.location.y, crs)},
        "properties": properties,
    }


def _stop_feature(stop: selectors.RouteStop, crs, *, order, leg_m) -> dict:
    """A stop of the route: a building with its due households listed, or a point of
    interest (`point`, its `kind`)."""
    properties = {
        "order": order,
        "leg_m": round(leg_m, 1),
        "address": stop.label,
        "households": [_due_feature(d, crs)["properties"] for d in stop.households],
        "overdue_days": stop.overdue_days,
    }
    if stop.point is not None:
        properties |= {"point": stop.point.pk, "kind": stop.point.kind}
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": _out(*stop.location, crs)},
        "properties": properties,
    }


class DueHouseholds(GenericAPIView):
    @extend_schema(parameters=[GRID_PARAM, CRS_PARAM], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        """Households of one of your grids due for a visit, most overdue first (GeoJSON)."""
        unit = selectors.patrol_unit_for_user(
            user=request.user, code=request.query_params.get("grid", "")
        )
        crs = _crs(request)
        due = selectors.households_due(unit=unit)
        return Response(
            {"type": "FeatureCollection", "features": [_due_feature(d, crs) for d in due]}
        )


class TodaysRoute(GenericAPIView):
    @extend_schema(
        parameters=[
            GRID_PARAM,
            CRS_PARAM,
            OpenApiParameter("lon", float, description="start (your position), in crs"),
            OpenApiParameter("lat", float),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        """Today's route through the due households of one of your grids: a LineString
        Feature whose properties list the stops in order (one per building, with its due
        households; and the points of interest) with the distance of each leg, the total, and
        whether it follows the roads (an imported network) or straight lines."""
        unit = selectors.patrol_unit_for_user(
            user=request.user, code=request.query_params.get("grid", "")
        )
        crs = _crs(request)
        start = None
        if request.query_params.get("lon") is not None:
            try:
                start = coords.point_to_wgs84(
                    request.query_params["lon"], request.query_params.get("lat"), crs
                )
            except coords.CoordinateError as exc:
                raise ValidationError({"lon": [str(exc)]}) from exc
        route, stops = selectors.todays_route(unit=unit, start=start)
        features = [
            _stop_feature(stop, crs, order=i + 1, leg_m=leg)
            for i, (stop, leg) in enumerate(zip(stops, route.legs_m, strict=True))
        ]
        return Response(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [_out(x, y, crs) for x, y in route.line],
                },
                "properties": {
                    "grid": unit.code,
                    "total_m": round(route.total_m, 1),
                    "follows_roads": route.follows_roads,
                    "notes": route.notes,
                    "stops": features,
                },
            }
        )


# --- tracks, check-ins, coverage --------------------------------------------------------


class FixSerializer(serializers.Serializer):
    t = serializers.DateTimeField(help_text="ISO 8601 with its offset")
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    accuracy = serializers.FloatField(required=False, allow_null=True, help_text="metres")


class TrackUploadSerializer(serializers.Serializer):
    client_id = serializers.UUIDField(help_text="made by the phone; a resent batch is stored once")
    fixes = FixSerializer(many=True, required=False)
    gpx = serializers.FileField(required=False, help_text="instead of fixes: a GPX file")
    crs = serializers.ChoiceField(choices=coords.CRS_NAMES, default=coords.WGS84)


class TrackUpload(GenericAPIView):
    serializer_class = TrackUploadSerializer
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(responses={201: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT})
    def post(self, request):
        """Upload a batch of GPS fixes (JSON) or a GPX file. Returns what was kept, what was
        dropped and why, and the visits detected (stays near a household)."""
        refuse_large_upload(request, "fixes")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("gpx") is not None:
            try:
                fixes = fixes_from_gpx(data["gpx"].read().decode("utf-8", errors="replace"))
            except GPXError as exc:
                raise ValidationError({"gpx": [str(exc)]}) from exc
        elif data.get("fixes"):
            fixes = tracks.fixes_from_rows(data["fixes"], data["crs"])
        else:
            raise ValidationError({"fixes": ["send fixes or a gpx file"]})
        result = services.track_upload(user=request.user, client_id=data["client_id"], fixes=fixes)
        track = result.track
        return Response(
            {
                "track": track.pk,
                "kept": track.fixes_kept,
                "dropped": result.dropped,
                "length_m": round(track.length_m, 1),
                "visits": [
                    {"household": v.household_id, "arrived": v.visited_at, "left": v.left_at}
                    for v in result.visits
                ],
            },
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class CheckInSerializer(serializers.Serializer):
    household = serializers.IntegerField()
    visited_at = serializers.DateTimeField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class CheckIn(GenericAPIView):
    serializer_class = CheckInSerializer

    @extend_schema(responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        """Record a visit at a household of your grids."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        visit = services.visit_check_in(
            user=request.user,
            household_id=data["household"],
            visited_at=data.get("visited_at"),
            note=data.get("note", ""),
        )
        return Response(
            {"visit": visit.pk, "household": visit.household_id, "visited_at": visit.visited_at},
            status=status.HTTP_201_CREATED,
        )


class CoverageView(GenericAPIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("grid", str, required=True),
            OpenApiParameter("start", OpenApiTypes.DATE, description="default: 30 days ago"),
            OpenApiParameter("end", OpenApiTypes.DATE, description="default: today"),
            OpenApiParameter("worker", str, description="username; default: everyone"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        """Coverage of a grid or micro-grid in a period: households due and visited, distance
        walked and time in the unit by GPS tracks, and the households overdue."""
        code = request.query_params.get("grid", "")
        unit = selectors.coverage_unit_for_user(user=request.user, code=code)
        try:
            end = datetime.date.fromisoformat(
                request.query_params.get("end") or str(timezone.localdate())
            )
            start = datetime.date.fromisoformat(
                request.query_params.get("start") or str(end - datetime.timedelta(days=30))
            )
        except ValueError as exc:
            raise ValidationError({"start": ["dates are YYYY-MM-DD"]}) from exc
        if start > end:
            raise ValidationError({"start": ["start is after end"]})
        worker = None
        if request.query_params.get("worker"):
            worker = selectors.worker_for_user(
                user=request.user, username=request.query_params["worker"]
            )
        report = selectors.coverage(unit=unit, start=start, end=end, worker=worker)
        return Response(
            {
                "grid": report.unit,
                "start": report.start,
                "end": report.end,
                "worker": worker.username if worker else None,
                "households": report.households,
                "due": report.due,
                "visited_due": report.visited_due,
                "share_visited": report.share_visited,
                "distance_m": report.distance_m,
                "minutes_in_grid": report.minutes_in_unit,
                "overdue": [
                    {
                        "household": d.household.pk,
                        "address": d.household.address,
                        "due_on": d.due_on,
                        "last_visit": d.last_visit,
                    }
                    for d in report.overdue
                ],
            }
        )


# --- incidents --------------------------------------------------------------------------


class CategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    parent = serializers.CharField(source="parent.code", allow_null=True, default=None)


class Categories(GenericAPIView):
    serializer_class = CategorySerializer

    @extend_schema(responses={200: CategorySerializer(many=True)})
    def get(self, request):
        """The incident catalogue: categories (parent null) and their items."""
        return Response(self.get_serializer(selectors.catalogue(), many=True).data)


class IncidentFieldsSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="made by the phone: a retry with it is stored once")
    item = serializers.CharField(help_text="an item code of the catalogue")
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    crs = serializers.ChoiceField(choices=coords.CRS_NAMES, default=coords.WGS84)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    severity = serializers.IntegerField(default=1)
    observed_at = serializers.DateTimeField(required=False)


# Validation without a serializer per request: DRF deep-copies a serializer's declared fields
# for every instance, a third of the validation time on the busiest write. This instance binds
# them once; run_validation keeps no state on it, so one serves every request of the process.
INCIDENT_FIELDS = IncidentFieldsSerializer()


class IncidentCreateSerializer(IncidentFieldsSerializer):
    """The form as documented; at run time the photos are read from the upload directly
    (checked by decoding in the service), which spares a field list on the busiest write."""

    photos = serializers.ListField(child=serializers.FileField(), required=False, max_length=6)


def incident_json(incident: Incident, request, crs=coords.WGS84, *, placement=None) -> dict:
    """GeoJSON of one incident. With `placement` (just created) the codes come from it and the
    photos from the incident's own cache: no query is made."""
    if placement is not None:
        grid, micro_grid = placement.grid_code, placement.micro_grid_code
        photo_rows = getattr(incident, "_new_photos", [])
    else:
        grid = incident.grid.code if incident.grid_id else None
        micro_grid = incident.micro_grid.code if incident.micro_grid_id else None
        photo_rows = incident.photos.all()
    return {
        "type": "Feature",
        "id": str(incident.pk),
        "geometry": {
            "type": "Point",
            "coordinates": _out(incident.location.x, incident.location.y, crs),
        },
        "properties": {
            "id": str(incident.pk),
            "item": incident.item.code,
            "item_name": incident.item.name,
            "category": incident.item.parent.code if incident.item.parent else None,
            "description": incident.description,
            "severity": incident.severity,
            "status": incident.status,
            "reporter": incident.reporter.username,
            "observed_at": incident.observed_at.isoformat(),
            "grid": grid,
            "micro_grid": micro_grid,
            "boundary_version": {
                "grid": incident.grid_id,
                "micro_grid": incident.micro_grid_id,
            },
            "photos": [
                {
                    "url": request.build_absolute_uri(
                        reverse("api-incident-photo", args=[incident.pk, p.pk])
                    ),
                    "thumbnail": request.build_absolute_uri(
                        reverse("api-incident-photo", args=[incident.pk, p.pk]) + "?thumbnail=1"
                    ),
                    "width": p.width,
                    "height": p.height,
                }
                for p in photo_rows
            ],
        },
    }


class IncidentPages(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class IncidentList(GenericAPIView):
    serializer_class = IncidentCreateSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    pagination_class = IncidentPages
    upload_guard = None

    def initial(self, request, *args, **kwargs):
        # Before authentication: with a session, the CSRF check parses the form.
        if request.method == "POST" and not hasattr(request._request, "_files"):
            self.upload_guard = uploads.guard_incident_upload(
                request._request,
                may_upload=lambda user: selectors.may_log_incidents(user=user),
                declared=MAX_UPLOAD,
                per_file=photos.MAX_BYTES,
                total=MAX_UPLOAD,
                max_files=services.MAX_PHOTOS,
            )
        super().initial(request, *args, **kwargs)

    @extend_schema(
        parameters=[CRS_PARAM, OpenApiParameter("mine", bool), OpenApiParameter("grid", str)],
        responses={200: OpenApiTypes.OBJECT},
        operation_id="incidents_list",
    )
    def get(self, request):
        """Incidents in your territory (GeoJSON), newest first."""
        crs = _crs(request)
        qs = selectors.incidents_for_user(user=request.user).prefetch_related("photos")
        if bool_param(request, "mine"):
            qs = qs.filter(reporter=request.user)
        if request.query_params.get("grid"):
            qs = qs.filter(grid__code=request.query_params["grid"])
        page = self.paginate_queryset(qs.order_by("-observed_at", "pk"))
        features = [incident_json(i, request, crs) for i in page]
        response = self.get_paginated_response(features)
        response.data = {
            "type": "FeatureCollection",
            "count": response.data["count"],
            "next": response.data["next"],
            "previous": response.data["previous"],
            "features": features,
        }
        return response

    @extend_schema(
        request={"multipart/form-data": IncidentCreateSerializer},
        responses={201: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        """Log an incident (multipart, with up to 6 photos). 201 when stored, 200 when this id
        was stored before (a retry: nothing is stored twice), 409 when the id is someone
        else's. Who may not log incidents gets a 403 before the body is read; photos
        are streamed to disk under hard limits (413) and decoded only where the user
        patrols. The reply's coordinates are in `?crs=` when given, else in the form's `crs`."""
        if not selectors.may_log_incidents(user=request.user):
            raise services.Forbidden({"role": uploads.NOT_A_PATROL})
        refuse_large_upload(request, "photos", MAX_UPLOAD)
        data = request.data
        refusal = self.upload_guard.refused if self.upload_guard else None
        if refusal is not None:
            raise _REFUSALS[refusal.status]({refusal.field: refusal.reason})
        v = INCIDENT_FIELDS.run_validation(data)
        files = [(f.name, f.read()) for f in request.FILES.getlist("photos")]
        try:
            result = services.incident_create(
                user=request.user,
                incident_id=v["id"],
                item_code=v["item"],
                lon=v["lon"],
                lat=v["lat"],
                crs=v["crs"],
                description=v.get("description", ""),
                severity=v["severity"],
                observed_at=v.get("observed_at"),
                photo_files=files,
            )
        except photos.PhotoError as exc:
            raise services.PatrolError({"photos": str(exc)}) from exc
        # The reply is in the crs asked for (?crs=, as for GET), else in the one the point was sent in.
        crs = _crs(request) if "crs" in request.query_params else v["crs"]
        if result.created:
            body = incident_json(result.incident, request, crs, placement=result.placement)
        else:
            incident = selectors.incident_for_user(user=request.user, pk=result.incident.pk)
            body = incident_json(incident, request, crs)
        return Response(
            body,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


_REFUSALS = {
    400: services.PatrolError,
    403: services.Forbidden,
    413: services.TooLarge,
}


class IncidentDetail(GenericAPIView):
    @extend_schema(parameters=[CRS_PARAM], responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        incident = selectors.incident_for_user(user=request.user, pk=pk)
        return Response(incident_json(incident, request, _crs(request)))


class IncidentPhotoFile(GenericAPIView):
    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request, pk, photo):
        """A photo (or its thumbnail) of an incident in your territory; never public."""
        incident = selectors.incident_for_user(user=request.user, pk=pk)
        record = incident.photos.filter(pk=photo).first()
        if record is None:
            raise Http404("no such photo")
        file = record.thumbnail if bool_param(request, "thumbnail") else record.image
        try:
            handle = file.open("rb")
        except FileNotFoundError as exc:
            raise Http404("the photo file is missing") from exc
        return FileResponse(handle, content_type="image/jpeg")
