"""The seam between Open311 and the case flow: the only module of `open311` that will call
`cases` to write or read cases. Everything before it (parameters, api_key, jurisdiction,
service, attributes, location within the county) is checked by the time it is called;
everything after it (the answer's shape, the token) is open311's own.

TODO(cases): wire both functions once `cases.models.Case` and its services exist:
- `submit_request` -> `cases.services.case_report(...)` with source "open311", the catalogue
  item, the WGS84 point (None when only an address was given: resolve it or raise
  `AdapterRefusal(400, "...")`), the description, the attributes (typed: str, Decimal, aware
  datetime, list of keys) and the contact (email, device_id, account_id, first_name,
  last_name, phone when given, and media_url, the photo's address, possibly None: personal data: kept as the case's reporter details,
  never shown by find_requests). Return the case's public number as `service_request_id` (the
  stable id GET requests/{id} finds it by) and None for the token (open311 makes one).
- `find_requests` -> `cases.selectors` (a county's cases, filtered as `RequestFilters` says,
  newest first, at most `filters.limit`). Only what the public disclosure may show: no names,
  phones or e-mail, and a point no finer than the grid (the grid's centroid), never the exact
  location. Statuses are returned as cases.flow.Status values; open311.status maps them.

Until then both raise NotImplementedError, which the views answer 501 in the spec's error
shape (docs/open311.md)."""

from dataclasses import dataclass
from datetime import datetime


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
    """Open a case for a posted request: (service_request_id, token or None)."""
    raise NotImplementedError("TODO: cases.services.case_report (source open311)")


def find_requests(*, county, filters) -> list[RequestRecord]:
    """The county's requests matching `filters` (open311.params.RequestFilters)."""
    raise NotImplementedError("TODO: cases.selectors (a county's cases, public fields only)")
