"""The rankings, ratings and weekly report endpoints and the two pages, for every role: the
station and the centre read their own subtree (200), every other role is refused (403),
anonymous users are sent to log in, a unit outside one's reach is a 404 and a bad parameter a
400; the rated figures come back with each frozen rating."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.working_time import SHANGHAI
from command import services
from command.models import StarRating

pytestmark = pytest.mark.django_db

# Every reader reaches the village; the defaults (one's own unit) are checked below.
Q3 = {"start": "2026-07-01", "end": "2026-09-30", "unit": "411381001001"}
ENDPOINTS = [
    ("api-command-rankings", {"level": "grid", **Q3}),
    ("api-command-ratings", {"year": "2026", "quarter": "3", "unit": "411381001001"}),
    ("api-command-ratings-annual", {"year": "2026", "kind": "village"}),
    ("api-command-report-xlsx", Q3),
    ("api-command-report-html", Q3),
]
PAGES = [
    ("command-rankings", {"level": "worker", **Q3}),
    ("command-ratings", {"year": "2026", "quarter": "3"}),
    ("command-ratings", {"year": "2026", "view": "annual"}),
]
READERS = {"commander", "township_commander", "village_officer", "admin"}
OTHERS = {
    "grid_chief",
    "grid_worker",
    "microgrid_worker",
    "volunteer",
    "department_staff",
    "resident",
}


def test_the_role_matrix(territory, api):
    services.ratings_freeze(
        year=2026, quarter=3, now=datetime.datetime(2026, 10, 2, tzinfo=SHANGHAI)
    )
    seen = {}
    for name, params in ENDPOINTS:
        url = reverse(name)
        assert api(None).get(url, params).status_code == 403, name
        for who in READERS | OTHERS:
            status = api(territory.users[who]).get(url, params).status_code
            seen[(name, who)] = status
        # Outside one's reach: the township's commander asking for the other township.
        outside = api(territory.users["township_commander"]).get(
            url, {**params, "unit": "411381101"}
        )
        assert outside.status_code == 404, name
        bad = api(territory.users["commander"]).get(url, {**params, "unit": "4113x"})
        assert bad.status_code == 400, name
    for name, params in PAGES:
        client = Client()
        assert client.get(reverse(name), params).status_code == 302
        for who in READERS | OTHERS:
            client.force_login(territory.users[who])
            seen[(name, who)] = client.get(reverse(name), params).status_code
        client.force_login(territory.users["township_commander"])
        assert client.get(reverse(name), {**params, "unit": "411381101"}).status_code == 404
    expected = {
        (name, who): 200 if who in READERS else 403
        for name in [n for n, _ in ENDPOINTS + PAGES]
        for who in READERS | OTHERS
    }
    assert seen == expected


def test_a_quarters_ratings_with_their_figures(territory, api):
    services.ratings_freeze(
        year=2026, quarter=3, now=datetime.datetime(2026, 10, 2, tzinfo=SHANGHAI)
    )
    client = api(territory.users["village_officer"])
    body = client.get(reverse("api-command-ratings"), {"year": 2026, "quarter": 3}).json()
    assert body["unit"] == "411381001001" and body["kind"] == "grid"
    grids = {r["subject"]: r for r in body["ratings"]}
    assert set(grids) == {"411381001001001", "411381001001002"}  # not township B's
    one = grids["411381001001001"]
    assert one["stars"] == 1 and one["figures"]["households"] == 2
    assert one["parts"] == {"patrol_coverage": 0.0} and one["formula_version"] == "2026.1"
    workers = client.get(
        reverse("api-command-ratings"), {"year": 2026, "quarter": 3, "kind": "worker"}
    ).json()["ratings"]
    assert len(workers) == 3
    annual = client.get(reverse("api-command-ratings-annual"), {"year": 2026}).json()
    line = annual["subjects"][0]
    assert line["total_stars"] == 1 and line["history"] == [
        {"quarter": 3, "stars": 1, "score": 0.0}
    ]

    # A fixed number of queries, whatever the number of ratings.
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert (
                client.get(reverse("api-command-ratings"), {"year": 2026, "quarter": 3}).status_code
                == 200
            )
            assert (
                client.get(reverse("api-command-ratings-annual"), {"year": 2026}).status_code == 200
            )
        return len(ctx)

    before = queries()
    extra = StarRating.objects.get(kind="grid", subject="411381001001001")
    for q in (1, 2):
        extra.pk, extra.quarter = None, q
        extra.save()
    assert queries() == before <= 8
    for params in ({"year": 2026, "quarter": 5}, {"year": "x", "quarter": 1}, {"kind": "x"}):
        refused = client.get(reverse("api-command-ratings"), {"year": 2026, "quarter": 3, **params})
        assert refused.status_code == 400


def test_the_ratings_page_shows_the_figures(territory, client):
    services.ratings_freeze(
        year=2026, quarter=3, now=datetime.datetime(2026, 10, 2, tzinfo=SHANGHAI)
    )
    client.force_login(territory.users["commander"])
    response = client.get(reverse("command-ratings"), {"year": 2026, "quarter": 3})
    text = response.content.decode()
    assert 'id="rating-list"' in text and "★☆☆☆☆" in text and "2026.1" in text
    assert len(response.context["table"]) == 3
    response = client.get(reverse("command-ratings"), {"year": "20x6", "quarter": 3})
    assert response.status_code == 400
    # In Chinese (the catalogue is compiled by the bootstrap).
    response = client.get(
        reverse("command-ratings"), {"year": 2026, "quarter": 3}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert "季度星级评定" in response.content.decode()


@pytest.mark.parametrize(
    "name, unit, level",
    [
        ("commander", "411381", "township"),
        ("township_commander", "411381001", "village"),
        ("village_officer", "411381001001", "grid"),
    ],
)
def test_the_rankings_rank_the_units_one_level_down_by_default(territory, api, name, unit, level):
    # A county's commander compares its townships first: its every grid is a page no one reads.
    body = api(territory.users[name]).get(reverse("api-command-rankings"), Q3 | {"unit": unit})
    assert body.status_code == 200, body.content
    assert body.json()["level"] == level
    assert {row["code"][: len(unit)] for row in body.json()["rows"]} <= {unit}
