"""Photos and PDFs of problems: checked by content (not by the name or the browser's claim), size-limited, stored
in private storage under a random name, served only through `views.attachment_download` after
`access_problem()`.

Settings: TAIZHANG_ATTACHMENT_MAX_BYTES (default 10 MiB per file), TAIZHANG_ATTACHMENT_MAX_FILES (default 9 per step).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.files.base import File

from taizhang.core.errors import ApplicationError

from .models import Attachment, Problem, ProblemEvent

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_FILES = 9
ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,application/pdf"


def max_bytes() -> int:
    return int(getattr(settings, "TAIZHANG_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_files() -> int:
    return int(getattr(settings, "TAIZHANG_ATTACHMENT_MAX_FILES", DEFAULT_MAX_FILES))


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the first bytes of a file, for the accepted types only."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", ".jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", ".png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
        return "image/heic", ".heic"
    if head.startswith(b"%PDF-"):
        return "application/pdf", ".pdf"
    return None


def _display_name(f: Any) -> str:
    name = str(getattr(f, "name", "") or "附件").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in name if c.isprintable())[:120] or "附件"


def validate(files: Sequence[Any]) -> list[tuple[Any, str, str]]:
    """Check every file before anything is written; return (file, content type, extension) triples."""
    if len(files) > max_files():
        raise ApplicationError(f"每次最多上传 {max_files()} 个附件", code="too_many_files")
    checked = []
    limit = max_bytes()
    for f in files:
        name = _display_name(f)
        size = getattr(f, "size", None)
        if size is None:
            raise ApplicationError(f"无法读取附件“{name}”", code="bad_file")
        if size == 0:
            raise ApplicationError(f"附件“{name}”是空文件", code="bad_file")
        if size > limit:
            raise ApplicationError(f"附件“{name}”超过 {limit // (1024 * 1024)} MB，请压缩后再传", code="file_too_large")
        f.seek(0)
        kind = sniff(f.read(16))
        f.seek(0)
        if kind is None:
            raise ApplicationError(f"附件“{name}”不是照片（JPEG、PNG、WebP、HEIC）或 PDF 文件", code="bad_file_type")
        checked.append((f, kind[0], kind[1]))
    return checked


def store(*, problem: Problem, event: ProblemEvent | None, files: Iterable[tuple[Any, str, str]], actor: Any) -> list[Attachment]:
    """Save validated files (from `validate`) and their rows."""
    rows = []
    uploader = actor if getattr(actor, "is_authenticated", False) else None
    for f, content_type, ext in files:
        digest = hashlib.sha256()
        f.seek(0)
        while chunk := f.read(64 * 1024):
            digest.update(chunk)
        f.seek(0)
        name = _display_name(f)
        att = Attachment(
            problem=problem,
            event=event,
            name=name,
            content_type=content_type,
            size=int(f.size),
            sha256=digest.hexdigest(),
            uploaded_by=uploader,
        )
        att.file.save(f"upload{ext}", f if isinstance(f, File) else File(f), save=False)
        att.save()
        rows.append(att)
    return rows
