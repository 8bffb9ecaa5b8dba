from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from taizhang.establishments.validators import make_credit_code, normalize_mobile, org_code_check_digit, validate_credit_code


def test_known_valid_codes():
    assert validate_credit_code("91350100M000100Y43") == "91350100M000100Y43"


def test_normalisation_of_spaces_and_case():
    code = make_credit_code(region="410502", body="MA3X7K2B")
    spaced = " " + code[:6].lower() + " " + code[6:] + "\u3000"
    assert validate_credit_code(spaced) == code


@pytest.mark.parametrize(
    ("value", "reason"),
    [("", "不能为空"), ("91410502", "应为18位"), ("9141050ZMA3X7K2B00", "格式错误")],
)
def test_bad_codes_say_why(value, reason):
    with pytest.raises(ValidationError, match=reason):
        validate_credit_code(value)


def test_bad_check_character():
    code = make_credit_code(region="410502", body="MA3X7K2B")
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(ValidationError, match="GB 32100"):
        validate_credit_code(wrong)


def test_bad_embedded_organisation_code_even_with_a_correct_final_check():
    from stdnum.cn import uscc

    good = make_credit_code(region="410502", body="MA3X7K2B")
    bad_org = good[:16] + ("0" if good[16] != "0" else "1")
    bad = bad_org[:17] + uscc.calc_check_digit(bad_org[:17])  # GB 32100 check fixed up, GB 11714 still wrong
    with pytest.raises(ValidationError, match="GB 11714"):
        validate_credit_code(bad)


def test_org_code_check_digit_of_a_real_code():
    # 91350100M000100Y43 embeds the organisation code M000100Y-4
    assert org_code_check_digit("M000100Y") == "4"


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8), st.sampled_from(["410502", "410571"]))
def test_generated_codes_always_validate(body, region):
    code = make_credit_code(region=region, body=body)
    assert validate_credit_code(code) == code


@pytest.mark.parametrize("raw", ["13800000018", "138 0000 0018", "+86 138-0000-0018", "8613800000018"])
def test_mobile_forms(raw):
    assert normalize_mobile(raw) == "13800000018"


@pytest.mark.parametrize("raw", ["0372-5123456", "12345", "23800000018", "+1 650 253 0000"])
def test_not_mobiles(raw):
    with pytest.raises(ValidationError):
        normalize_mobile(raw)
