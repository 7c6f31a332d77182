"""GeoReport v2 (docs/open311.md): thin views over params (shapes), selectors (the county,
services, keys, tokens), services and the adapter to the case flow; every answer in the format
of the URL's suffix, every refusal in the spec's error array. Plain Django views rather than
DRF: the spec's errors, formats and form bodies are not the API's (core.api_errors)."""

from functools import wraps

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt

from cases.flow import Step
from cases.models import LimitUnit, Responsible
from cases.selectors import service_terms_for

from . import adapter, params, selectors, services
from .params import Refusal, refuse
from .render import iso, render
from .status import open311_status

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this server's GeoReport interface last changed (the discovery's changeset).
CHANGESET = "2026-12-01T00:00:00Z"


def _answer(fmt: str, root: str, document, status: int = 200, **headers) -> HttpResponse:
    body, content_type = render(fmt, root, document)
    response = HttpResponse(body, content_type=content_type, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _errors(fmt: str, errors, **headers) -> HttpResponse:
    document = [{"code": code, "description": description} for code, description in errors]
    return _answer(fmt, "errors", document, status=errors[0][0], **headers)


def open311_view(*methods):
    """Answers the spec's error array for every refusal (ours, and the case flow's through the
    adapter)."""

    def decorate(view):
        @csrf_exempt  # machines with an api_key, no session: nothing for CSRF to protect
        @wraps(view)
        def run(request, fmt, **kwargs):
            allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())
            if request.method not in allowed:
                description = f"{request.method} is not allowed here; use {', '.join(methods)}"
                return _errors(fmt, [(405, description)], Allow=", ".join(sorted(allowed)))
            try:
                return view(request, fmt, **kwargs)
            except Refusal as refusal:
                return _errors(fmt, refusal.errors)
            except adapter.AdapterRefusal as refusal:
                return _errors(fmt, [(refusal.code, refusal.description)])

        return run

    return decorate


def _query(request) -> dict[str, list[str]]:
    return dict(request.GET.lists())


def _form(request) -> dict[str, list[str]]:
    """The POST body's fields, with the query string's (clients put api_key there too); a
    field in both must agree (params.one refuses two different values)."""
    try:
        body = dict(request.POST.lists())
    except (MultiPartParserError, RequestDataTooBig, SuspiciousOperation, UnicodeDecodeError):
        raise refuse(400, "the request body could not be read as a form") from None
    merged = _query(request)
    for name, values in body.items():
        merged[name] = merged.get(name, []) + values
    return merged


def _english(request, query) -> bool:
    """English names when asked for (`locale=en`, or English first in Accept-Language);
    otherwise the catalogue's own Chinese, whatever the site's default language."""
    locale = params.one(query, "locale")
    if locale is None:
        locale = request.headers.get("Accept-Language", "").split(",")[0]
    return locale.strip().lower().startswith("en")


@open311_view("GET")
def discovery(request, fmt):
    document = {
        "changeset": CHANGESET,
        "contact": settings.WANGGE_OPEN311_CONTACT,
        "key_service": settings.WANGGE_OPEN311_KEY_SERVICE,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": request.build_absolute_uri("/open311/v2"),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _answer(fmt, "discovery", document)


def _service(item, *, english: bool) -> dict:
    with translation.override("en" if english else "zh-hans"):
        handled_as = str(Responsible(item.terms.responsible).label)
    name = (item.name_en if english else "") or item.name
    group = (item.parent.name_en if english else "") or item.parent.name
    return {
        "service_code": item.code,
        "service_name": name,
        "description": f"{group}: {name} ({handled_as})",
        "metadata": bool(item.open311_attributes.all()),
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys([group, item.parent.code, item.code])),
        "group": group,
    }


@open311_view("GET")
def service_list(request, fmt):
    query = _query(request)
    selectors.county_for(params.jurisdiction_id(query))
    english = _english(request, query)
    services = [_service(item, english=english) for item in selectors.services_offered()]
    return _answer(fmt, "services", services)


@open311_view("GET")
def service_definition(request, fmt, service_code):
    query = _query(request)
    selectors.county_for(params.jurisdiction_id(query))
    if not params.SERVICE_CODE.match(service_code):
        raise refuse(404, "service_code was not found")
    item = selectors.service_item(service_code)
    english = _english(request, query)
    # `order`: "any positive integer not used for other attributes in the same service_code".
    # The admin's order is a sort key (0 and ties allowed); the answer gives the position.
    attributes = [
        {
            "variable": True,
            "code": a.code,
            "datatype": a.datatype,
            "required": a.required,
            "datatype_description": a.datatype_description,
            "order": position,
            "description": (a.description_en if english else "") or a.description,
            "values": [
                {"key": v["key"], "name": (v.get("name_en") if english else "") or v["name"]}
                for v in a.values or ()
            ],
        }
        for position, a in enumerate(item.open311_attributes.all(), 1)
    ]
    return _answer(fmt, "service_definition", {"service_code": item.code, "attributes": attributes})


