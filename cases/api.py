"""Cases over the API: the list (scoped, filtered, paginated), a case with its history and the
actions the user may take, raising a case (a resident's request, a worker's incident made a
case), acting on it, who should take it, and the 12345 hotline's intake (an API key per caller
system). Thin views: every read starts from a scoped selector, every write is a service."""

from django.db.models import Q
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from core import coords
from core.pagination import CappedCountPagination
from patrols import photos, uploads
from territory.api.params import bool_param, refuse_large_upload
from territory.api.params import crs_param as _crs
from territory.privacy import mask_name, mask_phone

from . import flow, selectors, services
from .flow import Status
from .models import CARD_COLOURS, Case, CaseEvent, HotlineCaller

# --- bodies --------------------------------------------------------------------------------------


def _xy(point, crs) -> list[float] | None:
    if point is None:
        return None
    x, y = coords.point_from_wgs84(point.x, point.y, crs)
    return [round(x, 7), round(y, 7)]


class ItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    category = serializers.CharField(source="parent.code")


class DepartmentRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class CaseSerializer(serializers.ModelSerializer):
    """A case as the list shows it; the contact is masked unless the user may see it."""

    item = ItemSerializer()
    grid = serializers.CharField(source="grid.code")
    micro_grid = serializers.SerializerMethodField()
    point = serializers.SerializerMethodField(help_text="[x, y] in the request's crs")
    assignee = serializers.SerializerMethodField()
    department = DepartmentRefSerializer(allow_null=True)
    contact_name = serializers.SerializerMethodField()
    contact_phone = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    card = serializers.SerializerMethodField(help_text="none, yellow or red: the running step")

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "version",
            "source",
            "item",
            "description",
            "status",
            "whistle",
            "step",
            "step_started_at",
            "due_at",
            "yellow_at",
            "estimated",
            "overdue",
            "card",
            "grid",
            "micro_grid",
            "point",
            "assignee",
            "department",
            "contact_name",
            "contact_phone",
            "satisfaction",
            "whistle_rating",
            "created_at",
            "updated_at",
        ]

    def _shown(self, case) -> bool:
        return self.context["contact_shown"](case)

    def get_micro_grid(self, case) -> str | None:
        return case.micro_grid.code if case.micro_grid_id else None

    def get_point(self, case) -> list[float]:
        return _xy(case.point, self.context["crs"])

    def get_assignee(self, case) -> str | None:
        return selectors.display_name(case.assignee) if case.assignee_id else None

    def get_contact_name(self, case) -> str:
        return case.contact_name if self._shown(case) else mask_name(case.contact_name)

    def get_contact_phone(self, case) -> str:
        return case.contact_phone if self._shown(case) else mask_phone(case.contact_phone)

    def get_overdue(self, case) -> bool:
        return self.get_card(case) == "red"

    def get_card(self, case) -> str:
        # The rule lives in the query (CaseQuerySet.with_card), where the `card` filter reads
        # it too; a case fetched without it asks the database once.
        if not hasattr(case, "card"):
            case.card = (
                Case.objects.filter(pk=case.pk)
                .with_card(self.context["now"])
                .values_list("card", flat=True)
                .first()
            )
        return case.card


class EventPhotoSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="the photo, for those who may see the case")


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    where = serializers.SerializerMethodField(help_text="[x, y] in the request's crs, or null")
    photos = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = [
            "seq",
            "action",
            "from_status",
            "to_status",
            "actor",
            "actor_system",
            "at",
            "where",
            "note",
            "fields",
            "photos",
        ]

    def get_actor(self, event) -> str | None:
        return selectors.display_name(event.actor) if event.actor_id else None

    @extend_schema_field(EventPhotoSerializer(many=True))
    def get_photos(self, event) -> list[dict]:
        request = self.context["request"]
        return [
            {"url": request.build_absolute_uri(photo_url(event.case_id, p.pk))}
            for p in event.photos.all()
        ]

    def get_where(self, event) -> list[float] | None:
        return _xy(event.where, self.context["crs"])


