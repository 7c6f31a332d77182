"""Incident photos: checked by decoding, re-encoded as JPEG without metadata, thumbnailed.

Why re-encode: the bytes a phone sends can be anything with an image's name; decoding proves
they are an image, and writing a fresh JPEG drops EXIF (GPS position, phone model) that must
not leak through a public page. The orientation the phone recorded is applied first.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIC/HEIF (iPhone photos)
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF = True
except ImportError:  # pragma: no cover - pillow-heif is a dependency
    HEIF = False

ACCEPTED = {"JPEG", "PNG", "HEIF"}
MAX_BYTES = 10 * 1024 * 1024
# Decoding costs CPU and memory by the pixel, whatever the file's size: a PNG of a few KiB can
# declare 100 megapixels. A phone's photo is 12 MP (48-50 MP sensors bin to 12 by default);
# 24 MP leaves room for the rest. One request decodes at most REQUEST_PIXELS in all.
MAX_PIXELS = 24_000_000
REQUEST_PIXELS = 72_000_000
# Pillow warns past 89 MP when it opens a header; ours refuses at 24 MP, so the warning would
# only say what read_header says anyway. (Pillow alone in this project opens images.)
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
LONG_EDGE = 2560  # stored photos are scaled down to this
THUMB_EDGE = 320


class PhotoError(ValueError):
    pass


@dataclass(frozen=True)
class Header:
    kind: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass
class Photo:
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int
    original_format: str
    sha256: str  # of the bytes received


def read_header(data: bytes, *, name: str = "photo") -> Header:
    """Format and size from the file's header alone (no pixel is decoded): what is refused
    here costs the server next to nothing."""
    if len(data) > MAX_BYTES:
        raise PhotoError(
            f"{name}: {len(data) // 1024} KiB is over the {MAX_BYTES // 2**20} MiB limit"
        )
    if not data:
        raise PhotoError(f"{name}: empty file")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            header = Header(probe.format, probe.width, probe.height)
    except Image.DecompressionBombError as exc:  # Pillow's own, far larger, limit
        raise PhotoError(f"{name}: too many pixels") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise PhotoError(f"{name}: not a readable image") from exc
    if header.kind not in ACCEPTED:
        raise PhotoError(f"{name}: {header.kind} is not accepted (JPEG, PNG or HEIC)")
    if header.pixels > MAX_PIXELS:
        raise PhotoError(
            f"{name}: {header.width}x{header.height} pixels is over the"
            f" {MAX_PIXELS // 1_000_000} megapixel limit"
        )
    return header


def check(files: list[tuple[str, bytes]]) -> list[Header]:
    """The headers of one request's photos, each within the limits and all of them within
    the request's pixel budget; raises PhotoError before anything is decoded."""
    headers = [read_header(data, name=name) for name, data in files]
    total = sum(h.pixels for h in headers)
    if total > REQUEST_PIXELS:
        raise PhotoError(
            f"{total / 1e6:.0f} megapixels in all is over the"
            f" {REQUEST_PIXELS // 1_000_000} megapixel limit of one upload"
        )
    return headers


def _decode(data: bytes, *, name: str) -> Image.Image:
    """Every pixel, upright: a truncated or forged file fails here. The only costly step."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.load()
            return ImageOps.exif_transpose(probe).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoError(f"{name}: not a readable image") from exc


def process(data: bytes, *, name: str = "photo", header: Header | None = None) -> Photo:
    """Decode, re-encode and thumbnail one photo; `header` when `check` has read it."""
    header = header or read_header(data, name=name)
    image = _decode(data, name=name)
    image.thumbnail((LONG_EDGE, LONG_EDGE))
    full = io.BytesIO()
    image.save(full, "JPEG", quality=85, optimize=True)  # no exif= : metadata is dropped
    small = image.copy()
    small.thumbnail((THUMB_EDGE, THUMB_EDGE))
    thumb = io.BytesIO()
    small.save(thumb, "JPEG", quality=80)
    return Photo(
        jpeg=full.getvalue(),
        thumbnail=thumb.getvalue(),
        width=image.width,
        height=image.height,
        original_format=header.kind,
        sha256=hashlib.sha256(data).hexdigest(),
    )
