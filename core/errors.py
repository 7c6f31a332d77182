"""The last resort for an exception nothing else handled (settings.DEBUG off): a database
outage anywhere in the request, the session middleware included, is a 503 with its reason;
anything else is a 500 that says nothing was written, as JSON for API clients (the API's one
error body, core.api_errors)."""

import sys

from django.http import HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.defaults import page_not_found as django_page_not_found

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
