"""Django's error handlers (settings.DEBUG off), as JSON for API clients in the API's one error
body (core.api_errors), pages for people. The last resort for an exception nothing else
handled: a database outage anywhere in the request, the session middleware included, is a 503
with its reason; anything else is a 500 that says nothing was written. The pages for 403 and 404
are the project's templates/403.html and 404.html, in the site's frame with a link home (500
and 503 use core's standalone frame, which needs no database)."""

import sys

from django.http import HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.defaults import bad_request as django_bad_request
from django.views.defaults import page_not_found as django_page_not_found
from django.views.defaults import permission_denied as django_permission_denied

from .api_errors import error_body
from .middleware import unavailable_reason, unavailable_response, wants_json


def server_error(request):
    exc = sys.exc_info()[1]  # handler500 runs inside Django's `except` block
    reason = unavailable_reason(exc) if exc is not None else None
    if reason is not None:
        return unavailable_response(request, reason)
    if wants_json(request):
        return JsonResponse(
            error_body("server error; nothing was written", "server_error"),
            status=500,
        )
    return HttpResponseServerError(loader.get_template("500.html").render({}, request))


def page_not_found(request, exception):
    """A URL that matches no route: JSON for API clients, like every other API answer."""
    if wants_json(request):
        return JsonResponse(error_body("not found", "not_found"), status=404)
    return django_page_not_found(request, exception)


def bad_request(request, exception):
    """A request Django refuses before any view (a Host not allowed, a suspicious header)."""
    if wants_json(request):
        return JsonResponse(error_body("bad request", "bad_request"), status=400)
    return django_bad_request(request, exception)


def permission_denied(request, exception):
    """Django's own PermissionDenied outside DRF's views (DRF answers its own)."""
    if wants_json(request):
        return JsonResponse(error_body("permission denied", "permission_denied"), status=403)
    return django_permission_denied(request, exception)
