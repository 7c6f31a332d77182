"""The rankings, the frozen star ratings and the weekly report over the API, under
/api/command/: for the station and the centre (commanders, village officers), each in their own
subtree (403 for other roles, 404 outside one's reach, 400 for a bad parameter). Thin views over
command.rankings and command.report."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from cases import selectors as case_selectors
from cases.api import XLSX_TYPE, attachment

from . import rankings, report
from .models import StarRating

UNIT = OpenApiParameter("unit", str, description="a unit's code (default: your own)")


class StandingSerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text="1 is the best; equal values share a rank")
    code = serializers.CharField(help_text="the unit's code (a worker: their grid's)")
    name = serializers.CharField()
    level = serializers.CharField()
    reported = serializers.IntegerField()
    handled = serializers.IntegerField()
    closed = serializers.IntegerField()
    closed_on_time = serializers.IntegerField()
    on_time_closing_rate = serializers.FloatField(allow_null=True)
    rework = serializers.IntegerField()
    rework_rate = serializers.FloatField(allow_null=True)
    overdue = serializers.IntegerField()
    yellow = serializers.IntegerField()
    satisfaction_avg = serializers.FloatField(allow_null=True)
    satisfaction_count = serializers.IntegerField()
    households = serializers.IntegerField()
    households_visited = serializers.IntegerField()
    patrol_coverage = serializers.FloatField(allow_null=True)
    incidents = serializers.IntegerField(allow_null=True)
    visits = serializers.IntegerField(allow_null=True)
    score = serializers.FloatField(allow_null=True, help_text="0-100, command.ratings")
    stars = serializers.IntegerField(allow_null=True)


class RankingSerializer(serializers.Serializer):
    unit = serializers.CharField()
    unit_name = serializers.CharField()
    level = serializers.CharField()
    by = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    rows = StandingSerializer(many=True)


class Rankings(GenericAPIView):
    serializer_class = RankingSerializer

    @extend_schema(
        parameters=[
            UNIT,
            OpenApiParameter("level", str, enum=list(rankings.RANKED_LEVELS)),
            OpenApiParameter("by", str, enum=list(rankings.ORDERS)),
            OpenApiParameter("start", OpenApiTypes.DATE, description="default: this quarter"),
            OpenApiParameter("end", OpenApiTypes.DATE),
        ]
    )
    def get(self, request):
        """The townships, villages, grids or workers of a unit ranked by a recorded indicator
        over a period, best first."""
        q = request.query_params
        unit, period, level, by, rows = rankings.ranking(
            user=request.user,
            unit_code=q.get("unit"),
            level=q.get("level"),
            start=q.get("start"),
            end=q.get("end"),
            by=q.get("by"),
        )
        return Response(
            {
                "unit": unit.code,
                "unit_name": unit.name,
                "level": level,
                "by": by,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "rows": [r.as_dict() for r in rows],
            }
        )


class StarRatingSerializer(serializers.ModelSerializer):
    class Meta:
        model = StarRating
        fields = [
            "kind",
            "subject",
            "subject_name",
            "year",
            "quarter",
            "stars",
            "score",
            "parts",
            "figures",
            "formula_version",
            "formula",
            "frozen_at",
        ]


RATING_PARAMETERS = [
    UNIT,
    OpenApiParameter("year", int, required=True),
    OpenApiParameter("kind", str, enum=list(rankings.RATED_KINDS), description="default: grid"),
]


class QuarterRatings(GenericAPIView):
    serializer_class = StarRatingSerializer

    @extend_schema(
        parameters=[*RATING_PARAMETERS, OpenApiParameter("quarter", int, required=True)],
        responses={200: StarRatingSerializer(many=True)},
    )
    def get(self, request):
        """The frozen star ratings of one quarter in your reach, with the figures each came
        from and the formula it used, best first."""
        q = request.query_params
        unit, year, quarter, kind, rows = rankings.quarter_ratings(
            user=request.user,
            unit_code=q.get("unit"),
            year=q.get("year"),
            quarter=q.get("quarter"),
            kind=q.get("kind"),
        )
        return Response(
            {
                "unit": unit.code,
                "year": year,
                "quarter": quarter,
                "kind": kind,
                "ratings": StarRatingSerializer(rows, many=True).data,
            }
        )


class QuarterOfYearSerializer(serializers.Serializer):
    quarter = serializers.IntegerField()
    stars = serializers.IntegerField(allow_null=True)
    score = serializers.FloatField(allow_null=True)


class AnnualLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    subject = serializers.CharField()
    subject_name = serializers.CharField()
    total_stars = serializers.IntegerField(help_text="the quarters' stars added up")
    average_score = serializers.FloatField(allow_null=True)
    history = QuarterOfYearSerializer(many=True)


class AnnualRatings(GenericAPIView):
    serializer_class = AnnualLineSerializer

    @extend_schema(parameters=RATING_PARAMETERS, responses={200: AnnualLineSerializer(many=True)})
    def get(self, request):
        """Each subject's year: its frozen quarters and the annual total, highest first."""
        q = request.query_params
        unit, year, kind, lines = rankings.annual_ratings(
            user=request.user, unit_code=q.get("unit"), year=q.get("year"), kind=q.get("kind")
        )
        return Response(
            {
                "unit": unit.code,
                "year": year,
                "kind": kind,
                "subjects": AnnualLineSerializer(lines, many=True).data,
            }
        )


