"""Protected personal fields: encryption at rest, rotation, blind index, masking and the audited reveal."""

from __future__ import annotations

import base64
from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.apps.registry import Apps
from django.core.exceptions import FieldError, ImproperlyConfigured, PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from django.template import Context, Template
from django.test import override_settings

from taizhang.accounts.models import Post
from taizhang.audit.models import AuditEvent
from taizhang.audit.reveal import reveal
from taizhang.core import protected
from taizhang.core.errors import ApplicationError, NotVisible
from taizhang.core.protected import (
    BlindIndexField,
    DecryptionError,
    EncryptedTextField,
    bidx_lookup,
    blind_index,
    can_reveal,
    check_keys,
    decrypt,
    encrypt,
    key_id_of,
    mask,
    mask_field,
    normalise,
    reencrypt,
    reindex,
    stale_count,
)
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of

# The test models live in their own registry: they never join the project's apps (no migrations, not
# seen by reencrypt_fields or by other tests); their table is created for this module only.
test_apps = Apps()
TABLE = "core_test_protected_person"


class PersonQuerySet(models.QuerySet["Person"]):
    def visible_to(self, user: Any) -> PersonQuerySet:
        return self.filter(scope_of(user).region_q("region_path"))


class Person(models.Model):
    name = EncryptedTextField("姓名", kind="name", blank=True)
    mobile = EncryptedTextField("手机号", kind="mobile", blank=True, null=True)
    mobile_bidx = BlindIndexField(source="mobile")
    id_number = EncryptedTextField("身份证号", kind="id_number", blank=True)
    id_number_bidx = BlindIndexField(source="id_number")
    address = EncryptedTextField("住址", kind="address", blank=True)
    note = EncryptedTextField("健康状况", blank=True)
    region_path = models.CharField(max_length=255, blank=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        app_label = "core"
        apps = test_apps
        db_table = TABLE
        verbose_name = "测试人员"

    def __str__(self) -> str:
        return self.name


KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(32, 64))).decode()
KEY_C = base64.b64encode(bytes(range(64, 96))).decode()
MOBILE = "13800000018"
ID_NUMBER = "41050219900101123X"


@pytest.fixture(scope="session")
def person_table(django_db_setup: Any, django_db_blocker: Any) -> Any:
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        if TABLE in connection.introspection.table_names():  # left over by an interrupted run
            editor.delete_model(Person)
        editor.create_model(Person)
    yield
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        editor.delete_model(Person)


@pytest.fixture
def pdb(person_table: Any, db: Any) -> None:
    """The database, with the test model's table."""


def raw(pk: int) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, mobile, mobile_bidx, id_number, id_number_bidx, address, note FROM core_test_protected_person WHERE id = %s",
            [pk],
        )
        row = cursor.fetchone()
        names = [c[0] for c in cursor.description]
    return dict(zip(names, row, strict=True))


UPDATE_RAW = {
    "name": "UPDATE core_test_protected_person SET name = %s WHERE id = %s",
    "mobile": "UPDATE core_test_protected_person SET mobile = %s WHERE id = %s",
    "note": "UPDATE core_test_protected_person SET note = %s WHERE id = %s",
}


def write_raw(pk: int, column: str, value: str) -> None:
    """Write a column behind the ORM's back, as someone with database access could."""
    with connection.cursor() as cursor:
        cursor.execute(UPDATE_RAW[column], [value, pk])


# --- encryption -----------------------------------------------------------------------------------


