"""Private file storage for filing attachments, and the type check by content (magic bytes).

Files live under `settings.TAIZHANG_PRIVATE_DIR` (default `VAR_DIR / "private"`), which is outside
STATIC_ROOT and MEDIA_ROOT and has no URL: the only way to read a file is the filing's attachment view, which
checks that the user may see the filing. The root is read from settings on every access, so tests and
deployments can move it.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def private_root() -> Path:
    configured = getattr(settings, "TAIZHANG_PRIVATE_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "private"


def max_upload_bytes() -> int:
    return int(getattr(settings, "TAIZHANG_FILING_MAX_UPLOAD", DEFAULT_MAX_BYTES))


@deconstructible
class PrivateStorage(FileSystemStorage):
    """A FileSystemStorage without a URL whose root follows the settings."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

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
        raise ValueError("备案附件没有公开地址，只能通过备案页面下载")


@dataclass(frozen=True)
class FileType:
    ext: str
    content_type: str
    label: str
    inline: bool  # shown in the browser (PDF, images) or downloaded (Word)


PDF = FileType("pdf", "application/pdf", "PDF", True)
JPEG = FileType("jpg", "image/jpeg", "JPEG 图片", True)
PNG = FileType("png", "image/png", "PNG 图片", True)
WEBP = FileType("webp", "image/webp", "WebP 图片", True)
DOCX = FileType("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word 文档", False)
ALLOWED = (PDF, JPEG, PNG, WEBP, DOCX)
EXTENSIONS = {"pdf": PDF, "jpg": JPEG, "jpeg": JPEG, "png": PNG, "webp": WEBP, "docx": DOCX}
ACCEPT = ".pdf,.jpg,.jpeg,.png,.webp,.docx,application/pdf,image/jpeg,image/png,image/webp"


class RejectedFile(Exception):
    """The upload is not one of the allowed types; the message says what to do."""


def _is_docx(fileobj: IO[bytes]) -> bool:
    """A Word 2007+ document: a ZIP with the OOXML content types and a main document part, and no macros."""
    try:
        fileobj.seek(0)
        with zipfile.ZipFile(fileobj) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        fileobj.seek(0)
    return "[Content_Types].xml" in names and "word/document.xml" in names and "word/vbaProject.bin" not in names


def sniff(fileobj: IO[bytes]) -> FileType | None:
    """The type of a file judged by its first bytes (and, for Word, its ZIP directory), never by its name."""
    fileobj.seek(0)
    head = fileobj.read(16)
    fileobj.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04") and _is_docx(fileobj):
        return DOCX
    return None


def check_upload(*, name: str, size: int, fileobj: IO[bytes]) -> FileType:
    """Refuse what is too large, of another type, or whose content does not match its extension."""
    limit = max_upload_bytes()
    if size <= 0:
        raise RejectedFile("文件是空的，请重新选择")
    if size > limit:
        raise RejectedFile(f"文件过大（{size / 1048576:.1f} MB），单个附件不能超过 {limit // 1048576} MB，请压缩后再上传")
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    claimed = EXTENSIONS.get(ext)
    if claimed is None:
        raise RejectedFile("只能上传 PDF、图片（JPG、PNG、WebP）或 Word（.docx）文件")
    actual = sniff(fileobj)
    if actual is None:
        if ext == "docx" or fileobj.read(4) == b"PK\x03\x04":
            fileobj.seek(0)
            raise RejectedFile("文件不是有效的 Word（.docx）文档，或含有宏；请另存为 .docx 或 PDF 后上传")
        raise RejectedFile(f"文件内容不是{claimed.label}，可能已损坏或扩展名被改过；请上传原始文件")
    if actual.ext != claimed.ext:
        raise RejectedFile(f"文件扩展名为 .{ext}，但内容是{actual.label}；请改正扩展名或上传原始文件")
    return actual
