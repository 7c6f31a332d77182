"""The seam between Open311 and the case flow: the only module of `open311` that calls `cases`
to write or read cases. Everything before it (parameters, api_key, jurisdiction, service,
attributes, location within the county) is checked by the time it is called; everything after
it (the answer's shape, the token) is open311's own.

- `submit_request` -> `cases.services.case_from_open311`: a case with the source `open311`, no
  user, the client system named as its reporter (the first event's `actor_system`, as the
  12345 hotline is), the point placed by the one placement rule (`territory_place_shared`)
  and refused (400) when it lies in no grid or outside the county. The contact's name
  (`last_name` + `first_name`, in the Chinese order) and phone are the case's contact, masked
  by the cases API like any other; the e-mail, device_id, account_id, media_url and the
  address given are `Case.reporter_details`, shown by no API; the attributes are
  `Case.attributes`. An address without a point is refused (400): there is no geocoder yet.
  No idempotency: GeoReport v2 has no idempotency key, so a retried POST is a second case
  (the station merges it; `cases.selectors.duplicate_candidates` lists it). The answer is the
  case's public number as `service_request_id` and no token (open311 makes one).
- `find_requests` -> `cases.selectors.public_cases`: the county's cases of every source whose
  item is publicly disclosed (`ServiceTerms.public`), filtered as `RequestFilters` says,
  newest first, at most `filters.limit`, in one query. Public fields only: no names, phones,
  e-mail or photo, the point of the grid (`ST_PointOnSurface` of the grid the case was
  placed in), never the exact location; `status_notes` is the reason of a rejection or a
  cancellation, or the case a merged one repeats; `expected_datetime` the running step's
  deadline while the request is open. Statuses are cases.flow.Status values;
  open311.status maps them."""

from dataclasses import dataclass
from datetime import datetime

from cases import selectors as case_selectors
from cases import services as case_services
from cases.flow import Status
from territory.privacy import scrub_text

from .params import OPEN
from .status import case_statuses, open311_status

NO_POINT = "address_string alone cannot be placed yet: send lat/long"


@dataclass(frozen=True)
class AdapterRefusal(Exception):
    """The case flow refused the request (e.g. no place for an address): the spec's error."""

    code: int
    description: str


@dataclass(frozen=True)
class RequestRecord:
    """One service request as GET requests shows it (the spec's `<request>` fields)."""

    service_request_id: str
    status: str  # a cases.flow.Status value
    service_code: str
    service_name: str
    requested_datetime: datetime
    updated_datetime: datetime | None = None
    expected_datetime: datetime | None = None
    status_notes: str = ""
    description: str = ""
    agency_responsible: str = ""
    service_notice: str = ""
    address: str = ""
    address_id: str = ""
    zipcode: str = ""
    lat: float | None = None
    long: float | None = None
    media_url: str = ""


def submit_request(
    *, client, county, service_item, point, address, attributes, description, contact
) -> tuple[str, str | None]:
    """Open a case for a posted request: (service_request_id, None)."""
    if point is None:
        raise AdapterRefusal(400, NO_POINT)
    contact = dict(contact)
    name = " ".join(
        part for part in (contact.pop("last_name", ""), contact.pop("first_name", "")) if part
    )
    details = contact | {k: v for k, v in (address or {}).items() if v}
    phone = details.pop("phone", "")
    try:
        case = case_services.case_from_open311(
            client_name=client.name,
            county_code=county.code,
            item=service_item,
            point=point,
            description=description or "",
            contact={"name": name, "phone": phone},
            attributes=attributes,
            details=details,
        )
    except case_services.CaseError as error:
        raise AdapterRefusal(400, "; ".join(p.message for p in error.problems)) from None
    return case.number, None


def find_requests(*, county, filters) -> list[RequestRecord]:
    """The county's requests matching `filters` (open311.params.RequestFilters)."""
    statuses = set()
    for wanted in filters.statuses:
        statuses |= case_statuses(wanted)
    cases = case_selectors.public_cases(
        county=county,
        numbers=filters.service_request_ids,
        item_codes=filters.service_codes,
        start=filters.start,
        end=filters.end,
        statuses=statuses,
        limit=filters.limit,
    )
    return [_record(case) for case in cases]


def _record(case) -> RequestRecord:
    spot = case.grid_spot
    return RequestRecord(
        service_request_id=case.number,
        status=case.status,
        service_code=case.item.code,
        service_name=case.item.name,
        requested_datetime=case.created_at,
        updated_datetime=_updated(case),
        # A closed request is fulfilled: the publication's clock (verified) is not the public's.
        expected_datetime=case.due_at if open311_status(case.status) == OPEN else None,
        status_notes=_notes(case.status, case.last_event_fields or {}),
        # The resident's own words, public: any phone or ID number in them is masked.
        description=scrub_text(case.description),
        agency_responsible=case.department.name if case.department_id else "",
        lat=round(spot.y, 6) if spot else None,
        long=round(spot.x, 6) if spot else None,
    )


def _updated(case):
    """When the request last changed; once closed, "the date the request was closed": a
    verified case stays closed through the resident's rating and its publication."""
    if case.status in (Status.VERIFIED, Status.PUBLISHED) and case.verified_at:
        return case.verified_at
    return case.last_event_at


def _notes(status: str, fields: dict) -> str:
    """Why a case closed without being handled: the reason staff recorded for a rejection or a
    cancellation, or the case a merged one repeats. Nothing for the other statuses."""
    if status == Status.MERGED and fields.get("duplicate_of"):
        return f"duplicate of {fields['duplicate_of']}"
    if status in (Status.REJECTED, Status.CANCELLED):
        return str(fields.get("reason") or "")
    return ""
