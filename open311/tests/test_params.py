"""The parameters of GeoReport v2, read and checked without a database."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from open311 import params
from open311.params import AttributeSpec, Refusal

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def q(**kwargs):
    return {name: value if isinstance(value, list) else [value] for name, value in kwargs.items()}


def refused(fn, *args, **kwargs) -> list[tuple[int, str]]:
    with pytest.raises(Refusal) as info:
        fn(*args, **kwargs)
    return info.value.errors


# --- GET requests --------------------------------------------------------------------------


def test_no_dates_are_the_most_recent_90_days_and_1000_requests():
    f = params.request_filters({}, now=NOW)
    assert (f.start, f.end, f.limit) == (NOW - timedelta(days=90), NOW, 1000)
    assert f.statuses == {"open", "closed"}


def test_a_start_alone_runs_90_days_on_an_end_alone_90_days_back():
    f = params.request_filters(q(start_date="2026-01-01T00:00:00Z"), now=NOW)
    assert f.end - f.start == timedelta(days=90)
    f = params.request_filters(q(end_date="2026-03-01T00:00:00+08:00"), now=NOW)
    assert f.start == datetime(2025, 12, 1, tzinfo=f.end.tzinfo)


def test_a_range_over_90_days_or_backwards_is_refused():
    errors = refused(
        params.request_filters,
        q(start_date="2026-01-01T00:00:00Z", end_date="2026-04-02T00:00:00Z"),
        now=NOW,
    )
    assert errors[0][0] == 400 and "90 days" in errors[0][1]
    ok = params.request_filters(
        q(start_date="2026-01-01T00:00:00Z", end_date="2026-04-01T00:00:00Z"), now=NOW
    )
    assert ok.end - ok.start == timedelta(days=90)
    errors = refused(
        params.request_filters, q(start_date="2026-02-01", end_date="2026-01-01"), now=NOW
    )
    assert "before" in errors[0][1]


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-13-01", "2026-01-01T25:00", "0001-01-01", "9999-12-31T23:59Z"]
)
def test_a_date_that_is_not_iso_8601_or_is_absurd_is_refused(value):
    assert refused(params.request_filters, q(start_date=value), now=NOW)[0][0] == 400


def test_a_date_without_an_offset_is_china_time():
    f = params.request_filters(q(start_date="2026-01-01T08:00:00"), now=NOW)
    assert f.start == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


def test_status_is_open_closed_or_both_and_nothing_else():
    assert params.request_filters(q(status="open"), now=NOW).statuses == {"open"}
    assert params.request_filters(q(status="open,closed"), now=NOW).statuses == {
        "open",
        "closed",
    }
    assert "neither" in refused(params.request_filters, q(status="pending"), now=NOW)[0][1]


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "ten", "1e3", "١٠"])
def test_limit_is_1_to_1000(limit):
    assert refused(params.request_filters, q(limit=limit), now=NOW)[0][0] == 400


def test_limit_within_bounds_is_kept():
    assert params.request_filters(q(limit="1000"), now=NOW).limit == 1000
    assert params.request_filters(q(limit="5"), now=NOW).limit == 5


def test_service_request_ids_override_every_other_argument():
    f = params.request_filters(
        q(service_request_id="C1,C2", status="bogus", start_date="nonsense"), now=NOW
    )
    assert f.service_request_ids == ("C1", "C2") and f.start is None


def test_service_codes_are_a_comma_list_of_codes():
    f = params.request_filters(q(service_code=["0201,0202", "0202"]), now=NOW)
    assert f.service_codes == ("0201", "0202")
    assert refused(params.request_filters, q(service_code="02\x0001"), now=NOW)[0][0] == 400
    many = ",".join(f"{n:04d}" for n in range(101))
    assert "more than" in refused(params.request_filters, q(service_code=many), now=NOW)[0][1]


def test_a_parameter_given_twice_with_different_values_is_refused():
    assert "more than once" in refused(params.one, q(limit=["1", "2"]), "limit")[0][1]
    assert params.one(q(limit=["1", "1"]), "limit") == "1"


def test_a_malformed_jurisdiction_cannot_name_a_county():
    assert refused(params.jurisdiction_id, q(jurisdiction_id="DROP TABLE"))[0][0] == 404
    assert params.jurisdiction_id(q(jurisdiction_id=" 411381 ")) == "411381"
    assert params.jurisdiction_id({}) is None


# --- POST requests -------------------------------------------------------------------------


GOOD = {"service_code": "0205", "lat": "32.65", "long": "112.02"}


def test_a_good_form_is_read_whole():
    posted = params.posted_request(
        q(
            **GOOD,
            api_key="k",
            email="a@example.cn",
            phone="+86 138-0000-0000",
            first_name="张",
            description="夜里施工",
            media_url="https://example.cn/p.jpg",
            **{"attribute[noise_source]": "construction"},
        )
    )
    assert posted.location.has_point and (posted.location.lat, posted.location.long) == (
        32.65,
        112.02,
    )
    assert posted.contact == {
        "email": "a@example.cn",
        "phone": "+86 138-0000-0000",
        "first_name": "张",
    }
    assert posted.attributes == {"noise_source": ["construction"]}


def test_an_address_alone_is_a_location():
    posted = params.posted_request(q(service_code="0205", address_string="和平路 1 号"))
    assert not posted.location.has_point and posted.location.address_string == "和平路 1 号"
    assert params.posted_request(q(service_code="0205", address_id="A-1")).location.address_id


@pytest.mark.parametrize(
    ("form", "wanted"),
    [
        ({"lat": "32.6", "long": "112"}, "service_code was not provided"),
        ({"service_code": "0205"}, "location was not provided"),
        ({**GOOD, "lat": "91"}, "lat must be"),
        ({**GOOD, "long": "nan"}, "long must be"),
        ({**GOOD, "long": "inf"}, "long must be"),
        ({"service_code": "0205", "lat": "32.6"}, "together"),
        ({**GOOD, "email": "not-an-address"}, "email"),
        ({**GOOD, "phone": "call me"}, "phone"),
        ({**GOOD, "media_url": "javascript:alert(1)"}, "media_url"),
        ({**GOOD, "description": "x" * 4001}, "longer than 4000"),
        ({**GOOD, "description": "a\x00b"}, "control character"),
        ({**GOOD, "first_name": "\x1b[31m"}, "control character"),
        ({**GOOD, "attribute[a][b]": "x"}, "attribute[code]"),
        ({**GOOD, "attribute": "x"}, "attribute[code]"),
    ],
)
def test_every_problem_of_the_form_is_a_400_saying_which(form, wanted):
    errors = refused(params.posted_request, q(**form))
    assert errors[0][0] == 400 and any(wanted in description for _, description in errors)


def test_a_malformed_service_code_names_no_service_a_404():
    # POST's errors: "404 - service_code or jurisdiction_id was not found".
    errors = refused(params.posted_request, q(**{**GOOD, "service_code": "<x>"}))
    assert errors == [(404, "service_code '<x>' was not found")]


def test_several_problems_are_listed_together():
    errors = refused(params.posted_request, q(email="x", phone="y"))
    described = " | ".join(d for _, d in errors)
    assert len(errors) == 4 and all(c == 400 for c, _ in errors)
    for part in ("service_code", "location", "email", "phone"):
        assert part in described


def test_multivaluelist_values_are_collected():
    values = params.attribute_values(
        q(**{"attribute[kinds][]": ["car", "ebike"], "attribute[plate]": " 豫R1 "})
    )
    assert values == {"kinds": ["car", "ebike"], "plate": ["豫R1"]}


# --- attributes against the definition -----------------------------------------------------

SPECS = [
    AttributeSpec("source", "singlevaluelist", True, ("shop", "neighbour")),
    AttributeSpec("heard_at", "datetime", False),
    AttributeSpec("count", "number", False),
    AttributeSpec("kinds", "multivaluelist", False, ("car", "ebike")),
    AttributeSpec("plate", "string", False),
    AttributeSpec("detail", "text", False),
]


def check(given):
    return params.checked_attributes(SPECS, given, service_code="0205")


def test_attributes_are_typed():
    values = check(
        {
            "source": ["shop"],
            "heard_at": ["2026-05-01T22:30:00+08:00"],
            "count": ["3.5"],
            "kinds": ["car", "ebike", "car"],
            "plate": ["豫R12345"],
        }
    )
    assert values["source"] == "shop" and values["count"] == Decimal("3.5")
    assert values["heard_at"].utcoffset() == timedelta(hours=8)
    assert values["kinds"] == ["car", "ebike"] and "detail" not in values


@pytest.mark.parametrize(
    ("given", "wanted"),
    [
        ({}, "attribute[source] is required"),
        ({"source": ["school"]}, "is not one of: shop, neighbour"),
        ({"source": ["shop"], "count": ["three"]}, "must be a number"),
        ({"source": ["shop"], "count": ["NaN"]}, "must be a number"),
        ({"source": ["shop"], "count": ["Infinity"]}, "must be a number"),
        ({"source": ["shop"], "heard_at": ["last night"]}, "ISO 8601"),
        ({"source": ["shop"], "kinds": ["car", "bus"]}, "'bus' is not one of"),
        ({"source": ["shop", "neighbour"]}, "takes one value"),
        ({"source": ["shop"], "plate": ["x" * 201]}, "longer than 200"),
        ({"source": ["shop"], "colour": ["red"]}, "not an attribute of service 0205"),
    ],
)
def test_each_attribute_problem_is_a_400(given, wanted):
    errors = refused(check, given)
    assert errors[0][0] == 400 and any(wanted in d for _, d in errors), errors
