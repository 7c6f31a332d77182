"""Micro-grid planning over the API: preview, adjust, commit (GeoJSON proposals in and out),
revert, and batch jobs. Thin: every action is one service call."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from core.parsers import JSONParser
from microgrids import proposals, services
from territory import selectors
from territory.api import params
from territory.models import MicroGridDivision, MicroGridJob

PROPOSAL_HELP = (
    "A GeoJSON FeatureCollection: one Polygon feature per micro-grid with properties number, "
    "households, household_ids, polsby_popper, in_bounds, locked and code (the current "
    "micro-grid it is identical to, else null); top-level grid, basis (what the proposal rests "
    "on: a commit on another basis is refused with 409), low, high, seed, notes, all_in_bounds, "
    "mean_polsby_popper, worst_polsby_popper and barriers."
)


def _an_object(value, what: str):
    if value is not None and not isinstance(value, dict):
        raise serializers.ValidationError(f"expected {what} (a JSON object)")
    return value


class PreviewSerializer(serializers.Serializer):
    low = serializers.IntegerField(default=30, min_value=1, max_value=services.BOUND_MAX)
    high = serializers.IntegerField(default=50, min_value=1, max_value=services.BOUND_MAX)
    seed = serializers.IntegerField(default=0, min_value=0, max_value=services.SEED_MAX)
    barriers = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="roads, rivers, walls: a GeoJSON LineString/MultiLineString or a "
        "FeatureCollection of lines, WGS84",
    )
    start = serializers.ChoiceField(
        choices=["engine", "current"],
        default="engine",
        help_text="engine: a new proposal; current: the grid's current micro-grids",
    )

    def validate_barriers(self, value):
        return _an_object(value, "a GeoJSON geometry or FeatureCollection of lines")


class ProposalSerializer(serializers.Serializer):
    proposal = serializers.JSONField(help_text=PROPOSAL_HELP)

    def validate_proposal(self, value):
        if not isinstance(value, dict) or value.get("type") != "FeatureCollection":
            raise serializers.ValidationError("expected a GeoJSON FeatureCollection")
        return value


# What each operation needs besides op.
OPERATION_FIELDS = {
    "merge": ("part", "other"),
    "split": ("part",),
    "move_area": ("area", "to"),
    "move_households": ("households", "to"),
    "lock": ("part",),
    "unlock": ("part",),
    "rerun": (),
}


class OperationSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=list(OPERATION_FIELDS))
    part = serializers.IntegerField(required=False, min_value=1, max_value=proposals.MAX_PARTS)
    other = serializers.IntegerField(required=False, min_value=1, max_value=proposals.MAX_PARTS)
    to = serializers.IntegerField(required=False, min_value=1, max_value=proposals.MAX_PARTS)
    area = serializers.JSONField(required=False, help_text="a GeoJSON Polygon, WGS84")
    households = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, allow_empty=False
    )
    seed = serializers.IntegerField(required=False, min_value=0, max_value=services.SEED_MAX)
    low = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=services.BOUND_MAX
    )
    high = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=services.BOUND_MAX
    )

    def validate_area(self, value):
        return _an_object(value, "a GeoJSON Polygon")

    def validate(self, attrs):
        missing = {
            key: ["This field is required."]
            for key in OPERATION_FIELDS[attrs["op"]]
            if key not in attrs
        }
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class AdjustSerializer(ProposalSerializer):
    operation = OperationSerializer(
        help_text='One of {"op": "merge", "part": 1, "other": 2}, {"op": "split", "part": 1}, '
        '{"op": "move_area", "area": <GeoJSON Polygon>, "to": 2}, '
        '{"op": "move_households", "households": [ids], "to": 2}, {"op": "lock", "part": 1}, '
        '{"op": "unlock", "part": 1}, {"op": "rerun", "seed": 1, "low": 30, "high": 50}. '
        "Micro-grids are numbered from 1 in the proposal's order."
    )


class ProposalResponseSerializer(serializers.Serializer):
    type = serializers.CharField()
    grid = serializers.CharField()
    basis = serializers.CharField()
    low = serializers.IntegerField()
    high = serializers.IntegerField()
    all_in_bounds = serializers.BooleanField()
    mean_polsby_popper = serializers.FloatField()
    worst_polsby_popper = serializers.FloatField()
    notes = serializers.ListField(child=serializers.CharField())
    features = serializers.ListField(child=serializers.DictField())


class DivisionSerializer(serializers.ModelSerializer):
    grid = serializers.CharField(source="grid.code")
    created = serializers.SerializerMethodField()
    retired = serializers.SerializerMethodField()
    committed_by = serializers.StringRelatedField()
    reverted_by = serializers.StringRelatedField()

    class Meta:
        model = MicroGridDivision
        fields = [
            "id",
            "grid",
            "low",
            "high",
            "created",
            "retired",
            "notes",
            "committed_by",
            "committed_at",
            "reverted_by",
            "reverted_at",
        ]

    def get_created(self, obj) -> list[str]:
        return sorted(u.code for u in obj.created_units.all())

    def get_retired(self, obj) -> list[str]:
        return sorted(u.code for u in obj.retired_units.all())


class JobCreateSerializer(serializers.Serializer):
    unit = serializers.CharField(help_text="code of a village/community or township")
    low = serializers.IntegerField(default=30, min_value=1, max_value=999)
    high = serializers.IntegerField(default=50, min_value=1, max_value=999)
    commit = serializers.BooleanField(
        default=False, help_text="commit every division that is fully in bounds"
    )


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = MicroGridJob
        fields = [
            "id",
            "unit_code",
            "low",
            "high",
            "commit",
            "status",
            "total",
            "done",
            "report",
            "error",
            "created_at",
            "finished_at",
        ]


def _too_large(request):
    params.refuse_large_upload(request, "proposal")


class _PlanningView(GenericAPIView):
    parser_classes = [JSONParser]

    def valid(self, request):
        _too_large(request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class MicroGridPreview(_PlanningView):
    serializer_class = PreviewSerializer

    @extend_schema(
        responses={200: ProposalResponseSerializer},
        description="Propose micro-grids for one grid. Writes nothing. Infeasible bounds, a grid "
        "without households or bad barriers: 400 saying why and what would work.",
    )
    def post(self, request, code):
        data = self.valid(request)
        proposal = services.microgrid_preview(user=request.user, grid_code=code, **data)
        return Response(proposal)


class MicroGridAdjust(_PlanningView):
    serializer_class = AdjustSerializer

    @extend_schema(
        responses={200: ProposalResponseSerializer},
        description="Apply one adjustment to a proposal and return the new one (writes nothing). "
        "A proposal made before the grid changed: 409.",
    )
    def post(self, request, code):
        data = self.valid(request)
        proposal = services.microgrid_adjust(
            user=request.user,
            grid_code=code,
            proposal=data["proposal"],
            operation=dict(data["operation"]),
        )
        return Response(proposal)


class MicroGridCommit(_PlanningView):
    serializer_class = ProposalSerializer

    @extend_schema(
        responses={201: DivisionSerializer},
        description="Make a proposal the grid's micro-grids, in one transaction. A stale "
        "proposal: 409; one that does not tile the grid or is out of bounds: 400. Nothing is "
        "written in either case.",
    )
    def post(self, request, code):
        data = self.valid(request)
        division = services.microgrid_commit(
            user=request.user, grid_code=code, proposal=data["proposal"]
        )
        return Response(DivisionSerializer(division).data, status=status.HTTP_201_CREATED)


class DivisionPages(PageNumberPagination):
    page_size = 50


class DivisionList(GenericAPIView):
    serializer_class = DivisionSerializer
    pagination_class = DivisionPages

    def get_queryset(self):
        qs = selectors.divisions_for_user(user=self.request.user)
        grid = self.request.query_params.get("grid")
        return qs.filter(grid__code=grid) if grid else qs

    @extend_schema(
        parameters=[OpenApiParameter("grid", str, description="only this grid's divisions")],
        responses={200: DivisionSerializer(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class DivisionRevert(GenericAPIView):
    serializer_class = DivisionSerializer

    @extend_schema(
        request=None,
        responses={200: DivisionSerializer},
        description="Revert a committed division: the micro-grids it replaced come back as new "
        "versions. 409 when a later change touched the grid.",
    )
    def post(self, request, pk):
        division = get_object_or_404(selectors.divisions_for_user(user=request.user), pk=pk)
        division = services.microgrid_division_revert(user=request.user, division=division)
        return Response(self.get_serializer(division).data)


class JobList(_PlanningView):
    serializer_class = JobCreateSerializer

    @extend_schema(
        responses={202: JobSerializer},
        description="Re-divide every grid under a village or township on the task worker; "
        "poll the job for its progress and its report (it stays `queued` while no worker runs).",
    )
    def post(self, request):
        data = self.valid(request)
        job = services.microgrid_job_create(
            user=request.user,
            unit_code=data["unit"],
            low=data["low"],
            high=data["high"],
            commit=data["commit"],
        )
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class JobDetail(GenericAPIView):
    serializer_class = JobSerializer

    def get(self, request, pk):
        job = get_object_or_404(selectors.microgrid_jobs_for_user(user=request.user), pk=pk)
        return Response(self.get_serializer(job).data)


class MergeSmallSerializer(serializers.Serializer):
    min = serializers.IntegerField(min_value=1, help_text="grids below this many households merge")
    commit = serializers.BooleanField(default=False, help_text="false: return the plan only")


class GridMergeSerializer(serializers.Serializer):
    into = serializers.CharField()
    absorbed = serializers.ListField(child=serializers.CharField())
    households = serializers.IntegerField()


class MergeSmallGrids(_PlanningView):
    serializer_class = MergeSmallSerializer

    @extend_schema(
        responses={200: GridMergeSerializer(many=True)},
        description="Merge the grids under this village or township whose household count fell "
        "below min into their longest-bordering neighbour (plan only unless commit).",
    )
    def post(self, request, code):
        data = self.valid(request)
        plan = services.grids_merge_small(
            user=request.user, unit_code=code, low=data["min"], commit=data["commit"]
        )
        return Response(GridMergeSerializer(plan, many=True).data)
