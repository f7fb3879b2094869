"""Thumbnails of an uploaded image (Pillow), as a pure function of the upload's bytes.

Each size is the longest side in pixels; the aspect ratio is kept, the EXIF
orientation applied, and an image smaller than a size is not blown up. JPEG
stays JPEG; anything else becomes PNG (keeps transparency). What cannot become
thumbnails, ever, raises ``PermanentFailure`` with an ``error_code``, so the
handler can log it and stop instead of letting S3's retries repeat a hopeless
attempt.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

SIZES = (128, 256, 512)
#: Larger uploads are refused before they are downloaded (a 512 px thumbnail needs no more).
MAX_SOURCE_BYTES = 25 * 1024 * 1024
#: Pillow's decompression-bomb guard, made explicit: no image beyond this many pixels is decoded.
MAX_PIXELS = 50_000_000
PREFIX = "thumbnails"


class PermanentFailure(ValueError):
    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code


@dataclass(frozen=True)
class Thumbnail:
    size: int
    width: int
    height: int
    body: bytes
    content_type: str


def thumbnail_key(size: int, key: str) -> str:
    """Where the ``size`` thumbnail of ``key`` goes in the destination bucket."""
    return f"{PREFIX}/{size}/{key}"


def check_size(size_bytes: int) -> None:
    if size_bytes > MAX_SOURCE_BYTES:
        raise PermanentFailure(
            "THUMBNAIL_SOURCE_TOO_LARGE", f"upload is {size_bytes} bytes, more than {MAX_SOURCE_BYTES}"
        )


def render(data: bytes, sizes: tuple[int, ...] = SIZES) -> list[Thumbnail]:
    """The thumbnails of ``data``; ``PermanentFailure`` when it is not an image Pillow can read."""
    check_size(len(data))
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise PermanentFailure(
                    "THUMBNAIL_SOURCE_TOO_LARGE", f"image is {opened.width}x{opened.height} pixels"
                )
            source_format = opened.format
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise PermanentFailure("THUMBNAIL_NOT_AN_IMAGE", f"not an image Pillow can read: {exc}") from exc
    jpeg = source_format == "JPEG"
    return [_one(image, size, jpeg=jpeg) for size in sizes]


def _one(image: Image.Image, size: int, *, jpeg: bool) -> Thumbnail:
    copy = image.copy()
    copy.thumbnail((size, size))
    out = io.BytesIO()
    if jpeg:
        copy.convert("RGB").save(out, format="JPEG", quality=85)
    else:
        copy.save(out, format="PNG", optimize=True)
    return Thumbnail(size, copy.width, copy.height, out.getvalue(), "image/jpeg" if jpeg else "image/png")