def test_round_trip_and_nothing_readable_in_the_column(pdb):
    p = Person.objects.create(name="张三", mobile=MOBILE, id_number=ID_NUMBER, address="文峰区官园社区3号楼", note="发热")
    got = Person.objects.get(pk=p.pk)
    assert (got.name, got.mobile, got.id_number, got.address, got.note) == (
        "张三",
        MOBILE,
        ID_NUMBER,
        "文峰区官园社区3号楼",
        "发热",
    )
    assert p.mobile == MOBILE  # the instance keeps the plaintext after save
    assert list(Person.objects.filter(pk=p.pk).values_list("mobile", flat=True)) == [MOBILE]

    stored = raw(p.pk)
    for column in ("name", "mobile", "id_number", "address", "note"):
        assert stored[column].startswith("v1:dev:"), column
    text = repr(stored)
    for secret in ("张三", MOBILE, "0018", ID_NUMBER, "官园", "发热"):
        assert secret not in text


def test_same_value_encrypts_differently_each_time(pdb):
    a = Person.objects.create(mobile=MOBILE)
    b = Person.objects.create(mobile=MOBILE)
    assert raw(a.pk)["mobile"] != raw(b.pk)["mobile"]
    assert raw(a.pk)["mobile_bidx"] == raw(b.pk)["mobile_bidx"]


def test_empty_and_null_are_stored_as_such(pdb):
    p = Person.objects.create(mobile=None, name="")
    assert raw(p.pk)["mobile"] is None
    assert raw(p.pk)["name"] == ""
    assert raw(p.pk)["mobile_bidx"] == ""
    got = Person.objects.get(pk=p.pk)
    assert got.mobile is None
    assert got.name == ""


def test_unicode_and_long_values(pdb):
    value = "阿卜杜·热合曼 " * 200 + "😀"
    p = Person.objects.create(note=value)
    assert Person.objects.get(pk=p.pk).note == value


def test_tampered_ciphertext_raises(pdb):
    p = Person.objects.create(mobile=MOBILE)
    token = raw(p.pk)["mobile"]
    blob = bytearray(base64.b64decode(token.split(":", 2)[2]))
    blob[-1] ^= 0x01
    write_raw(p.pk, "mobile", "v1:dev:" + base64.b64encode(bytes(blob)).decode())
    with pytest.raises(DecryptionError, match="校验失败"):
        Person.objects.get(pk=p.pk)
    for broken in ("v1:dev:not base64!", "v1:dev:" + base64.b64encode(b"short").decode(), "v2:dev:AAAA", MOBILE):
        write_raw(p.pk, "mobile", broken)
        with pytest.raises(DecryptionError):
            Person.objects.get(pk=p.pk)


def test_ciphertext_moved_to_another_column_does_not_decrypt(pdb):
    p = Person.objects.create(mobile=MOBILE, note="无")
    write_raw(p.pk, "note", raw(p.pk)["mobile"])
    with pytest.raises(DecryptionError):
        Person.objects.get(pk=p.pk)
    token = encrypt(MOBILE, aad="core.person.mobile")
    assert decrypt(token, aad="core.person.mobile") == MOBILE
    with pytest.raises(DecryptionError):
        decrypt(token, aad="core.other.mobile")


def test_unknown_key_id_is_a_clear_error(pdb):
    with override_settings(TAIZHANG_FIELD_KEYS=[f"old:{KEY_A}"]):
        token = encrypt(MOBILE, aad="x")
    assert key_id_of(token) == "old"
    with pytest.raises(DecryptionError, match="密钥 old 未配置"):
        decrypt(token, aad="x")


# --- rotation -------------------------------------------------------------------------------------


