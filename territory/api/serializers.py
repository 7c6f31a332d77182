import shapely
from django.contrib.gis.geos import GEOSGeometry
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometrySerializerMethodField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from core import coords
from territory import privacy, services
from territory.codes import CODE_LENGTH, Level
from territory.models import HOUSEHOLD_FLAGS, Household, ScheduledChange, Unit


def geometry_in(geometry: GEOSGeometry, crs: str, *, densify_edges: bool = True) -> GEOSGeometry:
    """A stored (WGS84) geometry as GeoJSON-ready GEOS in the requested CRS."""
    if geometry is None or crs in (coords.WGS84, coords.CGCS2000):
        return geometry
    moved = coords.geometry_from_wgs84(
        shapely.from_wkb(bytes(geometry.wkb)), crs, densify_edges=densify_edges
    )
    # No SRID on purpose: GCJ-02 and BD-09 have no EPSG code; only the JSON leaves here.
    return GEOSGeometry(memoryview(shapely.to_wkb(moved)))


# drf-spectacular cannot infer a method field's geometry: say it is a GeoJSON geometry object.
GEOJSON_GEOMETRY = {
    "type": "object",
    "description": "GeoJSON geometry (coordinates in the requested CRS)",
    "properties": {"type": {"type": "string"}, "coordinates": {"type": "array", "items": {}}},
}


class UnitFeatureSerializer(GeoFeatureModelSerializer):
    geometry = GeometrySerializerMethodField()
    households = serializers.SerializerMethodField()
    population = serializers.SerializerMethodField()

    class Meta:
        model = Unit
        geo_field = "geometry"
        id_field = False  # the code stays in properties, where clients look for it
        fields = (
            "code",
            "name",
            "name_en",
            "level",
            "parent_code",
            "valid_from",
            "valid_to",
            "area_m2",
            "households",
            "population",
        )

    @extend_schema_field(GEOJSON_GEOMETRY)
    def get_geometry(self, unit) -> GEOSGeometry:
        simplified = getattr(unit, "display_boundary", None)
        # A map's geometry simplified to half a pixel gains nothing from centimetre edges
        # (coords.DENSIFY_STEP_M), which would undo the simplification.
        return geometry_in(
            simplified or unit.boundary,
            self.context.get("crs", coords.WGS84),
            densify_edges=simplified is None,
        )

    def get_households(self, unit) -> int:
        return self.context.get("counts", {}).get(unit.code, (0, 0))[0]

    def get_population(self, unit) -> int:
        return self.context.get("counts", {}).get(unit.code, (0, 0))[1]


class GridFeatureSerializer(UnitFeatureSerializer):
    grid_chief = serializers.SerializerMethodField()

    class Meta(UnitFeatureSerializer.Meta):
        fields = (*UnitFeatureSerializer.Meta.fields, "grid_chief")

    def get_grid_chief(self, unit) -> str | None:
        return self.context.get("chiefs", {}).get(unit.code)


class UnitFiguresSerializer(serializers.Serializer):
    households = serializers.IntegerField()
    population = serializers.IntegerField()
    elderly_living_alone = serializers.IntegerField()
    left_behind_children = serializers.IntegerField()
    low_income = serializers.IntegerField()
    key_attention = serializers.IntegerField()
    grid_chief = serializers.CharField(allow_null=True)
    workers = serializers.ListField(child=serializers.DictField())
    children = serializers.IntegerField()


