"""Logins: django-axes throttles every password check (the login form, the admin's and the API's
HTTP Basic auth), per account and per address; what a locked-out client is answered; and HTTP
Basic auth on the API, off unless WANGGE_API_BASIC_AUTH turns it on for machine clients."""

import math

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_lockout_parameters
from django.conf import settings
from django.db.models import Sum
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.authentication import BasicAuthentication

from .api_errors import error_body

REALM = "api"


def cool_off_minutes() -> int:
    return math.ceil(get_cool_off().total_seconds() / 60)


def lockout_message() -> str:
    return _(
        "Too many failed logins for this account or from this address: "
        "try again in %(minutes)d minutes, or ask an administrator to unlock it."
    ) % {"minutes": cool_off_minutes()}


def client_address_behind_proxy(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE behind WANGGE_PROXY_COUNT trusted proxies: the address the
    outermost of them appended to X-Forwarded-For (what the client wrote left of it is not to
    be believed), or REMOTE_ADDR when the header is missing or shorter."""
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    count = settings.WANGGE_PROXY_COUNT
    if len(hops) >= count:
        return hops[-count]
    return request.META.get("REMOTE_ADDR")


class AccountAndAddressHandler(AxesDatabaseHandler):
    """axes' database handler with a higher limit per address than per account.

    Counties put whole offices behind one NAT address: locking an address after the few
    failures that lock an account would shut out everyone in the office after a handful of
    typos. An address is locked after WANGGE_LOGIN_ADDRESS_FAILURE_LIMIT failures over any
    accounts, an account after AXES_FAILURE_LIMIT failures from any address."""

    def get_failures(self, request, credentials=None) -> int:
        account_limit = settings.AXES_FAILURE_LIMIT
        address_limit = settings.WANGGE_LOGIN_ADDRESS_FAILURE_LIMIT
        worst = 0
        parameters = get_lockout_parameters(request, credentials)
        for parameter, attempts in zip(
            parameters, self.get_user_attempts(request, credentials), strict=True
        ):
            failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            if parameter == "ip_address":
                # Scaled onto the account limit that axes compares every count with.
                failures = failures * account_limit // address_limit
            worst = max(worst, failures)
        return worst


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: JSON for API clients, the site's page for people."""
    message = lockout_message()
    retry_after = str(int(get_cool_off().total_seconds()))
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse(
            error_body(message, LoginLockedOut.default_code),
            status=status.HTTP_429_TOO_MANY_REQUESTS,
        )
    else:
        response = render(
            request,
            "registration/locked_out.html",
            {"message": message},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
        )
    response["Retry-After"] = retry_after
    return response


class LoginLockedOut(exceptions.Throttled):
    default_code = "login_locked_out"


class BasicCredentialsRejected(exceptions.APIException):
    """401 with the challenge, whatever the first authentication class is: DRF turns its own
    AuthenticationFailed into a 403 when SessionAuthentication comes first."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Invalid username/password."
    default_code = "authentication_failed"
    auth_header = f'Basic realm="{REALM}"'


class ApiBasicAuthentication(BasicAuthentication):
    """HTTP Basic auth for machine clients, read at request time so the setting can change
    without re-importing the views. Every attempt goes through axes (AxesStandaloneBackend is
    the first authentication backend); a locked-out client gets 429 with Retry-After."""

    www_authenticate_realm = REALM

    def authenticate(self, request):
        if not settings.WANGGE_API_BASIC_AUTH:
            return None
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed as failure:
            # axes flags the request it was handed: here DRF's Request, not Django's.
            if getattr(request, "axes_locked_out", False):
                raise LoginLockedOut(
                    wait=get_cool_off().total_seconds(), detail=lockout_message()
                ) from failure
            raise BasicCredentialsRejected(failure.detail) from failure