class CaseDetailSerializer(CaseSerializer):
    history = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField(
        help_text="the actions you may take now (the case page's buttons)"
    )
    duplicate_of = serializers.SerializerMethodField()
    incident = serializers.UUIDField(source="incident_id", allow_null=True)

    class Meta(CaseSerializer.Meta):
        fields = [
            *CaseSerializer.Meta.fields,
            "duplicate_of",
            "incident",
            "allowed_actions",
            "history",
        ]

    @extend_schema_field(EventSerializer(many=True))
    def get_history(self, case):
        return EventSerializer(self.context["history"], many=True, context=self.context).data

    def get_allowed_actions(self, case) -> list[str]:
        return self.context["allowed_actions"]

    def get_duplicate_of(self, case) -> str | None:
        return case.duplicate_of.number if case.duplicate_of_id else None


def _context(request, **extra) -> dict:
    return {
        "request": request,
        "crs": _crs(request),
        "now": timezone.now(),
        "contact_shown": selectors.contact_shown(user=request.user),
        **extra,
    }


def _detail(request, case: Case, *, status_code=status.HTTP_200_OK) -> Response:
    context = _context(request)
    case = selectors.case_for_user(user=request.user, pk=case.pk, now=context["now"])
    context.update(
        history=selectors.case_history(user=request.user, case=case),
        allowed_actions=selectors.allowed_actions_for(user=request.user, case=case),
    )
    return Response(CaseDetailSerializer(case, context=context).data, status=status_code)


class CaseCreateSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=20, required=False, help_text="catalogue item code")
    description = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    lon = serializers.FloatField(required=False)
    lat = serializers.FloatField(required=False)
    crs = serializers.ChoiceField(choices=coords.CRS_NAMES, default=coords.WGS84)
    household = serializers.IntegerField(required=False, help_text='"my home" instead of a point')
    incident = serializers.UUIDField(
        required=False, help_text="make this incident a case (its item and place are kept)"
    )
    contact_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=20)

    def validate(self, data):
        if "incident" not in data and not data.get("item"):
            raise ValidationError({"item": ["required (or an incident)"]})
        return data


class CaseActSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=flow.Action.choices)
    version = serializers.IntegerField(min_value=1, help_text="the version you read")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    assignee = serializers.IntegerField(required=False, help_text="a user id")
    department = serializers.CharField(required=False, max_length=32, help_text="its code")
    duplicate_of = serializers.IntegerField(required=False, help_text="a case id")
    rating = serializers.IntegerField(required=False, min_value=1, max_value=5)
    lon = serializers.FloatField(required=False, help_text="where you acted (optional)")
    lat = serializers.FloatField(required=False)
    crs = serializers.ChoiceField(choices=coords.CRS_NAMES, default=coords.WGS84)


class CaseCreateForm(CaseCreateSerializer):
    """The create body as documented: multipart, with up to six photos on the report (read
    from the upload itself; checked by decoding in the service)."""

    photos = serializers.ListField(
        child=serializers.FileField(), required=False, max_length=services.MAX_PHOTOS
    )


class CaseActForm(CaseActSerializer):
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, max_length=services.MAX_PHOTOS
    )


class SuggestionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["user", "department"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField(help_text="a user's role there; a department's code")


class DuplicateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    distance_m = serializers.FloatField()


# --- views ---------------------------------------------------------------------------------------


class CasePages(CappedCountPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


LIST_PARAMETERS = [
    OpenApiParameter("status", str, enum=Status.values),
    OpenApiParameter("item", str, description="an item or a whole category, by code"),
    OpenApiParameter("grid", str, description="a grid or micro-grid code"),
    OpenApiParameter("overdue", bool, description="only cases past their step's deadline"),
    OpenApiParameter(
        "card", str, enum=list(CARD_COLOURS), description="the running step's card colour"
    ),
    OpenApiParameter("crs", str, enum=list(coords.CRS_NAMES)),
]


class PhotoUploads:
    """A view whose POST may carry up to services.MAX_PHOTOS `photos` (multipart), streamed
    to disk under the incident intake's limits (patrols.uploads) and checked by decoding in
    the service (patrols.photos)."""

    upload_guard = None

    def initial(self, request, *args, **kwargs):
        # Before authentication: with a session, the CSRF check parses the form.
        if request.method == "POST" and not hasattr(request._request, "_files"):
            self.upload_guard = uploads.guard_incident_upload(
                request._request,
                may_upload=lambda user: user.is_authenticated,
                declared=MAX_UPLOAD,
                per_file=photos.MAX_BYTES,
                total=MAX_UPLOAD,
                max_files=services.MAX_PHOTOS,
                role_refusal="log in to send photos",
            )
        super().initial(request, *args, **kwargs)

    def photo_files(self, request) -> list[tuple[str, bytes]]:
        """The photos sent, or the upload's refusal (400 too many, 413 too large)."""
        refuse_large_upload(request, "photos", MAX_UPLOAD)
        request.data  # noqa: B018 - parses the body through the guard
        refusal = self.upload_guard.refused if self.upload_guard else None
        if refusal is not None:
            error = services.UploadTooLarge if refusal.status == 413 else services.CaseError
            if refusal.status == 403:
                error = services.CaseForbidden
            raise error({refusal.field: refusal.reason})
        return [(f.name, f.read()) for f in request.FILES.getlist("photos")]


MAX_UPLOAD = 8 * 6 * 1024 * 1024  # six photos of up to 8 MiB each, and the form around them


class CaseList(PhotoUploads, GenericAPIView):
    """Cases you may see, newest first; raise a case."""

    serializer_class = CaseSerializer
    pagination_class = CasePages

    def get_queryset(self):
        params = self.request.query_params
        qs = selectors.cases_for_user(user=self.request.user)
        wanted = params.get("status")
        if wanted:
            if wanted not in Status.values:
                raise ValidationError({"status": [f"expected one of {', '.join(Status.values)}"]})
            qs = qs.filter(status=wanted)
        if params.get("item"):
            code = params["item"]
            qs = qs.filter(Q(item__code=code) | Q(item__parent__code=code))
        if params.get("grid"):
            code = params["grid"]
            qs = qs.filter(Q(grid__code=code) | Q(micro_grid__code=code))
        now = getattr(self, "now", None) or timezone.now()
        if bool_param(self.request, "overdue"):
            qs = qs.overdue(now)
        card = params.get("card")
        if card:
            if card not in CARD_COLOURS:
                raise ValidationError({"card": [f"expected one of {', '.join(CARD_COLOURS)}"]})
            qs = qs.carded(card, now)
        # What the list never shows stays in the table: JSON decoded per row costs.
        qs = qs.defer("attributes", "reporter_details", "intake_digest")
        return qs.with_card(now).order_by("-created_at", "-id")

    @extend_schema(parameters=LIST_PARAMETERS, responses={200: CaseSerializer(many=True)})
    def get(self, request):
        context = _context(request)
        # One instant for the filter and for the cards the rows show.
        self.now = context["now"]
        page = self.paginate_queryset(self.get_queryset())
        data = CaseSerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)

    @extend_schema(
        request={"application/json": CaseCreateSerializer, "multipart/form-data": CaseCreateForm},
        responses={201: CaseDetailSerializer, 200: CaseDetailSerializer},
        description="A resident's request (a point or your home), a case raised by a worker "
        "or the station, or an incident made a case (200 with the same case when it already "
        "is one).",
    )
    def post(self, request):
        files = self.photo_files(request)
        body = CaseCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "incident" in data:
            if files:
                raise services.CaseError({"photos": "an incident's photos are its own"})
            intake = services.case_from_incident(user=request.user, incident=data["incident"])
            code = status.HTTP_201_CREATED if intake.created else status.HTTP_200_OK
            return _detail(request, intake.case, status_code=code)
        case = services.case_report(
            user=request.user,
            item=data["item"],
            lon=data.get("lon"),
            lat=data.get("lat"),
            crs=data["crs"],
            household=data.get("household"),
            description=data.get("description", ""),
            contact_name=data.get("contact_name", ""),
            contact_phone=data.get("contact_phone", ""),
            photo_files=files,
        )
        return _detail(request, case, status_code=status.HTTP_201_CREATED)


CRS_PARAM = OpenApiParameter("crs", str, enum=list(coords.CRS_NAMES))


class CaseDetail(GenericAPIView):
    serializer_class = CaseDetailSerializer

    @extend_schema(parameters=[CRS_PARAM], responses={200: CaseDetailSerializer})
    def get(self, request, pk):
        """A case with its full history and the actions you may take now."""
        return _detail(request, selectors.case_for_user(user=request.user, pk=pk))


class CaseAct(PhotoUploads, GenericAPIView):
    serializer_class = CaseActSerializer

    @extend_schema(
        request={"application/json": CaseActSerializer, "multipart/form-data": CaseActForm},
        responses={200: CaseDetailSerializer},
        description="Take one action of the flow. 409 `conflict` when the case's state does "
        "not allow it (the answer names the state and what it allows), 409 `stale` when the "
        "case changed since you read `version`, 403 when your role may not take it, 400 when "
        "a field it needs is missing.",
    )
    def post(self, request, pk):
        files = self.photo_files(request)
        body = CaseActSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        case = services.case_act(
            user=request.user,
            case=selectors.case_for_user(user=request.user, pk=pk),
            action=data.pop("action"),
            expected_version=data.pop("version"),
            photo_files=files,
            **data,
        )
        return _detail(request, case)


class CaseSuggestions(GenericAPIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("metres", int, description="duplicates within (default 200)"),
            OpenApiParameter("days", int, description="duplicates raised within (default 7)"),
        ],
        responses={
            200: inline_serializer(
                "CaseSuggestions",
                {
                    "dispatch": SuggestionSerializer(many=True),
                    "duplicates": DuplicateSerializer(many=True),
                },
            )
        },
    )
    def get(self, request, pk):
        """Who should take the case (the grid's workers, a department by item and area, a
        volunteer) and the open cases nearby it may repeat: for the station and the centre."""
        case = selectors.case_for_user(user=request.user, pk=pk)
        me = selectors.standing(user=request.user, case=case)
        if not me.roles & flow.STATION:
            raise exceptions.PermissionDenied("only the station and the centre dispatch cases")
        metres = _int_param(request, "metres", selectors.DUPLICATE_METRES, 1, 5000)
        days = _int_param(request, "days", selectors.DUPLICATE_DAYS, 0, 365)
        duplicates = selectors.duplicate_candidates(
            case=case, metres=metres, days=days, user=request.user
        )[:20]
        return Response(
            {
                "dispatch": SuggestionSerializer(
                    selectors.dispatch_suggestions(case=case), many=True
                ).data,
                "duplicates": DuplicateSerializer(duplicates, many=True).data,
            }
        )


