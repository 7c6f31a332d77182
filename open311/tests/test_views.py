"""GeoReport v2 over HTTP, on the real PostGIS territory of conftest.py: discovery, services,
definitions, jurisdictions, keys, requests (through the adapter to the real case flow; the
adapter is replaced only to make it refuse), tokens and the spec's error arrays, in XML and
JSON. What the case flow does with a request is open311/tests/test_adapter.py's."""

import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case
from open311 import adapter, services
from open311.models import PostedRequest
from patrols.models import IncidentCategory
from territory.tests.factories import UnitFactory, box

pytestmark = pytest.mark.django_db
BASE = "/open311/v2/"
FORMATS = ["json", "xml"]
INSIDE = {"lat": "32.65", "long": "112.02"}  # grid A1a of the small territory
SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
ATTRIBUTE_FIELDS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


@pytest.fixture
def second_county(county):
    return UnitFactory(level="county", code="411302", boundary=box(113.0, 33.0, 113.1, 33.1))


def parse(response, fmt):
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(response.content)
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def errors_of(response, fmt) -> list[tuple[int, str]]:
    """The spec's error array: `[{"code", "description"}]` or `<errors><error>...`."""
    body = parse(response, fmt)
    if fmt == "json":
        assert all(list(e) == ["code", "description"] for e in body)
        errors = [(e["code"], e["description"]) for e in body]
    else:
        assert body.tag == "errors" and all(e.tag == "error" for e in body)
        assert all([c.tag for c in e] == ["code", "description"] for e in body)
        errors = [(int(e.find("code").text), e.find("description").text) for e in body]
    assert errors and response.status_code == errors[0][0]
    return errors


# --- discovery, services, definitions ------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery(client, fmt):
    body = parse(client.get(f"{BASE}discovery.{fmt}"), fmt)
    if fmt == "json":
        endpoint = body["endpoints"][0]
        assert list(body) == ["changeset", "contact", "key_service", "endpoints"]
        assert endpoint["formats"] == ["text/xml", "application/json"]
    else:
        assert body.tag == "discovery"
        assert [c.tag for c in body] == ["changeset", "contact", "key_service", "endpoints"]
        xml_endpoint = body.find("endpoints/endpoint")
        endpoint = {c.tag: c.text for c in xml_endpoint}
        assert [f.text for f in xml_endpoint.findall("formats/format")] == [
            "text/xml",
            "application/json",
        ]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2" and endpoint["type"] == "production"


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_services_are_the_public_active_catalogue(client, county, fmt):
    response = client.get(f"{BASE}services.{fmt}")
    assert response.status_code == 200
    body = parse(response, fmt)
    if fmt == "xml":
        assert body.tag == "services" and {c.tag for c in body} == {"service"}
        assert all([f.tag for f in s] == SERVICE_FIELDS for s in body)
        body = [{f.tag: f.text for f in s} for s in body]
    else:
        assert all(list(s) == SERVICE_FIELDS for s in body)
    by_code = {s["service_code"]: s for s in body}
    assert by_code["0205"]["service_name"] == "噪声扰民" and by_code["0205"]["group"] == "污染防治"
    assert by_code["0205"]["type"] == "realtime"
    assert by_code["0205"]["metadata"] in (True, "true")
    assert by_code["0201"]["metadata"] in (False, "false")
    # Never disclosed matters are not offered to outside apps; nor categories.
    assert "0304" not in by_code and "02" not in by_code


def test_services_in_english_by_locale_or_accept_language(client, county):
    english = client.get(f"{BASE}services.json", {"locale": "en"}).json()
    assert {s["service_code"]: s["service_name"] for s in english}["0205"] == "Noise nuisance"
    by_header = client.get(f"{BASE}services.json", HTTP_ACCEPT_LANGUAGE="en-GB,en").json()
    assert by_header == english


