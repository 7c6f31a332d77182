"""Reading GeoReport v2 parameters: pure functions over the query string or the form body (a
mapping of name -> list of values, as Django's QueryDict.lists() gives it). No database: what
needs one (is this county, service, key known?) is the selectors' and the views' job, after
the shapes here are right. Each refusal is a `Refusal` carrying the spec's error array: one or
more (HTTP code, description) pairs; the answer's status is the first one's."""

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

# "If no date is provided, the default is to return the most recent 90 days", "within 1000
# requests"; a range given "may not span more than 90 days".
WINDOW = timedelta(days=90)
MAX_LIMIT = 1000
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")  # a date written without an offset is China's time

# Form fields of POST requests besides the attributes, with their longest accepted value.
TEXT_LIMITS = {
    "description": 4000,  # the spec's limit, and a case's (cases.Case.description)
    "address_string": 200,
    "address_id": 64,
    "email": 254,
    "device_id": 100,
    "account_id": 100,
    "first_name": 100,
    "last_name": 100,
    "phone": 30,
    "media_url": 500,
}
MAX_LIST = 100  # service_request_id and service_code lists: longer is a refusal, not a scan
SERVICE_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,20}$")  # patrols.IncidentCategory.code
REQUEST_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
JURISDICTION = re.compile(r"^[0-9]{6,17}$")  # a division code
PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{2,28}$")
TOKEN = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,50})\](\[\])?$")
# Characters no text of ours may hold: C0 controls but tab and newlines (PostgreSQL refuses
# NUL outright), and the non-characters XML cannot carry.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")

OPEN, CLOSED = "open", "closed"
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")


@dataclass
class Refusal(Exception):
    """The spec's error array: [(code, description), ...]."""

    errors: list[tuple[int, str]]

    @property
    def status(self) -> int:
        return self.errors[0][0]

    def __str__(self):
        return "; ".join(description for _, description in self.errors)


def refuse(code: int, description: str) -> Refusal:
    return Refusal([(code, description)])


def one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    """A single-valued parameter, stripped; empty counts as absent. Given twice with different
    values it is a refusal: which one the client meant is not ours to guess."""
    values = [v.strip() for v in params.get(name, ()) if v.strip()]
    if len(set(values)) > 1:
        raise refuse(400, f"{name} was given more than once with different values")
    return values[0] if values else None


def clean_text(name: str, value: str | None, *, limit: int) -> str | None:
    if value is None:
        return None
    if _CONTROL.search(value):
        raise refuse(400, f"{name} contains a control character")
    if len(value) > limit:
        raise refuse(400, f"{name} is longer than {limit} characters")
    return value


def jurisdiction_id(params) -> str | None:
    """The county's division code, or None when not given (the views decide whether it must
    be). A malformed code cannot name a county: 404 like an unknown one."""
    value = one(params, "jurisdiction_id")
    if value is not None and not JURISDICTION.match(value):
        raise refuse(404, "jurisdiction_id provided was not found")
    return value


def code_list(params, name: str, pattern: re.Pattern, *, what: str) -> list[str]:
    """A comma-delimited list (`service_code=0201,0202`), also given as repeated parameters."""
    codes = []
    for value in params.get(name, ()):
        codes += [c.strip() for c in value.split(",") if c.strip()]
    for code in codes:
        if not pattern.match(code):
            raise refuse(400, f"{name} {clip(code)!r} is not a valid {what}")
    if len(codes) > MAX_LIST:
        raise refuse(400, f"{name} lists more than {MAX_LIST} values")
    return list(dict.fromkeys(codes))


def clip(text: str, length: int = 40) -> str:
    text = _CONTROL.sub("?", text)
    return text if len(text) <= length else text[:length] + "..."