class HouseholdFeatureSerializer(GeoFeatureModelSerializer):
    """Names, phones and ID masks are shown in clear only to roles that may see them in this
    household's territory (context['personal'](household) decides)."""

    location = GeometrySerializerMethodField()
    grid = serializers.SerializerMethodField()
    micro_grid = serializers.SerializerMethodField()
    head_name = serializers.SerializerMethodField()
    head_phone = serializers.SerializerMethodField()
    id_number = serializers.SerializerMethodField()

    class Meta:
        model = Household
        geo_field = "location"
        fields = (
            "id",
            "address",
            "members",
            *HOUSEHOLD_FLAGS,
            "head_name",
            "head_phone",
            "id_number",
            "grid",
            "micro_grid",
            "version",
        )

    def _clear(self, household) -> bool:
        return self.context["personal"](household)

    @extend_schema_field(GEOJSON_GEOMETRY)
    def get_location(self, household) -> GEOSGeometry:
        return geometry_in(household.location, self.context.get("crs", coords.WGS84))

    def get_grid(self, household) -> str | None:
        return _code_of(household.territory_path, Level.GRID)

    def get_micro_grid(self, household) -> str | None:
        return _code_of(household.territory_path, Level.MICROGRID)

    def get_head_name(self, household) -> str:
        return (
            household.head_name
            if self._clear(household)
            else privacy.mask_name(household.head_name)
        )

    def get_head_phone(self, household) -> str:
        return (
            household.head_phone
            if self._clear(household)
            else privacy.mask_phone(household.head_phone)
        )

    def get_id_number(self, household) -> str:
        # Only the mask is stored; roles without personal access do not even get that.
        return household.id_number_masked if self._clear(household) else ""


def _code_of(path: str, level: str) -> str | None:
    for code in (path or "").split("/"):
        if len(code) == CODE_LENGTH[level]:
            return code
    return None


def _max_length(model, field: str) -> int:
    """The column's length: a longer value must be a 400 here, not a DataError below."""
    return model._meta.get_field(field).max_length


class HouseholdWriteSerializer(serializers.Serializer):
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    crs = serializers.ChoiceField(choices=coords.CRS_NAMES, default=coords.WGS84)
    address = serializers.CharField(max_length=_max_length(Household, "address"))
    head_name = serializers.CharField(max_length=_max_length(Household, "head_name"))
    head_phone = serializers.RegexField(
        r"^\+?[\d-]{5,20}$",
        max_length=_max_length(Household, "head_phone"),
        required=False,
        allow_blank=True,
    )
    members = serializers.IntegerField(min_value=1, max_value=99, default=1)
    id_number = serializers.CharField(required=False, allow_blank=True, write_only=True)
    elderly_living_alone = serializers.BooleanField(default=False)
    left_behind_children = serializers.BooleanField(default=False)
    low_income = serializers.BooleanField(default=False)
    disabled = serializers.BooleanField(default=False)
    party_member = serializers.BooleanField(default=False)
    key_attention = serializers.BooleanField(default=False)
    # On a change: the version the client read (instead of an If-Match header); 409 if stale.
    version = serializers.IntegerField(min_value=1, required=False, write_only=True)


class BoundaryImportSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.ORDER)
    parent_code = serializers.CharField(
        required=False, allow_blank=True, max_length=_max_length(Unit, "parent_code")
    )
    crs = serializers.ChoiceField(choices=coords.CRS_NAMES, default=coords.WGS84)
    repair = serializers.BooleanField(default=False)
    replace = serializers.BooleanField(default=False)
    allow_orphans = serializers.BooleanField(
        default=False,
        help_text="import even if households a replaced grid held would be left in no grid "
        "(refused otherwise, with how many)",
    )
    valid_from = serializers.DateField(
        required=False,
        help_text="the day the boundaries take effect (default now), from its start in "
        "Asia/Shanghai: from 1949-10-01 to a year ahead, and after the current version of a replaced unit. A "
        "day after today is checked now and scheduled (202): the units change at its start",
    )
    features = serializers.JSONField(
        help_text="a GeoJSON FeatureCollection; each feature's properties carry code, name "
        "(at most 100 characters), optionally name_en and parent_code"
    )

    def validate_valid_from(self, value):
        problem = services.valid_from_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class ScheduledChangeSerializer(serializers.ModelSerializer):
    created_by = serializers.StringRelatedField()
    cancelled_by = serializers.StringRelatedField()

    class Meta:
        model = ScheduledChange
        fields = [
            "id",
            "kind",
            "codes",
            "effective_at",
            "status",
            "result",
            "problems",
            "created_by",
            "created_at",
            "finished_at",
            "cancelled_by",
        ]


class ImportResultSerializer(serializers.Serializer):
    created = serializers.ListField(child=serializers.CharField())
    replaced = serializers.ListField(child=serializers.CharField())
    repaired = serializers.ListField(child=serializers.CharField())
    scheduled = ScheduledChangeSerializer(
        allow_null=True,
        help_text="the change, when dated ahead: the lists say what it will do at its instant",
    )