def test_an_inactive_item_or_terms_is_not_offered(client, county):
    item = IncidentCategory.objects.get(code="0205")
    item.active = False
    item.save()
    item.terms.active = False
    item.terms.save()
    codes = {s["service_code"] for s in client.get(f"{BASE}services.json").json()}
    assert "0205" not in codes and "0201" in codes
    errors = errors_of(client.get(f"{BASE}services/0205.json"), "json")
    assert errors == [(404, "service_code 0205 was not found")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_lists_its_attributes(client, county, fmt):
    response = client.get(f"{BASE}services/0205.{fmt}")
    body = parse(response, fmt)
    if fmt == "xml":
        assert body.tag == "service_definition"
        assert [c.tag for c in body] == ["service_code", "attributes"]
        first = body.find("attributes/attribute")
        assert [c.tag for c in first] == ATTRIBUTE_FIELDS
        assert first.find("variable").text == "true" and first.find("required").text == "true"
        assert first.find("datatype").text == "singlevaluelist"
        values = first.findall("values/value")
        assert [[c.tag for c in v] for v in values][0] == ["key", "name"]
        assert values[0].find("key").text == "construction"
        assert body.findall("attributes/attribute")[1].find("datatype").text == "datetime"
    else:
        assert body["service_code"] == "0205"
        first = body["attributes"][0]
        assert list(first) == ATTRIBUTE_FIELDS
        assert (first["code"], first["required"], first["order"]) == ("noise_source", True, 1)
        assert first["values"][0] == {"key": "construction", "name": "施工"}
        assert body["attributes"][1]["values"] == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_service_is_a_404(client, county, fmt):
    assert errors_of(client.get(f"{BASE}services/9999.{fmt}"), fmt)[0][0] == 404
    assert errors_of(client.get(f"{BASE}services/%3Cx%3E.{fmt}"), fmt)[0][0] == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_catalogue_names_are_escaped(client, county, fmt):
    item = IncidentCategory.objects.get(code="0205")
    item.name = "<script>alert(1)</script> & 噪声\x01\x0b"
    item.save()
    response = client.get(f"{BASE}services.{fmt}")
    assert b"<script>" not in response.content
    body = parse(response, fmt)  # parses: no raw control character left in the XML
    if fmt == "xml":
        names = [s.find("service_name").text for s in body]
        assert "<script>alert(1)</script> & 噪声\ufffd\ufffd" in names
    else:
        assert item.name in [s["service_name"] for s in body]


# --- jurisdictions -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_jurisdiction_selects_the_county(client, second_county, fmt):
    url = f"{BASE}services.{fmt}"
    assert errors_of(client.get(url), fmt) == [(400, "jurisdiction_id was not provided")]
    assert client.get(url, {"jurisdiction_id": "411302"}).status_code == 200
    assert client.get(url, {"jurisdiction_id": "411381"}).status_code == 200
    for unknown in ("419999", "411381001", "x' or 1=1"):
        errors = errors_of(client.get(url, {"jurisdiction_id": unknown}), fmt)
        assert errors == [(404, "jurisdiction_id provided was not found")]


def test_the_only_county_needs_no_jurisdiction(client, county):
    assert client.get(f"{BASE}services.json").status_code == 200


def test_unknown_resources_and_methods_answer_the_spec_errors(client, county):
    assert errors_of(client.get(f"{BASE}services.yaml"), "xml")[0][0] == 404
    assert errors_of(client.get(f"{BASE}nothing.json"), "json")[0][0] == 404
    response = client.post(f"{BASE}services.json")
    assert errors_of(response, "json")[0][0] == 405 and "GET" in response["Allow"]
    assert errors_of(client.delete(f"{BASE}requests.xml"), "xml")[0][0] == 405


# --- POST requests -------------------------------------------------------------------------


def post(client, fmt, data):
    return client.post(f"{BASE}requests.{fmt}", data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_posted_request_becomes_a_case_with_a_stable_id_and_token(client, key, fmt):
    response = post(
        client,
        fmt,
        {
            "api_key": key,
            "service_code": "0205",
            **INSIDE,
            "attribute[noise_source]": "construction",
            "attribute[heard_at]": "2026-05-01T22:30:00+08:00",
            "description": "夜里施工",
            "email": "a@example.cn",
            "account_id": "acct-1",
        },
    )
    assert response.status_code == 201
    body = parse(response, fmt)
    if fmt == "xml":
        assert body.tag == "service_requests"
        request = body.find("request")
        assert [c.tag for c in request] == ["service_request_id", "service_notice", "account_id"]
        answer = {c.tag: c.text for c in request}
    else:
        answer = body[0]
    case = Case.objects.get()
    assert answer["service_request_id"] == case.number and answer["account_id"] == "acct-1"
    assert answer["service_notice"].startswith("将在 ") and "个工作" in answer["service_notice"]
    assert case.item.code == "0205" and case.territory_path.startswith("411381/")
    assert (case.point.x, case.point.y) == (112.02, 32.65)
    assert case.attributes["noise_source"] == "construction"
    assert case.reporter_details["email"] == "a@example.cn"
    row = PostedRequest.objects.get()
    # A realtime service answers no token (the spec: not both); the one kept finds the request.
    assert "token" not in answer and row.service_request_id == case.number
    token_body = client.get(f"{BASE}tokens/{row.token}.{fmt}")
    assert token_body.status_code == 200
    if fmt == "json":
        assert token_body.json() == [{"service_request_id": case.number, "token": str(row.token)}]
    else:
        found = {c.tag: c.text for c in parse(token_body, fmt).find("request")}
        assert found == {"service_request_id": case.number, "token": str(row.token)}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_or_wrong_api_key_is_a_403_and_nothing_is_written(client, key, fmt):
    form = {"service_code": "0205", **INSIDE, "attribute[noise_source]": "shop"}
    for wrong in ({}, {"api_key": "nope"}, {"api_key": key[:8] + "x" * 35}):
        errors = errors_of(post(client, fmt, {**form, **wrong}), fmt)
        assert errors == [(403, "api_key was not provided or is invalid")]
    # Before anything else: a client without a key learns nothing about its form.
    assert errors_of(post(client, fmt, {"api_key": "nope"}), fmt)[0][0] == 403
    assert not Case.objects.exists() and not PostedRequest.objects.exists()


def test_a_key_of_another_county_or_an_inactive_client_is_refused(client, key, second_county):
    other_client, other = services.client_create(name="别县", county_code="411302")
    form = {"service_code": "0201", **INSIDE, "jurisdiction_id": "411381"}
    assert post(client, "json", {**form, "api_key": other}).status_code == 403
    assert post(client, "json", {**form, "api_key": key}).status_code == 201
    other_client.active = False
    other_client.save()
    form["jurisdiction_id"] = "411302"
    assert post(client, "json", {**form, "api_key": other}).status_code == 403


def test_a_new_key_replaces_the_old_one(client, county):
    client_row, old = services.client_create(name="App", county_code="411381")
    new = services.client_rekey(client=client_row)
    form = {"service_code": "0201", **INSIDE}
    assert post(client, "json", {**form, "api_key": old}).status_code == 403
    assert post(client, "json", {**form, "api_key": new}).status_code == 201


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("form", "wanted"),
    [
        ({"lat": "32.65", "long": "112.02"}, "service_code was not provided"),
        ({"service_code": "0201"}, "location was not provided"),
        ({"service_code": "0201", "lat": "32.65"}, "lat and long must be given together"),
        ({"service_code": "0201", "lat": "x", "long": "112"}, "lat must be a number"),
        ({"service_code": "0201", "lat": "31.0", "long": "112.02"}, "outside jurisdiction"),
        ({"service_code": "0205", **INSIDE}, "attribute[noise_source] is required"),
        (
            {"service_code": "0205", **INSIDE, "attribute[noise_source]": "dog"},
            "'dog' is not one of",
        ),
        (
            {
                "service_code": "0205",
                **INSIDE,
                "attribute[noise_source]": "shop",
                "attribute[heard_at]": "last night",
            },
            "ISO 8601",
        ),
        (
            {"service_code": "0602", **INSIDE, "attribute[lights_out]": "three"},
            "attribute[lights_out] must be a number",
        ),
        (
            {"service_code": "0506", **INSIDE, "attribute[vehicle_kinds][]": ["car", "bus"]},
            "'bus' is not one of",
        ),
        ({"service_code": "0201", **INSIDE, "attribute[x]": "1"}, "not an attribute"),
        ({"service_code": "0201", **INSIDE, "email": "@"}, "email"),
        ({"service_code": "0201", **INSIDE, "description": "a\x00"}, "control character"),
        ({"service_code": ["0201", "0202"], **INSIDE}, "more than once"),
    ],
)
def test_every_posted_problem_is_a_400_in_the_spec_shape(client, key, fmt, form, wanted):
    errors = errors_of(post(client, fmt, {"api_key": key, **form}), fmt)
    assert errors[0][0] == 400 and any(wanted in d for _, d in errors), errors
    assert not Case.objects.exists() and not PostedRequest.objects.exists()


def test_the_api_key_may_come_in_the_query_string(client, key):
    response = client.post(f"{BASE}requests.json?api_key={key}", {"service_code": "0201", **INSIDE})
    assert response.status_code == 201


def test_the_adapter_refusing_is_the_spec_error_and_writes_nothing(client, key, monkeypatch):
    def refuse(**kwargs):
        raise adapter.AdapterRefusal(400, "address_string could not be placed on the map")

    monkeypatch.setattr(adapter, "submit_request", refuse)
    form = {"api_key": key, "service_code": "0201", "address_string": "月球"}
    errors = errors_of(post(client, "xml", form), "xml")
    assert errors == [(400, "address_string could not be placed on the map")]
    assert not PostedRequest.objects.exists()


# --- GET requests, a single request, tokens ------------------------------------------------


def posted_cases(client, key, n, service_code="0201") -> list[str]:
    """`n` requests posted through the real flow: their ids, oldest first."""
    form = {"api_key": key, "service_code": service_code, **INSIDE}
    return [post(client, "json", form).json()[0]["service_request_id"] for _ in range(n)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_answers_every_field_of_the_matching_requests(client, key, fmt):
    first, second = posted_cases(client, key, 2)
    Case.objects.filter(number=first).update(status="published")
    since = (timezone.localdate() - timedelta(days=10)).isoformat()
    response = client.get(
        f"{BASE}requests.{fmt}",
        {"service_code": "0205,0201", "status": "open,closed", "start_date": since},
    )
    body = parse(response, fmt)
    if fmt == "xml":
        assert body.tag == "service_requests"
        assert all([c.tag for c in r] == REQUEST_FIELDS for r in body)
        rows = [{c.tag: c.text for c in r} for r in body]
        assert rows[0]["requested_datetime"].endswith("Z")
    else:
        rows = body
        assert all(list(r) == REQUEST_FIELDS for r in rows)
    assert [(r["service_request_id"], r["status"]) for r in rows] == [
        (second, "open"),
        (first, "closed"),
    ]
    assert all(r["service_code"] == "0201" and r["service_name"] for r in rows)


def test_get_requests_answers_at_most_the_limit(client, key):
    posted_cases(client, key, 5)
    assert len(client.get(f"{BASE}requests.json", {"limit": "3"}).json()) == 3
    assert len(client.get(f"{BASE}requests.json").json()) == 5


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "query",
    [
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        {"start_date": "soon"},
        {"status": "pending"},
        {"limit": "1001"},
        {"service_code": "<b>"},
        {"service_request_id": "a b"},
    ],
)
def test_every_get_problem_is_a_400_in_the_spec_shape(client, county, fmt, query):
    assert errors_of(client.get(f"{BASE}requests.{fmt}", query), fmt)[0][0] == 400


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_single_request(client, key, fmt):
    (number,) = posted_cases(client, key, 1)
    body = parse(client.get(f"{BASE}requests/{number}.{fmt}"), fmt)
    first = body[0] if fmt == "json" else {c.tag: c.text for c in body.find("request")}
    assert first["service_request_id"] == number
    assert errors_of(client.get(f"{BASE}requests/C8.{fmt}"), fmt)[0][0] == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_or_malformed_token_is_a_404(client, county, fmt):
    for token in ("0b7ba5f4-7f7a-4c8e-9a57-3f1c9a1f0c11", "----", "x" * 36):
        assert errors_of(client.get(f"{BASE}tokens/{token}.{fmt}"), fmt)[0][0] == 404


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",  # no boundary: Django cannot even start to read it
        "multipart/form-data; boundary=",
        "application/x-www-form-urlencoded; charset=nonesuch",
    ],
)
def test_an_unreadable_body_is_a_400(client, key, content_type):
    response = client.generic(
        "POST", f"{BASE}requests.xml?api_key={key}", b"garbage=\xff", content_type=content_type
    )
    errors = errors_of(response, "xml")
    assert errors[0][0] == 400
    assert not Case.objects.exists()
