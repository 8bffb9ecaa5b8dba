"""The daily report (信息日报): community filings, completeness, generation (scheduled and on demand) and the two
files in the command's fixed layout — Excel (xlsxwriter) and PDF (fpdf2 with an embedded Chinese font).

Generation reads the rollups: one range scan per metric family over the communities of the template's region, so
a report of a whole city costs the same few queries. The snapshot (`DailyReport.data`) and the files are kept as
they were issued.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from taizhang.audit.services import Action, audit_record
from taizhang.core.errors import ApplicationError
from taizhang.core.paths import subtree_q
from taizhang.regions.models import Level, Region
from taizhang.rollups import facts
from taizhang.rollups import selectors as rollups

from .models import SYSTEM_FIGURES, CommunityReport, DailyReport, ReportTemplate

FILED, ZERO, MISSING = "filed", "zero", "missing"
STATUS_LABELS = {FILED: "已报", ZERO: "零报告", MISSING: "未报"}
MAX_ITEM_VALUE = 1_000_000


# --- community filings ---------------------------------------------------------------------------------


def cutoff_at(template: ReportTemplate, day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, template.cutoff))


@transaction.atomic
def community_report_file(
    *,
    template: ReportTemplate,
    community: Region,
    day: date,
    actor: Any,
    values: dict[str, Any] | None = None,
    zero: bool = False,
    note: str = "",
) -> CommunityReport:
    """File (or correct) a community's report for `day`; `zero` files a zero report (零报告: nothing to report).
    Filing after the cut-off is accepted and marked late."""
    if community.level != Level.COMMUNITY or not community.path.startswith(template.region.path):
        raise ApplicationError("该社区不在此日报的汇总范围内", code="invalid")
    clean: dict[str, int] = {}
    if not zero:
        for code, label in template.item_columns():
            raw = (values or {}).get(code, "")
            if raw in ("", None):
                raise ApplicationError(f"请填写“{label}”（没有可报告的情况请选择零报告）", code="required")
            try:
                number = int(str(raw).strip())
            except ValueError:
                raise ApplicationError(f"“{label}”应为整数", code="invalid") from None
            if not 0 <= number <= MAX_ITEM_VALUE:
                raise ApplicationError(f"“{label}”应在 0 到 {MAX_ITEM_VALUE} 之间", code="invalid")
            clean[code] = number
    now = timezone.now()
    report, created = CommunityReport.objects.select_for_update().get_or_create(
        template=template,
        day=day,
        community=community,
        defaults={
            "submitted_by": actor,
            "submitted_at": now,
            "values": clean,
            "is_zero": zero,
            "note": note.strip()[:300],
            "late": now > cutoff_at(template, day),
        },
    )
    if not created:
        report.values, report.is_zero, report.note = clean, zero, note.strip()[:300]
        report.submitted_by, report.submitted_at, report.late = actor, now, now > cutoff_at(template, day)
        report.save(update_fields=["values", "is_zero", "note", "submitted_by", "submitted_at", "late", "updated_at"])
    audit_record(action=Action.CREATE if created else Action.UPDATE, actor=actor, target=report, detail={"zero": zero})
    return report


# --- the snapshot --------------------------------------------------------------------------------------


def _figures_of(t: dict[tuple[str, str], int], f: dict[tuple[str, str], int]) -> dict[str, int]:
    def tally(metric: str, keys: Iterable[str] | None = None) -> int:
        wanted = set(keys) if keys is not None else None
        return sum(v for (m, k), v in t.items() if m == metric and (wanted is None or k in wanted))

    def flow(metric: str, keys: Iterable[str] | None = None) -> int:
        wanted = set(keys) if keys is not None else None
        return sum(v for (m, k), v in f.items() if m == metric and (wanted is None or k in wanted))

    active = ("not_resumed", "filing", "approved", "resumed", "suspended")
    return {
        "est_total": tally("est", active),
        "est_resumed": tally("est", ["resumed"]),
        "resumed_today": flow("resumed", ["all"]),
        "above_resumed": tally("est_above", ["resumed"]),
        "filing_waiting": tally("filing", ["submitted"]),
        "prob_open": tally("prob", facts.PROBLEM_OPEN),
        "prob_overdue": tally("prob_overdue"),
        "prob_reported_today": flow("prob_event", ["reported"]),
        "prob_resolved_today": flow("prob_event", ["resolved"]),
        "visits_today": flow("visit"),
        "people_today": flow("visit_people"),
    }


def snapshot(template: ReportTemplate, day: date) -> dict[str, Any]:
    """The report's content: per community (grouped by sub-district) the system's figures, what it filed and
    whether it filed; subtotals, totals and completeness."""
    region = template.region
    communities = list(
        Region.objects.filter(subtree_q([region.path]), level=Level.COMMUNITY).select_related("parent").order_by("path")
    )
    depth = communities[0].depth if communities else region.depth + 2
    tallies = rollups.level_tallies(("est", "est_above", "filing", "prob", "prob_overdue"), region.path, depth)
    flows = rollups.level_flows(("resumed", "prob_event", "visit", "visit_people"), region.path, depth, day=day)
    filed = {r.community_id: r for r in CommunityReport.objects.filter(template=template, day=day)}
    figure_codes = [c for c, _ in template.figure_columns()]
    item_codes = [c for c, _ in template.item_columns()]
    groups: list[dict[str, Any]] = []
    total: dict[str, dict[str, int]] = {"figures": dict.fromkeys(figure_codes, 0), "items": dict.fromkeys(item_codes, 0)}
    counts = {FILED: 0, ZERO: 0, MISSING: 0, "late": 0}
    for c in communities:
        parent = c.parent
        if not groups or groups[-1]["path"] != (parent.path if parent else ""):
            groups.append(
                {
                    "name": parent.display_name if parent else "",
                    "path": parent.path if parent else "",
                    "rows": [],
                    "subtotal": {"figures": dict.fromkeys(figure_codes, 0), "items": dict.fromkeys(item_codes, 0)},
                    "counts": {FILED: 0, ZERO: 0, MISSING: 0},
                }
            )
        g = groups[-1]
        figs = _figures_of(tallies.get(c.path, {}), flows.get(c.path, {}))
        report = filed.get(c.pk)
        status = MISSING if report is None else (ZERO if report.is_zero else FILED)
        items = {code: int((report.values or {}).get(code, 0)) if report is not None else 0 for code in item_codes}
        row: dict[str, Any] = {
            "community": c.display_name,
            "path": c.path,
            "id": c.pk,
            "status": status,
            "late": bool(report and report.late),
            "submitted_at": timezone.localtime(report.submitted_at).strftime("%H:%M") if report else "",
            "figures": {code: figs[code] for code in figure_codes},
            "items": items,
            "note": report.note if report else "",
        }
        g["rows"].append(row)
        g["counts"][status] += 1
        counts[status] += 1
        counts["late"] += int(row["late"])
        for code in figure_codes:
            g["subtotal"]["figures"][code] += row["figures"][code]
            total["figures"][code] += row["figures"][code]
        for code in item_codes:
            g["subtotal"]["items"][code] += items[code]
            total["items"][code] += items[code]
    as_of = rollups.flow_totals("resumed", region.path, end=day)
    return {
        "title": f"{region.display_name}{template.name}",
        "day": day.isoformat(),
        "cutoff": template.cutoff.strftime("%H:%M"),
        "figures": [[c, SYSTEM_FIGURES[c]] for c in figure_codes],
        "items": [[c, label] for c, label in template.item_columns()],
        "region": region.display_name,
        "region_path": region.path,
        "groups": groups,
        "total": total,
        "completeness": {"communities": len(communities), **counts},
        "headline": {"resumed": as_of.get("all", 0), "resumed_above": as_of.get("above", 0)},
    }


# --- generation ----------------------------------------------------------------------------------------


def generate(
    *,
    template: ReportTemplate,
    day: date,
    actor: Any = None,
    kind: str = DailyReport.Kind.ON_DEMAND,
    at: datetime | None = None,
) -> DailyReport:
    """Make the report of `day` now and keep it (a scheduled report is made once per day). `at`: the time it is
    stamped with instead of now (the demo, whose scenario has its own clock)."""
    data = snapshot(template, day)
    now = at or timezone.now()
    data["generated_at"] = timezone.localtime(now).strftime("%Y-%m-%d %H:%M")
    report = DailyReport(
        template=template,
        day=day,
        kind=kind,
        generated_at=now,
        generated_by=actor if getattr(actor, "is_authenticated", False) else None,
        data=data,
        xlsx=render_xlsx(data),
        pdf=render_pdf(data),
    )
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        if kind == DailyReport.Kind.SCHEDULED:
            return DailyReport.objects.get(template=template, day=day, kind=kind)
        raise
    audit_record(action=Action.CREATE, actor=actor, target=report, username=None if actor else "system", detail={"kind": kind})
    return report


def generate_due(now: datetime | None = None) -> list[DailyReport]:
    """The periodic job: every scheduled template whose cut-off has passed today gets today's report, once."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    made = []
    for template in ReportTemplate.objects.filter(is_active=True, scheduled=True).select_related("region"):
        if now < cutoff_at(template, today):
            continue
        if DailyReport.objects.filter(template=template, day=today, kind=DailyReport.Kind.SCHEDULED).exists():
            continue
        made.append(generate(template=template, day=today, kind=DailyReport.Kind.SCHEDULED))
    return made


