"""Reads for Open311: the counties it serves (jurisdictions), the services offered (the
catalogue's items whose terms are active and public), their attributes, client keys, tokens."""

import hashlib
import hmac

from django.db.models import Prefetch

from cases.models import ServiceTerms
from patrols.models import IncidentCategory
from territory.codes import Level
from territory.models import Unit

from .models import Open311Client, PostedRequest, ServiceAttribute
from .params import AttributeSpec, refuse


def county_for(jurisdiction_id: str | None) -> Unit:
    """The county a request is for. Omitted: the server's only county, else 400 (the spec's
    "jurisdiction_id was not provided"); unknown: 404."""
    counties = Unit.objects.current().at_level(Level.COUNTY)
    if jurisdiction_id is None:
        found = list(counties.order_by("code")[:2])
        if len(found) == 1:
            return found[0]
        if not found:
            raise refuse(404, "this server has no jurisdiction yet")
        raise refuse(400, "jurisdiction_id was not provided")
    county = counties.filter(code=jurisdiction_id).first()
    if county is None:
        raise refuse(404, "jurisdiction_id provided was not found")
    return county


def county_covers(*, county: Unit, point) -> bool:
    return Unit.objects.filter(pk=county.pk, boundary__covers=point).exists()


def services_offered():
    """Items of active categories, themselves active, whose terms are active and public: a
    matter never disclosed (a cult, a family dispute) is not for an outside app to file."""
    terms = ServiceTerms.objects.filter(active=True, public=True)
    return (
        IncidentCategory.objects.filter(
            parent__isnull=False, active=True, parent__active=True, terms__in=terms
        )
        .select_related("parent", "terms")
        .prefetch_related(
            Prefetch(
                "open311_attributes", queryset=ServiceAttribute.objects.order_by("order", "code")
            )
        )
        .order_by("code")
    )


def service_item(code: str) -> IncidentCategory:
    item = services_offered().filter(code=code).first()
    if item is None:
        raise refuse(404, f"service_code {code} was not found")
    return item


def attribute_specs(item) -> list[AttributeSpec]:
    return [
        AttributeSpec(
            code=a.code,
            datatype=a.datatype,
            required=a.required,
            keys=tuple(v["key"] for v in a.values or ()),
        )
        for a in item.open311_attributes.all()
    ]


def key_hash(key: str) -> str:
    # The keys are 256-bit random tokens: a plain SHA-256 cannot be reversed by guessing.
    return hashlib.sha256(key.encode()).hexdigest()


def client_for_key(*, api_key: str | None, county: Unit) -> Open311Client:
    """The active client owning this key for this county, else 403."""
    if api_key:
        wanted = key_hash(api_key)
        for client in Open311Client.objects.filter(
            key_prefix=api_key[:8], active=True, county_code=county.code
        ):
            if hmac.compare_digest(client.key_hash, wanted):
                return client
    raise refuse(403, "api_key was not provided or is invalid")


def posted_request_for_token(*, token: str, county: Unit) -> PostedRequest:
    row = PostedRequest.objects.filter(token=token, county_code=county.code).first()
    if row is None:
        raise refuse(404, "token was not found")
    return row