def test_rotation_old_rows_still_decrypt_new_rows_use_the_new_key(pdb):
    with override_settings(TAIZHANG_FIELD_KEYS=[f"a:{KEY_A}"]):
        old = [Person.objects.create(name=f"张{i}", mobile=f"1380000001{i}", note="") for i in range(5)]
        assert raw(old[0].pk)["mobile"].startswith("v1:a:")
        bidx_before = raw(old[0].pk)["mobile_bidx"]

    with override_settings(TAIZHANG_FIELD_KEYS=f"b:{KEY_B},a:{KEY_A}"):  # a comma-separated string works too
        assert protected.current_key_id() == "b"
        assert Person.objects.get(pk=old[0].pk).mobile == "13800000010"
        new = Person.objects.create(name="李四", mobile="13900000019")
        assert raw(new.pk)["mobile"].startswith("v1:b:")

        everyone = Person.objects.all()
        assert stale_count(everyone) == 5
        assert reencrypt(everyone, batch_size=2) == 5
        assert stale_count(everyone) == 0
        assert reencrypt(everyone) == 0  # idempotent
        stored = raw(old[0].pk)
        assert stored["mobile"].startswith("v1:b:")
        assert stored["name"].startswith("v1:b:")
        assert stored["note"] == ""  # empty values stay empty
        assert stored["mobile_bidx"] == bidx_before  # the blind index does not depend on the encryption key

    with override_settings(TAIZHANG_FIELD_KEYS=[f"b:{KEY_B}"]):  # old key removed
        assert [p.mobile for p in Person.objects.order_by("pk")] == [f"1380000001{i}" for i in range(5)] + ["13900000019"]
    with override_settings(TAIZHANG_FIELD_KEYS=[f"a:{KEY_A}"]), pytest.raises(DecryptionError):
        Person.objects.get(pk=old[0].pk)


def test_reencrypt_only_touches_its_queryset_and_names_a_broken_row(pdb):
    with override_settings(TAIZHANG_FIELD_KEYS=[f"a:{KEY_A}"]):
        p1 = Person.objects.create(mobile=MOBILE)
        p2 = Person.objects.create(mobile=MOBILE)
    with override_settings(TAIZHANG_FIELD_KEYS=[f"b:{KEY_B}", f"a:{KEY_A}"]):
        assert reencrypt(Person.objects.filter(pk=p1.pk)) == 1
        assert raw(p2.pk)["mobile"].startswith("v1:a:")
        write_raw(p2.pk, "mobile", "v1:a:" + base64.b64encode(bytes(40)).decode())  # still on the old key, but broken
        with pytest.raises(DecryptionError, match=f"pk={p2.pk}"):
            reencrypt(Person.objects.all())


def test_reencrypt_fields_command(pdb, monkeypatch):
    monkeypatch.setattr(protected, "encrypted_models", lambda: [Person])
    with override_settings(TAIZHANG_FIELD_KEYS=[f"a:{KEY_A}"]):
        p = Person.objects.create(mobile=MOBILE, name="王五")
    with override_settings(TAIZHANG_FIELD_KEYS=[f"b:{KEY_B}", f"a:{KEY_A}"]):
        with pytest.raises(CommandError, match="1 行仍使用旧密钥"):
            call_command("reencrypt_fields", "--check", stdout=StringIO())
        out = StringIO()
        call_command("reencrypt_fields", "--batch-size", "1", stdout=out)
        assert "core.person：重新加密 1 行" in out.getvalue()
        out = StringIO()
        call_command("reencrypt_fields", stdout=out)  # idempotent
        assert "重新加密 0 行" in out.getvalue()
        call_command("reencrypt_fields", "--check", stdout=StringIO())
    with override_settings(TAIZHANG_FIELD_KEYS=[f"b:{KEY_B}"]):
        assert Person.objects.get(pk=p.pk).name == "王五"


def test_index_key_rotation_with_reindex(pdb, monkeypatch):
    monkeypatch.setattr(protected, "encrypted_models", lambda: [Person])
    p = Person.objects.create(mobile=MOBILE, id_number=ID_NUMBER)
    Person.objects.create(mobile=None)
    with override_settings(TAIZHANG_INDEX_KEY=KEY_C):
        assert not Person.objects.filter(**bidx_lookup(Person, "mobile", MOBILE)).exists()
        assert reindex(Person.objects.all(), batch_size=1) == 1
        assert reindex(Person.objects.all()) == 0
        assert Person.objects.get(**bidx_lookup(Person, "mobile", MOBILE)) == p
        assert Person.objects.get(**bidx_lookup(Person, "id_number", ID_NUMBER.lower())) == p
    out = StringIO()
    call_command("reencrypt_fields", "--reindex", stdout=out)
    assert "重算盲索引 1 行" in out.getvalue()
    assert Person.objects.get(**bidx_lookup(Person, "mobile", MOBILE)) == p


