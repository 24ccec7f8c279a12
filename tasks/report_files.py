"""A compiled report written out: DOCX (docxtpl, with a timeliness chart), XLSX annex, Markdown."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pandas as pd

from tasks.dates import by_day, vn_datetime
from tasks.documents import DOCX_TEMPLATES, header_context, keep_short_tables_whole, set_properties
from tasks.markdown import md, md_row
from tasks.parse import parse_number
from tasks.plan import ALL_BLOCKS, Plan
from tasks.reporting_record import document_rows
from tasks.reports import ReportData, reading_order
from tasks.text import as_sentence, in_sentence, match_key

STATE_COLUMNS = [
    ("on_time", "Đúng hạn", "#2e7d32"),
    ("late", "Muộn", "#f9a825"),
    ("incomplete", "Chưa đủ", "#ef6c00"),
    ("missing", "Chưa gửi", "#c62828"),
]


def timeliness_chart(data: ReportData) -> bytes:
    """Stacked bars per block: on time, late, incomplete, missing (PNG)."""
    from matplotlib import pyplot as plt

    fig = timeliness_figure(data)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def timeliness_figure(data: ReportData) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6.5, 2.2), dpi=150)
    labels = [b["block"] for b in data.discipline_blocks]
    left = [0] * len(labels)
    for key, label, color in STATE_COLUMNS:
        values = [b[key] for b in data.discipline_blocks]
        ax.barh(labels, values, left=left, color=color, label=label)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_title("Tình hình gửi báo cáo theo khối (số đơn vị)", fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # units are counted whole: no 2.5 tick
    ax.legend(ncol=4, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False)
    fig.tight_layout()
    return fig


def _quota_words(plan: Plan) -> str:
    """'<award>: <block> 4, <block> 4, …; <award>: toàn Khu vực 2, trong số …': each quota with
    its scope (a quota over every block is one for the whole area, as the tally counts it)."""
    parts = []
    for award in plan.awards:
        quotas = [
            f"{f'toàn {plan.identity.self_word}' if b == ALL_BLOCKS else plan.block_name(b)} {q}"
            for b, q in award.quotas.items()
        ]
        if quotas:
            among = f", trong số tập thể được suy tôn {award.among}" if award.among else ""
            parts.append(f"{award.title}: {', '.join(quotas)}{among}")
    return "; ".join(parts)


def report_subject(name: str) -> str:
    """The title line under "BÁO CÁO": the report's name without its type said again
    ("Báo cáo sơ kết …" -> "Sơ kết …"), as Nghị định 30/2020 writes a trích yếu."""
    words = name.split(" ", 2)
    if len(words) == 3 and match_key(" ".join(words[:2])) == match_key("Báo cáo"):
        return as_sentence(words[2])
    return name


def indicator_columns(plan: Plan) -> list[tuple[str, str]]:
    """(key in ReportData.indicator_blocks, header) of the indicator table: a column per member
    block, then the whole area."""
    blocks = [(b.id, f"Khối {plan.block_short_name(b.id)}") for b in plan.member_blocks]
    return [*blocks, ("total", f"Toàn {plan.identity.self_word}")]


def _context(data: ReportData) -> dict[str, Any]:
    plan, local = data.plan, data.instant.astimezone(data.plan.tz)
    subject = report_subject(data.report.name)
    columns = indicator_columns(plan)
    return {
        **header_context(plan, local.date(), "BC", data.report.kind),
        "report_subject": subject,
        "report_name_lower": in_sentence(data.report.name),
        "subject_lower": in_sentence(subject),
        "as_of": vn_datetime(local),
        "deadline": data.deadline,
        "by_day": by_day(plan),
        "blocks": data.discipline_blocks,
        "units": data.discipline_units,
        "page_problems": data.page_problems,
        "by_mail": data.by_mail,
        "indicator_headers": [header for _, header in columns],
        "indicators": [
            {"indicator": i["indicator"], "cells": [i[key] for key, _ in columns]}
            for i in data.indicator_blocks
        ],
        "yearend": data.yearend,
        "final": data.final,
        "ranking": data.ranking,
        "score_flags": data.score_flags,
        "scoring_document": data.report.scoring_document or "bảng tự chấm điểm",
        "registrations": data.registrations,
        "nominations": data.nominations,
        "results": data.results,
        "vote_problems": data.vote_problems,
        "quotas": _quota_words(plan),
        "notes": data.notes,
        "assess_number": "V" if data.yearend else "III",
        "next_period": f"năm {plan.year + 1}" if data.yearend else "6 tháng cuối năm",
        **_record_context(data),
    }


def _record_context(data: ReportData) -> dict[str, Any]:
    record = data.record
    if record is None:
        return {"record_units": [], "record_total": {}, "record_period": ""}
    return {
        "record_units": [u.row() for u in record.units],
        "record_total": record.total.row(),
        "record_period": ", ".join(record.milestones),
    }


def write_docx(data: ReportData, out: Path) -> Path:
    from docx.shared import Cm
    from docxtpl import DocxTemplate, InlineImage

    doc = DocxTemplate(DOCX_TEMPLATES / "bao-cao.docx")
    context = _context(data)
    context["chart"] = InlineImage(doc, io.BytesIO(timeliness_chart(data)), width=Cm(15))
    doc.render(context, autoescape=True)
    _fit_columns(doc.docx, "Chỉ tiêu", first_cm=6.0, total_cm=16.0)
    keep_short_tables_whole(doc.docx)
    set_properties(doc, data.plan, data.plan.report_title(data.report.kind), data.instant)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(out)
    return out


def _fit_columns(document: Any, first_header: str, first_cm: float, total_cm: float) -> None:
    """The table whose columns came from a {%tc for %} loop (one per block): its first column
    `first_cm` wide, the others sharing the rest; Word reads the cells' widths, LibreOffice the
    grid's, so both are set."""
    from docx.oxml.ns import qn
    from docx.shared import Cm

    for table in document.tables:
        if table.rows[0].cells[0].text.strip() != first_header:
            continue
        count = len(table.columns)
        widths = [Cm(first_cm)] + [Cm((total_cm - first_cm) / max(1, count - 1))] * (count - 1)
        for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
            col.set(qn("w:w"), str(int(width.twips)))
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = width


