"""Word documents from docxtpl templates (templates/docx), in the Nghị định 30/2020 layout."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tasks.plan import Plan
from tasks.settings import REPO

DOCX_TEMPLATES = REPO / "templates" / "docx"


def header_context(plan: Plan, day: dt.date) -> dict:
    """Header, date and signature of a document the area issues (the Head signs)."""
    head = plan.unit(plan.leadership.head_unit)
    return {
        "issuer_parent": "BỘ TƯ PHÁP",
        "issuer": plan.area_name.upper(),
        "number": "     ",  # the office fills in the register number
        "place": head.province,
        "day": f"{day.day:02d}",
        "month": f"{day.month:02d}" if day.month < 3 else str(day.month),
        "year": str(day.year),
        "date_words": f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}",
        "area_name": plan.area_name,
        "plan_number": (plan.document_number or "…")
        + (f" ngày {plan.issued:%d/%m/%Y}" if plan.issued else ""),
        "signer_role": "TRƯỞNG KHU VỰC THI ĐUA",
        "signer_title": plan.leadership.signer_title,
        "signer_name": plan.leadership.signer_name,
        "recipients": ["Vụ Thi đua - Khen thưởng, Bộ Tư pháp;", "Các đơn vị thành viên KVTĐ;"],
    }


def render_docx(template: str, context: dict, out: Path) -> Path:
    from docxtpl import DocxTemplate

    doc = DocxTemplate(DOCX_TEMPLATES / template)
    doc.render(context, autoescape=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(out)
    return out
