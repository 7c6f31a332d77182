"""The public disclosure (晒单): a village's, township's and county's published cases for
anyone, as a page, a JSON Feed and the grids' counts as GeoJSON. Only public fields: a case
whose every personal field carries a name, a phone and an ID number shows none of them; items
never disclosed and cases not yet published never appear; bounded queries; cacheable."""

import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import selectors, services
from territory.services import role_assign

pytestmark = pytest.mark.django_db

A1B = (112.07, 32.65)  # grid A1b 411381001001002, the resident's grid
B1A = (112.15, 32.65)  # township B
VILLAGE_A1 = "411381001001"
PHONE = "13812345678"
ID_NUMBER = "41138119800101123X"
# Tuesday 2026-12-01 10:00 and Thursday 2026-12-03 15:00 in Shanghai: office hours.
REPORTED = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
VERIFIED = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
PERSONAL = (PHONE, ID_NUMBER, "张秀英", "李建国", "13987654321", "410101199001011234")


def act(territory, who, case, action, **fields):
    case.refresh_from_db()
    return services.case_act(
        user=territory.users[who],
        case=case,
        action=action,
        expected_version=case.version,
        **fields,
    )


def raise_case(territory, *, item="0201", where=A1B, who="resident", **extra):
    return services.case_report(
        user=territory.users[who],
        item=item,
        lon=where[0],
        lat=where[1],
        description=f"李建国家门口垃圾堆, 电话 {PHONE}, 身份证 {ID_NUMBER}",
        contact_name="张秀英",
        contact_phone="13987654321",
        **extra,
    )


def publish(territory, case, *, note=None, rating=4, stop_at="publish"):
    in_a1 = f"/{VILLAGE_A1}/" in case.territory_path
    officer = "village_officer" if in_a1 else "commander"
    volunteer = territory.users["volunteer"]
    steps = [
        (officer, "dispatch", {"assignee": volunteer.pk, "now": REPORTED}),
        ("volunteer", "accept", {"now": REPORTED}),
        (
            "volunteer",
            "handle",
            {
                "note": note or f"已清运, 联系人电话 {PHONE}, 身份证 410101199001011234",
                "now": VERIFIED,
            },
        ),
        (officer, "verify", {"now": VERIFIED}),
        ("resident", "rate", {"rating": rating}),
        (officer, "publish", {}),
    ]
    for who, action, fields in steps:
        if action == "rate" and case.source != "resident":
            continue
        case = act(territory, who, case, action, **fields)
        if action == stop_at:
            break
    return case


@pytest.fixture(autouse=True)
def in_chinese(client):
    client.cookies["django_language"] = "zh-hans"  # the site's own language (tests run in en)


@pytest.fixture
def disclosed(territory):
    resident = territory.users["resident"]
    resident.first_name, resident.last_name = "秀英", "张"
    resident.save()
    # The volunteer serves township B's village too, so that its cases can be worked.
    role_assign(user=territory.users["volunteer"], role="volunteer", unit_code="411381101201")
    case = publish(territory, raise_case(territory, now=REPORTED))
    return case


def page(client, code=VILLAGE_A1, **params):
    return client.get(reverse("public-cases", args=[code]), params)


def feed(client, code=VILLAGE_A1, **params):
    return client.get(reverse("public-cases-feed", args=[code]), params)


def test_the_village_page_shows_the_published_case_without_personal_data(
    territory, client, disclosed
):
    response = page(client)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="case-{disclosed.number}"' in html
    assert "垃圾乱堆乱放" in html
    assert territory.units["411381001001002"].name in html
    assert "★★★★☆" in html
    # The handling note, its numbers masked (territory.privacy.scrub_text).
    assert "已清运" in html and "138****5678" in html
    for personal in PERSONAL:
        assert personal not in html, personal
    assert "李建国家门口" not in html  # the resident's description is not published at all