def parse_datetime(name: str, value: str, *, tz=DEFAULT_TZ) -> datetime:
    """ISO 8601 as the spec writes it (W3C: `2010-01-01T00:00:00Z`, `2010-04-14T06:37:38-08:00`,
    or a date alone, its midnight). Without an offset: China's time."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise refuse(
            400, f"{name} {clip(value)!r} is not an ISO 8601 date-time (2026-01-01T08:00:00+08:00)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    # Far years would overflow the 90-day window's arithmetic; no case is that old or new.
    if not 1970 <= when.year <= 2200:
        raise refuse(400, f"{name} must lie between the years 1970 and 2200")
    return when


@dataclass(frozen=True)
class RequestFilters:
    """GET requests: either ids (which "override all other arguments") or the rest."""

    service_request_ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: frozenset[str] = frozenset({OPEN, CLOSED})
    limit: int = MAX_LIMIT


def request_filters(params, *, now: datetime) -> RequestFilters:
    ids = code_list(params, "service_request_id", REQUEST_ID, what="service request id")
    if ids:
        return RequestFilters(service_request_ids=tuple(ids), limit=MAX_LIMIT)
    codes = code_list(params, "service_code", SERVICE_CODE, what="service code")
    start = one(params, "start_date")
    end = one(params, "end_date")
    start = parse_datetime("start_date", start) if start else None
    end = parse_datetime("end_date", end) if end else None
    if start and end:
        if end < start:
            raise refuse(400, "end_date is before start_date")
        if end - start > WINDOW:
            raise refuse(400, "start_date and end_date may not span more than 90 days")
    elif start:
        end = start + WINDOW
    elif end:
        start = end - WINDOW
    else:
        start, end = now - WINDOW, now
    statuses = set()
    for value in params.get("status", ()):
        statuses |= {s.strip().lower() for s in value.split(",") if s.strip()}
    if statuses - {OPEN, CLOSED}:
        wrong = sorted(statuses - {OPEN, CLOSED})[0]
        raise refuse(400, f"status {clip(wrong)!r} is neither open nor closed")
    limit = one(params, "limit")
    well_formed = limit is None or (limit.isascii() and limit.isdigit())
    if not well_formed or (limit is not None and not 1 <= int(limit) <= MAX_LIMIT):
        raise refuse(400, f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return RequestFilters(
        service_codes=tuple(codes),
        start=start,
        end=end,
        statuses=frozenset(statuses or {OPEN, CLOSED}),
        limit=int(limit) if limit else MAX_LIMIT,
    )


# --- POST requests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    lat: float | None = None
    long: float | None = None
    address_string: str | None = None
    address_id: str | None = None

    @property
    def has_point(self) -> bool:
        return self.lat is not None


@dataclass(frozen=True)
class PostedRequest:
    api_key: str | None
    jurisdiction_id: str | None
    service_code: str
    location: Location
    description: str | None
    media_url: str | None
    contact: dict  # email, device_id, account_id, first_name, last_name, phone (given ones)
    attributes: dict[str, list[str]] = field(default_factory=dict)  # raw, checked later


def _coordinate(params, name: str, low: float, high: float) -> float | None:
    value = one(params, name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        raise refuse(400, f"{name} must be a number from {low:g} to {high:g} (WGS84 degrees)")
    return number


def posted_request(params) -> PostedRequest:
    """The form of POST requests, every problem of its shape at once (the spec's error array
    may hold several). The api_key is read, not checked (that needs the database: 403 first)."""
    errors: list[tuple[int, str]] = []

    def attempt(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Refusal as refusal:
            errors.extend(refusal.errors)
            return None

    api_key = attempt(one, params, "api_key")
    jurisdiction = attempt(jurisdiction_id, params)
    before = len(errors)
    service_code = attempt(one, params, "service_code")
    if service_code is None and len(errors) == before:
        errors.append((400, "service_code was not provided"))
    elif service_code is not None and not SERVICE_CODE.match(service_code):
        errors.append((404, f"service_code {clip(service_code)!r} was not found"))
    before = len(errors)
    lat = attempt(_coordinate, params, "lat", -90.0, 90.0)
    long = attempt(_coordinate, params, "long", -180.0, 180.0)
    coordinates_read = len(errors) == before
    if (lat is None) != (long is None) and coordinates_read:
        errors.append((400, "lat and long must be given together"))
    texts = {}
    for name, limit in TEXT_LIMITS.items():
        texts[name] = attempt(lambda n=name, lim=limit: clean_text(n, one(params, n), limit=lim))
    located = lat is not None or texts["address_string"] or texts["address_id"]
    if not located and coordinates_read:
        errors.append(
            (400, "a location was not provided: lat and long, address_string or address_id")
        )
    if texts["email"]:
        try:
            EmailValidator()(texts["email"])
        except ValidationError:
            errors.append((400, "email is not a valid e-mail address"))
    if texts["phone"] and not PHONE.match(texts["phone"]):
        errors.append((400, "phone is not a telephone number"))
    if texts["media_url"]:
        try:
            URLValidator(schemes=["http", "https"])(texts["media_url"])
        except ValidationError:
            errors.append((400, "media_url is not an http(s) URL"))
    attributes = attempt(attribute_values, params)
    if errors:
        # 403 and 404 before 400s: a client with no valid key or county learns that first.
        raise Refusal(sorted(errors, key=lambda e: {403: 0, 404: 1}.get(e[0], 2)))
    contact_fields = ("email", "device_id", "account_id", "first_name", "last_name", "phone")
    return PostedRequest(
        api_key=api_key,
        jurisdiction_id=jurisdiction,
        service_code=service_code,
        location=Location(lat, long, texts["address_string"], texts["address_id"]),
        description=texts["description"],
        media_url=texts["media_url"],
        contact={name: texts[name] for name in contact_fields if texts[name]},
        attributes=attributes or {},
    )


def attribute_values(params) -> dict[str, list[str]]:
    """`attribute[code]=value`, and `attribute[code][]=v1&attribute[code][]=v2` for a
    multivaluelist, as {code: [values]} (empty values dropped)."""
    found: dict[str, list[str]] = {}
    for name, values in params.items():
        if not name.startswith("attribute"):
            continue
        match = ATTRIBUTE.match(name)
        if match is None:
            raise refuse(400, f"{clip(name)!r} is not of the form attribute[code]")
        code = match.group(1)
        for value in values:
            clean_text(f"attribute[{clip(code)}]", value, limit=TEXT_LIMITS["description"])
        found.setdefault(code, []).extend(v.strip() for v in values if v.strip())
    return found


@dataclass(frozen=True)
class AttributeSpec:
    """What checking needs of a service's attribute (open311.models.ServiceAttribute)."""

    code: str
    datatype: str
    required: bool
    keys: tuple[str, ...] = ()


