"""Placing a public request: from what a reporter typed to a region of the tree (or to nothing).

There is no map data on the intranet (SPEC §4), so coordinates alone place nothing. An address string is
matched against names:

1. every region whose name, short name or alias occurs in the text (official NBS names such as
   光华路街道 and 官园社区居委会, short names such as 官园社区, aliases such as 头二三道街街道);
   grids and building units (第1网格, 2单元: every community has one) do not count here;
2. the winner is the candidate with the most matched regions on its own path (itself and its matched
   ancestors), then the deepest, then the longest match; candidates tied at the top that are not on one
   path give their lowest common ancestor (第1网格 alone matches a grid in every community: it places nothing
   finer than what the rest of the text says);
3. below the winner, local names are matched relative to their ancestors: under 官园社区 the compound
   官园3号院 also answers to 3号院, its building unit 2单元 to 2单元 — so "文峰区光华路街道官园社区3号院2单元"
   lands on that building unit;
4. road sections (路段) by name, alias or road name (光华路 for 光华路（光华路街道段1）): they place at their
   sub-district, when that is finer than the regions found and consistent with them; a road name shared by
   several sub-districts places nothing.

Numbers only match whole: 3号院 does not match inside 13号院.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import CharField, F, Q, Value

from taizhang.regions.models import Level, Region, RegionAlias, RoadSection

# Regions above the district place nothing useful (the whole city is not a place to send a team).
TOO_COARSE = frozenset({Level.PROVINCE, Level.CITY})
# Grids and building units have names like 第1网格 and 2单元 in every community: they only count below a
# region the text names (step 3), never on their own.
GENERIC_LEVELS = (Level.GRID, Level.UNIT)
SUBTREE_LIMIT = 5000
_SPACE = re.compile(r"\s+")
# Suffixes that a local name may drop when its ancestor is named: 官园社区 → stem 官园.
_STEM_SUFFIXES = (
    "社区居委会",
    "社区居民委员会",
    "居民委员会",
    "村民委员会",
    "居委会",
    "村委会",
    "街道办事处",
    "办事处",
    "街道",
    "社区",
    "网格",
    "镇",
    "乡",
    "村",
)
_ROAD_SECTION_TAIL = re.compile(r"(（[^）]*）|\([^)]*\)|第?\d+段)+$")


@dataclass(frozen=True)
class Placement:
    region: Region | None
    via: str = ""  # "address" | "road_section" | "" (nothing found)
    matched: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Hit:
    region: Region
    text: str  # the name that matched
    weight: int = 1  # how many names on the path this hit stands for


def normalise(text: str) -> str:
    """Full-width letters and digits to ASCII (３号院 → 3号院), no whitespace. Chinese punctuation is kept
    (NFKC would turn （ into (, which names use)."""
    out = []
    for ch in text or "":
        if "\uff01" <= ch <= "\uff5e" and (ch.isalnum()):
            out.append(unicodedata.normalize("NFKC", ch))
        else:
            out.append(ch)
    return _SPACE.sub("", "".join(out))


def occurs(name: str, text: str) -> bool:
    """`name` occurs in `text`, numbers whole (3号院 is not in 13号院, 1段 is not in 11段)."""
    if len(name) < 2:
        return False
    start = text.find(name)
    while start != -1:
        end = start + len(name)
        before_ok = not (name[0].isdigit() and start > 0 and text[start - 1].isdigit())
        after_ok = not (name[-1].isdigit() and end < len(text) and text[end].isdigit())
        if before_ok and after_ok:
            return True
        start = text.find(name, start + 1)
    return False


def stem(name: str) -> str:
    for suffix in _STEM_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _relative_names(region: Region, ancestors: Sequence[Region]) -> set[str]:
    """官园3号院 under 官园社区 → {官园3号院, 3号院}."""
    names = {region.name, region.short_name} - {""}
    for anc in ancestors:
        for base in {anc.name, anc.short_name, stem(anc.name), stem(anc.short_name or anc.name)} - {""}:
            if region.name.startswith(base) and len(region.name) > len(base):
                names.add(region.name[len(base) :])
    return {n for n in names if len(n) >= 2 and not n.isdigit()}


def _is_within(inner: Region, outer: Region) -> bool:
    return inner.path.startswith(outer.path)


def _choose(hits: Iterable[_Hit], regions_by_path: dict[str, Region]) -> tuple[Region | None, list[_Hit]]:
    """The best-supported region among the hits (see the module docstring), and the hits on its path."""
    by_region: dict[int, _Hit] = {}
    for h in hits:
        old = by_region.get(h.region.pk)
        if old is None or len(h.text) > len(old.text):
            by_region[h.region.pk] = h
    if not by_region:
        return None, []
    all_hits = list(by_region.values())

    def support(h: _Hit) -> tuple[int, int, int]:
        on_path = [o for o in all_hits if _is_within(h.region, o.region)]
        return sum(o.weight for o in on_path), h.region.depth, len(h.text)

    scored = sorted(((support(h), h) for h in all_hits), key=lambda s: s[0], reverse=True)
    best_score = scored[0][0][:2]
    top = [h for score, h in scored if score[:2] == best_score]
    winner = top[0].region if len(top) == 1 else _common_ancestor([h.region for h in top], regions_by_path)
    if winner is None:
        return None, []
    return winner, [o for o in all_hits if _is_within(winner, o.region)]


def _common_ancestor(regions: Sequence[Region], regions_by_path: dict[str, Region]) -> Region | None:
    paths = [r.path for r in regions]
    prefix = paths[0]
    for p in paths[1:]:
        while not p.startswith(prefix):
            prefix = prefix[: prefix.rstrip("/").rfind("/") + 1]
            if prefix in ("", "/"):
                return None
    if prefix in regions_by_path:
        return regions_by_path[prefix]
    return Region.objects.filter(path=prefix).first()


def _global_hits(text: str) -> list[_Hit]:
    """Regions whose name, short name or alias occurs in `text` (two queries, filtered by the database)."""
    t = Value(text, output_field=CharField())
    regions = (
        Region.objects.alias(t=t)
        .filter(Q(t__contains=F("name")) | (Q(t__contains=F("short_name")) & ~Q(short_name="")))
        .exclude(level__in=GENERIC_LEVELS)
    )
    hits = [
        _Hit(r, max((n for n in (r.name, r.short_name) if n and occurs(n, text)), key=len))
        for r in regions
        if any(n and occurs(n, text) for n in (r.name, r.short_name))
    ]
    aliases = RegionAlias.objects.alias(t=t).filter(t__contains=F("alias")).select_related("region")
    hits += [_Hit(a.region, a.alias) for a in aliases if occurs(a.alias, text)]
    return hits


def _refine(winner: Region, text: str, chain_hits: list[_Hit]) -> tuple[Region, list[_Hit]]:
    """Descend below `winner` with names relative to their ancestors (one query for the subtree)."""
    if winner.level in (Level.PROVINCE, Level.CITY, Level.DISTRICT):
        return winner, chain_hits  # a whole district's local names are too many and too alike
    subtree = list(Region.objects.subtree(winner).exclude(pk=winner.pk).order_by("depth", "path")[:SUBTREE_LIMIT])
    by_path = {r.path: r for r in subtree}
    by_path[winner.path] = winner
    hits: list[_Hit] = [_Hit(winner, "", weight=len(chain_hits) or 1)]
    for r in subtree:
        ancestors = [by_path[p] for p in r.ancestors_paths() if p in by_path]
        names = [n for n in _relative_names(r, ancestors) if occurs(n, text)]
        if names:
            hits.append(_Hit(r, max(names, key=len)))
    if len(hits) == 1:
        return winner, chain_hits
    best, on_path = _choose(hits, by_path)
    if best is None or best.pk == winner.pk:
        return winner, chain_hits
    return best, chain_hits + [h for h in on_path if h.region.pk != winner.pk]


def road_base_name(name: str) -> str:
    """光华路（光华路街道段1） → 光华路; 光华路1段 → 光华路."""
    return _ROAD_SECTION_TAIL.sub("", name)


def _road_hits(text: str) -> list[tuple[RoadSection, str]]:
    found: list[tuple[RoadSection, str]] = []
    for section in RoadSection.objects.select_related("subdistrict"):
        names = [section.name, *[str(a) for a in section.aliases or []]]
        full = [n for n in names if occurs(n, text)]
        if full:
            found.append((section, max(full, key=len)))
            continue
        base = road_base_name(section.name)
        if len(base) >= 2 and occurs(base, text):
            found.append((section, base))
    # A full name or alias beats a bare road name.
    exact = [(s, n) for s, n in found if n != road_base_name(s.name)]
    return exact or found


def place_address(address: str) -> Placement:
    """The most specific region the address names, or Placement(None) when it names none."""
    text = normalise(address)
    if len(text) < 2:
        return Placement(None)
    hits = _global_hits(text)
    region, chain = _choose(hits, {})
    if region is not None:
        region, chain = _refine(region, text, chain)
    matched = tuple(h.text for h in sorted(chain, key=lambda h: h.region.depth) if h.text)
    via = "address" if region is not None else ""

    roads = _road_hits(text)
    subdistricts = {s.subdistrict.pk: s.subdistrict for s, _ in roads}
    if len(subdistricts) == 1:
        sub = next(iter(subdistricts.values()))
        if region is None or (region.level in TOO_COARSE | {Level.DISTRICT} and _is_within(sub, region)):
            region, via = sub, "road_section"
            matched = (*matched, *sorted({n for _, n in roads}))

    if region is None or region.level in TOO_COARSE:
        return Placement(None, "", matched)
    return Placement(region, via, matched)


def region_label(region: Region) -> str:
    """光华路街道官园社区第1网格: the names below the district, for a problem placed without an address."""
    chain = list(Region.objects.filter(path__in=region.ancestors_paths()).order_by("depth"))
    names = [r.display_name for r in [*chain, region] if r.level not in TOO_COARSE | {Level.DISTRICT}]
    return "".join(names) or region.display_name