def test_the_test_model_stays_out_of_the_project_registry(db):
    # Core's tests do not run the command over other apps' models: their tables are their tests' business.
    assert Person not in protected.encrypted_models()
    with pytest.raises(CommandError, match="batch-size"):
        call_command("reencrypt_fields", "--batch-size", "0", stdout=StringIO())


# --- keys -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "keys",
    [
        [],
        ["nocolon"],
        [f"UPPER:{KEY_A}"],
        [f"a:{KEY_A}", f"a:{KEY_B}"],
        ["a:" + base64.b64encode(b"too short").decode()],
        ["a:not-base64!"],
    ],
)
def test_bad_field_keys_are_refused(keys):
    with override_settings(TAIZHANG_FIELD_KEYS=keys), pytest.raises(ImproperlyConfigured, match="TAIZHANG_FIELD_KEYS"):
        encrypt("x", aad="y")


def test_key_checks():
    assert check_keys() == []
    with override_settings(TAIZHANG_FIELD_KEYS=[f"a:{KEY_A}"], TAIZHANG_INDEX_KEY=KEY_A):
        assert [e.id for e in check_keys()] == ["taizhang.E100"]
    with override_settings(TAIZHANG_INDEX_KEY=""):
        assert [e.id for e in check_keys()] == ["taizhang.E100"]
        with pytest.raises(ImproperlyConfigured, match="TAIZHANG_INDEX_KEY"):
            blind_index("mobile", MOBILE)


def test_development_keys_are_derived_not_configured(settings):
    from taizhang.config.settings.base import development_field_keys

    field_keys, index_key = development_field_keys("taizhang-test-key")
    assert (field_keys, index_key) == (settings.TAIZHANG_FIELD_KEYS, settings.TAIZHANG_INDEX_KEY)
    assert development_field_keys("another secret") != (field_keys, index_key)
    assert len(base64.b64decode(index_key)) == 32


# --- the field ------------------------------------------------------------------------------------


def test_only_isnull_lookups(pdb):
    Person.objects.create(mobile=MOBILE)
    Person.objects.create(mobile=None)
    assert Person.objects.filter(mobile__isnull=True).count() == 1
    assert Person.objects.exclude(mobile__isnull=True).count() == 1
    for lookup in ({"mobile__icontains": "138"}, {"mobile": MOBILE}, {"mobile__startswith": "138"}, {"mobile__in": [MOBILE]}):
        with pytest.raises(FieldError, match=r"加密字段 core\.person\.mobile 不支持查询条件"):
            Person.objects.filter(**lookup)
    with pytest.raises(FieldError, match="不支持"):
        Person.objects.filter(mobile__lower__exact="x")


def test_deconstruct_names_the_kind_and_never_a_key():
    _, path, _, kwargs = Person._meta.get_field("mobile").deconstruct()
    assert path == "taizhang.core.protected.EncryptedTextField"
    assert kwargs == {"verbose_name": "手机号", "kind": "mobile", "blank": True, "null": True}
    assert "kind" not in Person._meta.get_field("note").deconstruct()[3]
    _, path, _, kwargs = Person._meta.get_field("mobile_bidx").deconstruct()
    assert path == "taizhang.core.protected.BlindIndexField"
    assert kwargs == {"source": "mobile"}
    rebuilt = BlindIndexField(**kwargs)
    assert (rebuilt.max_length, vars(rebuilt)["db_index"], rebuilt.editable, rebuilt.default) == (32, True, False, "")
    assert BlindIndexField(source="x", db_index=False).deconstruct()[3] == {"source": "x", "db_index": False}
    text = repr([f.deconstruct() for f in Person._meta.get_fields() if isinstance(f, models.Field)])
    assert KEY_A not in text
    assert "dev:" not in text