# --- the files -----------------------------------------------------------------------------------------


def _columns(data: dict[str, Any]) -> list[str]:
    return [
        "序号",
        "街道/镇",
        "社区/村",
        "填报情况",
        *[label for _c, label in data["figures"]],
        *[label for _c, label in data["items"]],
        "备注",
    ]


def _status_text(row: dict[str, Any]) -> str:
    text = STATUS_LABELS[row["status"]]
    if row["late"]:
        text += f"（逾期 {row['submitted_at']}）"
    return text


def _rows(data: dict[str, Any]) -> Iterable[tuple[str, list[Any]]]:
    """("row"|"subtotal"|"total", cells) in the fixed layout."""
    figure_codes = [c for c, _ in data["figures"]]
    item_codes = [c for c, _ in data["items"]]
    n = 0
    for g in data["groups"]:
        for r in g["rows"]:
            n += 1
            yield (
                "row",
                [
                    n,
                    g["name"],
                    r["community"],
                    _status_text(r),
                    *[r["figures"][c] for c in figure_codes],
                    *[r["items"][c] if r["status"] == FILED else (0 if r["status"] == ZERO else "") for c in item_codes],
                    r["note"],
                ],
            )
        c = g["counts"]
        yield (
            "subtotal",
            [
                "",
                g["name"],
                "小计",
                f"已报{c[FILED]} 零报{c[ZERO]} 未报{c[MISSING]}",
                *[g["subtotal"]["figures"][k] for k in figure_codes],
                *[g["subtotal"]["items"][k] for k in item_codes],
                "",
            ],
        )
    c = data["completeness"]
    yield (
        "total",
        [
            "",
            "合计",
            f"{c['communities']}个社区/村",
            f"已报{c[FILED]} 零报{c[ZERO]} 未报{c[MISSING]}",
            *[data["total"]["figures"][k] for k in figure_codes],
            *[data["total"]["items"][k] for k in item_codes],
            "",
        ],
    )


