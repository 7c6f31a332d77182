"""The OpenAPI schema says what the API really answers: the error bodies of every operation,
typed GeoJSON geometries, and GeoJSON pages as they are sent.

Every error answer, whatever its status, is one body (core.api_errors): `Error`,
`{"detail", "code", "errors": [Problem]}`, a Problem being `{"where", "message", "code"?,
"location"?}`. Without credentials the API answers 403: session authentication comes first and
has no challenge to send (DRF's rule); 401 only for failed HTTP Basic credentials."""

from django.contrib.gis.db import models as gis_models
from drf_spectacular import openapi
from drf_spectacular.contrib.rest_framework_gis import (
    GeoFeatureModelSerializerExtension,
    build_bbox_schema,
    build_geo_schema,
)
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_object_type, get_doc
from rest_framework_gis.fields import GeometrySerializerMethodField

WRITES = {"post", "put", "patch", "delete"}

ERROR_SCHEMAS = {
    "Problem": {
        "type": "object",
        "description": "one thing wrong with the request",
        "properties": {
            "where": {
                "type": "string",
                "description": "the offending field as a dotted path (features.3.geometry, "
                'operation.low), or "" for the request as a whole',
            },
            "message": {"type": "string"},
            "code": {"type": "string", "description": "machine code (required, max_value...)"},
            "location": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 2,
                "maxItems": 2,
                "description": "x, y of the problem on the ground, in the request's CRS",
            },
            "location_crs": {
                "type": "string",
                "description": "the CRS of `location` when it is not WGS84 (that of the input)",
            },
        },
        "required": ["where", "message"],
        "additionalProperties": False,
    },
    "Error": {
        "type": "object",
        "description": "why the request was refused (every error answer, every status); "
        "a refused write changed nothing",
        "properties": {
            "detail": {"type": "string", "description": "one sentence for a person"},
            "code": {
                "type": "string",
                "description": "machine code: invalid, parse_error, not_authenticated, "
                "authentication_failed, permission_denied, not_found, method_not_allowed, "
                "not_acceptable, stale, conflict, precondition_failed, precondition_required, "
                "too_large, unsupported_media_type, throttled, login_locked_out, server_error, "
                "service_unavailable...",
            },
            "errors": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Problem"},
                "description": "what was wrong with the input; empty when the refusal is not "
                "about the input",
            },
        },
        "required": ["detail", "code", "errors"],
        "additionalProperties": False,
    },
}

ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

# status -> (description, for which methods)
ERROR_ANSWERS = {
    "400": ("bad input: nothing was changed", None),
    "401": (
        "failed HTTP Basic credentials (only with WANGGE_API_BASIC_AUTH=1); "
        'WWW-Authenticate: Basic realm="api"',
        None,
    ),
    "403": ("not logged in, or your role may not do this here", None),
    "404": ("no such object in your territory", None),
    "406": ("no answer in a format the Accept header allows", None),
    "409": (
        "conflicts with the current state (stale proposal or version, an id reused for "
        "different content): nothing was changed",
        WRITES,
    ),
    "413": ("the body is too large: nothing was changed", WRITES),
    "415": ("a body in a media type the operation does not read", WRITES),
    "429": (
        "login locked after too many failed logins (HTTP Basic); Retry-After says when to retry",
        None,
    ),
    "503": (
        "the database is unavailable or too busy to answer in time; nothing was changed, "
        "retry later (Retry-After)",
        None,
    ),
}


class BasicAuthScheme(OpenApiAuthenticationExtension):
    target_class = "core.authentication.ApiBasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "for machine clients, only when the server sets "
            "WANGGE_API_BASIC_AUTH=1; failed logins are throttled",
        }


def _model_geometry_field(serializer):
    """The model field behind a feature's geometry: the geo_field itself, or the model's one
    geometry column when a method field computes the geometry from it (in another CRS, or
    simplified for a zoom level: the same type either way)."""
    model = serializer.Meta.model
    fields = {f.name: f for f in model._meta.get_fields()}
    field = fields.get(serializer.Meta.geo_field)
    if isinstance(field, gis_models.GeometryField):
        return field
    geometries = [f for f in fields.values() if isinstance(f, gis_models.GeometryField)]
    return geometries[0] if len(geometries) == 1 else gis_models.GeometryField()


class TypedGeoFeatureExtension(GeoFeatureModelSerializerExtension):
    """drf-spectacular's GeoJSON Feature, with the geometry typed also when a method field
    serves it (its own extension leaves those as an empty schema)."""

    priority = 1

    def map_geo_feature_model_serializer(self, serializer, base_schema):
        from rest_framework_gis.serializers import GeoFeatureModelSerializer

        meta = serializer.Meta
        geo_properties = {"type": {"type": "string", "enum": ["Feature"]}}
        if meta.id_field:
            geo_properties["id"] = base_schema["properties"].pop(meta.id_field)
        field = serializer.fields[meta.geo_field]
        geometry = build_geo_schema(_model_geometry_field(serializer))
        if not isinstance(field, GeometrySerializerMethodField) and field.allow_null:
            geometry = {**geometry, "nullable": True}
        geo_properties["geometry"] = geometry
        base_schema["properties"].pop(meta.geo_field)
        if meta.auto_bbox or meta.bbox_geo_field:
            geo_properties["bbox"] = build_bbox_schema()
            base_schema["properties"].pop(meta.bbox_geo_field, None)
        description = base_schema.pop("description", None)
        if description == get_doc(GeoFeatureModelSerializer):
            description = None
        base_schema.pop("required", None)
        geo_properties["properties"] = base_schema
        return build_object_type(
            properties=geo_properties,
            required=["type", "geometry", "properties"],
            description=description,
        )


def _fix_feature_pages(schemas):
    """rest_framework_gis' GeoJsonPagination renames "results" to "features" but leaves
    "required" naming "results", and drf-spectacular nests a whole FeatureCollection under
    "features": a page is one FeatureCollection whose features are the Features."""
    for name, schema in schemas.items():
        features = schema.get("properties", {}).get("features", {})
        ref = features.get("$ref", "")
        if not (name.startswith("Paginated") and ref.endswith("FeatureList")):
            continue
        collection = schemas[ref.rsplit("/", 1)[-1]]
        schema["properties"]["features"] = collection["properties"]["features"]
        schema["required"] = ["type", "count", "features"]


def _path_parameters_as_routed(operation):
    """Django's path converters route only these: `int` matches digits (no sign), `str` no
    slash. Anything else never reaches the API's views (Django's own 404)."""
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "path":
            continue
        schema = parameter.setdefault("schema", {})
        if schema.get("type") == "integer":
            schema.setdefault("minimum", 0)
        elif schema.get("type") == "string" and "format" not in schema:
            schema.setdefault("pattern", "^[^/]+$")


def document_answers(result, generator, request, public):
    """POSTPROCESSING_HOOKS: the error answers of every operation, path parameters as Django
    routes them, and GeoJSON pages."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(ERROR_SCHEMAS)
    _fix_feature_pages(schemas)
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            _path_parameters_as_routed(operation)
            responses = operation.setdefault("responses", {})
            for code, (description, methods) in ERROR_ANSWERS.items():
                if methods is None or method in methods:
                    responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                # Whatever a view declared for an error (a description, a bare object): the
                # one error body.
                if code[0] in "45":
                    response["content"] = ERROR_CONTENT
    return result


class AutoSchema(openapi.AutoSchema):
    """The project's DEFAULT_SCHEMA_CLASS: drf-spectacular's own. Naming it here makes DRF import
    this module, and so register the extensions above, before any schema is generated."""
