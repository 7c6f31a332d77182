"""The one error body: DRF's nested errors flattened to dotted paths with their messages and
codes, Django's validation errors and parse-time refusals in the same shape. No database."""

from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers

from core.api_errors import ApiError, Problem, as_api_error, flatten, summary
from core.coords import UnknownCRS
from core.tests.errors import assert_error_body


class Operation(serializers.Serializer):
    op = serializers.ChoiceField(choices=["merge", "split"])
    low = serializers.IntegerField(min_value=1)

    def validate(self, attrs):
        if attrs["op"] == "merge":
            raise serializers.ValidationError("merge needs two parts")
        return attrs


class Point(serializers.Serializer):
    lon = serializers.FloatField()


class Body(serializers.Serializer):
    name = serializers.CharField(max_length=3)
    operation = Operation()
    points = Point(many=True)
    households = serializers.ListField(child=serializers.IntegerField(min_value=1))


def _errors(data) -> exceptions.ValidationError:
    serializer = Body(data=data)
    assert not serializer.is_valid()
    return exceptions.ValidationError(serializer.errors)


def test_nested_serializer_errors_become_dotted_paths_with_their_codes():
    exc = _errors(
        {
            "name": "too long",
            "operation": {"op": "rotate", "low": 0},
            "points": [{"lon": 1}, {"lon": "east"}],
            "households": [1, -2],
        }
    )
    problems = {(p.where, p.code) for p in flatten(exc.detail)}
    assert problems == {
        ("name", "max_length"),
        ("operation.op", "invalid_choice"),
        ("operation.low", "min_value"),
        ("points.1.lon", "invalid"),
        ("households.1", "min_value"),
    }
    assert all(p.message for p in flatten(exc.detail))


def test_non_field_errors_belong_to_the_object_that_holds_them():
    exc = _errors(
        {"name": "ab", "operation": {"op": "merge", "low": 2}, "points": [], "households": []}
    )
    assert [(p.where, p.message, p.code) for p in flatten(exc.detail)] == [
        ("operation", "merge needs two parts", "invalid")
    ]
    top = exceptions.ValidationError("the body makes no sense")
    assert [(p.where, p.code) for p in flatten(top.detail)] == [("", "invalid")]


def test_a_drf_validation_error_is_one_error_body():
    error = as_api_error(exceptions.ValidationError({"crs": ["unknown CRS 'x'"]}))
    body = error.as_dict()
    assert_error_body(body)
    assert error.status == 400 and body["code"] == "invalid"
    assert body["errors"] == [{"where": "crs", "message": "unknown CRS 'x'", "code": "invalid"}]
    assert body["detail"] == "crs: unknown CRS 'x'"


def test_django_validation_errors_keep_field_message_and_code():
    by_field = DjangoValidationError(
        {
            "code": DjangoValidationError("%(n)s digits expected", code="length", params={"n": 15}),
            "__all__": DjangoValidationError("outside your territory", code="territory"),
        }
    )
    assert [p.as_dict() for p in as_api_error(by_field).problems] == [
        {"where": "code", "message": "15 digits expected", "code": "length"},
        {"where": "", "message": "outside your territory", "code": "territory"},
    ]
    plain = as_api_error(DjangoValidationError("bad"))
    assert [(p.where, p.message) for p in plain.problems] == [("", "bad")]


def test_other_refusals_keep_their_status_and_code():
    cases = [
        (exceptions.NotAuthenticated(), 401, "not_authenticated"),
        (exceptions.PermissionDenied("your role cannot import"), 403, "permission_denied"),
        (exceptions.MethodNotAllowed("DELETE"), 405, "method_not_allowed"),
        (exceptions.UnsupportedMediaType("text/plain"), 415, "unsupported_media_type"),
        (exceptions.Throttled(wait=3), 429, "throttled"),
        (Http404("no such grid in your territory"), 404, "not_found"),
        (PermissionDenied(), 403, "permission_denied"),
        (RequestDataTooBig(), 413, "too_large"),
        (TooManyFieldsSent(), 400, "too_many_fields"),
        (UnknownCRS("unknown CRS 'x'"), 400, "invalid"),
    ]
    for exc, status, code in cases:
        error = as_api_error(exc)
        assert (error.status, error.code) == (status, code), exc
        assert_error_body(error.as_dict())


def test_a_404_keeps_the_selectors_sentence():
    error = as_api_error(Http404("no such grid in your territory"))
    assert error.as_dict() == {
        "detail": "no such grid in your territory",
        "code": "not_found",
        "errors": [],
    }


def test_a_bug_is_no_api_error():
    assert as_api_error(KeyError("x")) is None


def test_an_api_error_says_its_first_problem_and_how_many_more():
    problems = [Problem("features.0.geometry", "self-intersection", location=(112.0, 32.6))]
    assert summary(problems) == "features.0.geometry: self-intersection"
    assert summary(problems * 3).endswith("(and 2 more problems)")
    body = ApiError(problems, status=409, code="stale").as_dict()
    assert body["errors"][0]["location"] == [112.0, 32.6]
    assert_error_body(body)