def test_field_checks():
    other_apps = Apps()

    class Bad(models.Model):
        secret = EncryptedTextField(unique=True)
        orphan_bidx = BlindIndexField(source="missing")
        plain = models.CharField(max_length=10)
        plain_bidx = BlindIndexField(source="plain")

        class Meta:
            app_label = "core"
            apps = other_apps

        def __str__(self) -> str:
            return str(self.pk)

    assert [e.id for e in Bad._meta.get_field("secret").check()] == ["taizhang.E101"]
    assert [e.id for e in Bad._meta.get_field("orphan_bidx").check()] == ["taizhang.E102"]
    assert [e.id for e in Bad._meta.get_field("plain_bidx").check()] == ["taizhang.E102"]
    for field in Person._meta.concrete_fields:
        assert field.check() == [], field.name
    with pytest.raises(ValueError, match="未知的个人信息类型"):
        EncryptedTextField(kind="passport")


def test_form_field_is_a_single_line_for_short_kinds():
    from django import forms

    assert isinstance(Person._meta.get_field("mobile").formfield().widget, forms.TextInput)
    assert isinstance(Person._meta.get_field("address").formfield().widget, forms.Textarea)
    assert not Person._meta.get_field("mobile_bidx").editable


# --- blind index ----------------------------------------------------------------------------------


def test_blind_index_of_equivalent_inputs_is_equal():
    forms_of_one_number = ["13800000018", "138 0000 0018", "+86 138-0000-0018", "0086 138 0000 0018", "１３８００００００１８"]
    assert len({blind_index("mobile", v) for v in forms_of_one_number}) == 1
    assert {normalise("mobile", v) for v in forms_of_one_number} == {"13800000018"}
    assert blind_index("id_number", "41050219900101123x") == blind_index("id_number", " 41050219900101123X ")
    assert blind_index("name", "阿卜杜·热合曼") == blind_index("name", "阿卜杜.热合曼 ")
    assert blind_index("address", "官园社区 3号楼") == blind_index("address", "官园社区3号楼")


def test_blind_index_differs_for_other_values_kinds_and_keys():
    index = blind_index("mobile", MOBILE)
    assert len(index) == 32
    assert int(index, 16) >= 0
    assert blind_index("mobile", "13800000019") != index
    assert blind_index("text", MOBILE) != index  # kinds are separated
    with override_settings(TAIZHANG_INDEX_KEY=KEY_C):
        assert blind_index("mobile", MOBILE) != index
    assert blind_index("mobile", None) == blind_index("mobile", "") == blind_index("mobile", "无") == ""


def test_blind_index_is_filled_on_save_and_searchable(pdb):
    p = Person.objects.create(mobile=MOBILE, id_number=ID_NUMBER)
    Person.objects.create(mobile="13900000019")
    assert p.mobile_bidx == blind_index("mobile", MOBILE)
    for typed in ("138 0000 0018", "+86 138-0000-0018"):
        assert list(Person.objects.filter(**bidx_lookup(Person, "mobile", typed))) == [p]
    assert bidx_lookup(Person, "mobile", MOBILE) == {"mobile_bidx": blind_index("mobile", MOBILE)}

    p.mobile = "13700000017"
    p.save()
    assert not Person.objects.filter(**bidx_lookup(Person, "mobile", MOBILE)).exists()
    assert Person.objects.get(**bidx_lookup(Person, "mobile", "137-0000-0017")) == p

    p.mobile = None
    p.save()
    assert raw(p.pk)["mobile_bidx"] == ""

    created = Person.objects.bulk_create([Person(mobile="13600000016")])
    assert Person.objects.get(**bidx_lookup(Person, "mobile", "13600000016")).pk == created[0].pk


