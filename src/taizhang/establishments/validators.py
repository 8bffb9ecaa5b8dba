"""Identifiers of establishments: the unified social credit code (GB 32100-2015, with the embedded
organisation code of GB 11714-1997) and mainland mobile numbers."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def org_code_check_digit(body: str) -> str:
    """GB 11714 check character for the 8-character organisation code body."""
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body, ORG_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def normalize_credit_code(value: str) -> str:
    return uscc.compact(value or "").upper().replace("\u3000", "")


def validate_credit_code(value: str) -> str:
    """Return the normalised code or raise ValidationError with a reason a user can act on."""
    code = normalize_credit_code(value)
    if not code:
        raise ValidationError("统一社会信用代码不能为空", code="required")
    if len(code) != 18:
        raise ValidationError(f"统一社会信用代码应为18位，现为{len(code)}位", code="length")
    try:
        uscc.validate(code)
    except StdnumError as exc:
        if "checksum" in type(exc).__name__.lower():
            raise ValidationError("统一社会信用代码校验位错误（GB 32100），请核对是否抄错", code="checksum") from exc
        raise ValidationError(
            "统一社会信用代码格式错误：第1-8位应为数字，其余为数字或大写字母（不含I、O、Z、S、V）", code="format"
        ) from exc
    body, check = code[8:16], code[16]
    if any(c not in _ORG_ALPHABET for c in body) or org_code_check_digit(body) != check:
        raise ValidationError("统一社会信用代码中的组织机构代码（第9-17位）校验位错误（GB 11714）", code="org_checksum")
    return code


def make_credit_code(*, region: str, body: str, authority: str = "9", category: str = "1") -> str:
    """Build a valid code (demo data, tests): authority, category, 6-digit region, 8-char organisation body."""
    partial = f"{authority}{category}{region}{body}{org_code_check_digit(body)}"
    return partial + uscc.calc_check_digit(partial)


def normalize_mobile(value: str) -> str:
    """Return the 11-digit mainland mobile number or raise ValidationError."""
    raw = (value or "").strip()
    if not raw:
        raise ValidationError("手机号码不能为空", code="required")
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"“{raw}”不是有效的手机号码", code="invalid") from exc
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number)
        not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
    ):
        raise ValidationError(f"“{raw}”不是有效的中国大陆手机号码", code="invalid")
    return str(number.national_number)
