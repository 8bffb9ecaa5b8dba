"""Attachments of a filing's working copy: added after a check of their content, removed without losing what a
submitted version showed. Files live in the private storage (storage.py) and are read only through the views
that fetch the filing in the user's scope."""

from __future__ import annotations

import hashlib
import uuid
from typing import IO, Any, cast

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from taizhang.audit.services import Action, audit_record
from taizhang.core.errors import ApplicationError

from .models import EDITABLE_STATES, Filing, FilingAttachment
from .services import actor_user, check_writer, state_label
from .storage import RejectedFile, check_upload

MAX_ATTACHMENTS_PER_ITEM = 10


@transaction.atomic
def attachment_add(*, filing: Filing, actor: Any, item_code: str, upload: UploadedFile) -> FilingAttachment:
    check_writer(actor, filing)
    if filing.state not in EDITABLE_STATES:
        raise ApplicationError(f"备案{state_label(filing.state)}，不能再上传附件", code="invalid_state")
    item = filing.template.items.filter(code=item_code).first()
    if item is None:
        raise ApplicationError("请选择附件所属的备案事项", code="invalid")
    if filing.attachments.filter(item_code=item_code, removed=False).count() >= MAX_ATTACHMENTS_PER_ITEM:
        raise ApplicationError(f"“{item.label}”最多上传 {MAX_ATTACHMENTS_PER_ITEM} 个附件", code="too_many")
    name = (upload.name or "附件").replace("\\", "/").rsplit("/", 1)[-1][:120]
    try:
        kind = check_upload(name=name, size=upload.size or 0, fileobj=cast(IO[bytes], upload))
    except RejectedFile as exc:
        raise ApplicationError(str(exc), code="rejected_file") from None
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    stem = name.rsplit(".", 1)[0] or "附件"
    attachment = FilingAttachment(
        filing=filing,
        item_code=item_code,
        name=f"{stem}.{kind.ext}"[:120],
        content_type=kind.content_type,
        size=upload.size or 0,
        sha256=digest.hexdigest(),
        uploaded_by=actor_user(actor),
    )
    attachment.file.save(f"filings/{filing.pk}/{uuid.uuid4().hex}.{kind.ext}", upload, save=False)
    attachment.save()
    audit_record(
        action=Action.CREATE,
        actor=actor,
        target=attachment,
        detail={"filing": filing.pk, "item": item_code, "size": attachment.size},
    )
    return attachment


@transaction.atomic
def attachment_remove(*, filing: Filing, attachment: FilingAttachment, actor: Any) -> None:
    """Remove from the working copy. A file that belongs to a submitted version is kept for that version."""
    check_writer(actor, filing)
    if filing.state not in EDITABLE_STATES:
        raise ApplicationError(f"备案{state_label(filing.state)}，不能删除附件", code="invalid_state")
    if attachment.filing_id != filing.pk or attachment.removed:
        raise ApplicationError("附件不存在", code="not_found")
    in_versions = any(attachment.pk in ids for v in filing.versions.all() for ids in v.attachments.values())
    audit_record(action=Action.DELETE, actor=actor, target=attachment, detail={"filing": filing.pk, "kept": in_versions})
    if in_versions:
        attachment.removed = True
        attachment.save(update_fields=["removed"])
        return
    stored = attachment.file.name or ""
    storage = attachment.file.storage
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(stored))
