"""No input makes a 500: hypothesis sends POST requests.json generated form bodies (known
fields, attributes, junk names, control characters, undecodable bytes, broken multipart) and
GET requests generated query strings; every answer is a success or the spec's error array."""

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from open311 import attributes, services
from open311.models import ServiceAttribute
from patrols.models import IncidentCategory

pytestmark = pytest.mark.django_db

NAMES = [
    "api_key",
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
    "attribute[noise_source]",
    "attribute[heard_at]",
    "attribute[vehicle_kinds][]",
    "attribute[lights_out]",
    "attribute[",
    "attribute[[x]]",
    "service_request_id",
    "start_date",
    "end_date",
    "status",
    "limit",
    "locale",
]
VALUES = st.one_of(
    st.sampled_from(
        [
            "0205",
            "0602",
            "0506",
            "411381",
            "32.65",
            "112.02",
            "nan",
            "1e999",
            "-0",
            "construction",
            "car",
            "2026-05-01T22:30:00+08:00",
            "9999-12-31",
            "open",
            "1000",
            "0",
            "",
        ]
    ),
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x20), max_size=5),
)
FORMS = st.dictionaries(
    st.one_of(st.sampled_from(NAMES), st.text(max_size=12)),
    st.lists(VALUES, min_size=1, max_size=3),
    max_size=10,
)
HYPOTHESIS = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def ready(territory):
    # The real adapter: a generated body that passes every check becomes a case.
    attributes.seed(IncidentCategory, ServiceAttribute)
    return services.client_create(name="App", county_code="411381")[1]


def assert_answered(response):
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        body = json.loads(response.content)
        assert body and all(set(e) == {"code", "description"} for e in body)
        assert body[0]["code"] == response.status_code


GOOD = {"service_code": ["0201"], "lat": ["32.65"], "long": ["112.02"]}


def test_no_form_body_of_post_requests_is_a_server_error(client, ready):
    seen = set()

    @HYPOTHESIS
    @given(form=FORMS, with_key=st.booleans())
    @example(form=GOOD, with_key=True)
    @example(form={**GOOD, "attribute[x]": ["1"]}, with_key=True)
    def run(form, with_key):
        if with_key:
            form = {**form, "api_key": [ready]}
        body = urlencode([(k, v) for k, values in form.items() for v in values])
        response = client.post(
            "/open311/v2/requests.json", body, content_type="application/x-www-form-urlencoded"
        )
        assert_answered(response)
        seen.add(response.status_code)

    run()
    # Not vacuous: bodies were accepted, refused for their form and for their key.
    assert {201, 400, 403} <= seen, seen


@HYPOTHESIS
@given(
    raw=st.binary(max_size=200),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "text/plain",
        ]
    ),
)
def test_no_raw_body_is_a_server_error(client, ready, raw, content_type):
    response = client.generic(
        "POST", f"/open311/v2/requests.json?api_key={ready}", raw, content_type=content_type
    )
    assert_answered(response)


@HYPOTHESIS
@given(query=FORMS, path=st.sampled_from(["requests", "services", "services/0205", "requests/C1"]))
def test_no_query_string_is_a_server_error(client, ready, query, path):
    qs = urlencode([(k, v) for k, values in query.items() for v in values])
    assert_answered(client.get(f"/open311/v2/{path}.json?{qs}"))
