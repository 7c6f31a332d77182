"""Photos on case events: through the incident photo pipeline (decoded, metadata dropped, under
the upload's limits), written with their action or not at all, immutable, and served only to
those who may see the case."""

import io

import pytest
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from PIL import Image

from cases import services
from cases.models import Case, CaseEvent, CasePhoto
from core.tests.errors import refusal
from patrols import photos
from patrols.tests.test_api import FullDisk, ReadOnly
from patrols.tests.test_photos import jpeg_with_gps
from territory.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

A1A_SOUTH = (112.02, 32.62)  # grid 411381001001001, where the grid worker serves


@pytest.fixture(autouse=True)
def fresh_store(settings):
    """An empty photo store per test (the test settings' in-memory one outlives a test)."""
    settings.STORAGES = settings.STORAGES | {
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}
    }


def upload(data: bytes, name: str) -> io.BytesIO:
    out = io.BytesIO(data)
    out.name = name
    return out


def png_bytes(size=(120, 90), colour=(10, 120, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def request_case(client, photo_files, where=A1A_SOUTH, **extra):
    return client.post(
        reverse("api-cases"),
        {
            "item": "0201",
            "lon": where[0],
            "lat": where[1],
            "description": "路灯不亮",
            "photos": photo_files,
            **extra,
        },
        format="multipart",
    )


def act(client, case_id, action, version, photo_files=(), **fields):
    return client.post(
        reverse("api-case-act", args=[case_id]),
        {"action": action, "version": version, "photos": list(photo_files), **fields},
        format="multipart",
    )


def counts():
    return (Case.objects.count(), CaseEvent.objects.count(), CasePhoto.objects.count())


def stored_files() -> list[str]:
    try:
        folders, _ = default_storage.listdir("cases")
    except FileNotFoundError:
        return []
    return [f for d in folders for f in default_storage.listdir(f"cases/{d}")[1]]


def test_a_request_with_a_jpeg_and_a_png_keeps_both_without_their_metadata(territory, api):
    resident = api(territory.users["resident"])
    response = request_case(
        resident, [upload(jpeg_with_gps(), "a.jpg"), upload(png_bytes(), "b.png")]
    )
    assert response.status_code == 201, response.content
    report = response.json()["history"][0]
    assert report["action"] == "report" and len(report["photos"]) == 2
    first = CasePhoto.objects.order_by("n").first()
    assert (first.n, first.content_type, first.original_format) == (1, "image/jpeg", "JPEG")
    assert first.size == first.image.size and len(first.sha256) == 64
    for photo in report["photos"]:
        assert set(photo) == {"url"}
        served = resident.get(photo["url"])
        assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
        image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
        assert image.format == "JPEG" and not image.getexif()  # no GPS, no phone model
    # Nothing under MEDIA_URL, even for someone who may see the case.
    assert Client().get(f"/media/{first.image.name}").status_code == 404


def test_the_handler_reports_handled_with_a_photo_of_the_result(territory, api):
    case = services.case_report(
        user=territory.users["resident"], item="0201", lon=A1A_SOUTH[0], lat=A1A_SOUTH[1]
    )
    officer, worker = territory.users["village_officer"], territory.users["grid_worker"]
    case = services.case_act(
        user=officer, case=case, action="dispatch", expected_version=case.version,
        assignee=worker.pk,
    )  # fmt: skip
    case = services.case_act(user=worker, case=case, action="accept", expected_version=case.version)
    response = act(
        api(worker), case.pk, "handle", case.version, [upload(png_bytes(), "done.png")],
        note="修好了",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    handled = response.json()["history"][-1]
    assert handled["action"] == "handle" and len(handled["photos"]) == 1
    # The resident sees the result's photo on their own case.
    assert api(territory.users["resident"]).get(handled["photos"][0]["url"]).status_code == 200


REFUSALS = [
    # (what, files, status, message)
    (
        "too big",
        lambda: [upload(b"\xff\xd8\xff" + b"0" * (photos.MAX_BYTES + 10), "big.jpg")],
        413,
        "at most 10 MiB",
    ),
    ("not an image", lambda: [upload(b"just some text", "note.jpg")], 400, "not a readable"),
    (
        "too many",
        lambda: [
            upload(png_bytes(colour=(i, 0, 0)), f"{i}.png") for i in range(services.MAX_PHOTOS + 1)
        ],
        400,
        f"at most {services.MAX_PHOTOS} photos",
    ),
    (
        "wrong content: a truncated JPEG",
        lambda: [upload(jpeg_with_gps()[:600], "cut.jpg")],
        400,
        "not a readable image",
    ),
    (
        "wrong content: a GIF",
        lambda: [upload(_gif(), "moving.jpg")],
        400,
        "GIF is not accepted",
    ),
]


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20)).save(out, "GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    ("what", "files", "status", "message"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_a_refused_photo_refuses_the_request_and_changes_nothing(
    territory, api, what, files, status, message
):
    good = upload(png_bytes(), "good.png")
    response = request_case(api(territory.users["resident"]), [good, *files()])
    problems = refusal(response, status)
    assert message in " ".join(problems["photos"]), problems
    assert counts() == (0, 0, 0) and stored_files() == []


@pytest.mark.parametrize(
    ("what", "files", "status", "message"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_a_refused_photo_refuses_the_action_and_changes_nothing(
    territory, api, what, files, status, message
):
    case = services.case_report(
        user=territory.users["resident"], item="0201", lon=A1A_SOUTH[0], lat=A1A_SOUTH[1]
    )
    before = counts()
    response = act(
        api(territory.users["village_officer"]), case.pk, "reject", case.version, files(),
        reason="不属于受理范围",
    )  # fmt: skip
    problems = refusal(response, status)
    assert message in " ".join(problems["photos"]), problems
    case.refresh_from_db()
    assert (case.status, case.version) == ("reported", 1)
    assert counts() == before and stored_files() == []


@pytest.mark.parametrize(("backend", "status"), [(FullDisk, 507), (ReadOnly, 503)])
def test_a_store_that_cannot_be_written_refuses_the_request_whole(
    territory, api, settings, tmp_path, backend, status
):
    settings.STORAGES = settings.STORAGES | {
        "default": {
            "BACKEND": f"{backend.__module__}.{backend.__name__}",
            "OPTIONS": {"location": str(tmp_path)},
        }
    }
    response = request_case(api(territory.users["resident"]), [upload(png_bytes(), "a.png")])
    assert "photos" in refusal(response, status)
    assert counts() == (0, 0, 0)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_photo_is_404_for_anyone_who_may_not_see_the_case(territory, api):
    body = request_case(
        api(territory.users["resident"]), [upload(png_bytes(), "a.png")], where=(112.07, 32.65)
    ).json()
    url = body["history"][0]["photos"][0]["url"]
    photo_id = CasePhoto.objects.get().pk
    stranger = UserFactory(username="another_resident")
    from territory.services import role_assign

    role_assign(user=stranger, role="resident", unit_code="411381001001002")
    for user in (stranger, territory.users["grid_worker"], territory.users["microgrid_worker"]):
        refusal(api(user).get(url), 404)
    assert api(territory.users["village_officer"]).get(url).status_code == 200
    # The photo under another case's number: 404 too, even for whom sees both.
    other = services.case_report(
        user=territory.users["resident"], item="0201", lon=A1A_SOUTH[0], lat=A1A_SOUTH[1]
    )
    wrong = reverse("api-case-photo", args=[other.pk, photo_id])
    refusal(api(territory.users["village_officer"]).get(wrong), 404)
    assert api(None).get(url).status_code in (401, 403)


def test_a_case_photo_is_never_changed_or_deleted(territory, api):
    request_case(api(territory.users["resident"]), [upload(png_bytes(), "a.png")])
    photo = CasePhoto.objects.get()
    for statement in (
        "UPDATE cases_casephoto SET size = 1 WHERE id = %s",
        "DELETE FROM cases_casephoto WHERE id = %s",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as c:
            c.execute(statement, [photo.pk])
    photo.refresh_from_db()
    assert photo.size > 1


def test_a_photo_sent_twice_in_one_action_is_kept_once(territory, api):
    data = png_bytes()
    response = request_case(
        api(territory.users["resident"]), [upload(data, "a.png"), upload(data, "again.png")]
    )
    assert response.status_code == 201, response.content
    assert len(response.json()["history"][0]["photos"]) == 1


def test_an_incident_made_a_case_takes_no_photos_of_the_form(territory, api):
    response = api(territory.users["grid_worker"]).post(
        reverse("api-cases"),
        {
            "incident": "00000000-0000-0000-0000-000000000001",
            "photos": [upload(png_bytes(), "a.png")],
        },
        format="multipart",
    )
    assert "photos" in refusal(response, 400)


def test_open311_never_carries_a_case_photo(territory, api, client):
    from open311.tests.test_views import BASE

    body = request_case(api(territory.users["resident"]), [upload(png_bytes(), "a.png")]).json()
    case = Case.objects.get(pk=body["id"])
    officer, worker = territory.users["village_officer"], territory.users["grid_worker"]
    for user, action, fields in (
        (officer, "dispatch", {"assignee": worker.pk}),
        (worker, "accept", {}),
        (worker, "handle", {"note": "好了", "photo_files": [("done.png", png_bytes())]}),
        (officer, "verify", {}),
    ):
        case = services.case_act(
            user=user, case=case, action=action, expected_version=case.version, **fields
        )
    assert CasePhoto.objects.count() == 2
    listed = client.get(f"{BASE}requests.json")
    single = client.get(f"{BASE}requests/{case.number}.json")
    assert [r["service_request_id"] for r in listed.json()] == [case.number]
    for response in (listed, single, client.get(f"{BASE}requests/{case.number}.xml")):
        text = response.content.decode()
        assert "/photos/" not in text and "/media/" not in text
    assert single.json()[0]["media_url"] in ("", None)