RECORD_SHEET = "Chế độ báo cáo"
RECORD_COLUMNS = {
    "block": "Khối",
    "unit": "Đơn vị",
    "milestone": "Mốc",
    "document": "Văn bản",
    "last_day": "Hạn cuối (ngày)",
    "sent": "Ngày gửi",
    "state": "Tình trạng",
    "days_late": "Số ngày muộn",
    "by_mail": "Cách gửi",
}
RESULT_HEADERS = ["Danh hiệu", "Khối", "Ứng viên", "Số phiếu", "Kết quả", "Hồ sơ đề nghị"]
NOMINATION_HEADERS = [
    "Danh hiệu",
    "Khối",
    "Ứng viên",
    "Đơn vị đề nghị",
    "Điểm tự chấm của đơn vị đề nghị (tham khảo)",
    "Hồ sơ đề nghị",
]


def write_xlsx(data: ReportData, out: Path) -> Path:
    """The annex: every table of the report, one sheet each, Vietnamese headers."""
    out.parent.mkdir(parents=True, exist_ok=True)
    sheets = {
        "Tình trạng gửi": pd.DataFrame(data.discipline_units).rename(
            columns={
                "block": "Khối",
                "unit": "Đơn vị",
                "state": "Tình trạng",
                "date": "Ngày gửi",
                "missing": "Còn thiếu",
            }
        ),
        "Chỉ tiêu theo khối": pd.DataFrame(data.indicator_blocks).rename(
            columns={"indicator": "Chỉ tiêu", **dict(indicator_columns(data.plan))}
        ),
        "Chỉ tiêu theo đơn vị": data.indicator_units.rename(columns={"block": "Khối", "unit_name": "Đơn vị"}),
    }
    if data.record is not None:
        sheets[RECORD_SHEET] = pd.DataFrame(document_rows(data.record), columns=list(RECORD_COLUMNS)).rename(
            columns=RECORD_COLUMNS
        )
    if data.yearend:
        sheets["Tự chấm điểm"] = pd.DataFrame(
            data.ranking, columns=["block", "rank", "unit", "score"]
        ).rename(
            columns={"block": "Khối", "rank": "Thứ tự trong khối", "unit": "Đơn vị", "score": "Tổng điểm"}
        )
        if data.final:
            columns = ["category", "block", "name", "votes", "outcome", "dossier"]
            sheets["Kết quả bình xét"] = pd.DataFrame(data.results, columns=columns).rename(
                columns=dict(zip(columns, RESULT_HEADERS, strict=True))
            )
        else:
            columns = ["title", "block", "name", "proposed_by", "score", "dossier"]
            sheets["Ứng viên"] = pd.DataFrame(data.nominations, columns=columns).rename(
                columns=dict(zip(columns, NOMINATION_HEADERS, strict=True))
            )
    for name in ("Tình trạng gửi", "Chỉ tiêu theo đơn vị"):  # units in the DOCX's order
        sheets[name] = _in_reading_order(sheets[name], data.plan)
    report_title = data.plan.report_title(data.report.kind)
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            _typed(frame).to_excel(writer, sheet_name=name, index=False, startrow=1)
            _dress(writer.sheets[name], f"{report_title} – Phụ lục: {name}")
        # what Excel's File > Info shows, as the DOCX says it: the report's own instant, not the
        # clock of the machine that compiled it (openpyxl's default)
        props = writer.book.properties
        props.creator = props.lastModifiedBy = data.plan.sender[0]
        props.title = f"{report_title} – phụ lục"
        props.created = data.instant.astimezone(dt.UTC).replace(
            tzinfo=None
        )  # `modified`: openpyxl's, at save
    return out


