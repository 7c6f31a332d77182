"""Patrols and incidents over the REST API."""

import datetime
import io
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from core.tests.errors import refusal
from patrols.models import Incident, IncidentPhoto, Track

pytestmark = pytest.mark.django_db
GRID = "411381001001001"


def jpeg() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (10, 120, 10)).save(out, "JPEG")
    out.seek(0)
    out.name = "photo.jpg"
    return out


def post_incident(client, key, **extra):
    data = {"id": str(key), "item": "0401", "lon": 112.02, "lat": 32.62, "severity": 2} | extra
    return client.post(reverse("api-incidents"), data, format="multipart")


def test_incident_exactly_once_over_the_api(territory, api):
    client = api(territory.users["grid_worker"])
    key = uuid.uuid4()
    first = post_incident(client, key, photos=[jpeg()])
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["properties"]["grid"] == GRID and body["properties"]["micro_grid"] == f"{GRID}01"
    assert len(body["properties"]["photos"]) == 1
    again = post_incident(client, key, photos=[jpeg()])
    assert again.status_code == 200 and again.json()["id"] == str(key)
    assert Incident.objects.count() == 1 and IncidentPhoto.objects.count() == 1
    photo = client.get(body["properties"]["photos"][0]["url"])
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    # another worker reusing the id: a conflict
    other = post_incident(api(territory.users["grid_chief"]), key)
    assert list(refusal(other, 409, "conflict")) == ["id"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"lon": 112.15, "lat": 32.65}, "location"),  # another township
        ({"lon": 500000, "lat": 3600000}, "location"),  # projected metres
        ({"item": "9999"}, "item"),
        ({"observed_at": (timezone.now() + datetime.timedelta(days=2)).isoformat()}, "observed_at"),
    ],
)
def test_bad_incidents_are_400_and_write_nothing(territory, api, extra, field):
    response = post_incident(api(territory.users["grid_worker"]), uuid.uuid4(), **extra)
    assert field in refusal(response, 400)
    assert not Incident.objects.exists()


def test_non_image_upload_is_refused(territory, api):
    fake = io.BytesIO(b"MZ\x90\x00 an executable")
    fake.name = "photo.jpg"
    response = post_incident(api(territory.users["grid_worker"]), uuid.uuid4(), photos=[fake])
    assert response.status_code == 400 and "not a readable image" in response.content.decode()
    assert not Incident.objects.exists()


def test_superiors_see_incidents_others_do_not(territory, api, django_assert_max_num_queries):
    for _ in range(3):
        assert (
            post_incident(
                api(territory.users["grid_worker"]), uuid.uuid4(), photos=[jpeg()]
            ).status_code
            == 201
        )
    for name, seen in [
        ("village_officer", 3),
        ("commander", 3),
        ("grid_chief", 3),
        ("volunteer", 0),
        ("resident", 0),
    ]:
        client = api(territory.users[name])
        with django_assert_max_num_queries(8):
            response = client.get(reverse("api-incidents"))
        assert response.status_code == 200 and len(response.json()["features"]) == seen, name


def test_route_and_due_households(territory, api, django_assert_max_num_queries):
    client = api(territory.users["grid_worker"])
    with django_assert_max_num_queries(10):
        due = client.get(reverse("api-patrol-due"), {"grid": GRID}).json()
    assert len(due["features"]) == 2
    route = client.get(
        reverse("api-patrol-route"), {"grid": GRID, "lon": 112.0, "lat": 32.6}
    ).json()
    assert route["geometry"]["type"] == "LineString"
    stops = route["properties"]["stops"]
    assert [s["properties"]["order"] for s in stops] == [1, 2]
    assert [len(s["properties"]["households"]) for s in stops] == [1, 1]
    assert all(s["properties"]["households"][0]["household"] for s in stops)
    assert route["properties"]["follows_roads"] is False and route["properties"]["total_m"] > 0
    assert client.get(reverse("api-patrol-route"), {"grid": "411381101201001"}).status_code == 404