def test_the_feed_is_a_json_feed_with_public_fields_only(territory, client, disclosed):
    response = feed(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/feed+json")
    body = response.content.decode()
    for personal in PERSONAL:
        assert personal not in body, personal
    document = json.loads(body)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["feed_url"].endswith(f"/public/{VILLAGE_A1}/feed.json")
    assert document["home_page_url"].endswith(f"/public/{VILLAGE_A1}/")
    (item,) = document["items"]
    assert item["id"] == disclosed.number
    assert item["url"].endswith(f"#case-{disclosed.number}")
    assert "138****5678" in item["content_text"]
    extension = item["_wangge"]
    assert extension["item"] == {"code": "0201", "name": "垃圾乱堆乱放"}
    assert extension["grid"]["code"] == "411381001001002"
    assert extension["satisfaction"] == 4
    calendar = selectors.working_calendar()
    expected = calendar.working_hours_between(REPORTED, VERIFIED).hours
    assert extension["working_hours"] == round(expected, 1) and expected > 0
    assert item["date_published"] == extension["published_at"]
    assert set(extension) == {
        "number",
        "category",
        "item",
        "grid",
        "village",
        "reported_at",
        "published_at",
        "working_hours",
        "working_hours_estimated",
        "result",
        "satisfaction",
    }


def test_the_feed_and_page_in_english(territory, client, disclosed):
    client.cookies["django_language"] = "en"
    html = page(client).content.decode()
    assert "Rubbish dumped" in html and "Published cases of" in html
    document = feed(client).json()
    assert document["language"] == "en"
    assert document["items"][0]["_wangge"]["item"]["name"] == "Rubbish dumped"


def test_unscrubbed_notes_would_show(territory, client, disclosed, monkeypatch):
    """The guard above is real: without scrub_text the phone of the note reaches the page."""
    from cases.views import public

    monkeypatch.setattr(public, "scrub_text", lambda text: text)
    assert PHONE in page(client).content.decode()


def test_a_township_and_the_county_name_the_village(territory, client, disclosed):
    village = territory.units[VILLAGE_A1]
    for code in ("411381001", "411381"):
        html = page(client, code).content.decode()
        assert f'id="case-{disclosed.number}"' in html and village.name in html, code
        assert feed(client, code).json()["items"][0]["_wangge"]["village"]["code"] == VILLAGE_A1


def test_hidden_items_and_unpublished_cases_never_appear(territory, client, disclosed):
    hidden = publish(territory, raise_case(territory, item="0303", now=REPORTED))
    assert hidden.status == "published"
    verified = publish(territory, raise_case(territory, now=REPORTED), stop_at="verify")
    assert verified.status == "verified"
    fresh = raise_case(territory, now=REPORTED)
    html = page(client).content.decode()
    numbers = [i["id"] for i in feed(client).json()["items"]]
    assert numbers == [disclosed.number]
    for case in (hidden, verified, fresh):
        assert case.number not in html
    grids = client.get(reverse("public-cases-grids", args=[VILLAGE_A1])).json()
    counts = {f["properties"]["code"]: f["properties"]["cases"] for f in grids["features"]}
    assert counts == {"411381001001001": 0, "411381001001002": 1}


def test_other_villages_cases_stay_on_their_page(territory, client, disclosed):
    other = publish(territory, raise_case(territory, where=B1A, who="commander", now=REPORTED))
    assert other.number not in page(client).content.decode()
    assert other.number in page(client, "411381101201").content.decode()
    assert disclosed.number not in page(client, "411381101201").content.decode()


@pytest.mark.parametrize(
    "code", ["999999", "411381001001002", "41138100100100101", "abc", "4113810010019999"]
)
def test_unknown_codes_and_grids_are_404(territory, client, code):
    for name in ("public-cases", "public-cases-feed", "public-cases-grids"):
        response = client.get(reverse(name, args=[code]))
        assert response.status_code == 404, (name, code)
    assert "<main>" in page(client, code).content.decode()  # the site's own 404 page


def test_the_map_data_is_grid_polygons_only(territory, client, disclosed):
    response = client.get(reverse("public-cases-grids", args=[VILLAGE_A1]))
    body = response.content.decode()
    for personal in PERSONAL:
        assert personal not in body
    document = response.json()
    assert {f["geometry"]["type"] for f in document["features"]} <= {"Polygon", "MultiPolygon"}
    assert set(document["features"][0]["properties"]) == {"code", "name", "cases"}
    assert (
        client.get(reverse("public-cases-grids", args=[VILLAGE_A1]), {"crs": "x"}).status_code
        == 400
    )
    gcj = client.get(reverse("public-cases-grids", args=[VILLAGE_A1]), {"crs": "gcj02"})
    assert gcj.status_code == 200


def test_answers_are_cacheable_and_need_no_login(territory, client, disclosed):
    for url in (
        reverse("public-index"),
        reverse("public-cases", args=[VILLAGE_A1]),
        reverse("public-cases-feed", args=[VILLAGE_A1]),
        reverse("public-cases-grids", args=[VILLAGE_A1]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        cache = response["Cache-Control"]
        assert "max-age=60" in cache, url
        # A page carries its visitor's CSRF token (the language form): never in a shared cache.
        page = url in (reverse("public-index"), reverse("public-cases", args=[VILLAGE_A1]))
        assert ("private" if page else "public") in cache, url
        assert ("public" not in cache) if page else True, url
        assert client.post(url).status_code == 405, url


def test_pages_are_paginated(territory, client, disclosed, monkeypatch):
    from cases.views import public

    monkeypatch.setattr(public, "PAGE_SIZE", 1)
    second = publish(territory, raise_case(territory, now=REPORTED))
    first_page = feed(client).json()
    assert [i["id"] for i in first_page["items"]] == [second.number]
    assert first_page["next_url"].endswith("?page=2")
    assert [i["id"] for i in feed(client, page=2).json()["items"]] == [disclosed.number]
    assert "next_url" not in feed(client, page=2).json()
    assert disclosed.number in page(client, page=2).content.decode()
    assert page(client, page="junk").status_code == 200


def test_the_index_lists_the_units_with_published_cases(territory, client, disclosed):
    html = client.get(reverse("public-index")).content.decode()
    for code in ("411381", "411381001", VILLAGE_A1):
        assert reverse("public-cases", args=[code]) in html, code
    assert reverse("public-cases", args=["411381101201"]) not in html


def test_a_bounded_number_of_queries_whatever_the_cases(territory, client, disclosed):
    def counted(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    urls = [
        reverse("public-cases", args=["411381"]),
        reverse("public-cases-feed", args=["411381"]),
        reverse("public-cases-grids", args=["411381"]),
        reverse("public-index"),
    ]
    before = [counted(url) for url in urls]
    for where in (A1B, A1B, B1A):
        publish(territory, raise_case(territory, where=where, who="commander", now=REPORTED))
    after = [counted(url) for url in urls]
    assert after == before
    # Page and feed: the unit, the count, the page's cases, the calendar's overrides, the
    # villages; the map: the unit, the counts, the current grids, the grids; the index: two.
    assert all(n <= budget for n, budget in zip(before, [5, 5, 4, 2], strict=True)), before


def test_the_login_page_and_a_residents_page_link_to_the_public_pages(territory, client):
    assert 'href="/public/"' in client.get(reverse("login")).content.decode()
    client.force_login(territory.users["resident"])  # a resident of grid A1b, village A1
    html = client.get(reverse("resident")).content.decode()
    assert f'href="{reverse("public-cases", args=[VILLAGE_A1])}"' in html
    assert "晒单公示" in html


@pytest.mark.parametrize(
    "code,params",
    [
        ("４１１３８１", {}),  # full-width digits are digits to Python, not a division code
        ("411381\x00", {}),
        ("4" * 500, {}),
        (VILLAGE_A1, {"page": "\x00"}),
        (VILLAGE_A1, {"page": "-1"}),
        (VILLAGE_A1, {"page": "9" * 40}),
    ],
)
def test_hostile_codes_and_pages_never_answer_500(territory, client, code, params):
    for name in ("public-cases", "public-cases-feed", "public-cases-grids"):
        response = client.get(reverse(name, args=[code]), params)
        # A NUL anywhere in the address is refused before any view (core's middleware).
        nul = "\x00" in code or any("\x00" in v for v in params.values())
        assert response.status_code in ((400,) if nul else (200, 404)), (name, code, params)
    grids = reverse("public-cases-grids", args=[VILLAGE_A1])
    assert client.get(grids, {"crs": "\x00" * 30}).status_code == 400