def _subtitle(data: dict[str, Any]) -> str:
    c = data["completeness"]
    d = date.fromisoformat(data["day"])
    return (
        f"{d.year}年{d.month}月{d.day}日（截止{data['cutoff']}）  应报{c['communities']}个，已报{c[FILED]}个，零报告{c[ZERO]}个，"
        f"未报{c[MISSING]}个，逾期{c['late']}个    生成于{data.get('generated_at', '')}"
    )


def render_xlsx(data: dict[str, Any]) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet("信息日报")
    cols = _columns(data)
    title = book.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter", "font_name": "宋体"})
    sub = book.add_format({"font_size": 10, "align": "left", "font_name": "宋体"})
    head = book.add_format(
        {
            "bold": True,
            "border": 1,
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
            "bg_color": "#E7E6E6",
            "font_name": "宋体",
        }
    )
    cell = book.add_format({"border": 1, "valign": "vcenter", "font_name": "宋体"})
    num = book.add_format({"border": 1, "align": "right", "font_name": "宋体"})
    missing = book.add_format({"border": 1, "font_color": "#C00000", "bold": True, "font_name": "宋体"})
    subtotal = book.add_format({"border": 1, "bold": True, "bg_color": "#F2F2F2", "font_name": "宋体"})
    last = len(cols) - 1
    sheet.merge_range(0, 0, 0, last, data["title"], title)
    sheet.merge_range(1, 0, 1, last, _subtitle(data), sub)
    sheet.set_row(0, 28)
    sheet.set_row(2, 32)
    sheet.write_row(2, 0, cols, head)
    sheet.set_column(0, 0, 5)
    sheet.set_column(1, 2, 14)
    sheet.set_column(3, 3, 16)
    sheet.set_column(4, last - 1, 10)
    sheet.set_column(last, last, 20)
    row_no = 3
    for kind, values in _rows(data):
        for col, value in enumerate(values):
            if kind != "row":
                fmt = subtotal
            elif col == 3 and str(value).startswith(STATUS_LABELS[MISSING]):
                fmt = missing
            else:
                fmt = num if isinstance(value, int) else cell
            sheet.write(row_no, col, value, fmt)
        row_no += 1
    sheet.freeze_panes(3, 3)
    sheet.repeat_rows(2)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    missing_sheet = book.add_worksheet("未报社区")
    missing_sheet.write_row(0, 0, ["街道/镇", "社区/村"], head)
    r = 1
    for g in data["groups"]:
        for row in g["rows"]:
            if row["status"] == MISSING:
                missing_sheet.write_row(r, 0, [g["name"], row["community"]], cell)
                r += 1
    missing_sheet.set_column(0, 1, 18)
    book.close()
    return buf.getvalue()