def test_partial_save_must_include_the_blind_index(pdb):
    p = Person.objects.create(mobile=MOBILE)
    p.mobile = "13700000017"
    with pytest.raises(ValueError, match="mobile_bidx"):
        p.save(update_fields=["mobile"])
    p.save(update_fields=["mobile", "mobile_bidx"])
    assert Person.objects.get(**bidx_lookup(Person, "mobile", "13700000017")) == p
    p.save(update_fields=["region_path"])  # unrelated fields are fine


def test_bidx_lookup_refuses_what_it_cannot_search(pdb):
    with pytest.raises(ApplicationError, match="请输入要查找的手机号"):
        bidx_lookup(Person, "mobile", "  ")
    with pytest.raises(ValueError, match="没有盲索引"):
        bidx_lookup(Person, "name", "张三")
    with pytest.raises(ValueError, match="不是加密字段"):
        bidx_lookup(Person, "region_path", "/")


# --- masking --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        ("mobile", "13800000018", "138****0018"),
        ("mobile", "+86 138-0000-0018", "138****0018"),
        ("mobile", "0372-1234567", "037****4567"),
        ("mobile", "1234567", "12****67"),
        ("mobile", "12345", "****"),
        ("mobile", "无", "****"),
        ("id_number", "410502199001011234", "4105**********1234"),
        ("id_number", "41050219900101123x", "4105**********123X"),
        ("id_number", "410502900101123", "4105*******1123"),
        ("id_number", "E12345678", "E1*****78"),
        ("id_number", "123", "***"),
        ("name", "张三", "张*"),
        ("name", "张三丰", "张**"),
        ("name", "欧阳娜娜", "欧阳**"),
        ("name", "欧阳修", "欧阳*"),
        ("name", "欧阳", "欧*"),
        ("name", "张", "*"),
        ("name", " 阿卜杜·热合曼 ", "阿******"),
        ("name", "John Smith", "J*********"),
        ("address", "河南省安阳市文峰区甜水井街道官园社区3号楼", "河南省安阳市****"),
        ("address", "北京市", "北****"),
        ("address", "甲", "****"),
        ("text", "发热，37.8℃", "****"),
        ("text", "x", "****"),
    ],
)
def test_mask(kind, value, shown):
    assert mask(kind, value) == shown


@pytest.mark.parametrize("kind", sorted(protected.KINDS))
def test_mask_of_nothing_is_empty_and_of_something_never_the_value(kind):
    assert mask(kind, None) == ""
    assert mask(kind, "") == ""
    assert mask(kind, "   ") == ""
    for value in ("1", "12", "张三", "13800000018", "410502199001011234"):
        assert "*" in mask(kind, value)
        assert mask(kind, value) != value


def test_mask_unknown_kind():
    with pytest.raises(ValueError, match="未知的个人信息类型"):
        mask("passport", "E123")


def test_mask_field_uses_the_fields_kind(pdb):
    p = Person(mobile=MOBILE, id_number=ID_NUMBER, name="欧阳娜娜")
    assert (mask_field(p, "mobile"), mask_field(p, "id_number"), mask_field(p, "name")) == (
        "138****0018",
        "4105**********123X",
        "欧阳**",
    )


def test_template_filter():
    template = Template(
        '{% load protected %}{{ m|masked:"mobile" }}|{{ n|masked:"name" }}|{{ missing|masked:"mobile" }}|{{ t|masked }}'
    )
    assert template.render(Context({"m": MOBILE, "n": "<b>李四", "t": "阳性"})) == "138****0018|&lt;****||****"
    assert Template('{% load protected %}{{ n|masked:"name" }}').render(Context({"n": "李四"})) == "李*"


# --- reveal ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.COMMUNITY, True),
        (Role.SUBDISTRICT, True),
        (Role.DEPARTMENT, True),
        (Role.LEADER, False),
        (Role.INSPECTOR, False),
        (Role.HOTLINE, False),
        (Role.ENTERPRISE, False),
        (Role.SYSADMIN, False),
        (Role.SECADMIN, False),
        (Role.AUDITOR, False),
    ],
)
def test_can_reveal(make_user, role, allowed):
    assert can_reveal(make_user(role)) is allowed


