"""The resident's pages: a new request (the catalogue, my home, the map's CRS) and "my
requests" (their own only, the state in words and the running limit, withdrawing, rating)."""

import json
import re

import pytest
from django.urls import reverse

from cases import services
from cases.models import CaseEvent
from territory.models import RoleAssignment

pytestmark = pytest.mark.django_db

A1A_SOUTH = (112.02, 32.62)


@pytest.fixture
def resident(territory, client):
    client.force_login(territory.users["resident"])
    return client


def page_json(response, element_id) -> dict:
    html = response.content.decode()
    found = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, element_id
    return json.loads(found.group(1))


def raise_request(territory, **extra):
    return services.case_report(
        user=territory.users["resident"],
        item="0201",
        lon=A1A_SOUTH[0],
        lat=A1A_SOUTH[1],
        description="路灯不亮",
        **extra,
    )


def to_verified(territory, case):
    officer, worker = territory.users["village_officer"], territory.users["grid_worker"]
    steps = [
        (officer, "dispatch", {"assignee": worker.pk}),
        (worker, "accept", {}),
        (worker, "handle", {"note": "换了灯泡"}),
        (officer, "verify", {}),
    ]
    for user, action, fields in steps:
        case = services.case_act(
            user=user, case=case, action=action, expected_version=case.version, **fields
        )
    return case


def test_the_new_request_page_offers_the_catalogue_and_the_map(territory, resident):
    response = resident.get(reverse("request-new"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="0201"' in html and 'data-category="02"' in html
    assert 'capture="environment"' in html and 'name="photos"' in html
    page = page_json(response, "request-page")
    assert page["api"] == reverse("api-cases") and page["crs"] == "wgs84"
    assert page["home"] is None and 'value="home"' not in html  # no home known
    ring = page["area"]["rings"][0]
    assert [112.05, 32.6] in [[lon, lat] for lat, lon in ring]  # grid 002, as [lat, lon]


def test_my_home_is_offered_when_the_resident_has_one(territory, resident, settings):
    home = territory.households["A1b"]
    RoleAssignment.objects.filter(user=territory.users["resident"]).update(household=home)
    settings.WANGGE_BASEMAP_CRS = "gcj02"
    response = resident.get(reverse("request-new"))
    page = page_json(response, "request-page")
    assert page["household"] == home.pk and 'value="home"' in response.content.decode()
    assert page["crs"] == "gcj02"
    lat, lon = page["home"]
    assert (lon, lat) != (112.07, 32.65) and abs(lon - 112.07) < 0.01  # drawn in GCJ-02


def test_items_are_named_in_the_page_language(territory, resident):
    from patrols.models import IncidentCategory

    item = IncidentCategory.objects.get(code="0201")
    assert item.name_en and item.name_en != item.name
    resident.post(reverse("set_language"), {"language": "en"})
    english = resident.get(reverse("request-new")).content.decode()
    resident.post(reverse("set_language"), {"language": "zh-hans"})
    chinese = resident.get(reverse("request-new")).content.decode()
    assert f">{item.name_en}<" in english and f">{item.name}<" not in english
    assert f">{item.name}<" in chinese and "我的诉求" in chinese


def test_my_requests_lists_only_my_own_with_state_and_limit(territory, resident):
    mine = raise_request(territory)
    services.case_report(user=territory.users["admin"], item="0201", lon=112.02, lat=32.62)
    html = resident.get(reverse("my-requests")).content.decode()
    assert mine.number in html and html.count('class="card request"') == 1
    assert "Reported" in html and "due" in html
    assert "Withdraw this request" in html and "Send rating" not in html


def test_a_request_is_withdrawn_before_dispatch_with_a_reason(territory, resident):
    case = raise_request(territory)
    refused = resident.post(
        reverse("my-requests"), {"case": case.pk, "version": 1, "action": "withdraw", "reason": ""},
        follow=True,
    )  # fmt: skip
    assert "not done" in refused.content.decode()
    case.refresh_from_db()
    assert case.status == "reported"
    done = resident.post(
        reverse("my-requests"),
        {"case": case.pk, "version": 1, "action": "withdraw", "reason": "已自行解决"},
        follow=True,
    )
    case.refresh_from_db()
    assert case.status == "cancelled" and "Withdrawn" in done.content.decode()
    assert CaseEvent.objects.filter(case=case, action="withdraw").get().fields == {
        "reason": "已自行解决"
    }


def test_rating_once_verified_and_shown_afterwards(territory, resident):
    case = to_verified(territory, raise_request(territory))
    html = resident.get(reverse("my-requests")).content.decode()
    assert "Send rating" in html and "Withdraw this request" not in html
    bad = resident.post(
        reverse("my-requests"),
        {"case": case.pk, "version": case.version, "action": "rate", "rating": "9"},
        follow=True,
    )
    assert "not done" in bad.content.decode().lower()
    after = resident.post(
        reverse("my-requests"),
        {"case": case.pk, "version": case.version, "action": "rate", "rating": "4", "note": "快"},
        follow=True,
    )
    case.refresh_from_db()
    assert case.satisfaction == 4
    rated = CaseEvent.objects.get(case=case, action="rate")
    assert (rated.fields, rated.note) == ({"rating": 4}, "快")
    html = after.content.decode()
    assert "Send rating" not in html and "★★★★☆" in html and "快" in html


def test_someone_elses_case_is_not_acted_on_from_my_page(territory, resident):
    other = services.case_report(user=territory.users["admin"], item="0201", lon=112.02, lat=32.62)
    response = resident.post(
        reverse("my-requests"),
        {"case": other.pk, "version": 1, "action": "withdraw", "reason": "x"},
        follow=True,
    )
    assert "No such request of yours" in response.content.decode()
    other.refresh_from_db()
    assert other.status == "reported"
    unknown = resident.post(
        reverse("my-requests"), {"case": other.pk, "version": 1, "action": "verify"}, follow=True
    )
    assert "Unknown action" in unknown.content.decode()


def test_what_a_resident_wrote_is_escaped(territory, resident):
    raise_request(territory).__class__.objects.update(description='<img src=x onerror="alert(1)">')
    html = resident.get(reverse("my-requests")).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_the_nav_and_my_page_link_the_requests(territory, client):
    client.force_login(territory.users["resident"])
    html = client.get(reverse("resident")).content.decode()
    assert html.count(f'href="{reverse("my-requests")}"') >= 2  # the top bar and the page
    assert f'href="{reverse("request-new")}"' in html
    client.force_login(territory.users["grid_worker"])
    assert f'href="{reverse("my-requests")}"' not in client.get(reverse("map")).content.decode()


@pytest.mark.parametrize(
    "body",
    [
        {"case": "1", "version": "²", "action": "withdraw", "reason": "x"},  # isdigit, not int
        {"case": "1", "version": "1", "action": "rate", "rating": "²"},
        {"case": "x" * 50, "action": "withdraw"},
        {"case": "1", "action": "withdraw", "reason": "x" * 5000},
        {},
    ],
)
def test_a_bad_form_body_changes_nothing_and_says_so(territory, resident, body):
    response = resident.post(reverse("my-requests"), body, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Unknown action" in text or "Not done" in text
