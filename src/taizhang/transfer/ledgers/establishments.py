"""单位台账: the establishments registry in and out of Excel.

Rows are validated with the rules of establishments.services.establishment_create (clean_data and
_check_duplicates: credit code check characters, mobile, name, region level, road section inside the
sub-district, no duplicate code, no duplicate name+community+address) and written in bulk: the same columns
establishment_create sets (name_initials, region_path, status_since, created_by), an 导入 event per
establishment, and one audit record for the import.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from taizhang.audit.services import Action, audit_record
from taizhang.core.protected import mask
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of
from taizhang.establishments.forms import EXPORTERS
from taizhang.establishments.models import Establishment, EstablishmentEvent, EstablishmentKind, Status
from taizhang.establishments.selectors import establishment_list
from taizhang.establishments.validators import ORG_WEIGHTS, validate_credit_code
from taizhang.industries.models import ServiceCategory
from taizhang.regions.models import Level

from ..bulk import BulkInserter
from ..columns import (
    CellError,
    Column,
    boolean,
    coordinate,
    date_value,
    looks_like_number_damage,
    max_length,
    non_negative_int,
    text,
)
from ..engine import Ledger, ParsedRow
from .lookups import Initials, RegionIndex, RoadIndex, mobile

AUDIT_IDS = 1000  # as audit_bulk keeps
ESTABLISHMENT_LEVELS = (Level.COMMUNITY, Level.GRID, Level.COMPOUND, Level.UNIT)
STATUS_BY_LABEL = {
    **{s.label: s.value for s in Status},
    **{s.value: s.value for s in Status},
    "已复学": Status.RESUMED,
    "未复学": Status.NOT_RESUMED,
}


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class _Refuse(dict[int, str]):
    """A str.translate table that turns every character it does not list into "!", which int() refuses."""

    def __missing__(self, key: int) -> str:
        return "!"


# GB 32100: the check character is (31 − Σ v(cᵢ)·wᵢ mod 31) mod 31 over the first 17 characters, and the weights
# 1, 3, 9, 27, 19 … are 3ⁱ mod 31. Since 34 ≡ 3 (mod 31), int() in base 34 of the 17 characters reversed, each
# replaced by the digit of its value, is ≡ the weighted sum: computed in C instead of a loop per character.
_USCC_DIGITS = _Refuse({ord(c): "0123456789abcdefghijklmnopqrstuvwxyz"[i] for i, c in enumerate(_USCC_ALPHABET)})
# GB 11714 (characters 9–16): Σ v(cᵢ)·wᵢ mod 11 with weights 3, 7, 9, 10, 5, 8, 4, 2 = 3·6ⁱ mod 11; 17 ≡ 6 (mod
# 11), so int() in base 17 of the values mod 11 gives it the same way. ORG_WEIGHTS is the table this replaces.
_ORG_DIGITS = _Refuse({ord(c): "0123456789a"[_ORG_ALPHABET.index(c) % 11] for c in _USCC_ALPHABET})
if any((3 * 6**i) % 11 != w for i, w in enumerate(ORG_WEIGHTS)):
    raise ImportError("ORG_WEIGHTS changed: _ORG_DIGITS no longer computes the GB 11714 sum")


def _valid_credit_code_fast(code: str) -> bool:
    """True only for an 18-character code that validate_credit_code accepts unchanged (GB 32100 check character
    and the GB 11714 organisation check character); anything else goes through validate_credit_code itself,
    which gives the reason. Tests compare both on random and mutated codes."""
    if len(code) != 18 or not code[:8].isdigit():
        return False
    try:
        total = int(code[16::-1].translate(_USCC_DIGITS), 34)
        org = int(code[15:7:-1].translate(_ORG_DIGITS), 17)
    except ValueError:  # a character outside the alphabet
        return False
    if _USCC_ALPHABET[-total % 31] != code[17]:
        return False
    c9 = 11 - (3 * org) % 11
    return code[16] == ("X" if c9 == 10 else "0" if c9 == 11 else str(c9))


def credit_code(cell: Any) -> str | None:
    if cell == "" or cell is None:
        return None
    if isinstance(cell, str) and _valid_credit_code_fast(cell):
        return cell
    if looks_like_number_damage(cell):
        shown = f"{cell:.5E}" if isinstance(cell, float | int) else text(cell)
        raise CellError(
            f"Excel 把代码存成了数字（显示为 {shown}），后几位已经丢失，系统不会猜测：请把该列设为“文本”格式，重新填写完整的18位代码"
        )
    try:
        return validate_credit_code(text(cell))
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from None


class EstablishmentLedger(Ledger):
    code = "establishments"
    title = "单位台账"
    sheet_title = "单位台账"
    pipelined = True
    check_keys = ("credit_code", "name", "region_id", "address")
    import_roles: ClassVar[frozenset[str]] = frozenset({Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY})
    export_roles: ClassVar[frozenset[str]] = EXPORTERS  # the list page's export button shows for the same roles
    instructions = (
        "每行一个单位；带 * 的列必填。列的顺序可以调整，标题上方可以有标题行，多余的列会被忽略。",
        "统一社会信用代码：18位，系统会核对校验位。请先把该列设为“文本”格式，否则 Excel 会把全数字的代码变成 9.14105E+17 之类的数字，后几位丢失且无法还原。",
        "所在社区/网格：填写社区（村）或网格的名称或代码；重名的网格请写成“官园社区/第1网格”。只能导入您管辖范围内的单位。",
        "单位类型、行业类别、状态：请从下拉列表中选择。",
        "日期可写成 2020-03-19、2020/3/19、2020年3月19日，或使用 Excel 日期格式。",
        "导入前系统会逐行检查，有任何错误时默认一行也不导入，并给出每个问题所在的行、列和原因；修正后重新上传即可。",
    )

    def columns(self) -> list[Column]:
        return [
            Column(
                "credit_code",
                "统一社会信用代码",
                ("信用代码", "社会信用代码", "统一代码", "USCC", "注册号/统一社会信用代码"),
                credit_code,
                help="18位，必须设为文本格式；个体户没有可不填",
                example="91410502MA0000000X",
                width=22,
            ),
            Column(
                "name",
                "单位名称",
                ("名称", "企业名称", "单位", "市场主体名称", "店名", "商户名称", "学校名称"),
                max_length(120),
                required=True,
                help="营业执照上的全称",
                example="安阳市文峰区光华路便民超市",
                width=30,
            ),
            Column(
                "kind",
                "单位类型",
                ("类型", "主体类型", "单位类别"),
                self._kind,
                required=True,
                choices=self._kind_labels,
                help="从下拉列表选择",
                example="超市",
            ),
            Column(
                "category",
                "行业类别",
                ("行业", "服务业类别", "行业分类", "所属行业"),
                self._category,
                choices=self._category_labels,
                help="服务业小类，名称或编号",
                example="",
                width=18,
            ),
            Column(
                "region",
                "所在社区/网格",
                ("所在社区", "社区", "社区/村", "所属社区", "所在网格", "网格", "所在区划", "区划代码", "社区(村)"),
                self._region,
                required=True,
                help="社区（村）或网格的名称或代码",
                example="官园社区",
                width=18,
            ),
            Column("road_section", "路段", ("所在路段", "路段名称"), text, help="路段名称或编号，可不填", example=""),
            Column(
                "address",
                "地址",
                ("详细地址", "经营地址", "住所", "地址(门牌号)"),
                max_length(200),
                sensitive="",
                example="光华路12号",
                width=28,
            ),
            Column(
                "legal_representative",
                "法定代表人",
                ("法人", "法人代表", "负责人", "经营者"),
                max_length(60),
                sensitive="name",
                example="张三",
            ),
            Column("contact_name", "联系人", ("联系人姓名",), max_length(60), sensitive="name", example="李四"),
            Column(
                "contact_mobile",
                "联系电话",
                ("联系人电话", "手机", "手机号", "手机号码", "联系方式", "电话"),
                mobile,
                sensitive="mobile",
                help="11位手机号",
                example="13800000018",
            ),
            Column("employees", "从业人数", ("员工人数", "职工人数", "人数", "员工数"), non_negative_int, example="12", width=10),
            Column(
                "above_size",
                "限上企业",
                ("是否限上", "限上", "限额以上"),
                boolean,
                choices=lambda: ["是", "否"],
                example="否",
                width=10,
            ),
            Column(
                "key_target",
                "重点帮扶",
                ("重点企业", "是否重点", "重点帮扶企业"),
                boolean,
                choices=lambda: ["是", "否"],
                example="否",
                width=10,
            ),
            Column(
                "status",
                "状态",
                ("复工状态", "经营状态", "复工情况"),
                self._status,
                choices=lambda: [s.label for s in Status],
                example="未复工",
                width=10,
            ),
            Column(
                "resumed_on",
                "复工日期",
                ("复工时间", "复学日期"),
                date_value,
                help="状态为“已复工”时必填",
                example="2020-03-19",
                width=12,
            ),
            Column("latitude", "纬度", (), coordinate(-90, 90), example="", width=10),
            Column("longitude", "经度", (), coordinate(-180, 180), example="", width=10),
        ]

    # --- lookups ---
    def _kinds(self) -> dict[str, EstablishmentKind]:
        if not hasattr(self, "_kind_table"):
            table: dict[str, EstablishmentKind] = {}
            for k in EstablishmentKind.objects.all():
                table[k.name] = k
                table[k.code] = k
            if "enterprise" in table:
                table.setdefault("企业", table["enterprise"])
                table.setdefault("个体", table["enterprise"])
            self._kind_table = table
        return self._kind_table

    def _kind_labels(self) -> list[str]:
        if hasattr(self, "_kind_table"):  # during an import (maybe in the reader process): the loaded table
            return list(dict.fromkeys(k.name for k in self._kind_table.values()))
        return [k.name for k in EstablishmentKind.objects.all()]

    def _kind(self, cell: Any) -> EstablishmentKind:
        value = text(cell)
        kinds = self._kinds()
        if value in kinds:
            return kinds[value]
        raise CellError(f"单位类型“{value}”不存在，可选：{'、'.join(self._kind_labels())}")

    def _categories(self) -> dict[str, ServiceCategory]:
        if not hasattr(self, "_category_table"):
            self._category_table: dict[str, ServiceCategory] = {}
            minors = ServiceCategory.objects.filter(level=ServiceCategory.Level.MINOR, is_active=True)
            for c in minors:
                self._category_table.setdefault(c.name, c)
            for c in minors:
                self._category_table[c.code] = c  # a code wins over a name (find_category order)
        return self._category_table

    def _category_labels(self) -> list[str]:
        return list(
            ServiceCategory.objects.filter(level=ServiceCategory.Level.MINOR, is_active=True).values_list("name", flat=True)
        )

    def _category(self, cell: Any) -> ServiceCategory | None:
        value = text(cell)
        if not value:
            return None
        found = self._categories().get(value)
        if found is None:
            raise CellError(f"行业类别“{value}”不存在：请从下拉列表选择服务业小类，或填写类别编号")
        return found

    def _region(self, cell: Any) -> Any:
        return self._region_index.find(cell, what="社区/网格")

    def _status(self, cell: Any) -> str:
        value = text(cell)
        if not value:
            return Status.NOT_RESUMED
        if value in STATUS_BY_LABEL:
            return STATUS_BY_LABEL[value]
        raise CellError(f"状态“{value}”无法识别，可选：{'、'.join(s.label for s in Status)}")

    # --- hooks ---
    def prepare(self) -> None:
        self._region_index = RegionIndex.load(ESTABLISHMENT_LEVELS)
        self._roads = RoadIndex.load()
        self._subdistricts = {r.path: r for r in RegionIndex.load([Level.SUBDISTRICT]).by_pk.values()}
        self._scope_paths = tuple(scope_of(self.user).region_paths)
        self._seen_codes: dict[str, int] = {}
        self._seen_names: dict[tuple[str, int, str], int] = {}
        self._initials = Initials()
        self._inserter = BulkInserter(Establishment)
        self._groups: Counter[tuple[Any, ...]] = Counter()
        self._created: list[int] = []
        self._max_id_at_start: int | None = None
        self._first_id = self._last_id = 0
        self._actor_id = self.user.pk if getattr(self.user, "is_authenticated", False) else None
        self._now = timezone.now()
        self._today = timezone.localdate()
        self._kinds()
        self._categories()

    def _subdistrict_of(self, path: str) -> Any:
        parts = path.strip("/").split("/")
        for i in range(len(parts), 0, -1):
            found = self._subdistricts.get("/" + "/".join(parts[:i]) + "/")
            if found is not None:
                return found
        return None

    def check_row(self, row: ParsedRow) -> None:
        v = row.values
        p = row.problems
        region = v["region"]
        v["region_id"] = region.pk
        if not (self._scope_paths and region.path.startswith(self._scope_paths)):
            p.add("所在社区/网格", region.display_name, "不在您的管辖范围内，不能导入：请只导入本辖区的单位，或请上级部门导入")
        road_raw = v.get("road_section")
        v["road_section"] = None
        if road_raw:
            subdistrict = self._subdistrict_of(region.path)
            try:
                road = self._roads.find(road_raw, subdistrict.path if subdistrict else None)
            except CellError as exc:
                p.add("路段", road_raw, exc.reason)
            else:
                if road is not None and (subdistrict is None or road.subdistrict_id != subdistrict.pk):
                    p.add("路段", road_raw, "路段不在该单位所在的街道/镇")
                v["road_section"] = road
        if v.get("status") == Status.RESUMED and not v.get("resumed_on"):
            p.add("复工日期", "", "状态为“已复工”时请填写复工日期")
        if (v.get("latitude") is None) != (v.get("longitude") is None):
            p.add("经度" if v.get("longitude") is None else "纬度", "", "经度和纬度要么都填，要么都不填")
        code = v.get("credit_code")
        if code:
            first = self._seen_codes.get(code)
            if first is not None:
                p.add("统一社会信用代码", code, f"与第 {first} 行的统一社会信用代码重复：同一单位只填一行")
            else:
                self._seen_codes[code] = row.row
        else:
            key = (v["name"], region.pk, v.get("address", ""))
            first = self._seen_names.get(key)
            if first is not None:
                p.add("单位名称", v["name"], f"与第 {first} 行同名、同社区、同地址：同一单位只填一行")
            else:
                self._seen_names[key] = row.row

    def _existing(self) -> Any:
        """Establishments that existed when the run started: the rows this run writes are checked in the file."""
        if self._max_id_at_start is None:
            self._max_id_at_start = Establishment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        return Establishment.objects.filter(pk__lte=self._max_id_at_start) if self._max_id_at_start else None

    def check_chunk(self, rows: list[ParsedRow]) -> None:
        existing = self._existing()
        if existing is None:
            return
        codes = {r.values["credit_code"]: r for r in rows if r.values.get("credit_code")}
        if codes:
            taken = dict(existing.filter(credit_code__in=list(codes)).values_list("credit_code", "pk"))
            if taken:
                visible = dict(
                    Establishment.objects.visible_to(self.user).filter(pk__in=taken.values()).values_list("pk", "name")
                )
                for code, pk in taken.items():
                    name = visible.get(pk)
                    reason = f"已登记为“{name}”，请勿重复导入" if name else "该代码已被其他辖区登记：请联系上级核实"
                    codes[code].problems.add("统一社会信用代码", code, reason)
        nameless = [r for r in rows if not r.values.get("credit_code")]
        if nameless:
            q = Q(name__in={r.values["name"] for r in nameless}, region_id__in={r.values["region_id"] for r in nameless})
            found = set(existing.filter(q).values_list("name", "region_id", "address"))
            for r in nameless:
                if (r.values["name"], r.values["region_id"], r.values.get("address", "")) in found:
                    r.problems.add("单位名称", r.values["name"], "同一社区已有同名同地址的单位，请勿重复导入")

    def prepare_chunk(self, rows: list[ParsedRow], *, job_id: int | None) -> list[Any]:
        """Per row: the database values (BulkInserter.prepare) and what the dashboard's tallies of the row depend
        on (rollups.facts.establishment: region path, category, status, above size, resumed on)."""
        actor_id = self._actor_id
        now = self._now
        initials = self._initials
        records = []
        groups = []
        for r in rows:
            v = r.values
            status = v.get("status") or Status.NOT_RESUMED
            resumed_on = v.get("resumed_on") if status == Status.RESUMED else None
            region = v["region"]
            road = v.get("road_section")
            category = v.get("category")
            above_size = v.get("above_size", False)
            groups.append((region.path, category.pk if category else None, status, above_size, resumed_on))
            records.append(
                {
                    "credit_code": v.get("credit_code"),
                    "name": v["name"],
                    "name_initials": initials(v["name"])[:120],
                    "kind_id": v["kind"].pk,
                    "category_id": category.pk if category else None,
                    "industry_id": None,
                    "region_id": region.pk,
                    "region_path": region.path,
                    "road_section_id": road.pk if road else None,
                    "address": v.get("address", ""),
                    "latitude": v.get("latitude"),
                    "longitude": v.get("longitude"),
                    "legal_representative": v.get("legal_representative", ""),
                    "contact_name": v.get("contact_name", ""),
                    "contact_mobile": v.get("contact_mobile", ""),
                    "contact_mobile_bidx": "",  # computed from contact_mobile by the inserter
                    "employees": v.get("employees", 0),
                    "above_size": above_size,
                    "key_target": v.get("key_target", False),
                    "status": status,
                    "status_since": resumed_on or self._today,
                    "resumed_on": resumed_on,
                    "version": 1,
                    "created_by_id": actor_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        return list(zip(self._inserter.prepare(records), groups, strict=True))

    def store_chunk(self, payload: list[Any]) -> int:
        ids = self._inserter.write([values for values, _group in payload])
        self._groups.update(group for _values, group in payload)
        self._insert_events(ids, actor_id=self._actor_id, now=self._now, job_id=self.job_id)
        if ids:
            self._first_id = self._first_id or ids[0]
            self._last_id = ids[-1]
            self._created.extend(ids[: max(0, AUDIT_IDS - len(self._created))])
        return len(ids)

    def write_chunk(self, rows: list[ParsedRow], *, job_id: int | None) -> int:
        return self.store_chunk(self.prepare_chunk(rows, job_id=job_id))

    def _insert_events(self, ids: list[int], *, actor_id: int | None, now: Any, job_id: int | None) -> None:
        """One 导入 event per new establishment, made by the database from the rows just written, so that the
        events cost no Python work per row. The chunk's ids: on SQLite a consecutive range (reserved under the
        write lock), on PostgreSQL whatever the sequence gave (other sessions may take ids in between)."""
        from django.db import connection

        event = EstablishmentEvent._meta
        fields = {f.name: f for f in event.concrete_fields}
        at = fields["at"].get_db_prep_save(now, connection)
        data = fields["data"].get_db_prep_save({"job": job_id}, connection)
        note = f"批量导入（任务 #{job_id}）" if job_id else "批量导入"
        est = Establishment._meta.db_table
        cols = ", ".join(
            f'"{fields[n].column}"' for n in ("establishment", "at", "kind", "actor", "from_status", "to_status", "note", "data")
        )
        bounds: list[Any]
        if connection.vendor == "postgresql":
            where, bounds = '"id" = ANY(%s)', [ids]
        else:
            if ids[-1] - ids[0] + 1 != len(ids):
                raise RuntimeError("reserved ids are not consecutive")
            where, bounds = '"id" >= %s AND "id" <= %s', [ids[0], ids[-1]]
        with connection.cursor() as cur:
            cur.execute(
                f'INSERT INTO "{event.db_table}" ({cols}) SELECT "id", %s, %s, %s, %s, "status", %s, %s FROM "{est}" '  # noqa: S608 - names from the models
                f"WHERE {where}",
                [at, EstablishmentEvent.Kind.IMPORTED, actor_id, "", note, data, *bounds],
            )

    def _update_rollups(self) -> None:
        """Keep the dashboard's tallies in step with the rows just written (rollups.establishments_added
        semantics): the written rows counted by what their facts depend on while they were stored, each group's
        facts weighted by its row count — a few hundred facts instead of 200,000 rows."""
        from dataclasses import replace

        from taizhang.rollups import facts as rollup_facts
        from taizhang.rollups import services as rollups

        fields = ("region_path", "category_id", "status", "above_size", "resumed_on")
        weighted = [
            replace(f, value=f.value * n)
            for key, n in self._groups.items()
            for f in rollup_facts.establishment(dict(zip(fields, key, strict=True)))
        ]
        rollups.apply(after=weighted)

    def finish(self, *, written: int, job_id: int | None) -> None:
        """One audit record for the import: who, which job, how many, the first and last id and the first 1,000
        ids — as audit_bulk records a bulk creation. And the dashboard's tallies."""
        if written:
            self._update_rollups()
            audit_record(
                action=Action.IMPORT,
                actor=self.user,
                object_type=Establishment._meta.label_lower,
                object_id=f"{written} rows",
                object_repr=f"{Establishment._meta.verbose_name} × {written}",
                detail={
                    "job": job_id,
                    "ledger": self.code,
                    "count": written,
                    "first_id": self._first_id,
                    "last_id": self._last_id,
                    "ids": [str(i) for i in self._created],
                },
            )

    # --- export ---
    EXPORT_FIELDS = (
        "credit_code",
        "name",
        "kind__name",
        "category__name",
        "region__level",
        "region__name",
        "region__short_name",
        "region__parent__name",
        "region__parent__short_name",
        "road_section__name",
        "address",
        "legal_representative",
        "contact_name",
        "contact_mobile",
        "employees",
        "above_size",
        "key_target",
        "status",
        "resumed_on",
        "latitude",
        "longitude",
    )

    def export_rows(self, *, filters: dict[str, Any], reveal: bool) -> Iterator[list[Any]]:
        qs = establishment_list(user=self.user, filters=filters).values_list(*self.EXPORT_FIELDS)
        status_label = {s.value: s.label for s in Status}
        local = {Level.GRID, Level.COMPOUND, Level.UNIT}
        for (
            code,
            name,
            kind,
            category,
            level,
            rname,
            rshort,
            pname,
            pshort,
            road,
            address,
            legal,
            contact,
            phone,
            employees,
            above,
            key,
            status,
            resumed_on,
            lat,
            lng,
        ) in qs.iterator(chunk_size=2000):
            region = rshort or rname
            if level in local:
                region = f"{pshort or pname}/{region}"
            if not reveal:
                legal, contact, phone = mask("name", legal), mask("name", contact), mask("mobile", phone)
            yield [
                code or "",
                name,
                kind,
                category or "",
                region,
                road or "",
                address,
                legal,
                contact,
                phone,
                employees,
                "是" if above else "否",
                "是" if key else "否",
                status_label.get(status, status),
                resumed_on,
                lat,
                lng,
            ]
