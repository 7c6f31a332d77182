"""The adapter wired to the case flow, over HTTP on the real PostGIS territory: a posted request
is a case (source open311, placed in its grid, its contact masked), GET requests shows the
county's public cases at grid precision with every filter, in one query whatever their number,
and a case's status follows the flow (open, then closed once verified)."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point, Polygon
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.models import Case, CaseEvent, ServiceTerms, Source
from open311 import adapter
from open311.models import PostedRequest
from open311.render import iso

from .test_views import BASE, FORMATS, INSIDE, errors_of, parse

pytestmark = pytest.mark.django_db

A1A = "411381001001001"  # the grid INSIDE lies in
A1A_BOX = (112.0, 32.6, 112.05, 32.7)


def post(client, fmt, key, **form):
    data = {"api_key": key, "service_code": "0201", **INSIDE, **form}
    return client.post(f"{BASE}requests.{fmt}", data)


def posted(response, fmt) -> dict:
    assert response.status_code == 201, response.content
    body = parse(response, fmt)
    return body[0] if fmt == "json" else {c.tag: c.text for c in body.find("request")}


def fetched(client, fmt, service_request_id) -> dict:
    response = client.get(f"{BASE}requests/{service_request_id}.{fmt}")
    assert response.status_code == 200, response.content
    body = parse(response, fmt)
    return body[0] if fmt == "json" else {c.tag: c.text for c in body.find("request")}


def verified(territory, case: Case) -> Case:
    """The case walked to verified by the station and a volunteer (cases.services.case_act)."""
    steps = [
        ("village_officer", "dispatch", {"assignee": territory.users["volunteer"].pk}),
        ("volunteer", "accept", {}),
        ("volunteer", "handle", {"note": "已修好"}),
        ("village_officer", "verify", {}),
    ]
    for who, action, fields in steps:
        case.refresh_from_db()
        case = case_services.case_act(
            user=territory.users[who],
            case=case,
            action=action,
            expected_version=case.version,
            **fields,
        )
    return case


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_posted_request_is_a_placed_case_found_again_at_grid_precision(
    client, territory, key, api, fmt
):
    answer = posted(
        post(
            client,
            fmt,
            key,
            service_code="0205",
            **{"attribute[noise_source]": "construction"},
            **{"attribute[heard_at]": "2026-05-01T22:30:00+08:00"},
            description="夜里施工",
            first_name="三丰",
            last_name="张",
            phone="13812345678",
            email="a@example.cn",
            account_id="acct-1",
            media_url="https://example.cn/p.jpg",
        ),
        fmt,
    )
    case = Case.objects.get()
    assert answer["service_request_id"] == case.number and answer["account_id"] == "acct-1"
    assert case.source == Source.OPEN311 and case.reporter is None
    assert case.grid.code == A1A and case.item.code == "0205"
    assert (case.point.x, case.point.y) == (112.02, 32.65)
    assert (case.contact_name, case.contact_phone) == ("张 三丰", "13812345678")
    assert case.attributes == {
        "noise_source": "construction",
        "heard_at": "2026-05-01T22:30:00+08:00",
    }
    assert case.reporter_details == {
        "email": "a@example.cn",
        "account_id": "acct-1",
        "media_url": "https://example.cn/p.jpg",
    }
    first = CaseEvent.objects.get(case=case)
    assert (first.actor, first.actor_system) == (None, "城市 App")
    # The contact is the case's: masked for a user who may not see it, in clear for one who may.
    masked = api(territory.users["commander"]).get(reverse("api-case", args=[case.pk])).json()
    assert masked["contact_name"] != "张 三丰" and "*" in masked["contact_phone"]
    assert "a@example.cn" not in str(masked)
    clear = api(territory.users["grid_worker"]).get(reverse("api-case", args=[case.pk])).json()
    assert clear["contact_phone"] == "13812345678"
    # The token names the same id.
    row = PostedRequest.objects.get()
    assert "token" not in answer and row.service_request_id == case.number
    token_body = client.get(f"{BASE}tokens/{row.token}.json").json()
    assert token_body == [{"service_request_id": case.number, "token": str(row.token)}]
    # GET requests/{id}: the public fields, the point of the grid, never the exact one.
    found = fetched(client, fmt, case.number)
    assert found["service_request_id"] == case.number and found["status"] == "open"
    assert found["service_code"] == "0205" and found["description"] == "夜里施工"
    lat, long = float(found["lat"]), float(found["long"])
    assert (long, lat) != (112.02, 32.65)
    assert Polygon.from_bbox(A1A_BOX).covers(Point(long, lat))
    assert Point(long, lat, srid=4326).within(case.grid.boundary.buffer(1e-9))
    for secret in ("张", "13812345678", "a@example.cn", "example.cn/p.jpg", "acct-1"):
        assert secret not in str(found), secret
    assert found["media_url"] in ("", None)
    assert found["expected_datetime"] and found["updated_datetime"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_point_outside_the_county_or_without_a_grid_is_refused_in_the_spec_shape(
    client, territory, key, fmt
):
    errors = errors_of(post(client, fmt, key, lat="31.0", long="112.02"), fmt)
    assert errors == [(400, "lat/long lies outside jurisdiction 411381")]
    assert not Case.objects.exists() and not PostedRequest.objects.exists()


def test_the_case_flow_refusing_a_point_is_the_spec_error(client, territory, key, monkeypatch):
    # The county's boundary covers the point but no grid does (a hole in the grid layer):
    # the case flow's own refusal comes back as the spec's 400, and nothing is written.
    from open311 import selectors

    monkeypatch.setattr(selectors, "county_covers", lambda **kwargs: True)
    errors = errors_of(post(client, "json", key, lat="31.0", long="112.02"), "json")
    assert errors == [(400, "this point lies in no grid")]
    assert not Case.objects.exists() and not PostedRequest.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_address_without_a_point_is_refused(client, territory, key, fmt):
    data = {"api_key": key, "service_code": "0201", "address_string": "和平路 1 号"}
    errors = errors_of(client.post(f"{BASE}requests.{fmt}", data), fmt)
    assert errors == [(400, adapter.NO_POINT)]
    assert not Case.objects.exists() and not PostedRequest.objects.exists()


def test_a_resent_post_is_a_second_case(client, territory, key):
    # GeoReport v2 has no idempotency key: the station merges a retried request.
    first = posted(post(client, "json", key, description="x"), "json")
    second = posted(post(client, "json", key, description="x"), "json")
    assert first["service_request_id"] != second["service_request_id"]
    assert Case.objects.count() == 2


def test_status_is_open_until_the_case_is_verified(client, territory, key):
    number = posted(post(client, "json", key), "json")["service_request_id"]
    assert fetched(client, "json", number)["status"] == "open"
    case = verified(territory, Case.objects.get(number=number))
    assert case.status == "verified"
    found = fetched(client, "json", number)
    assert found["status"] == "closed"
    assert case.due_at is not None and found["expected_datetime"] is None  # fulfilled
    last = CaseEvent.objects.filter(case=case).latest("seq")
    assert last.action == "verify"
    assert found["updated_datetime"] == iso(last.at)
    assert client.get(f"{BASE}requests.json", {"status": "open"}).json() == []
    closed = client.get(f"{BASE}requests.json", {"status": "closed"}).json()
    assert [r["service_request_id"] for r in closed] == [number]


def test_a_rejection_gives_its_reason_as_status_notes(client, territory, key):
    number = posted(post(client, "json", key), "json")["service_request_id"]
    case = Case.objects.get(number=number)
    case_services.case_act(
        user=territory.users["village_officer"],
        case=case,
        action="reject",
        expected_version=case.version,
        reason="不属于本辖区事项",
    )
    found = fetched(client, "json", number)
    assert (found["status"], found["status_notes"]) == ("closed", "不属于本辖区事项")


def test_get_requests_filters(client, territory, key):
    ids = [
        posted(post(client, "json", key, service_code=code, **extra), "json")["service_request_id"]
        for code, extra in [
            ("0201", {}),
            ("0205", {"attribute[noise_source]": "shop"}),
            ("0201", {}),
        ]
    ]
    old = Case.objects.get(number=ids[0])
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=120))

    def listed(**query):
        return [r["service_request_id"] for r in client.get(f"{BASE}requests.json", query).json()]

    assert listed() == [ids[2], ids[1]]  # the last 90 days, newest first
    assert listed(service_code="0205") == [ids[1]]
    assert listed(service_code="0201,0205", limit="1") == [ids[2]]
    start = (timezone.now() - timedelta(days=150)).isoformat()
    end = (timezone.now() - timedelta(days=100)).isoformat()
    assert listed(start_date=start, end_date=end) == [ids[0]]
    assert listed(status="closed") == [] and listed(status="open") == [ids[2], ids[1]]
    # Ids override every other argument, the old one included.
    assert listed(service_request_id=f"{ids[0]},{ids[1]}", status="closed") == [ids[1], ids[0]]
    assert errors_of(client.get(f"{BASE}requests/411381-20000101-0001.json"), "json")[0][0] == 404


def test_undisclosed_items_and_other_counties_are_not_listed(client, territory, key):
    from territory.tests.factories import UnitFactory, box

    number = posted(post(client, "json", key), "json")["service_request_id"]
    ServiceTerms.objects.filter(item__code="0201").update(public=False)
    assert client.get(f"{BASE}requests.json").json() == []
    assert errors_of(client.get(f"{BASE}requests/{number}.json"), "json")[0][0] == 404
    ServiceTerms.objects.filter(item__code="0201").update(public=True)
    UnitFactory(level="county", code="411302", boundary=box(113.0, 33.0, 113.1, 33.1))
    other = client.get(f"{BASE}requests.json", {"jurisdiction_id": "411302"}).json()
    assert other == []
    mine = client.get(f"{BASE}requests.json", {"jurisdiction_id": "411381"}).json()
    assert [r["service_request_id"] for r in mine] == [number]


def test_the_department_is_the_agency_responsible(client, territory, key):
    from cases.models import Department

    number = posted(post(client, "json", key), "json")["service_request_id"]
    bureau = Department.objects.create(code="csj", name="城管局", county_code="411381")
    Case.objects.filter(number=number).update(department=bureau)
    assert fetched(client, "json", number)["agency_responsible"] == "城管局"


def test_get_requests_is_one_query_whatever_the_number_of_cases(client, territory, key):
    for _ in range(3):
        posted(post(client, "json", key), "json")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            body = client.get(f"{BASE}requests.json").json()
        return len(queries), len(body)

    few, listed = count()
    assert listed == 3
    for _ in range(12):
        posted(post(client, "json", key), "json")
    many, listed = count()
    assert listed == 15 and many == few and many <= 3


def test_a_phone_or_id_number_written_in_the_description_is_masked_in_public(
    client, territory, key
):
    answer = posted(
        post(
            client,
            "json",
            key,
            service_code="0205",
            **{"attribute[noise_source]": "construction"},
            description="噪音太大，请打 138 1234 5678 或身份证 41138119800101123X 联系",
        ),
        "json",
    )
    found = fetched(client, "json", answer["service_request_id"])
    assert "138 1234 5678" not in found["description"]
    assert "41138119800101123X" not in found["description"]
    assert found["description"].startswith("噪音太大，请打 138 ") and "联系" in found["description"]