def _int_param(request, name, default, low, high) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ValidationError({name: [f"a whole number from {low} to {high}"]})
    return value


# --- the 12345 hotline ---------------------------------------------------------------------------

HOTLINE_HEADER = "X-Api-Key"


class HotlineKeyAuthentication(BaseAuthentication):
    """A caller system's key in the X-Api-Key header (no session, no CSRF: a machine)."""

    def authenticate(self, request):
        key = request.headers.get(HOTLINE_HEADER)
        if key is None:
            return None
        caller = selectors.hotline_caller_for_key(key)
        if caller is None:
            raise exceptions.AuthenticationFailed("unknown or inactive hotline key")
        return (HotlineSystem(caller), caller)

    def authenticate_header(self, request):
        return f'{HOTLINE_HEADER} realm="hotline"'


class HotlineSystem:
    """The request's user when a caller system calls: authenticated, but nobody."""

    is_authenticated = True
    is_superuser = False
    is_active = True
    pk = None

    def __init__(self, caller: HotlineCaller):
        self.caller = caller


class IsHotlineCaller(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, HotlineCaller)


class HotlineKeyScheme(OpenApiAuthenticationExtension):
    target_class = "cases.api.HotlineKeyAuthentication"
    name = "hotlineKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": HOTLINE_HEADER,
            "description": "a 12345 caller system's key (one per system, for one county)",
        }


