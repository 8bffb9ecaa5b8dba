"""Lookup tables shared by ledgers, loaded once per run: regions, road sections, categories, kinds.

Same rules as the single-record lookups (regions.selectors.find_region_by_name: name, short name or alias;
industries.selectors.find_category: minor category by code or name), but one query for the whole file.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from phonenumbers import PhoneMetadata
from pypinyin.seg.simpleseg import seg

from taizhang.establishments.services import name_initials
from taizhang.establishments.validators import normalize_mobile
from taizhang.regions.models import Region, RegionAlias, RoadSection

from ..columns import CellError, text

PATH_SEPARATORS = re.compile(r"\s*[/／>›]\s*")


class RegionIndex:
    """Regions by code, name, short name or alias; "官园社区/第1网格" picks among regions of the same name."""

    def __init__(self, regions: Iterable[Region], aliases: Iterable[tuple[int, str]] = ()) -> None:
        self.by_pk: dict[int, Region] = {}
        self.by_code: dict[str, Region] = {}
        self.by_name: dict[str, list[Region]] = defaultdict(list)
        for r in regions:
            self.by_pk[r.pk] = r
            self.by_code[r.code] = r
            for n in {r.name, r.short_name}:
                if n:
                    self.by_name[n].append(r)
        for region_id, alias in aliases:
            aliased = self.by_pk.get(region_id)
            if aliased is not None and aliased not in self.by_name[alias]:
                self.by_name[alias].append(aliased)
        self._by_path = {r.path: r for r in self.by_pk.values()}
        self._found: dict[Any, Region | CellError] = {}  # a sheet names the same few hundred communities again and again

    @classmethod
    def load(cls, levels: Iterable[str] | None = None) -> RegionIndex:
        qs = Region.objects.all()
        if levels is not None:
            qs = qs.filter(level__in=list(levels))
        regions = list(qs.only("pk", "code", "name", "short_name", "level", "path", "parent_id", "depth"))
        aliases = RegionAlias.objects.filter(region_id__in=[r.pk for r in regions]).values_list("region_id", "alias")
        return cls(regions, aliases)

    def find(self, value: Any, *, what: str = "区划") -> Region:
        key = (value, what) if value.__class__ is str else None
        found = self._found.get(key) if key is not None else None
        if found is None:
            try:
                found = self._find(value, what)
            except CellError as exc:
                found = exc
            if key is not None and len(self._found) < 100_000:
                self._found[key] = found
        if isinstance(found, CellError):
            raise CellError(found.reason)
        return found

    def _find(self, value: Any, what: str) -> Region:
        raw = text(value)
        if not raw:
            raise CellError("必填，不能为空")
        if raw in self.by_code:
            return self.by_code[raw]
        parts = [p for p in PATH_SEPARATORS.split(raw) if p]
        candidates = list(self.by_name.get(parts[-1], []))
        if len(parts) > 1:
            parents = list(self.by_name.get(parts[-2], []))
            candidates = [c for c in candidates if any(c.path.startswith(p.path) and c.pk != p.pk for p in parents)]
        if not candidates:
            raise CellError(f"{what}“{raw}”不存在：请填写系统中的名称或代码（可在“区划网格”页面查到）")
        if len(candidates) > 1:
            hint = "、".join(sorted({self.parent_name(c) + "/" + c.display_name for c in candidates})[:4])
            raise CellError(f"名称“{raw}”对应多个{what}（{hint}），请写成“上级/名称”或填写代码")
        return candidates[0]

    def parent_name(self, region: Region) -> str:
        parent = self.by_pk.get(region.parent_id) if region.parent_id else None
        if parent is None:
            parts = region.path.strip("/").split("/")
            parent = self._by_path.get("/" + "/".join(parts[:-1]) + "/") if len(parts) > 1 else None
        return parent.display_name if parent else ""


class RoadIndex:
    def __init__(self, sections: Iterable[RoadSection]) -> None:
        self.by_code: dict[str, RoadSection] = {}
        self.by_name: dict[str, list[RoadSection]] = defaultdict(list)
        for s in sections:
            self.by_code[s.code] = s
            for n in {s.name, *(s.aliases or [])}:
                self.by_name[n].append(s)

    @classmethod
    def load(cls) -> RoadIndex:
        return cls(RoadSection.objects.select_related("subdistrict"))

    def find(self, value: Any, subdistrict_path: str | None = None) -> RoadSection | None:
        raw = text(value)
        if not raw:
            return None
        if raw in self.by_code:
            return self.by_code[raw]
        found = self.by_name.get(raw, [])
        if subdistrict_path and len(found) > 1:
            found = [s for s in found if subdistrict_path.startswith(s.subdistrict.path)] or found
        if not found:
            raise CellError(f"路段“{raw}”不存在：请填写系统中的路段名称或编号")
        if len(found) > 1:
            raise CellError(f"路段名称“{raw}”不唯一，请填写路段编号")
        return found[0]


class Initials:
    """establishments.services.name_initials, memoised per word of pypinyin's own segmentation.

    pypinyin converts each segment of a name independently, so joining the initials of the segments gives the
    same string as converting the whole name (tests check this); names share most of their words
    (超市, 有限公司, 文峰区 …), so a large import converts each word once.
    """

    def __init__(self) -> None:
        self._words: dict[str, str] = {}
        self._names: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        known = self._names.get(name)
        if known is not None:
            return known
        words = self._words
        out = []
        for word in seg(name):
            initials = words.get(word)
            if initials is None:
                initials = words[word] = name_initials(word)
            out.append(initials)
        result = "".join(out)
        if len(self._names) < 50_000:
            self._names[name] = result
        return result


@lru_cache(maxsize=1)
def _mobile_pattern() -> re.Pattern[str]:
    phonenumbers.parse("13800000000", "CN")  # loads the CN metadata
    metadata = PhoneMetadata.metadata_for_region("CN")
    pattern = metadata.mobile.national_number_pattern if metadata is not None and metadata.mobile is not None else None
    if not pattern:
        raise RuntimeError("phonenumbers has no CN mobile metadata")
    return re.compile(pattern)


_MOBILE_NOISE = re.compile(r"[\s\-()（）]")


def mobile(cell: Any) -> str:
    """establishments.validators.normalize_mobile, with a fast path for a plain 11-digit mobile: the number is
    checked against the same phonenumbers metadata pattern that decides its type there (tests compare both)."""
    if cell == "" or cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = str(int(cell))
    elif isinstance(cell, int) and not isinstance(cell, bool):
        cell = str(cell)
    if cell.__class__ is str and cell.isascii() and cell.isdigit():
        raw = digits = cell  # the common case: digits only, nothing to normalise or strip
    else:
        raw = text(cell)
        if not raw:
            return ""
        digits = _MOBILE_NOISE.sub("", raw)
        if digits.startswith("+86"):
            digits = digits[3:]
    if len(digits) == 11 and digits.isdigit() and digits[0] == "1" and _mobile_pattern().fullmatch(digits):
        return digits
    try:
        return normalize_mobile(raw)
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from None
