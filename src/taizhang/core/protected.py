"""Protected personal fields (SPEC §4, PIPL): encrypted at rest, found by blind index, shown masked.

A model declares the plaintext field and, when it must be searchable, its blind index::

    contact_mobile = EncryptedTextField("联系电话", kind="mobile", blank=True)
    contact_mobile_bidx = BlindIndexField(source="contact_mobile")

    Establishment.objects.filter(**bidx_lookup(Establishment, "contact_mobile", "138 0000 0018"))

- In Python the attribute holds the plaintext; the column holds ``v1:<keyid>:<base64(nonce ‖ ciphertext ‖ tag)>``
  (AES-256-GCM, a random 96-bit nonce, the model label and field name as associated data so that a
  ciphertext copied to another column or table does not decrypt).
- Keys come from settings: ``TAIZHANG_FIELD_KEYS`` (the first encrypts, every one decrypts: rotation) and
  ``TAIZHANG_INDEX_KEY`` (HMAC-SHA256 of the normalised value, for equality search only).
- The encrypted column supports no lookup except ``isnull``: filtering on ciphertext cannot work, so it
  fails loudly instead of silently finding nothing.
- Masking is presentation: ``mask(kind, value)`` or ``{{ value|masked:"mobile" }}``; the full value is shown
  only through ``taizhang.audit.reveal.reveal()``, which checks ``can_reveal(user)`` and audits.

Saving: ``save()`` fills the blind index. ``save(update_fields=[...])`` must name the index field with its
source (refused otherwise); ``QuerySet.update()`` and ``bulk_update()`` bypass it: set the index yourself
with ``blind_index()``. See docs/adr/0003-field-encryption.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django import forms
from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, FieldError, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import signals
from django.db.models.lookups import IsNull, Lookup, Transform

from taizhang.core.errors import ApplicationError
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of

__all__ = [
    "KINDS",
    "REVEAL_ROLES",
    "BlindIndexField",
    "DecryptionError",
    "EncryptedTextField",
    "bidx_lookup",
    "blind_index",
    "blind_index_fields",
    "blind_indexer",
    "can_reveal",
    "check_keys",
    "current_key_id",
    "decrypt",
    "encrypt",
    "encrypted_field",
    "encrypted_fields",
    "encrypted_models",
    "encryptor",
    "key_id_of",
    "mask",
    "mask_field",
    "normalise",
    "reencrypt",
    "reindex",
    "stale_count",
]

M = TypeVar("M", bound=models.Model)

VERSION = "v1"  # AES-256-GCM. Another algorithm (SM4-GCM) would get another tag in the same format.
NONCE_BYTES = 12
KEY_BYTES = 32
INDEX_HEX_CHARS = 32  # 128 bits of HMAC-SHA256
KINDS = frozenset({"mobile", "id_number", "name", "address", "text"})
# Who may see a full value (always audited): staff who work with the people of their area. 三员分立: the
# administrators never read personal data, even if they also hold one of these roles.
REVEAL_ROLES = frozenset({Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY})

_KEY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")  # lower case: SQLite's LIKE ignores case


class DecryptionError(Exception):
    """A stored value does not decrypt: tampered, moved from another column, or its key is not configured."""


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"未知的个人信息类型 {kind!r}，可选：{', '.join(sorted(KINDS))}")


# --- keys -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _KeyRing:
    current: str
    ciphers: dict[str, AESGCM]
    raw: tuple[bytes, ...]


def _b64_key(value: str, what: str) -> bytes:
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{what} 不是有效的 base64") from exc
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{what} 必须是 {KEY_BYTES} 字节（base64 编码），实际 {len(key)} 字节")
    return key


@lru_cache(maxsize=8)
def _parse_field_keys(entries: tuple[str, ...]) -> _KeyRing:
    if not entries:
        raise ImproperlyConfigured("TAIZHANG_FIELD_KEYS 未配置（格式：keyid:base64key,…，第一个用于加密）")
    ciphers: dict[str, AESGCM] = {}
    raw: list[bytes] = []
    for entry in entries:
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not _KEY_ID.match(key_id):
            raise ImproperlyConfigured(
                f"TAIZHANG_FIELD_KEYS 中的条目格式错误（应为 keyid:base64key，keyid 为小写字母、数字、_ 或 -）：{key_id[:32]!r}"
            )
        if key_id in ciphers:
            raise ImproperlyConfigured(f"TAIZHANG_FIELD_KEYS 中的密钥编号 {key_id} 重复")
        key = _b64_key(encoded, f"TAIZHANG_FIELD_KEYS 中密钥 {key_id}")
        ciphers[key_id] = AESGCM(key)
        raw.append(key)
    return _KeyRing(current=next(iter(ciphers)), ciphers=ciphers, raw=tuple(raw))


@lru_cache(maxsize=8)
def _parse_index_key(value: str) -> bytes:
    if not value:
        raise ImproperlyConfigured("TAIZHANG_INDEX_KEY 未配置（32 字节密钥的 base64 编码）")
    return _b64_key(value, "TAIZHANG_INDEX_KEY")


# The parsed keys, read from settings once (every encryption and decryption needs them) and forgotten when a
# test changes the settings.
_CACHED: dict[str, Any] = {}


def _keyring() -> _KeyRing:
    ring = _CACHED.get("ring")
    if ring is None:
        configured: str | Sequence[str] = getattr(settings, "TAIZHANG_FIELD_KEYS", ())
        if isinstance(configured, str):
            configured = configured.split(",")
        ring = _CACHED["ring"] = _parse_field_keys(tuple(e.strip() for e in configured if e.strip()))
    return ring


def _index_key() -> bytes:
    key = _CACHED.get("index")
    if key is None:
        key = _CACHED["index"] = _parse_index_key(str(getattr(settings, "TAIZHANG_INDEX_KEY", "") or "").strip())
    return key


def _forget_keys(*, setting: str, **kwargs: Any) -> None:
    if setting in ("TAIZHANG_FIELD_KEYS", "TAIZHANG_INDEX_KEY"):
        _CACHED.clear()


setting_changed.connect(_forget_keys, dispatch_uid="taizhang.core.protected.keys")


def current_key_id() -> str:
    """The id of the key that encrypts new values (the first of TAIZHANG_FIELD_KEYS)."""
    return _keyring().current


@checks.register(checks.Tags.security)
def check_keys(**kwargs: Any) -> list[checks.CheckMessage]:
    """`manage.py check`: the keys parse, and the index key is not one of the encryption keys."""
    try:
        ring = _keyring()
        index_key = _index_key()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="taizhang.E100")]
    if index_key in ring.raw:
        return [checks.Error("TAIZHANG_INDEX_KEY 不得与 TAIZHANG_FIELD_KEYS 中的密钥相同", id="taizhang.E100")]
    return []


# --- encryption -----------------------------------------------------------------------------------


def _sealer(aad: str) -> Callable[[str], str]:
    """`v1:<keyid>:<base64(nonce ‖ ciphertext ‖ tag)>` of a value under the current key, bound to `aad` (the key
    and the associated data looked up once)."""
    ring = _keyring()
    seal = ring.ciphers[ring.current].encrypt
    head = f"{VERSION}:{ring.current}:"
    data = aad.encode("utf-8")
    urandom, b64 = os.urandom, base64.b64encode

    def sealed(value: str) -> str:
        nonce = urandom(NONCE_BYTES)
        return head + b64(nonce + seal(nonce, value.encode("utf-8"), data)).decode("ascii")

    return sealed


def encrypt(plaintext: str, *, aad: str) -> str:
    """`v1:<keyid>:<base64(nonce ‖ ciphertext ‖ tag)>` under the current key, bound to `aad`."""
    return _sealer(aad)(plaintext)


def encryptor(*, aad: str) -> Callable[[str], str]:
    """`encrypt(value, aad=aad)` for many values (bulk writes): the key and associated data are bound once.
    "" stays "" (as EncryptedTextField stores an empty value)."""
    sealed = _sealer(aad)

    def convert(value: str) -> str:
        return value if value == "" else sealed(value)

    return convert


def key_id_of(token: str) -> str:
    """The id of the key a stored value was encrypted with."""
    version, _, rest = token.partition(":")
    key_id, sep, _ = rest.partition(":")
    if version != VERSION or not sep:
        raise DecryptionError("无法识别的加密格式")
    return key_id


def decrypt(token: str, *, aad: str) -> str:
    """The plaintext of `token`, with whichever configured key it names; DecryptionError if it does not verify."""
    key_id = key_id_of(token)
    cipher = _keyring().ciphers.get(key_id)
    if cipher is None:
        raise DecryptionError(f"密钥 {key_id} 未配置（TAIZHANG_FIELD_KEYS），无法解密")
    try:
        blob = base64.b64decode(token[len(VERSION) + len(key_id) + 2 :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("密文编码错误") from exc
    if len(blob) < NONCE_BYTES + 16:
        raise DecryptionError("密文长度错误")
    try:
        plain = cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad.encode("utf-8"))
    except InvalidTag as exc:
        raise DecryptionError("密文校验失败：已被篡改、属于其他字段，或密钥不匹配") from exc
    return plain.decode("utf-8")


# --- normalisation and blind indexes --------------------------------------------------------------

_SPACE = re.compile(r"\s+")
_NON_DIGIT = re.compile(r"\D")
_DOTS = str.maketrans(dict.fromkeys("•・‧∙.", "·"))


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def _normalise_mobile(value: str) -> str:
    digits = _NON_DIGIT.sub("", _nfkc(value))
    for prefix in ("0086", "86"):  # +86 / 0086 before an 11-digit mobile
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11 and digits[len(prefix)] == "1":
            return digits[len(prefix) :]
    return digits


_NORMALISERS: dict[str, Callable[[str], str]] = {
    "mobile": _normalise_mobile,
    "id_number": lambda v: _SPACE.sub("", _nfkc(v)).upper(),
    "name": lambda v: _SPACE.sub("", _nfkc(v)).translate(_DOTS).casefold(),
    "address": lambda v: _SPACE.sub("", _nfkc(v)).casefold(),
    "text": lambda v: _nfkc(v).strip(),
}


def normalise(kind: str, value: str | None) -> str:
    """The canonical form compared by the blind index: mobile digits only (without +86), ID upper case …"""
    _check_kind(kind)
    return _NORMALISERS[kind](value) if value else ""


def blind_indexer(kind: str) -> Callable[[str | None], str]:
    """`blind_index(kind, value)` for many values (bulk writes): the keyed HMAC is set up once and copied."""
    _check_kind(kind)
    normaliser = _NORMALISERS[kind]
    keyed = hmac.new(_index_key(), digestmod=hashlib.sha256)
    prefix = f"{kind}\x1f"

    def index(value: str | None) -> str:
        norm = normaliser(value) if value else ""
        if not norm:
            return ""
        h = keyed.copy()
        h.update((prefix + norm).encode())
        return h.hexdigest()[:INDEX_HEX_CHARS]

    return index


def blind_index(kind: str, value: str | None) -> str:
    """HMAC-SHA256 of the normalised value under TAIZHANG_INDEX_KEY, 32 hex characters; "" for an empty value.

    Equivalent inputs ("13800000018", "+86 138-0000-0018") give the same index. The kind is part of the
    message, so equal values of one kind match across columns, never across kinds.
    """
    return blind_indexer(kind)(value)


# --- masking --------------------------------------------------------------------------------------

# 复姓: a name starting with one keeps both characters when masked (欧阳娜娜 → 欧阳**).
_COMPOUND_SURNAMES = (
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐 夏侯 轩辕 端木 独孤 南宫 西门 百里 呼延 万俟 澹台 公冶 太史 申屠 闻人 赫连 钟离 "
    "濮阳 淳于 单于 拓跋 谷梁 第五 宗政 羊舌 微生 梁丘 左丘 东郭 乐正 司空 亓官 司寇 子车 颛孙 巫马 公西 漆雕 壤驷 公良 夹谷 宰父 段干 东门 公羊 闾丘 仲孙"
)
COMPOUND_SURNAMES = frozenset(_COMPOUND_SURNAMES.split())
STARS = "****"


def _mask_mobile(text: str) -> str:
    digits = _normalise_mobile(text)
    if len(digits) >= 11:
        return digits[:3] + STARS + digits[-4:]
    if len(digits) >= 7:
        return digits[:2] + STARS + digits[-2:]
    return STARS


def _mask_id_number(text: str) -> str:
    value = _SPACE.sub("", text).upper()
    n = len(value)
    keep = 4 if n >= 15 else n // 4
    if keep == 0:
        return "*" * n
    return value[:keep] + "*" * (n - 2 * keep) + value[-keep:]


def _mask_name(text: str) -> str:
    value = _SPACE.sub(" ", text)
    if len(value) <= 1:
        return "*"
    keep = 2 if len(value) >= 3 and value[:2] in COMPOUND_SURNAMES else 1
    return value[:keep] + "*" * (len(value) - keep)


def _mask_address(text: str) -> str:
    value = _SPACE.sub(" ", text)
    return value[: min(6, len(value) // 3)] + STARS


_MASKERS: dict[str, Callable[[str], str]] = {
    "mobile": _mask_mobile,
    "id_number": _mask_id_number,
    "name": _mask_name,
    "address": _mask_address,
    "text": lambda _: STARS,
}


def mask(kind: str, value: str | None) -> str:
    """The value as shown without the reveal right: 138****0018, 4105**********1234, 张*, 欧阳**, 河南省安阳****.

    None and "" give ""; anything else always shows at least one "*", so a masked value is never the value.
    """
    _check_kind(kind)
    text = "" if value is None else str(value).strip()
    return _MASKERS[kind](text) if text else ""


# --- the fields -----------------------------------------------------------------------------------


class EncryptedTextField(models.TextField):
    """Plaintext `str` in Python, AES-GCM ciphertext in the column. Only `isnull` lookups are supported.

    `kind` ("mobile", "id_number", "name", "address", "text") selects masking and blind-index normalisation.
    "" and None are stored as they are (an empty value is not secret).
    """

    description = "Encrypted text (AES-GCM)"

    def __init__(self, *args: Any, kind: str = "text", **kwargs: Any) -> None:
        _check_kind(kind)
        self.kind = kind
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, _, args, kwargs = super().deconstruct()
        if self.kind != "text":
            kwargs["kind"] = self.kind
        return name, "taizhang.core.protected.EncryptedTextField", args, kwargs

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        for attr in ("primary_key", "unique", "db_index"):
            if getattr(self, attr):
                errors.append(
                    checks.Error(
                        f"加密字段不能设置 {attr}=True：密文每次都不同，请改用 BlindIndexField",
                        obj=self,
                        id="taizhang.E101",
                    )
                )
        return errors

    @property
    def aad(self) -> str:
        """Associated data binding a ciphertext to this column: '<app_label>.<model>.<field>'."""
        model = getattr(self, "model", None)
        if model is None:
            raise ImproperlyConfigured("EncryptedTextField 只能用作模型字段")
        return f"{model._meta.label_lower}.{self.name}"

    def from_db_value(self, value: str | None, expression: Any, connection: BaseDatabaseWrapper) -> str | None:
        if not value:
            return value
        return decrypt(value, aad=self.aad)

    def to_python(self, value: Any) -> str | None:
        # Never decrypts: values reaching to_python (forms, deserialisation) are plaintext.
        return super().to_python(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value, aad=self.aad)

    def get_lookup(self, lookup_name: str) -> type[Lookup] | None:
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(
            f"加密字段 {self.aad} 不支持查询条件“{lookup_name}”：请通过其盲索引字段（BlindIndexField）"
            f"按 bidx_lookup() 精确查找，或使用 __isnull"
        )

    def get_transform(self, lookup_name: str) -> type[Transform] | None:
        raise FieldError(f"加密字段 {self.aad} 不支持“{lookup_name}”变换")

    def formfield(self, **kwargs: Any) -> Any:
        if self.kind in {"mobile", "id_number", "name"}:
            kwargs.setdefault("widget", forms.TextInput)
        return super().formfield(**kwargs)


class BlindIndexField(models.CharField):
    """The blind index of an EncryptedTextField, recomputed from its plaintext on every save.

    Search with ``filter(**bidx_lookup(Model, "<source>", value))``. Not editable; indexed.
    """

    description = "Blind index (HMAC-SHA256)"
    _DEFAULTS: dict[str, Any] = {
        "max_length": INDEX_HEX_CHARS,
        "editable": False,
        "db_index": True,
        "blank": True,
        "default": "",
    }

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        self.source = source
        for key, value in self._DEFAULTS.items():
            kwargs.setdefault(key, value)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, _, args, kwargs = super().deconstruct()
        # Field.deconstruct() compares with Field's defaults; compare with ours, which __init__ re-applies.
        for key, default in self._DEFAULTS.items():
            value = getattr(self, key)
            if value == default:
                kwargs.pop(key, None)
            else:
                kwargs[key] = value
        kwargs["source"] = self.source
        return name, "taizhang.core.protected.BlindIndexField", args, kwargs

    def source_field(self) -> EncryptedTextField:
        field = self.model._meta.get_field(self.source)
        if not isinstance(field, EncryptedTextField):
            raise ImproperlyConfigured(f"{self.model._meta.label}.{self.name}：source 必须是 EncryptedTextField")
        return field

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        try:
            self.source_field()
        except (ImproperlyConfigured, FieldDoesNotExist):
            errors.append(
                checks.Error(
                    f"BlindIndexField 的 source={self.source!r} 不是本模型的 EncryptedTextField", obj=self, id="taizhang.E102"
                )
            )
        return errors

    def contribute_to_class(self, cls: type[models.Model], name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        if not cls._meta.abstract:
            signals.pre_save.connect(self._refuse_partial_update, sender=cls)

    def _refuse_partial_update(self, sender: Any, instance: Any, update_fields: Iterable[str] | None = None, **kw: Any) -> None:
        if update_fields is None:
            return
        names = set(update_fields)
        if self.source in names and not names & {self.name, self.attname}:
            raise ValueError(
                f"{sender._meta.label}：保存 {self.source} 时必须同时保存其盲索引 {self.name}"
                f"（在 update_fields 中加入 {self.name!r}）"
            )

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = blind_index(self.source_field().kind, getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


# --- model helpers --------------------------------------------------------------------------------


def encrypted_field(model: type[models.Model], field_name: str) -> EncryptedTextField:
    """The EncryptedTextField `field_name` of `model`; ValueError when it is not one."""
    field = model._meta.get_field(field_name)
    if not isinstance(field, EncryptedTextField):
        raise ValueError(f"{model._meta.label}.{field_name} 不是加密字段")
    return field


def encrypted_fields(model: type[models.Model], *, local: bool = False) -> list[EncryptedTextField]:
    fields = model._meta.local_concrete_fields if local else model._meta.concrete_fields
    return [f for f in fields if isinstance(f, EncryptedTextField)]


def blind_index_fields(model: type[models.Model], *, local: bool = False) -> list[BlindIndexField]:
    fields = model._meta.local_concrete_fields if local else model._meta.concrete_fields
    return [f for f in fields if isinstance(f, BlindIndexField)]


def encrypted_models() -> list[type[models.Model]]:
    """Every installed, managed, concrete model whose own table holds an encrypted or blind-index column."""
    return [
        m
        for m in apps.get_models()
        if m._meta.managed and not m._meta.proxy and (encrypted_fields(m, local=True) or blind_index_fields(m, local=True))
    ]


def bidx_lookup(model: type[models.Model], field_name: str, value: str) -> dict[str, str]:
    """Filter keyword arguments finding rows whose `field_name` equals `value` (after normalisation).

    ``Model.objects.filter(**bidx_lookup(Model, "contact_mobile", "+86 138-0000-0018"))``
    """
    source = encrypted_field(model, field_name)
    index = next((f for f in blind_index_fields(model) if f.source == field_name), None)
    if index is None:
        raise ValueError(f"{model._meta.label}.{field_name} 没有盲索引字段，不能按值查找")
    digest = blind_index(source.kind, value)
    if not digest:
        raise ApplicationError(f"请输入要查找的{source.verbose_name}", code="invalid")
    return {index.name: digest}


def mask_field(obj: models.Model, field_name: str) -> str:
    """The masked display of an encrypted field of `obj`, by the field's kind."""
    field = encrypted_field(type(obj), field_name)
    return mask(field.kind, getattr(obj, field.attname))