class HotlineCaseSerializer(serializers.Serializer):
    order_number = serializers.CharField(max_length=64, help_text="the hotline's own number")
    item = serializers.CharField(max_length=20, help_text="catalogue item code")
    description = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    crs = serializers.ChoiceField(choices=coords.CRS_NAMES, default=coords.WGS84)
    contact_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=20)


class HotlineReceiptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    order_number = serializers.CharField()


class HotlineCaseIntake(GenericAPIView):
    authentication_classes = [HotlineKeyAuthentication]
    permission_classes = [IsHotlineCaller]
    serializer_class = HotlineCaseSerializer

    @extend_schema(
        request=HotlineCaseSerializer,
        responses={201: HotlineReceiptSerializer, 200: HotlineReceiptSerializer},
        description="A 12345 order becomes a case. Idempotent on `order_number`: sent again "
        "with the same content it answers 200 with the same case; with other content 409.",
    )
    def post(self, request):
        body = HotlineCaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        intake = services.case_from_hotline(
            caller=request.auth,
            order_number=data["order_number"],
            item=data["item"],
            lon=data["lon"],
            lat=data["lat"],
            crs=data["crs"],
            description=data.get("description", ""),
            contact_name=data.get("contact_name", ""),
            contact_phone=data.get("contact_phone", ""),
        )
        case = intake.case
        return Response(
            {
                "id": case.pk,
                "number": case.number,
                "status": case.status,
                "order_number": case.hotline_order,
            },
            status=status.HTTP_201_CREATED if intake.created else status.HTTP_200_OK,
        )


# --- photos on case events -----------------------------------------------------------------------


def photo_url(case_id: int, photo_id: int) -> str:
    return reverse("api-case-photo", args=[case_id, photo_id])


class CasePhotoFile(GenericAPIView):
    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request, pk, photo_id):
        """A photo of an action on a case you may see (404 otherwise); never public."""
        record = selectors.case_photo_for_user(user=request.user, case=pk, pk=photo_id)
        try:
            handle = record.image.open("rb")
        except FileNotFoundError as exc:
            raise Http404("the photo file is missing") from exc
        response = FileResponse(handle, content_type=record.content_type)
        response["Cache-Control"] = "private, max-age=86400"
        return response


# --- indicators per territory and period, and their xlsx and CSV files -----------------------


class IndicatorRowSerializer(serializers.Serializer):
    """One territory's indicators (cases.indicators says what each means)."""

    unit_code = serializers.CharField()
    unit_name = serializers.CharField()
    level = serializers.CharField()
    reported = serializers.IntegerField()
    registered = serializers.IntegerField()
    dispatched = serializers.IntegerField()
    handled = serializers.IntegerField()
    handled_on_time = serializers.IntegerField()
    on_time_handling_rate = serializers.FloatField(
        allow_null=True, help_text="0 to 1; null when nothing was handled"
    )
    closed = serializers.IntegerField(help_text="verified (社区核单) in the period")
    closed_on_time = serializers.IntegerField()
    on_time_closing_rate = serializers.FloatField(
        allow_null=True, help_text="0 to 1; null when nothing was closed"
    )
    overdue = serializers.IntegerField(help_text="red cards in the period")
    yellow = serializers.IntegerField(help_text="yellow cards in the period")
    rework = serializers.IntegerField()
    avg_handling_hours = serializers.FloatField(
        allow_null=True, help_text="working hours from the report to each handle"
    )
    satisfaction_avg = serializers.FloatField(allow_null=True, help_text="1 to 5")
    satisfaction_count = serializers.IntegerField()


