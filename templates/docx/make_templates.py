"""Writes the Word templates (docxtpl) in the layout of Nghị định 30/2020/NĐ-CP, Phụ lục I.

Run: python templates/docx/make_templates.py
The .docx files it writes are committed: a coordinator may restyle them in Word (fonts, spacing,
logo) as long as the {{ … }} and {% … %} tags stay; this script is only how they were first made.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

HERE = Path(__file__).resolve().parent


def base_document() -> Document:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)  # A4 portrait
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Times New Roman")
    style.paragraph_format.space_after = Pt(6)
    return doc


def para(doc_or_cell, text="", bold=False, italic=False, size=None, align=None, indent=False, caps=False):
    p = doc_or_cell.add_paragraph()
    run = p.add_run(text.upper() if caps else text)
    run.bold, run.italic = bold, italic
    if size:
        run.font.size = Pt(size)
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Cm(1.27)
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    return p


def header_block(doc, number_prefix: str) -> None:
    """Issuing body (left), national motto (right), number and place-date (Phụ lục I, ô 1-5)."""
    table = doc.add_table(rows=2, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = table.rows[0].cells
    left.paragraphs[0].add_run("{{ issuer_parent }}").font.size = Pt(13)
    left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    para(left, "{{ issuer }}", bold=True, size=13, align=WD_ALIGN_PARAGRAPH.CENTER)
    r = right.paragraphs[0].add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    r.bold, r.font.size = True, Pt(13)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    para(right, "Độc lập - Tự do - Hạnh phúc", bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    left, right = table.rows[1].cells
    left.paragraphs[0].add_run(f"Số: {{{{ number }}}}/{number_prefix}").font.size = Pt(13)
    left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = right.paragraphs[0].add_run("{{ place }}, ngày {{ day }} tháng {{ month }} năm {{ year }}")
    r.italic, r.font.size = True, Pt(14)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER


def signature_block(doc) -> None:
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    p = left.paragraphs[0]
    r = p.add_run("Nơi nhận:")
    r.bold, r.italic, r.font.size = True, True, Pt(12)
    para(left, "{%p for line in recipients %}", size=11)
    para(left, "- {{ line }}", size=11)
    para(left, "{%p endfor %}", size=11)
    para(left, "- Lưu: VT, VP.", size=11)
    right.paragraphs[0].add_run("{{ signer_role }}").bold = True
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    para(right, "{{ signer_title }}", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(right, "", align=WD_ALIGN_PARAGRAPH.CENTER)
    para(right, "", align=WD_ALIGN_PARAGRAPH.CENTER)
    para(right, "{{ signer_name }}", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)


def loop_table(doc, headers: list[str], loop: str, cells: list[str], widths: list[float]):
    """A table whose body rows repeat with docxtpl's {%tr for … %}."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    for i, text in enumerate(headers):
        cell = table.rows[0].cells[i]
        cell.paragraphs[0].add_run(text).bold = True
    table.rows[1].cells[0].paragraphs[0].add_run(f"{{%tr for {loop} %}}")
    for i, text in enumerate(cells):
        table.rows[2].cells[i].paragraphs[0].add_run(text)
    table.rows[3].cells[0].paragraphs[0].add_run("{%tr endfor %}")
    for row in table.rows:
        for i, w in enumerate(widths):
            row.cells[i].width = Cm(w)
            for p in row.cells[i].paragraphs:
                for run in p.runs:
                    run.font.size = Pt(12)
    return table


def minutes_template() -> None:
    doc = base_document()
    header_block(doc, "BB-KVTĐ")
    para(doc, "BIÊN BẢN KIỂM PHIẾU", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(
        doc,
        "Bình xét, suy tôn danh hiệu thi đua năm {{ year }} tại Hội nghị tổng kết",
        bold=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    para(
        doc,
        "Hôm nay, {{ date_words }}, tại {{ place }}, Tổ kiểm phiếu của {{ area_name }} tiến hành "
        "kiểm phiếu bình xét, suy tôn các danh hiệu thi đua theo Kế hoạch số {{ plan_number }}. "
        "Ngưỡng đạt: {{ threshold_words }}.",
        indent=True,
    )
    para(doc, "{%p for c in categories %}")
    para(
        doc,
        "{{ c.index }}. {{ c.title }}: {{ c.cast }} phiếu phát ra và thu về, {{ c.valid }} phiếu hợp lệ, "
        "{{ c.invalid }} phiếu không hợp lệ.",
        bold=True,
        indent=True,
    )
    para(doc, "{%p endfor %}")
    para(doc, "Kết quả kiểm phiếu:", bold=True, indent=True)
    loop_table(
        doc,
        ["Danh hiệu", "Khối", "Ứng viên", "Số phiếu", "Kết quả"],
        "r in rows",
        ["{{ r.category }}", "{{ r.block }}", "{{ r.name }}", "{{ r.votes }}", "{{ r.outcome }}"],
        [3.5, 3, 5, 2.5, 2.5],
    )
    para(doc, "")
    para(doc, "{%p if invalid %}")
    para(doc, "Phiếu không hợp lệ:", bold=True, indent=True)
    para(doc, "{%p for b in invalid %}")
    para(doc, "- Phiếu số {{ b.number }} ({{ b.category }}): {{ b.reason }}.", indent=True)
    para(doc, "{%p endfor %}")
    para(doc, "{%p endif %}")
    para(doc, "{%p if ties %}")
    para(doc, "Đề nghị bỏ phiếu lại (số phiếu bằng nhau ở vị trí cuối của chỉ tiêu):", bold=True, indent=True)
    para(doc, "{%p for t in ties %}")
    para(doc, "- {{ t.category }}, {{ t.block }}: {{ t.name }} ({{ t.votes }}).", indent=True)
    para(doc, "{%p endfor %}")
    para(doc, "{%p endif %}")
    para(
        doc,
        "Biên bản kết thúc lúc … giờ … cùng ngày, đã được đọc lại cho Hội nghị nghe và nhất trí thông qua.",
        indent=True,
    )
    signature_block(doc)
    doc.save(HERE / "bien-ban-kiem-phieu.docx")


if __name__ == "__main__":
    minutes_template()
    print(f"wrote templates in {HERE}")