def test_an_administrator_post_removes_the_reveal_right(make_user):
    user = make_user(Role.COMMUNITY)
    post = user.posts.get()
    Post.objects.create(user=user, unit=post.unit, region=post.region, role=Role.AUDITOR, valid_from=date(2020, 1, 1))
    assert can_reveal(user) is False
    assert can_reveal(None) is False


@pytest.fixture
def person(pdb, regions):
    return Person.objects.create(name="张三", mobile=MOBILE, region_path=regions["官园第1网格"].path)


def reveal_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.REVEAL).order_by("id"))


def test_reveal_returns_the_value_and_is_audited(make_user, person):
    user = make_user(Role.COMMUNITY, "官园社区")
    fresh = Person.objects.get(pk=person.pk)
    assert reveal(user=user, obj=fresh, field_name="mobile", reason="核实返乡人员联系方式") == MOBILE
    [event] = reveal_events()
    assert event.actor == user
    assert event.outcome == AuditEvent.Outcome.OK
    assert (event.object_type, event.object_id) == ("core.person", str(person.pk))
    assert event.detail == {"field": "mobile", "reason": "核实返乡人员联系方式"}
    assert "张三" not in event.object_repr  # str(obj) is the person's name: the auditor must not see it
    assert MOBILE not in str(event.detail)


def test_reveal_is_refused_for_an_auditor_and_the_refusal_audited(make_user, person):
    auditor = make_user(Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        reveal(user=auditor, obj=person, field_name="mobile")
    [event] = reveal_events()
    assert (event.actor, event.outcome) == (auditor, AuditEvent.Outcome.DENIED)
    assert "张三" not in event.object_repr


def test_reveal_outside_the_users_scope_looks_missing(make_user, person):
    elsewhere = make_user(Role.COMMUNITY, "乔家巷社区")
    with pytest.raises(NotVisible):
        reveal(user=elsewhere, obj=person, field_name="mobile")
    assert [e.outcome for e in reveal_events()] == [AuditEvent.Outcome.DENIED]


def test_reveal_only_reveals_encrypted_fields(make_user, person):
    user = make_user(Role.COMMUNITY, "官园社区")
    with pytest.raises(ValueError, match="不是加密字段"):
        reveal(user=user, obj=person, field_name="region_path")
    assert reveal_events() == []
    person.mobile = None
    assert reveal(user=user, obj=person, field_name="mobile") == ""


def test_bulk_encryptor_and_blind_indexer_agree_with_the_single_value_functions():
    """transfer's bulk writes use encryptor()/blind_indexer(): the same format, the same associated data, the same
    index as encrypt()/blind_index(); and a change of keys in the settings reaches them (no stale cache)."""
    seal = protected.encryptor(aad="x.y.z")
    token = seal("张三")
    assert key_id_of(token) == protected.current_key_id() and decrypt(token, aad="x.y.z") == "张三"
    assert seal("") == "" and seal("张三") != token
    with pytest.raises(DecryptionError):
        decrypt(token, aad="x.y.other")
    index = protected.blind_indexer("mobile")
    for value in ["13800000018", "+86 138-0000-0018", "", None, "０１２"]:
        assert index(value) == blind_index("mobile", value)
    before = blind_index("mobile", "13800000018")
    with override_settings(TAIZHANG_INDEX_KEY=KEY_C, TAIZHANG_FIELD_KEYS=[f"z9:{KEY_B}"]):
        assert protected.blind_indexer("mobile")("13800000018") == blind_index("mobile", "13800000018") != before
        assert key_id_of(protected.encryptor(aad="x.y.z")("张三")) == "z9"
    assert blind_index("mobile", "13800000018") == before