def can_reveal(user: Any) -> bool:
    """Whether `user` may see full personal values (through the audited reveal).

    Department, sub-district and community staff may; 三员分立: nobody holding an administrator role may,
    whatever else they hold. Row-level scope is checked by reveal() on the object itself.
    """
    scope = scope_of(user)
    return scope.reads_personal_data and bool(scope.roles & REVEAL_ROLES)


# --- key rotation ---------------------------------------------------------------------------------


def _raw(field: models.Field[Any, Any]) -> models.ExpressionWrapper:
    """The stored column value, without from_db_value (no decryption)."""
    return models.ExpressionWrapper(models.F(field.name), output_field=models.TextField())


def _stale_rows(queryset: models.QuerySet[M], fields: Sequence[EncryptedTextField]) -> models.QuerySet[M]:
    prefix = f"{VERSION}:{current_key_id()}:"
    raws = {f"taizhang_raw_{i}": _raw(f) for i, f in enumerate(fields)}
    stale = models.Q(pk__in=[])
    for alias in raws:
        stale |= models.Q(**{f"{alias}__gt": ""}) & ~models.Q(**{f"{alias}__startswith": prefix})
    return queryset.alias(**raws).filter(stale)


def stale_count(queryset: models.QuerySet[Any]) -> int:
    """How many rows hold at least one value not encrypted with the current key."""
    fields = encrypted_fields(queryset.model)
    return _stale_rows(queryset, fields).count() if fields else 0


