"""One error shape for the API: HTTP 400 (409 for a stale proposal) with the path of each
offending field."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.coords import UnknownCRS
from territory.services import StaleProposal, TerritoryError


def exception_handler(exc, context):
    if isinstance(exc, TerritoryError):
        return Response(
            {"detail": "nothing was written", "errors": [p.as_dict() for p in exc.problems]},
            status=(
                status.HTTP_409_CONFLICT
                if isinstance(exc, StaleProposal)
                else status.HTTP_400_BAD_REQUEST
            ),
        )
    if isinstance(exc, DjangoValidationError):
        errors = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return Response(errors, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, UnknownCRS):
        return Response({"crs": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