TEXT_COLUMNS = {"Khối", "Đơn vị", "Tình trạng", "Còn thiếu", "Chỉ tiêu", "Tập thể", "Danh hiệu", "Ứng viên"}
TEXT_COLUMNS |= {"Đơn vị đề nghị", "Số phiếu", "Kết quả", "Hồ sơ đề nghị", "Mốc", "Văn bản", "Cách gửi"}
DATE_COLUMNS = {"Ngày gửi", "Hạn cuối (ngày)"}


def _in_reading_order(frame: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Rows in the order every table of the report lists units (`reports.reading_order`)."""
    if frame.empty or "Đơn vị" not in frame:
        return frame
    place = {plan.unit_names[code]: i for i, code in enumerate(reading_order(plan))}
    order = frame["Đơn vị"].map(lambda name: place.get(name, len(place)))
    return frame.loc[order.sort_values(kind="stable").index].reset_index(drop=True)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers and dates as the cells a spreadsheet computes with: the report's text ("1.234,5",
    "12/11/2021") read back into numbers and dates; anything else stays text."""
    out = frame.copy()
    for column in out.columns:
        if column in DATE_COLUMNS:
            out[column] = out[column].map(_as_date)
        elif column not in TEXT_COLUMNS:
            out[column] = out[column].map(_as_number)
    return out


def _as_date(text: object) -> object:
    try:
        return dt.datetime.strptime(str(text), "%d/%m/%Y").date()
    except ValueError:
        return text if text else None


def _as_number(value: object) -> object:
    if isinstance(value, (int, float)) or value is None:
        return value
    try:
        return parse_number(str(value))
    except ValueError:
        return value if value != "" else None


def _dress(sheet: Any, title: str) -> None:
    """A sheet a clerk prints as it is: its title in the first row, a bold header row frozen on
    screen and repeated on every printed page, landscape A4 fitted to the page's width;
    Vietnamese number and date formats, columns wide enough."""
    from openpyxl.styles import Font

    sheet["A1"] = title
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.freeze_panes = "A3"
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    sheet.print_title_rows = "2:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0  # as many pages down as needed
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    for row in sheet.iter_rows(min_row=2):  # the header too: indicator names from the sheet head columns
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text typed into the shared sheet ("=IMPORTXML(…)") is never a formula
            elif isinstance(cell.value, dt.date):
                cell.number_format = "dd/mm/yyyy"
            elif isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = "#,##0" if float(cell.value).is_integer() else "#,##0.0#"
    for column in sheet.iter_cols(min_row=2):  # the title spills over its neighbours: not measured
        width = max(len(str(c.value if not isinstance(c.value, dt.date) else "00/00/0000")) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(60, width + 2)


def report_stem(data: ReportData) -> str:
    """The report's file name without extension, e.g. bao-cao-so-ket-2021. The year-end report
    before the vote is the conference's draft (`…-du-thao`): the final one, after the vote, is
    written beside it, never over it."""
    kind = "bao-cao-so-ket" if data.report.kind == "midyear" else "bao-cao-tong-ket"
    draft = "-du-thao" if data.yearend and not data.final else ""
    return f"{kind}-{data.plan.year}{draft}"


def to_markdown(data: ReportData) -> str:
    c = _context(data)
    plan = data.plan
    lines = [
        f"# {md(data.report.name)} {plan.year} (dự thảo)",
        "",
        f"Tổng hợp đến {c['as_of']}; hạn gửi của đơn vị: {by_day(plan)} {data.deadline}.",
        "",
        "| Khối | Số đơn vị | Đúng hạn | Muộn | Chưa đủ | Chưa gửi |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        md_row(b["block"], b["total"], b["on_time"], b["late"], b["incomplete"], b["missing"])
        for b in data.discipline_blocks
    ]
    if data.page_problems:
        lines += ["", "**Vượt số trang:**", ""] + [f"- {md(p)}" for p in data.page_problems]
    if data.by_mail:
        lines += ["", "**Hồ sơ nhận qua thư điện tử:**", ""] + [f"- {md(p)}" for p in data.by_mail]
    lines += [
        "",
        "## Chỉ tiêu",
        "",
        md_row("Chỉ tiêu", *c["indicator_headers"]),
        "|---" * (len(c["indicator_headers"]) + 1) + "|",
    ]
    lines += [md_row(i["indicator"], *i["cells"]) for i in c["indicators"]]
    if data.yearend:
        if data.ranking or data.score_flags:
            lines += [
                "",
                "## Tự chấm điểm (tham khảo, xếp trong từng khối)",
                "",
                "| Khối | Thứ tự | Đơn vị | Điểm |",
            ]
            lines += ["|---|---|---|---|"] + [
                md_row(r["block"], r["rank"], r["unit"], r["score"]) for r in data.ranking
            ]
            lines += [""] + [f"- {md(f)}" for f in data.score_flags]
        if data.final:
            lines += ["", "## Kết quả bình xét tại Hội nghị", "", md_row(*RESULT_HEADERS), "|---" * 6 + "|"]
            lines += [
                md_row(r["category"], r["block"], r["name"], r["votes"], r["outcome"], r["dossier"])
                for r in data.results
            ]
            lines += [f"- {md(p)}" for p in data.vote_problems]
        else:
            lines += [
                "",
                "## Ứng viên trình Hội nghị (chưa bỏ phiếu)",
                "",
                f"Chưa lập bản sau Hội nghị: {md(data.not_final)}.",
                "",
                md_row(*NOMINATION_HEADERS),
                "|---" * 6 + "|",
            ]
            lines += [
                md_row(c["title"], c["block"], c["name"], c["proposed_by"], c["score"], c["dossier"])
                for c in data.nominations
            ]
    return "\n".join(lines) + "\n"