class IndicatorReportSerializer(serializers.Serializer):
    unit = serializers.CharField(help_text="the unit's code")
    unit_name = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    by_child = serializers.BooleanField()
    rows = IndicatorRowSerializer(many=True, help_text="the unit first, then its children")


INDICATOR_PARAMETERS = [
    OpenApiParameter(
        "unit",
        str,
        description="a territorial unit's code (default: your own station's or centre's unit)",
    ),
    OpenApiParameter("start", OpenApiTypes.DATE, required=True, description="first day"),
    OpenApiParameter(
        "end", OpenApiTypes.DATE, required=True, description="last day (at most 400 days on)"
    ),
    OpenApiParameter("by_child", bool, description="also one row per child unit"),
]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


def _indicator_report(request):
    """(unit, period, rows) of the query's parameters; 403 for a role that reads no
    indicators, 404 outside one's reach, 400 for a bad unit or period."""
    from .indicators import period

    if not selectors.may_see_indicators(user=request.user):
        raise exceptions.PermissionDenied("indicators are for the station and the centre")
    unit = selectors.indicator_unit_for(
        user=request.user, unit_code=request.query_params.get("unit")
    )
    span = period(request.query_params.get("start"), request.query_params.get("end"))
    rows = selectors.case_indicators(
        user=request.user,
        unit_code=unit.code,
        start=span.start,
        end=span.end,
        by_child=bool_param(request, "by_child"),
    )
    return unit, span, rows


class CaseIndicators(GenericAPIView):
    serializer_class = IndicatorReportSerializer

    @extend_schema(parameters=INDICATOR_PARAMETERS, responses={200: IndicatorReportSerializer})
    def get(self, request):
        """The case indicators of a unit (and of each child unit) over a period of days, from
        the recorded events and cards: for the station and the centre."""
        unit, span, rows = _indicator_report(request)
        return Response(
            {
                "unit": unit.code,
                "unit_name": unit.name,
                "start": span.start.isoformat(),
                "end": span.end.isoformat(),
                "by_child": bool_param(request, "by_child"),
                "rows": [r.as_dict() for r in rows],
            }
        )


def attachment(response, *, ascii_name: str, name: str):
    """RFC 6266: a plain ASCII filename for old clients, the UTF-8 one (with the unit's name)
    in filename*."""
    from urllib.parse import quote

    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    return response


class CaseIndicatorsFile(GenericAPIView):
    extension = ""
    serializer_class = None

    def get(self, request):
        from django.http import HttpResponse

        from . import indicators

        unit, span, rows = _indicator_report(request)
        ascii_name = indicators.filename(unit.code, span, self.extension)
        if self.extension == "xlsx":
            body = indicators.to_xlsx(rows, heading=indicators.title(unit.name, unit.code, span))
            response = HttpResponse(body, content_type=XLSX_TYPE)
        else:
            response = HttpResponse(indicators.to_csv(rows), content_type=CSV_TYPE)
        return attachment(response, ascii_name=ascii_name, name=f"{unit.name}_{ascii_name}")


class CaseIndicatorsXlsx(CaseIndicatorsFile):
    extension = "xlsx"

    @extend_schema(
        parameters=INDICATOR_PARAMETERS,
        responses={(200, XLSX_TYPE): OpenApiTypes.BINARY},
        description="The indicators as an Excel workbook: a title row, a bold frozen header "
        "in your language, rates as percentages, hours to one decimal.",
    )
    def get(self, request):
        return super().get(request)


class CaseIndicatorsCsv(CaseIndicatorsFile):
    extension = "csv"

    @extend_schema(
        parameters=INDICATOR_PARAMETERS,
        responses={(200, "text/csv"): OpenApiTypes.STR},
        description="The indicators as CSV (UTF-8 with a byte-order mark, for Excel).",
    )
    def get(self, request):
        return super().get(request)