@open311_view("GET", "POST")
def requests(request, fmt):
    if request.method == "POST":
        return _post_request(request, fmt)
    query = _query(request)
    county = selectors.county_for(params.jurisdiction_id(query))
    filters = params.request_filters(query, now=timezone.now())
    records = adapter.find_requests(county=county, filters=filters)[: filters.limit]
    return _answer(fmt, "service_requests", [_record(r) for r in records])


def _record(record: adapter.RequestRecord) -> dict:
    return {
        "service_request_id": record.service_request_id,
        "status": open311_status(record.status),
        "status_notes": record.status_notes,
        "service_name": record.service_name,
        "service_code": record.service_code,
        "description": record.description,
        "agency_responsible": record.agency_responsible,
        "service_notice": record.service_notice,
        "requested_datetime": iso(record.requested_datetime),
        "updated_datetime": iso(record.updated_datetime),
        "expected_datetime": iso(record.expected_datetime),
        "address": record.address,
        "address_id": record.address_id,
        "zipcode": record.zipcode,
        "lat": record.lat,
        "long": record.long,
        "media_url": record.media_url,
    }


def _post_request(request, fmt):
    form = _form(request)
    # In the order a client needs it answered: which county, may it post there, then the form.
    county = selectors.county_for(params.jurisdiction_id(form))
    client = selectors.client_for_key(api_key=params.one(form, "api_key"), county=county)
    posted = params.posted_request(form)
    try:
        item = selectors.service_item(posted.service_code)
    except Refusal:
        # The spec's POST: "404 - service_code or jurisdiction_id was not found".
        raise refuse(404, f"service_code {posted.service_code} was not found") from None
    attributes = params.checked_attributes(
        selectors.attribute_specs(item), posted.attributes, service_code=item.code
    )
    point = None
    if posted.location.has_point:
        point = Point(posted.location.long, posted.location.lat, srid=4326)
        if not selectors.county_covers(county=county, point=point):
            raise refuse(400, f"lat/long lies outside jurisdiction {county.code}")
    row = services.request_submit(
        client=client,
        county=county,
        service_item=item,
        point=point,
        address={
            "address_string": posted.location.address_string,
            "address_id": posted.location.address_id,
        },
        attributes=attributes,
        description=posted.description,
        # The photo's address travels with the reporter's details (adapter.submit_request).
        contact={**posted.contact, "media_url": posted.media_url},
    )
    # A realtime service answers its service_request_id and no token: the spec's token "should
    # not be returned if service_request_id is returned" (tokens/{token} still finds it).
    answer = {
        "service_request_id": row.service_request_id,
        "service_notice": _notice(item, english=_english(request, form)),
        "account_id": posted.contact.get("account_id"),
    }
    return _answer(fmt, "service_requests", [answer], status=201)


def _notice(item, *, english: bool) -> str:
    """The item's public promise (its handling limit, on the working calendar)."""
    amount, unit = service_terms_for(item=item).limits[Step.HANDLE]
    days = unit == LimitUnit.WORKING_DAYS
    if english:
        return f"To be handled within {amount} working {'day' if days else 'hour'}{'s' * (amount > 1)}."
    return f"将在 {amount} 个工作{'日' if days else '小时'}内办理。"


@open311_view("GET")
def single_request(request, fmt, service_request_id):
    query = _query(request)
    county = selectors.county_for(params.jurisdiction_id(query))
    if not params.REQUEST_ID.match(service_request_id):
        raise refuse(404, "service_request_id was not found")
    filters = params.RequestFilters(service_request_ids=(service_request_id,))
    records = adapter.find_requests(county=county, filters=filters)[:1]
    if not records:
        raise refuse(404, "service_request_id was not found")
    return _answer(fmt, "service_requests", [_record(records[0])])


@open311_view("GET")
def token(request, fmt, token):
    query = _query(request)
    county = selectors.county_for(params.jurisdiction_id(query))
    if not params.TOKEN.match(token):
        raise refuse(404, "token was not found")
    row = selectors.posted_request_for_token(token=token, county=county)
    document = [{"service_request_id": row.service_request_id, "token": str(row.token)}]
    return _answer(fmt, "service_requests", document)


@open311_view("GET")
def not_provided(request, fmt, what):
    """A resource named by an empty path segment (`services/.xml`, `tokens/.json`): the
    spec's "400 - ... was not provided" rather than a missing resource."""
    raise refuse(400, f"{what} was not provided")


@csrf_exempt
def not_found(request, rest=""):
    fmt = "json" if rest.endswith(".json") else "xml"
    return _errors(fmt, [(404, "there is no such GeoReport v2 resource")])
