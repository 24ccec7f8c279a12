"""Word documents from docxtpl templates (templates/docx), in the Nghị định 30/2020 layout.

Every word of the header, symbol, signature and Nơi nhận comes from the plan (`identity`,
`letterhead`, `leadership`): the templates hold only the layout."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.plan import Plan
from tasks.settings import REPO

if TYPE_CHECKING:
    from docxtpl import DocxTemplate

DOCX_TEMPLATES = REPO / "templates" / "docx"


def header_context(
    plan: Plan, day: dt.date, document_type: str, report_kind: str | None = None
) -> dict[str, Any]:
    """Header, date, signature and Nơi nhận of a document the area issues (the Head signs).
    `document_type` is the symbol's first part: BC (báo cáo), BB (biên bản). `day` gives only the
    date line: a 2021 report signed in January 2022 is still about 2021."""
    head = plan.letterhead
    return {
        "issuer_parent": head.parent,
        "issuer": head.issuer_name or plan.area_name.upper(),
        "issuer_lines": head.issuer_lines or [plan.area_name.upper()],
        "number": "     ",  # the office fills in the register number
        "symbol": plan.symbol(document_type),
        "place": plan.place,
        "day": f"{day.day:02d}",
        # Nghị định 30/2020: a zero before days below 10 and the months January and February
        "month": f"{day.month:02d}" if day.month < 3 else str(day.month),
        "date_year": str(day.year),  # the date line only: the day it is signed
        "year": str(plan.year),  # everything the document speaks of is the plan's year
        "date_words": f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}",
        "area_name": plan.area_name,
        "area_kind": plan.identity.kind,
        "head_title": plan.identity.head,
        "leaders": plan.identity.leaders,
        "self_word": plan.identity.self_word,
        "plan_number": (plan.document_number or "…")
        + (f" ngày {plan.issued:%d/%m/%Y}" if plan.issued else ""),
        "signer_role": head.signer_role or plan.identity.head.upper(),
        "signer_title": plan.leadership.signer_title,
        "signer_name": plan.leadership.signer_name,
        "recipients": plan.recipients(report_kind),
    }


def set_properties(doc: DocxTemplate, plan: Plan, title: str, when: dt.datetime) -> None:
    """What Word's File > Info shows: the issuing unit, the document's title, made now (not
    python-docx's 2013 template)."""
    props = doc.docx.core_properties
    props.author = props.last_modified_by = plan.sender[0]
    props.title = title
    props.subject = plan.area_name
    props.created = props.modified = when.astimezone(dt.UTC).replace(tzinfo=None)
    props.revision = 1
    props.comments = ""


KEPT_WHOLE_ROWS = 15  # a table of at most this many rows fits a page: never split across two


def keep_short_tables_whole(document: Any) -> None:
    """Every row of a short table kept with the next (Word's and LibreOffice's way to keep a
    table on one page); a long table still breaks, its header row repeated, rather than leave
    half a page blank before it. Done on the rendered document: a template's loop table has
    as many rows as the data."""
    for table in document.tables:
        if len(table.rows) > KEPT_WHOLE_ROWS:
            continue
        for row in table.rows[:-1]:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True


def render_docx(
    template: str, context: dict[str, Any], out: Path, plan: Plan, title: str, when: dt.datetime
) -> Path:
    from docxtpl import DocxTemplate

    doc = DocxTemplate(DOCX_TEMPLATES / template)
    doc.render(context, autoescape=True)
    keep_short_tables_whole(doc.docx)
    set_properties(doc, plan, title, when)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(out)
    return out
