"""The patrol endpoints under races, failing disks and hostile uploads."""

import datetime
import errno
import importlib
import io
import os
import struct
import threading
import uuid
import zlib

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import connections
from django.test import Client
from django.urls import clear_url_caches, reverse
from django.utils import timezone
from PIL import Image

from core.tests.errors import refusal
from patrols import photos, tracks, uploads
from patrols.models import Incident, IncidentEvent, IncidentPhoto, Track, TrackFix, Visit
from territory import services as territory_services
from territory.tests.factories import UnitFactory, UserFactory, box

GRID = "411381001001001"


def png(size=(120, 90)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 10)).save(out, "PNG")
    out.seek(0)
    out.name = "photo.png"
    return out


def png_header(width: int, height: int) -> io.BytesIO:
    """A valid PNG header declaring `width` x `height` pixels, in about 60 bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
    out = io.BytesIO(data)
    out.name = "huge.png"
    return out


def post_incident(client, key=None, **extra):
    data = {
        "id": str(key or uuid.uuid4()),
        "item": "0401",
        "lon": 112.02,
        "lat": 32.62,
        "severity": 2,
    } | extra
    return client.post(reverse("api-incidents"), data, format="multipart")


@pytest.fixture
def decoded(monkeypatch):
    """Counts the photos the server decodes (the costly step)."""
    calls = []
    real = photos._decode

    def counting(data, *, name):
        calls.append(name)
        return real(data, name=name)

    monkeypatch.setattr(photos, "_decode", counting)
    return calls


@pytest.fixture
def streamed(monkeypatch):
    """Counts the upload bytes that reach the handler writing them to disk."""
    received = []

    class Counting(uploads.TemporaryFileUploadHandler):
        def receive_data_chunk(self, raw_data, start):
            received.append(len(raw_data))
            return super().receive_data_chunk(raw_data, start)

    monkeypatch.setattr(uploads, "TemporaryFileUploadHandler", Counting)
    return received


def nothing_written():
    return not (
        Incident.objects.exists()
        or IncidentEvent.objects.exists()
        or IncidentPhoto.objects.exists()
    )


def assert_refused(response, status, field) -> str:
    """The one error body with a problem at `field`; its messages there."""
    problems = refusal(response, status)
    assert field in problems, problems
    return " ".join(problems[field])


# --- track upload race ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_uploads_of_one_batch_store_one_track(territory, api, monkeypatch):
    # Both requests pass the lookup for a stored batch before either inserts: the barrier
    # holds each one just after it, until the other has got there too.
    barrier = threading.Barrier(2, timeout=60)  # a guard against a hang, never reached
    real_check = tracks.check_fixes

    def check_after_both_looked(fixes, **kwargs):
        barrier.wait()
        return real_check(fixes, **kwargs)

    monkeypatch.setattr(tracks, "check_fixes", check_after_both_looked)
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
    body = {"client_id": str(uuid.uuid4()), "fixes": fixes}
    worker = territory.users["grid_worker"]
    answers = []

    def upload():
        try:
            response = api(worker).post(reverse("api-patrol-tracks"), body, format="json")
            answers.append((response.status_code, response.json()["track"]))
        except Exception as exc:  # noqa: BLE001 - reported in the assertion below
            answers.append((500, repr(exc)))
        finally:
            connections.close_all()  # this thread's own connection

    phones = [threading.Thread(target=upload) for _ in range(2)]
    for phone in phones:
        phone.start()
    for phone in phones:
        phone.join()
    assert sorted(status for status, _ in answers) == [200, 201], answers
    assert answers[0][1] == answers[1][1]  # both name the one stored track
    assert Track.objects.count() == 1 and TrackFix.objects.count() == 5
    assert Visit.objects.count() == 1  # the stay near a household, stored once


# --- photos when the photo directory cannot be written -----------------------------------


class FullDisk(FileSystemStorage):
    """A file system whose disk is full: the file is created, its first write fails, as
    FileSystemStorage meets ENOSPC (which left the empty files behind)."""

    def _save(self, name, content):
        class NoSpace:
            def chunks(self):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                yield b""  # a generator, like File.chunks

        return super()._save(name, NoSpace())


class ReadOnly(FileSystemStorage):
    """A file system mounted read-only: nothing can be created in it."""

    def _save(self, name, content):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), self.path(name))


@pytest.mark.parametrize(
    ("backend", "status", "reason"),
    [(FullDisk, 507, "the photo store is full"), (ReadOnly, 503, "read-only")],
)
def test_a_photo_store_that_cannot_be_written_is_a_json_error_and_leaves_nothing(
    territory, api, settings, tmp_path, backend, status, reason
):
    settings.STORAGES = settings.STORAGES | {
        "default": {
            "BACKEND": f"{__name__}.{backend.__name__}",
            "OPTIONS": {"location": str(tmp_path)},
        }
    }
    response = post_incident(api(territory.users["grid_worker"]), photos=[png(), png((60, 40))])
    assert reason in assert_refused(response, status, "photos")
    assert response.get("Retry-After") == ("300" if status == 503 else None)
    assert nothing_written()
    assert [files for _, _, files in os.walk(tmp_path) if files] == []  # not even an empty one


# --- decoding only for those who may log an incident there -------------------------------


def test_a_resident_posting_a_huge_png_gets_403_and_nothing_is_decoded(
    territory, api, decoded, streamed
):
    huge = png_header(6000, 4000)  # 24 MP: within the limits for a grid worker
    response = post_incident(api(territory.users["resident"]), photos=[huge])
    assert_refused(response, 403, "role")
    assert decoded == [] and streamed == [] and nothing_written()


def test_with_a_session_the_body_of_a_resident_is_not_even_read(territory, decoded, streamed):
    # Session authentication runs the CSRF check, which parses the form before any view code.
    client = Client(enforce_csrf_checks=True)
    client.force_login(territory.users["resident"])
    token = "a" * 32
    client.cookies["csrftoken"] = token
    response = client.post(
        reverse("api-incidents"),
        {"id": str(uuid.uuid4()), "item": "0401", "lon": 112.07, "lat": 32.65, "photos": [png()]},
        HTTP_X_CSRFTOKEN=token,
    )
    assert_refused(response, 403, "role")
    assert decoded == [] and streamed == [] and nothing_written()


def test_a_worker_outside_their_grids_gets_no_photo_decoded(territory, api, decoded):
    response = post_incident(
        api(territory.users["grid_worker"]), lon=112.15, lat=32.65, photos=[png()]
    )
    assert_refused(response, 400, "location")
    assert decoded == [] and nothing_written()


def test_a_worker_in_their_grid_gets_the_photo_decoded_once(territory, api, decoded):
    response = post_incident(api(territory.users["grid_worker"]), photos=[png()])
    assert response.status_code == 201, response.content
    assert decoded == ["photo.png"]


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ([(10_000, 10_000)], "over the 24 megapixel limit"),  # 100 MP in 66 bytes
        ([(6_000, 5_000)], "over the 24 megapixel limit"),  # 30 MP
        ([(5_000, 4_000)] * 4, "80 megapixels in all"),  # each allowed, too many together
    ],
)
def test_declared_pixels_over_the_caps_are_refused_without_decoding(
    territory, api, decoded, headers, message
):
    files = [png_header(w, h) for w, h in headers]
    response = post_incident(api(territory.users["grid_worker"]), photos=files)
    assert message in assert_refused(response, 400, "photos")
    assert decoded == [] and nothing_written()


def test_a_photo_over_the_byte_limit_stops_the_upload_at_the_limit(
    territory, api, decoded, streamed
):
    big = io.BytesIO(b"\x89PNG" + os.urandom(photos.MAX_BYTES + 2**20))
    big.name = "big.png"
    response = post_incident(api(territory.users["grid_worker"]), photos=[big])
    assert "at most 10 MiB" in assert_refused(response, 413, "photos")
    assert sum(streamed) <= photos.MAX_BYTES  # what passed the limit never reached the disk
    assert decoded == [] and nothing_written()


def test_more_photos_than_allowed_stop_the_upload(territory, api, decoded):
    response = post_incident(api(territory.users["grid_worker"]), photos=[png() for _ in range(7)])
    assert_refused(response, 400, "photos")
    assert decoded == [] and nothing_written()


def test_a_body_without_content_length_is_not_read(territory, api, streamed):
    # Chunked: no Content-Length. Django reads no byte of such a body (WSGI gives it none).
    client = api(territory.users["grid_worker"])
    response = client.generic(
        "POST",
        reverse("api-incidents"),
        b"--x\r\n" + b"y" * (photos.MAX_BYTES + 1),
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert streamed == [] and nothing_written()


# --- photo files only through the permission-checked view --------------------------------


@pytest.fixture
def local_mode(settings, tmp_path):
    """The local settings (DEBUG) with photos on disk, and the URLs as built in that mode."""
    settings.DEBUG = True
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = settings.STORAGES | {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    }
    urls = importlib.import_module(settings.ROOT_URLCONF)
    importlib.reload(urls)
    clear_url_caches()
    yield tmp_path
    settings.DEBUG = False
    importlib.reload(urls)
    clear_url_caches()


def test_photo_files_are_served_only_through_the_checked_view(territory, api, local_mode):
    worker = territory.users["grid_worker"]
    response = post_incident(api(worker), photos=[png()])
    assert response.status_code == 201, response.content
    record = IncidentPhoto.objects.get()
    assert (local_mode / record.image.name).is_file()  # on disk, where /media/ would look
    media = f"/media/{record.image.name}"
    assert Client().get(media).status_code == 404
    logged_in = Client()
    logged_in.force_login(worker)
    assert logged_in.get(media).status_code == 404
    assert logged_in.get(f"/media/{record.thumbnail.name}").status_code == 404

    url = response.json()["properties"]["photos"][0]["url"]
    served = api(worker).get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content) == record.image.read()
    assert api(territory.users["commander"]).get(url).status_code == 200
    assert api(territory.users["resident"]).get(url).status_code == 404
    assert api(None).get(url).status_code in (401, 403)


# --- placement on shared corners and slivers ----------------------------------------------

VILLAGE = "411381201001"
CORNER = (112.5, 32.5)  # shared by grids 001 (south-west), 007 (south-east), 013 (north-west)
SLIVER = (112.505, 32.45)  # in grid 007, in none of its micro-grids, but in 00101 of grid 001


def _corner_workers():
    UnitFactory(level="village", code=VILLAGE, boundary=box(112.4, 32.4, 112.6, 32.6))
    cells = {
        "001": ("grid", VILLAGE, (112.4, 32.4, 112.5, 32.5)),
        "007": ("grid", VILLAGE, (112.5, 32.4, 112.6, 32.5)),
        "013": ("grid", VILLAGE, (112.4, 32.5, 112.5, 32.6)),
        "00101": ("microgrid", VILLAGE + "001", (112.4, 32.4, 112.51, 32.5)),  # into 007
        "00701": ("microgrid", VILLAGE + "007", (112.52, 32.4, 112.6, 32.5)),
        "01301": ("microgrid", VILLAGE + "013", (112.4, 32.5, 112.5, 32.6)),
    }
    workers = {}
    for suffix, (level, parent, bounds) in cells.items():
        UnitFactory(level=level, code=VILLAGE + suffix, parent_code=parent, boundary=box(*bounds))
        workers[suffix] = UserFactory(username=f"worker{suffix}")
        role = "grid_worker" if level == "grid" else "microgrid_worker"
        territory_services.role_assign(user=workers[suffix], role=role, unit_code=VILLAGE + suffix)
    return workers


def test_an_incident_on_a_shared_corner_goes_to_the_lowest_grid_and_its_worker(territory, api):
    workers = _corner_workers()
    where = {"lon": CORNER[0], "lat": CORNER[1]}
    for other in ("007", "013", "00701", "01301"):
        assert_refused(post_incident(api(workers[other]), **where), 400, "location")
    assert nothing_written()
    created = post_incident(api(workers["001"]), **where)
    assert created.status_code == 201, created.content
    placed = created.json()["properties"]
    assert (placed["grid"], placed["micro_grid"]) == (VILLAGE + "001", VILLAGE + "00101")
    assert Incident.objects.get().territory_path.endswith(f"{VILLAGE}001/{VILLAGE}00101")
    assert post_incident(api(workers["00101"]), **where).status_code == 201


def test_an_incident_in_a_sliver_goes_to_the_grid_that_covers_it(territory, api):
    workers = _corner_workers()
    where = {"lon": SLIVER[0], "lat": SLIVER[1]}
    # 00101 covers the point but lies in grid 001: it is not the cell of a point of grid 007.
    for other in ("001", "00101", "00701"):
        assert_refused(post_incident(api(workers[other]), **where), 400, "location")
    created = post_incident(api(workers["007"]), **where)
    assert created.status_code == 201, created.content
    placed = created.json()["properties"]
    assert (placed["grid"], placed["micro_grid"]) == (VILLAGE + "007", None)
    incident = Incident.objects.get()
    assert (incident.grid.code, incident.micro_grid) == (VILLAGE + "007", None)
    assert incident.territory_path == incident.grid.path
