"""The upload guard counts the bytes that arrive, whatever Content-Length claims."""

import io
from types import SimpleNamespace

import pytest
from django.http.multipartparser import MultiPartParser

from patrols import uploads

LIMIT = 256 * 1024


class Disk(uploads.TemporaryFileUploadHandler):
    """The handler that writes files out, counting what it is given."""

    received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        return super().receive_data_chunk(raw_data, start)


def multipart(*files: bytes) -> bytes:
    parts = [b'--b\r\nContent-Disposition: form-data; name="item"\r\n\r\n0401\r\n']
    for i, data in enumerate(files):
        parts.append(
            b'--b\r\nContent-Disposition: form-data; name="photos"; filename="%d.png"\r\n'
            b"Content-Type: image/png\r\n\r\n" % i + data + b"\r\n"
        )
    return b"".join(parts) + b"--b--\r\n"


def parse(body: bytes, *, declared: int, may_upload=lambda user: True):
    request = SimpleNamespace(user=object())
    guard = uploads.IncidentUploadGuard(
        request,
        may_upload=may_upload,
        declared=10 * LIMIT,
        per_file=LIMIT,
        total=2 * LIMIT,
        max_files=6,
    )
    disk = Disk(request)
    meta = {
        "CONTENT_TYPE": "multipart/form-data; boundary=b",
        "CONTENT_LENGTH": str(declared),
    }
    post, files = MultiPartParser(meta, io.BytesIO(body), [guard, disk]).parse()
    return guard, disk, post, files


@pytest.mark.parametrize("declared", [1024, 1])  # a lie: the body is over a MiB
def test_a_file_past_the_limit_is_stopped_whatever_content_length_says(declared):
    body = multipart(b"x" * (4 * LIMIT))
    guard, disk, post, files = parse(body, declared=declared)
    assert guard.refused.status == 413 and "at most" in guard.refused.reason
    assert disk.received <= LIMIT  # the chunk that passed the limit never reached the disk
    assert not files


def test_many_files_each_within_the_limit_stop_at_the_total():
    body = multipart(*[b"y" * (LIMIT - 1)] * 4)
    guard, disk, _, _ = parse(body, declared=1024)
    assert guard.refused.status == 413 and "in all" in guard.refused.reason
    assert disk.received <= 2 * LIMIT


def test_files_within_the_limits_pass_untouched():
    guard, disk, post, files = parse(multipart(b"z" * 1000, b"w" * 2000), declared=4000)
    assert guard.refused is None and post["item"] == "0401"
    assert [f.read() for f in files.getlist("photos")] == [b"z" * 1000, b"w" * 2000]


def test_who_may_not_upload_has_no_byte_read():
    stream = io.BytesIO(multipart(b"x" * 1000))
    guard = uploads.IncidentUploadGuard(
        SimpleNamespace(user=object()),
        may_upload=lambda user: False,
        declared=LIMIT,
        per_file=LIMIT,
        total=LIMIT,
        max_files=6,
    )
    meta = {"CONTENT_TYPE": "multipart/form-data; boundary=b", "CONTENT_LENGTH": "1000"}
    post, files = MultiPartParser(meta, stream, [guard]).parse()
    assert guard.refused.status == 403 and not post and not files
    assert stream.tell() == 0