def checked_attributes(
    specs: Sequence[AttributeSpec], given: Mapping[str, list[str]], *, service_code: str
) -> dict[str, object]:
    """The attributes' values, typed: str for string/text/singlevaluelist, Decimal for number,
    an aware datetime for datetime, a list of keys for multivaluelist. Every problem at once."""
    errors = []
    by_code = {spec.code: spec for spec in specs}
    for code in given:
        if code not in by_code:
            errors.append(
                (400, f"attribute[{clip(code)}] is not an attribute of service {service_code}")
            )
    values: dict[str, object] = {}
    for spec in specs:
        raw = given.get(spec.code, [])
        label = f"attribute[{spec.code}]"
        if not raw:
            if spec.required:
                errors.append((400, f"{label} is required for service {service_code}"))
            continue
        if spec.datatype != "multivaluelist" and len(set(raw)) > 1:
            errors.append((400, f"{label} takes one value"))
            continue
        try:
            values[spec.code] = _typed(spec, raw, label)
        except Refusal as refusal:
            errors.extend(refusal.errors)
    if errors:
        raise Refusal(errors)
    return values


def _typed(spec: AttributeSpec, raw: list[str], label: str):
    value = raw[0]
    if spec.datatype in ("string", "text"):
        limit = 200 if spec.datatype == "string" else TEXT_LIMITS["description"]
        return clean_text(label, value, limit=limit)
    if spec.datatype == "number":
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or len(value) > 30:
            raise refuse(400, f"{label} must be a number")
        return number
    if spec.datatype == "datetime":
        return parse_datetime(label, value)
    if spec.datatype == "singlevaluelist":
        if value not in spec.keys:
            raise refuse(400, f"{label} {clip(value)!r} is not one of: {', '.join(spec.keys)}")
        return value
    if spec.datatype == "multivaluelist":
        wrong = [v for v in raw if v not in spec.keys]
        if wrong:
            raise refuse(400, f"{label} {clip(wrong[0])!r} is not one of: {', '.join(spec.keys)}")
        return list(dict.fromkeys(raw))
    raise refuse(400, f"{label} has an unknown datatype")
