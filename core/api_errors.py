"""One exception and one error body for every API answer that is not a success.

Every refusal, whatever its status and whoever raised it, answers

    {"detail": "<one sentence for a person>", "code": "<machine code>",
     "errors": [{"where": "features.3.geometry", "message": "...", "code"?: "...",
                 "location"?: [x, y]}]}

`where` is the dotted path of the offending field ("" for the body as a whole); `errors` is
empty when the refusal is not about the input (401, 403, 404, 405, 500, 503...). Services raise
ApiError (or a subclass: territory.services.TerritoryError, patrols.services.PatrolError);
`exception_handler` (the project's EXCEPTION_HANDLER) turns it and every other error DRF or
Django raises during a view into that body; core.errors and core.middleware answer the same
body for what happens outside DRF. Open311 (/open311/) will answer its spec's own error
arrays instead."""

from dataclasses import dataclass

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.settings import api_settings

from .coords import UnknownCRS


@dataclass
class Problem:
    """One thing wrong with the input: where (a dotted field path, a feature, "" for the whole
    body), what, a machine code when there is one, and where on the ground (x, y) when that
    helps."""

    where: str
    message: str
    location: tuple[float, float] | None = None
    code: str | None = None
    # The CRS `location` is in when not WGS84: the CRS of the input it was found in.
    location_crs: str | None = None

    def as_dict(self) -> dict:
        out = {"where": self.where, "message": self.message}
        if self.code:
            out["code"] = self.code
        if self.location:
            out["location"] = list(self.location)
            if self.location_crs:
                out["location_crs"] = self.location_crs
        return out


def summary(problems: list[Problem]) -> str:
    """The detail sentence of a refusal that only lists problems."""
    if not problems:
        return "the request was refused"
    first = problems[0]
    sentence = f"{first.where}: {first.message}" if first.where else first.message
    more = len(problems) - 1
    return sentence if not more else f"{sentence} (and {more} more problem{'s' * (more > 1)})"


class ApiError(Exception):
    """A refused request: its HTTP status, a machine code and what was wrong. Subclasses set
    `status` and `code` for a kind of refusal; nothing may have been written when it is
    raised (services raise it inside their transaction)."""

    status = 400
    code = "invalid"
    retry_after: int | None = None

    def __init__(
        self,
        problems=(),
        *,
        detail: str | None = None,
        status: int | None = None,
        code: str | None = None,
        retry_after: int | None = None,
    ):
        self.problems = list(problems)
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        if retry_after is not None:
            self.retry_after = retry_after
        self.detail = detail or summary(self.problems)
        listed = "; ".join(f"{p.where}: {p.message}" for p in self.problems[:10])
        super().__init__(listed or self.detail)

    def as_dict(self) -> dict:
        return error_body(self.detail, self.code, self.problems)


def error_body(detail: str, code: str, problems=()) -> dict:
    return {"detail": str(detail), "code": code, "errors": [p.as_dict() for p in problems]}


def flatten(detail, where: str = "") -> list[Problem]:
    """DRF's nested error detail (dicts by field, lists by index, ErrorDetail leaves) as
    problems with dotted paths: {"operation": {"low": ["..."]}} -> operation.low. A serializer's
    non_field_errors belong to the object that holds them."""
    if isinstance(detail, dict):
        problems = []
        for key, value in detail.items():
            key = str(key)
            if key in (api_settings.NON_FIELD_ERRORS_KEY, NON_FIELD_ERRORS):
                problems += flatten(value, where)
            else:
                problems += flatten(value, f"{where}.{key}" if where else key)
        return problems
    if isinstance(detail, list | tuple):
        if all(not isinstance(item, dict | list | tuple) for item in detail):
            return [_leaf(item, where) for item in detail]
        # A list of nested errors (a ListSerializer, many=True): one entry per item, {} if fine.
        problems = []
        for i, item in enumerate(detail):
            problems += flatten(item, f"{where}.{i}" if where else str(i))
        return problems
    return [_leaf(detail, where)]


def _leaf(message, where: str) -> Problem:
    return Problem(where, str(message), code=getattr(message, "code", None))


def _django_problems(exc: DjangoValidationError) -> list[Problem]:
    fields = exc.error_dict.items() if hasattr(exc, "error_dict") else [("", exc.error_list)]
    problems = []
    for field, errors in fields:
        where = "" if field == NON_FIELD_ERRORS else field
        for error in errors:
            message = error.message % error.params if error.params else error.message
            problems.append(Problem(where, str(message), code=error.code))
    return problems


def as_api_error(exc: BaseException) -> ApiError | None:
    """The ApiError an exception raised in a view stands for; None for a bug (a 500) or a
    database outage (core.middleware's 503)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)  # the selectors' "no such grid in your territory"
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if isinstance(exc, exceptions.ValidationError):
        return ApiError(flatten(exc.detail), code="invalid")
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail
        if isinstance(detail, dict | list):
            problems = flatten(detail)
            return ApiError(problems, status=exc.status_code, code=exc.default_code)
        return ApiError(
            detail=str(detail),
            status=exc.status_code,
            code=getattr(detail, "code", None) or exc.default_code,
        )
    if isinstance(exc, DjangoValidationError):
        return ApiError(_django_problems(exc), code="invalid")
    if isinstance(exc, UnknownCRS):
        return ApiError([Problem("crs", str(exc), code="invalid")])
    # Raised while the body is parsed: by the view, or already by the CSRF check while the
    # user is authenticated.
    if isinstance(exc, RequestDataTooBig):
        return ApiError(
            [Problem("", "the request body is too large", code="too_large")],
            status=413,
            code="too_large",
        )
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return ApiError(
            [Problem("", str(exc) or "too many fields or files", code="too_many_fields")],
            code="too_many_fields",
        )
    return None


def response_for(error: ApiError, headers: dict | None = None):
    # Imported here: this module is imported while DRF's settings load (core.authentication).
    from rest_framework.response import Response

    response = Response(error.as_dict(), status=error.status, headers=headers)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    return response


def exception_handler(exc, context):
    """The project's EXCEPTION_HANDLER: every refusal raised in an API view, one body."""
    error = as_api_error(exc)
    if error is None:
        return None  # re-raised: a database outage is core.middleware's 503, anything else a 500
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    from rest_framework.views import set_rollback

    set_rollback()
    return response_for(error, headers)