def reencrypt(queryset: models.QuerySet[Any], *, batch_size: int = 500) -> int:
    """Re-encrypt with the current key every row of `queryset` holding a value under another key.

    Idempotent and restartable: rows already on the current key are not touched. Each batch is one
    transaction that locks its rows (SELECT … FOR UPDATE on PostgreSQL; SQLite serialises writers), so a
    concurrent edit is never overwritten. Returns the number of rows rewritten.
    """
    model = queryset.model
    fields = encrypted_fields(model)
    if not fields:
        return 0
    names = [f.name for f in fields]
    raw_names = [f"taizhang_raw_{i}" for i in range(len(fields))]
    pending = _stale_rows(queryset, fields).annotate(**{a: _raw(f) for a, f in zip(raw_names, fields, strict=True)})
    pending = pending.order_by("pk")
    done = 0
    last_pk: Any = None
    while True:
        with transaction.atomic(using=queryset.db):
            page = pending if last_pk is None else pending.filter(pk__gt=last_pk)
            rows = list(page.select_for_update().values_list("pk", *raw_names)[:batch_size])
            if not rows:
                return done
            objs = []
            for pk, *tokens in rows:
                values = {}
                for field, token in zip(fields, tokens, strict=True):
                    try:
                        values[field.attname] = decrypt(token, aad=field.aad) if token else token
                    except DecryptionError as exc:
                        raise DecryptionError(f"{model._meta.label} pk={pk} 字段 {field.name}：{exc}") from exc
                objs.append(model(pk=pk, **values))
            model._base_manager.using(queryset.db).bulk_update(objs, names)
            done += len(objs)
            last_pk = rows[-1][0]


def reindex(queryset: models.QuerySet[Any], *, batch_size: int = 500) -> int:
    """Recompute every blind index of `queryset`'s rows (after TAIZHANG_INDEX_KEY or normalisation changed).

    Idempotent: only rows whose index differs are written. Returns the number of rows rewritten.
    """
    model = queryset.model
    indexes = blind_index_fields(model)
    if not indexes:
        return 0
    names = [f.name for f in indexes]
    base = queryset.order_by("pk").only("pk", *names, *(f.source for f in indexes))
    done = 0
    last_pk: Any = None
    while True:
        with transaction.atomic(using=queryset.db):
            page = base if last_pk is None else base.filter(pk__gt=last_pk)
            rows = list(page.select_for_update()[:batch_size])
            if not rows:
                return done
            changed = []
            for obj in rows:
                before = [getattr(obj, f.attname) for f in indexes]
                if [f.pre_save(obj, add=False) for f in indexes] != before:
                    changed.append(obj)
            if changed:
                model._base_manager.using(queryset.db).bulk_update(changed, names)
            done += len(changed)
            last_pk = rows[-1].pk
