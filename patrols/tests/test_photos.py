"""Photos are decoded, re-encoded without metadata and thumbnailed."""

import io

import pytest
from PIL import Image

from patrols import photos


def jpeg_with_gps(size=(800, 600)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (32.0, 36.0, 0.0), 3: "E", 4: (112.0, 5.0, 0.0)}  # GPSInfo
    exif[0x0110] = "Phone X"  # model
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_jpeg_loses_its_location_metadata():
    data = jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif().get(0x8825)  # the phone's position is there
    photo = photos.process(data)
    stored = Image.open(io.BytesIO(photo.jpeg))
    assert stored.format == "JPEG" and (stored.width, stored.height) == (800, 600)
    assert not stored.getexif()
    assert max(Image.open(io.BytesIO(photo.thumbnail)).size) == photos.THUMB_EDGE
    assert photo.original_format == "JPEG" and len(photo.sha256) == 64


def test_png_and_heic_are_accepted():
    out = io.BytesIO()
    Image.new("RGBA", (50, 40), (0, 0, 255, 128)).save(out, "PNG")
    assert photos.process(out.getvalue()).original_format == "PNG"
    heif = io.BytesIO()
    Image.new("RGB", (64, 48), (0, 200, 0)).save(heif, "HEIF")
    assert photos.process(heif.getvalue()).original_format == "HEIF"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"%PDF-1.4 not an image", "not a readable image"),
        (jpeg_with_gps()[:2000], "not a readable image"),  # truncated
        (b"x" * (photos.MAX_BYTES + 1), "over the 10 MiB limit"),
    ],
)
def test_what_is_not_an_acceptable_image_is_refused(data, message):
    with pytest.raises(photos.PhotoError, match=message):
        photos.process(data)


def test_other_image_formats_are_refused():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    with pytest.raises(photos.PhotoError, match="GIF is not accepted"):
        photos.process(out.getvalue())


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_headers_over_the_pixel_caps_are_refused_before_decoding(monkeypatch):
    from patrols.tests.test_api import png_header

    def never(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(photos, "_decode", never)
    for width, height in [(10_000, 10_000), (6_000, 5_000)]:
        data = png_header(width, height).getvalue()
        with pytest.raises(photos.PhotoError, match="over the 24 megapixel limit"):
            photos.check([("huge.png", data)])
    each = png_header(5_000, 4_000).getvalue()
    assert photos.check([("a.png", each)] * 3)[0].pixels == 20_000_000  # 60 MP in all: fine
    with pytest.raises(photos.PhotoError, match="80 megapixels in all"):
        photos.check([("a.png", each)] * 4)
