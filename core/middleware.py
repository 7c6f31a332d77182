"""Failures outside the code's control answer as errors a client can act on: a database that is
down or a statement that ran out of time is a 503 with a reason (JSON for the API), and a
request that runs past its deadline is stopped before the web server kills its worker."""

import logging
import signal
import threading

import psycopg
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpResponseBadRequest, JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from .api_errors import Problem, error_body

log = logging.getLogger(__name__)

# SQLSTATE codes that mean "try again": the server is going away or not accepting connections,
# a statement or lock ran out of time, a serialization/deadlock conflict.
RETRYABLE_SQLSTATES = {"57P01", "57P02", "57P03", "57014", "55P03", "40001", "40P01"}


class RequestTimeout(Exception):
    """The request ran past settings.WANGGE_REQUEST_TIMEOUT_S."""


def wants_json(request) -> bool:
    return request.path.startswith(("/api/", "/open311/", "/healthz")) or (
        "application/json" in request.headers.get("Accept", "")
    )


def unavailable_reason(exc: BaseException) -> str | None:
    """Why the database could not serve this request, or None if the error is a bug."""
    if isinstance(exc, RequestTimeout):
        return _("the request took too long and was stopped; nothing was written")
    if isinstance(exc, psycopg.Error):
        # Raised by the few statements run on psycopg's own cursor (the incident intake).
        cause = exc
    elif isinstance(exc, DatabaseError):
        cause = exc.__cause__
    else:
        return None
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate in ("57014",):
        return _("the database took too long to answer (a table may be locked); try again")
    if sqlstate == "55P03":
        return _("the record is locked by another change; try again")
    if sqlstate in ("40001", "40P01"):
        return _("the change collided with another one; try again")
    if (
        isinstance(exc, OperationalError | InterfaceError)
        or isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError)
        or sqlstate in RETRYABLE_SQLSTATES
    ):
        return _("the database is unavailable; try again in a moment")
    return None


def unavailable_response(request, reason: str):
    for conn in connections.all(initialized_only=True):
        # A connection that failed mid-request is useless to the next one.
        conn.close_if_unusable_or_obsolete()
    if wants_json(request):
        response = JsonResponse(error_body(reason, "service_unavailable"), status=503)
    else:
        response = TemplateResponse(request, "503.html", {"reason": reason}, status=503)
        response.render()
    response["Retry-After"] = "5"
    return response


class ServiceUnavailableMiddleware:
    """Turns a database outage or a timeout raised by a view into a 503 with its reason."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        reason = unavailable_reason(exception)
        if reason is None:
            return None
        log.warning("503 for %s %s: %s (%r)", request.method, request.path, reason, exception)
        return unavailable_response(request, reason)


class RequestDeadlineMiddleware:
    """Stops a request after WANGGE_REQUEST_TIMEOUT_S seconds (0: never) with a 503.

    gunicorn's sync workers serve one request at a time in their main thread, so SIGALRM is
    ours to use there; the deadline sits below gunicorn's --timeout (config/gunicorn.py), which
    would otherwise kill the worker and answer the client nothing. Database statements are cut
    earlier still by statement_timeout, so the alarm only ends Python-bound work."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.seconds = float(getattr(settings, "WANGGE_REQUEST_TIMEOUT_S", 0) or 0)

    def __call__(self, request):
        if self.seconds <= 0 or threading.current_thread() is not threading.main_thread():
            return self.get_response(request)

        def expired(signum, frame):
            raise RequestTimeout()

        previous = signal.signal(signal.SIGALRM, expired)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        try:
            return self.get_response(request)
        except RequestTimeout:
            return unavailable_response(request, unavailable_reason(RequestTimeout()))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


class NulCharacterMiddleware:
    """No text the database stores or compares may hold a NUL character (PostgreSQL refuses
    it, and a query would fail as a 500). Bodies are checked by their serializers (DRF's
    CharField refuses NUL); the address is checked here, for every view at once: a path
    segment (a unit code) or a query parameter (a filter) with NUL is a 400 naming it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = None
        if request.path.startswith("/open311/"):
            # GeoReport answers in its specification's own error arrays and refuses control
            # characters in its parameters itself (open311.params).
            return self.get_response(request)
        if "\x00" in request.path:
            where = "path"
        else:
            for key, values in request.GET.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    where = key.replace("\x00", "\\x00")
                    break
        if where is None:
            return self.get_response(request)
        detail = _("the address contains a NUL character, which no text may hold")
        if wants_json(request):
            problem = Problem(where, detail, code="null_characters_not_allowed")
            return JsonResponse(error_body(detail, "bad_request", [problem]), status=400)
        return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")