REPORT_PARAMETERS = [
    UNIT,
    OpenApiParameter("start", OpenApiTypes.DATE, required=True),
    OpenApiParameter("end", OpenApiTypes.DATE, required=True),
]


def _report_period(request):
    from cases.indicators import period

    unit = rankings.ranking_unit_for(user=request.user, unit_code=request.query_params.get("unit"))
    return unit, period(request.query_params.get("start"), request.query_params.get("end"))


class WeeklyReportXlsx(GenericAPIView):
    serializer_class = None

    @extend_schema(
        parameters=REPORT_PARAMETERS,
        responses={(200, XLSX_TYPE): OpenApiTypes.BINARY},
        description="The weekly report's workbook: the indicators of the unit and its "
        "children, then the rankings of its townships, villages, grids and workers.",
    )
    def get(self, request):
        unit, span = _report_period(request)
        rows = case_selectors.case_indicators(
            user=request.user, unit_code=unit.code, start=span.start, end=span.end, by_child=True
        )
        levels = [lv for lv in ("township", "village", "grid") if _below(unit.level, lv)]
        ranked = {
            level: rankings.standings(unit=unit, period=span, level=level)
            for level in [*levels, "worker"]
        }
        body = report.to_xlsx(unit=unit, period=span, indicator_rows=rows, rankings=ranked)
        name = report.filename(unit.code, span, "xlsx")
        return attachment(
            HttpResponse(body, content_type=XLSX_TYPE), ascii_name=name, name=f"{unit.name}_{name}"
        )


def _below(unit_level: str, level: str) -> bool:
    from territory.codes import Level

    return Level.ORDER.index(level) > Level.ORDER.index(unit_level)


class WeeklyReportMap(GenericAPIView):
    serializer_class = None

    @extend_schema(
        parameters=[
            *REPORT_PARAMETERS,
            OpenApiParameter("level", str, enum=["village", "grid"], description="default grid"),
        ],
        responses={(200, "text/html"): OpenApiTypes.STR},
        description="The weekly report's map: one HTML file with every script inlined (it "
        "opens with no network), the grids or villages coloured by their score's stars.",
    )
    def get(self, request):
        from cases.indicators import IndicatorError
        from core.api_errors import Problem

        unit, span = _report_period(request)
        level = request.query_params.get("level") or "grid"
        if level not in ("village", "grid"):
            raise IndicatorError([Problem("level", f"village or grid, not {level!r}")])
        rows = rankings.standings(unit=unit, period=span, level=level)
        body = report.to_html(
            unit=unit,
            period=span,
            level=level,
            standings=rows,
            geometries=rankings.unit_geometries(codes=[r.code for r in rows]),
        )
        name = report.filename(unit.code, span, "html")
        response = HttpResponse(body, content_type="text/html; charset=utf-8")
        return attachment(response, ascii_name=name, name=f"{unit.name}_{name}")