def test_track_upload_json_and_gpx(territory, api):
    client = api(territory.users["grid_worker"])
    now = timezone.now()
    fixes = [
        {
            "t": (now - datetime.timedelta(minutes=10 - m)).isoformat(),
            "lon": 112.02 + m * 1e-4,
            "lat": 32.62,
            "accuracy": 5,
        }
        for m in range(5)
    ]
    fixes.append({"t": fixes[-1]["t"], "lon": 112.03, "lat": 32.62, "accuracy": 5})
    key = str(uuid.uuid4())
    response = client.post(
        reverse("api-patrol-tracks"), {"client_id": key, "fixes": fixes}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["kept"] == 5 and response.json()["dropped"] == [
        {"index": 5, "reason": "duplicate time"}
    ]
    assert (
        client.post(
            reverse("api-patrol-tracks"), {"client_id": key, "fixes": fixes}, format="json"
        ).status_code
        == 200
    )
    stamp = (now - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = (now - datetime.timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    gpx = io.BytesIO(
        f'<gpx version="1.1"><trk><trkseg><trkpt lat="32.68" lon="112.02"><time>{stamp}</time></trkpt>'
        f'<trkpt lat="32.681" lon="112.02"><time>{later}</time></trkpt></trkseg></trk></gpx>'.encode()
    )
    gpx.name = "walk.gpx"
    response = client.post(
        reverse("api-patrol-tracks"),
        {"client_id": str(uuid.uuid4()), "gpx": gpx},
        format="multipart",
    )
    assert response.status_code == 201 and response.json()["kept"] == 2
    broken = io.BytesIO(b"<gpx><trk>")
    broken.name = "broken.gpx"
    response = client.post(
        reverse("api-patrol-tracks"),
        {"client_id": str(uuid.uuid4()), "gpx": broken},
        format="multipart",
    )
    assert response.status_code == 400 and "GPX" in response.content.decode()
    assert Track.objects.count() == 2


def test_check_in_and_coverage(territory, api):
    worker = api(territory.users["grid_worker"])
    household = territory.households["A1a-south"].pk
    assert (
        worker.post(
            reverse("api-patrol-visits"), {"household": household}, format="json"
        ).status_code
        == 201
    )
    other = territory.households["B1a"].pk
    assert (
        worker.post(reverse("api-patrol-visits"), {"household": other}, format="json").status_code
        == 404
    )
    report = (
        api(territory.users["village_officer"])
        .get(reverse("api-patrol-coverage"), {"grid": GRID, "worker": "grid_worker"})
        .json()
    )
    assert report["visited_due"] == 1 and report["due"] == 2 and report["share_visited"] == 0.5
    assert [o["household"] for o in report["overdue"]] == [territory.households["A1a-north"].pk]
    assert (
        api(territory.users["resident"])
        .get(reverse("api-patrol-coverage"), {"grid": GRID})
        .status_code
        == 404
    )


def test_catalogue(territory, api):
    items = api(territory.users["grid_worker"]).get(reverse("api-incident-categories")).json()
    names = {i["code"]: i["name"] for i in items}
    assert names["01"] == "民生服务" and names["02"] == "污染防治" and names["0401"] == "消防隐患"


def test_an_oversized_upload_is_refused_before_it_is_read(territory, api, monkeypatch):
    from patrols import api as patrol_api

    monkeypatch.setattr(patrol_api, "MAX_UPLOAD", 1000)
    response = post_incident(api(territory.users["grid_worker"]), uuid.uuid4(), photos=[jpeg()])
    assert response.status_code == 400 and "upload too large" in response.content.decode()
    assert not Incident.objects.exists()


def test_mine_is_read_strictly(territory, api):
    assert post_incident(api(territory.users["grid_worker"]), uuid.uuid4()).status_code == 201
    officer = api(territory.users["village_officer"])
    url = reverse("api-incidents")
    for value, seen in [("0", 1), ("false", 1), ("No", 1), ("", 1), ("1", 0), ("true", 0)]:
        response = officer.get(url, {"mine": value})
        assert response.status_code == 200 and len(response.json()["features"]) == seen, value
    mine = api(territory.users["grid_worker"]).get(url, {"mine": "yes"})
    assert len(mine.json()["features"]) == 1
    refused = officer.get(url, {"mine": "maybe"})
    assert "mine" in refusal(refused, 400)


def test_the_incident_reply_is_in_the_crs_asked_for(territory, api):
    from core import coords

    client = api(territory.users["grid_worker"])
    glon, glat = (float(c) for c in coords.point_from_wgs84(112.02, 32.62, "gcj02"))
    key = uuid.uuid4()
    created = post_incident(client, key, lon=glon, lat=glat, crs="gcj02")
    assert created.status_code == 201, created.content
    assert created.json()["geometry"]["coordinates"] == pytest.approx([glon, glat], abs=1e-6)
    stored = Incident.objects.get(pk=key).location
    assert coords.distance_m(stored.x, stored.y, 112.02, 32.62) < 0.5
    again = post_incident(client, key, lon=glon, lat=glat, crs="gcj02")
    assert again.status_code == 200
    assert again.json()["geometry"]["coordinates"] == pytest.approx([glon, glat], abs=1e-6)
    url = reverse("api-incidents") + "?crs=wgs84"
    data = {"id": str(key), "item": "0401", "lon": glon, "lat": glat, "crs": "gcj02"}
    in_wgs84 = client.post(url, data | {"severity": 2}, format="multipart")
    assert in_wgs84.json()["geometry"]["coordinates"] == pytest.approx([112.02, 32.62], abs=1e-6)
    got = client.get(reverse("api-incident", args=[key]), {"crs": "gcj02"})
    assert got.json()["geometry"]["coordinates"] == created.json()["geometry"]["coordinates"]
