"""Incident photos: checked by decoding, re-encoded as JPEG without metadata, thumbnailed.

Why re-encode: the bytes a phone sends can be anything with an image's name; decoding proves
they are an image, and writing a fresh JPEG drops EXIF (GPS position, phone model) that must
not leak through a public page. The orientation the phone recorded is applied first.
"""

import hashlib
import io
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
MAX_PIXELS = 40_000_000  # decompression bombs
LONG_EDGE = 2560  # stored photos are scaled down to this
THUMB_EDGE = 320


class PhotoError(ValueError):
    pass


@dataclass
class Photo:
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int
    original_format: str
    sha256: str  # of the bytes received


def process(data: bytes, *, name: str = "photo") -> Photo:
    if len(data) > MAX_BYTES:
        raise PhotoError(
            f"{name}: {len(data) // 1024} KiB is over the {MAX_BYTES // 2**20} MiB limit"
        )
    if not data:
        raise PhotoError(f"{name}: empty file")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            if kind not in ACCEPTED:
                raise PhotoError(f"{name}: {kind} is not accepted (JPEG, PNG or HEIC)")
            if probe.width * probe.height > MAX_PIXELS:
                raise PhotoError(f"{name}: {probe.width}x{probe.height} pixels is too large")
            probe.load()  # decode every pixel: truncated or forged files fail here
            image = ImageOps.exif_transpose(probe).convert("RGB")
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoError(f"{name}: not a readable image") from exc
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
        original_format=kind,
        sha256=hashlib.sha256(data).hexdigest(),
    )
