"""Visit photos: checked by content (never by name or the browser's claim), size-limited, stored outside the web
root under a random name and served only by `views.photo` after `access_visit()`.

The root is `settings.TAIZHANG_PRIVATE_DIR` (default `VAR_DIR / "private"`), read on every access so that
tests and deployments can move it; photos go under `inspections/YYYY/MM/`.
Settings: TAIZHANG_INSPECTION_PHOTO_MAX_BYTES (default 10 MiB per photo).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible

from taizhang.core.errors import ApplicationError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_PER_ITEM = 3
MAX_PER_VISIT = 12
ACCEPT = "image/*"
IMAGE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/heic": ".heic"}


def private_root() -> Path:
    configured = getattr(settings, "TAIZHANG_PRIVATE_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "private"


def max_bytes() -> int:
    return int(getattr(settings, "TAIZHANG_INSPECTION_PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES))


@deconstructible
class PrivatePhotoStorage(FileSystemStorage):
    """A FileSystemStorage without a URL whose root follows the settings."""

    @property
    def base_location(self) -> str:
        return str(private_root())

    @property
    def location(self) -> str:
        return str(private_root().resolve())

    @property
    def base_url(self) -> str:
        return ""

    def url(self, name: str | None) -> str:
        raise ValueError("现场照片没有公开地址，只能通过走访巡查记录查看")


def sniff(head: bytes) -> str | None:
    """The image type from the first bytes of a file (JPEG, PNG, WebP, HEIC), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
        return "image/heic"
    return None


def display_name(f: Any) -> str:
    name = str(getattr(f, "name", "") or "照片").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in name if c.isprintable())[:120] or "照片"


@dataclass(frozen=True)
class CheckedPhoto:
    file: Any
    name: str
    content_type: str
    ext: str
    size: int
    sha256: str


def check_photos(files: Sequence[Any], *, what: str = "") -> list[CheckedPhoto]:
    """Check every file before anything is written. `what` names the item in messages."""
    where = f"“{what}”的" if what else ""
    if len(files) > MAX_PER_ITEM and what:
        raise ApplicationError(f"{where}照片最多 {MAX_PER_ITEM} 张", code="too_many_files")
    limit = max_bytes()
    checked = []
    for f in files:
        name = display_name(f)
        size = getattr(f, "size", None)
        if not size:
            raise ApplicationError(f"{where}照片“{name}”是空文件，请重新拍摄", code="bad_file")
        if size > limit:
            raise ApplicationError(f"{where}照片“{name}”超过 {limit // (1024 * 1024)} MB，请压缩后再传", code="file_too_large")
        f.seek(0)
        content_type = sniff(f.read(16))
        if content_type is None:
            raise ApplicationError(f"{where}文件“{name}”不是照片（JPEG、PNG、WebP、HEIC）", code="bad_file_type")
        digest = hashlib.sha256()
        f.seek(0)
        while chunk := f.read(64 * 1024):
            digest.update(chunk)
        f.seek(0)
        checked.append(CheckedPhoto(f, name, content_type, IMAGE_TYPES[content_type], int(size), digest.hexdigest()))
    return checked


def total_checked(groups: Iterable[Sequence[CheckedPhoto]]) -> int:
    return sum(len(g) for g in groups)
