"""Points where the server once differed from the GeoReport v2 text
(http://wiki.open311.org/GeoReport_v2; the checklist is docs/open311.md), one test each."""

from datetime import timedelta

import pytest

from cases import services as case_services
from cases.models import Case, CaseEvent
from open311.models import PostedRequest, ServiceAttribute
from open311.render import iso, to_xml
from patrols.models import IncidentCategory

from .test_adapter import fetched, posted, verified
from .test_views import BASE, FORMATS, INSIDE, errors_of, parse

pytestmark = pytest.mark.django_db


def test_the_xml_declaration_names_utf8_as_the_spec_writes_it():
    # "the root element must be preceded with the XML declaration including the
    # encoding="UTF-8" attribute"
    assert to_xml("services", []).startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", ["9999", "0304", "<x>"])
def test_posting_to_an_unknown_service_is_a_404(client, key, fmt, code):
    # POST's errors: "404 - service_code or jurisdiction_id was not found".
    form = {"api_key": key, "service_code": code, **INSIDE}
    errors = errors_of(client.post(f"{BASE}requests.{fmt}", form), fmt)
    assert errors[0][0] == 404 and "was not found" in errors[0][1], errors
    assert not Case.objects.exists() and not PostedRequest.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_realtime_post_answers_the_id_and_no_token(client, key, fmt):
    # token: "This should not be returned if service_request_id is returned".
    form = {"api_key": key, "service_code": "0201", **INSIDE}
    response = client.post(f"{BASE}requests.{fmt}", form)
    answer = posted(response, fmt)
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    if fmt == "xml":
        tags = [c.tag for c in parse(response, fmt).find("request")]
        assert tags == ["service_request_id", "service_notice", "account_id"]
    # The token kept for the request still names it (GET tokens/{token}).
    row = PostedRequest.objects.get()
    token = client.get(f"{BASE}tokens/{row.token}.json").json()
    assert token == [{"service_request_id": answer["service_request_id"], "token": str(row.token)}]


def test_a_closed_request_is_updated_when_it_was_closed(client, territory, key):
    # updated_datetime: "For requests with status=closed, this will be the date the request
    # was closed" - not the resident's rating or the publication that follow verification.
    form = {"api_key": key, "service_code": "0201", **INSIDE}
    number = posted(client.post(f"{BASE}requests.json", form), "json")["service_request_id"]
    case = verified(territory, Case.objects.get(number=number))
    closed_at = CaseEvent.objects.filter(case=case, action="verify").get().at
    case_services.case_act(
        user=territory.users["village_officer"],
        case=case,
        action="publish",
        expected_version=case.version,
        now=closed_at + timedelta(hours=2),
    )
    found = fetched(client, "json", number)
    assert found["status"] == "closed"
    assert found["updated_datetime"] == iso(closed_at)
    assert CaseEvent.objects.filter(case=case).latest("seq").at > closed_at


@pytest.mark.parametrize("fmt", FORMATS)
def test_attribute_orders_are_distinct_positive_integers(client, county, fmt):
    # order: "Any positive integer not used for other attributes in the same service_code".
    item = IncidentCategory.objects.get(code="0201")
    for code in ("b_second", "a_first"):
        ServiceAttribute.objects.create(
            item=item, code=code, datatype="string", order=0, description=code
        )
    body = parse(client.get(f"{BASE}services/0201.{fmt}"), fmt)
    if fmt == "json":
        orders = [(a["code"], a["order"]) for a in body["attributes"]]
    else:
        orders = [
            (a.findtext("code"), int(a.findtext("order")))
            for a in body.find("attributes").findall("attribute")
        ]
    assert orders == [("a_first", 1), ("b_second", 2)]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path,what", [("services/", "service_code"), ("tokens/", "token")])
def test_an_empty_code_in_the_path_was_not_provided(client, county, fmt, path, what):
    # Service definition: "400 - service_code or jurisdiction_id was not provided"; tokens:
    # "400 - jurisdiction_id or token was not provided".
    errors = errors_of(client.get(f"{BASE}{path}.{fmt}"), fmt)
    assert errors == [(400, f"{what} was not provided")]


def test_a_description_of_4000_characters_is_taken_as_the_spec_allows(client, key):
    # description: "free form text limited to 4,000 characters".
    text = "路灯" * 2000
    form = {"api_key": key, "service_code": "0201", "description": text, **INSIDE}
    number = posted(client.post(f"{BASE}requests.json", form), "json")["service_request_id"]
    assert Case.objects.get(number=number).description == text
    form["description"] = text + "灯"
    assert errors_of(client.post(f"{BASE}requests.json", form), "json")[0][0] == 400