def font_path() -> tuple[Path, int]:
    """A Chinese font to embed: TAIZHANG_PDF_FONT, else Noto Sans SC from PyPI (pylopdf-fonts-zh-cn), else Debian's
    fonts-noto-cjk or fonts-wqy-microhei."""
    configured = getattr(settings, "TAIZHANG_PDF_FONT", None)
    if configured:
        return Path(configured), 0
    try:
        import pylopdf_fonts_zh_cn

        packaged = Path(pylopdf_fonts_zh_cn.__file__).parent / "NotoSansSC-Regular.otf"
        if packaged.exists():
            return packaged, 0
    except ImportError:  # pragma: no cover - a dependency in pyproject.toml
        pass
    for candidate, index in (
        ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # SC is the third face of the collection
        ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ):
        if Path(candidate).exists():
            return Path(candidate), index
    raise ApplicationError("未找到可嵌入PDF的中文字体（需要 pylopdf-fonts-zh-cn 或 fonts-noto-cjk）", code="no_font")


def render_pdf(data: dict[str, Any]) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import WrapMode
    from fpdf.fonts import FontFace

    path, index = font_path()
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=10)
    pdf.set_margins(10, 10, 10)
    pdf.add_font("cjk", fname=str(path), collection_font_number=index)
    pdf.set_title(data["title"])
    pdf.set_creator("台账 Taizhang")
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 9, data["title"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(0, 5, _subtitle(data), new_x="LMARGIN", new_y="NEXT")
    h = data["headline"]
    d = date.fromisoformat(data["day"])
    pdf.multi_cell(
        0,
        5,
        f"截至{d.month}月{d.day}日，{data.get('region', '')}复工复产单位{h['resumed']}家，其中限上企业{h['resumed_above']}家。",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    cols = _columns(data)
    fixed = [8, 22, 26, 24]
    rest = (pdf.epw - sum(fixed) - 28) / max(1, len(cols) - 5)
    widths = [*fixed, *([rest] * (len(cols) - 5)), 28]
    pdf.set_font("cjk", size=7.5)
    grey = FontFace(fill_color=(231, 230, 230))
    bold_row = FontFace(fill_color=(242, 242, 242))
    red = FontFace(color=(192, 0, 0))
    with pdf.table(
        col_widths=widths,
        headings_style=grey,
        repeat_headings=1,
        text_align="CENTER",
        wrapmode=WrapMode.CHAR,
        line_height=4.2,
        padding=0.8,
    ) as table:
        header = table.row()
        for c in cols:
            header.cell(c)
        for kind, values in _rows(data):
            style = bold_row if kind != "row" else None
            row = table.row(style=style)
            for col, value in enumerate(values):
                text = "" if value is None else str(value)
                row.cell(text, style=red if kind == "row" and col == 3 and text.startswith(STATUS_LABELS[MISSING]) else None)
    return bytes(pdf.output())


def yesterday_or_today(template: ReportTemplate, now: datetime | None = None) -> date:
    """The day a report is about by default: today once its cut-off has passed, else yesterday."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    return today if now >= cutoff_at(template, today) else today - timedelta(days=1)
