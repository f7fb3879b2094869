"""Thumbnail rendering: the three sizes keep the aspect ratio and the format; what can never become a
thumbnail fails permanently with an error code (so the handler stops instead of retrying)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from instrumented_app.fanout import thumbnails
from instrumented_app.fanout.thumbnails import PermanentFailure, render, thumbnail_key


def image_bytes(width: int, height: int, fmt: str, exif_orientation: int | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (200, 30, 30))
    if exif_orientation is None:
        image.save(out, format=fmt)
    else:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        image.save(out, format=fmt, exif=exif)
    return out.getvalue()


def test_a_png_gets_three_pngs_with_its_aspect_ratio() -> None:
    made = render(image_bytes(1000, 600, "PNG"))
    assert [(t.size, t.width, t.height) for t in made] == [(128, 128, 77), (256, 256, 154), (512, 512, 307)]
    for thumb in made:
        assert thumb.content_type == "image/png"
        assert Image.open(io.BytesIO(thumb.body)).size == (thumb.width, thumb.height)


def test_a_jpeg_stays_a_jpeg_and_its_exif_rotation_is_applied() -> None:
    made = render(image_bytes(800, 400, "JPEG", exif_orientation=6))  # 6: rotate 90 degrees to display
    assert {t.content_type for t in made} == {"image/jpeg"}
    assert (made[0].width, made[0].height) == (64, 128)
    assert Image.open(io.BytesIO(made[2].body)).format == "JPEG"


def test_a_small_image_is_not_blown_up() -> None:
    assert [(t.width, t.height) for t in render(image_bytes(200, 100, "PNG"))] == [
        (128, 64),
        (200, 100),
        (200, 100),
    ]


@pytest.mark.parametrize(
    "data",
    [b"just some notes, not a picture\n", b"", image_bytes(300, 300, "PNG")[:60]],
    ids=["text", "empty", "cut"],
)
def test_what_is_not_a_readable_image_fails_permanently_with_an_error_code(data: bytes) -> None:
    with pytest.raises(PermanentFailure) as raised:
        render(data)
    assert raised.value.error_code == "THUMBNAIL_NOT_AN_IMAGE"


def test_an_oversized_upload_or_a_pixel_bomb_fails_permanently(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(thumbnails, "MAX_SOURCE_BYTES", 100)
    with pytest.raises(PermanentFailure) as raised:
        render(b"x" * 101)
    assert raised.value.error_code == "THUMBNAIL_SOURCE_TOO_LARGE"
    monkeypatch.setattr(thumbnails, "MAX_SOURCE_BYTES", 10**9)
    monkeypatch.setattr(thumbnails, "MAX_PIXELS", 99 * 99)
    with pytest.raises(PermanentFailure) as raised:
        render(image_bytes(100, 100, "PNG"))
    assert raised.value.error_code == "THUMBNAIL_SOURCE_TOO_LARGE"


def test_thumbnails_go_under_their_size() -> None:
    assert thumbnail_key(256, "photos/cat one.jpg") == "thumbnails/256/photos/cat one.jpg"


class FakeS3:
    """Just the S3 calls the handler makes, over a dict of objects."""

    class exceptions:
        class NoSuchKey(Exception):
            pass

    def __init__(self, objects: dict[tuple[str, str], bytes]) -> None:
        self.objects = objects
        self.reads = 0
        self.written: dict[str, tuple[bytes, str]] = {}

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        self.reads += 1
        if (Bucket, Key) not in self.objects:
            raise self.exceptions.NoSuchKey(Key)
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def put_object(self, Bucket: str, Key: str, Body: bytes, ContentType: str, **_: Any) -> None:
        self.written[Key] = (Body, ContentType)


def test_the_handler_writes_each_size_and_gives_up_at_once_on_what_cannot_be_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from instrumented_app.handlers.thumbnails import make_thumbnails

    s3 = FakeS3({("up", "a/b.png"): image_bytes(640, 480, "PNG")})
    written = make_thumbnails(s3, "up", "a/b.png", 1000, "thumbs")
    assert written == ["thumbnails/128/a/b.png", "thumbnails/256/a/b.png", "thumbnails/512/a/b.png"]
    assert {content_type for _, content_type in s3.written.values()} == {"image/png"}

    with pytest.raises(PermanentFailure) as gone:
        make_thumbnails(s3, "up", "deleted.png", 1000, "thumbs")
    assert gone.value.error_code == "THUMBNAIL_SOURCE_GONE"
    monkeypatch.setattr(thumbnails, "MAX_SOURCE_BYTES", 10)
    reads = s3.reads
    with pytest.raises(PermanentFailure) as large:
        make_thumbnails(s3, "up", "a/b.png", 11, "thumbs")
    assert large.value.error_code == "THUMBNAIL_SOURCE_TOO_LARGE"
    assert s3.reads == reads  # refused from the event's size, before any download
