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
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

HERE = Path(__file__).resolve().parent


def base_document() -> Document:
    doc = Document()
    # python-docx's default package carries a thumbnail of a blank page, which file browsers and
    # Outlook show as the document's preview: not ours to keep
    package_rels = doc.part.package.rels
    for rel_id, rel in list(package_rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del package_rels[rel_id]
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)  # A4 portrait
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Times New Roman")
    style.paragraph_format.space_after = Pt(6)
    page_numbers(section)
    return doc


def page_numbers(section) -> None:
    """Phụ lục I, ô 11: the page number centred in the top margin, from the second page on."""
    section.different_first_page_header_footer = True  # the first page's header stays empty
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    p._p.append(field)


def rule_line(cell, length_cm: float, cell_cm: float) -> None:
    """A solid line centred under the line above it (Phụ lục I: under the issuing body, a third
    to a half of its length; under the motto, as long as the motto): a tiny paragraph whose top
    border is indented to `length_cm`."""
    p = cell.add_paragraph()
    fmt = p.paragraph_format
    fmt.left_indent = fmt.right_indent = Cm((cell_cm - length_cm) / 2)
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(2)
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for key, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "000000")):
        top.set(qn(f"w:{key}"), value)
    borders.append(top)
    p._p.get_or_add_pPr().append(borders)
    p.add_run("").font.size = Pt(2)


def keep_with_next(paragraph) -> None:
    paragraph.paragraph_format.keep_with_next = True


def row_props(row, header: bool = False) -> None:
    """A row never split across pages; a header row repeated at the top of each page."""
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))
    if header:
        tr_pr.append(OxmlElement("w:tblHeader"))


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


def header_block(doc) -> None:
    """Issuing body (left), national motto (right), number and place-date (Phụ lục I, ô 1-5);
    the body above the issuer only when the plan names one."""
    table = doc.add_table(rows=2, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = table.rows[0].cells
    left.paragraphs[0].add_run("{%p if issuer_parent %}")
    para(left, "{{ issuer_parent }}", size=13, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(left, "{%p endif %}")
    # one paragraph per line the plan broke the issuer's name into: a name broken where its
    # phrases end, not wherever the cell's width falls
    para(left, "{%p for line in issuer_lines %}", size=13)
    line = para(left, "{{ line }}", bold=True, size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
    line.paragraph_format.space_after = Pt(0)  # the lines of one name, not paragraphs apart
    para(left, "{%p endfor %}", size=13)
    rule_line(left, 2.5, 7.4)
    r = right.paragraphs[0].add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    r.bold, r.font.size = True, Pt(12)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    para(right, "Độc lập - Tự do - Hạnh phúc", bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    rule_line(right, 6.2, 10)
    left, right = table.rows[1].cells
    left.paragraphs[0].add_run("Số: {{ number }}/{{ symbol }}").font.size = Pt(13)
    left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = right.paragraphs[0].add_run("{{ place }}, ngày {{ day }} tháng {{ month }} năm {{ date_year }}")
    r.italic, r.font.size = True, Pt(14)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_widths(table, [7.4, 10])  # wider than the text: the motto on one line


def set_widths(table, widths_cm: list[float]) -> None:
    """Cell widths for Word, grid widths for LibreOffice (which reads only the grid)."""
    table.autofit = False
    for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths_cm, strict=True):
        col.set(qn("w:w"), str(int(Cm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)


def signature_block(doc) -> None:
    """Nơi nhận (left) and the signer (right), one row that never splits; every paragraph kept
    with the next, so the block moves to the next page with the closing sentence before it."""
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    p = left.paragraphs[0]
    r = p.add_run("Nơi nhận:")
    r.bold, r.italic, r.font.size = True, True, Pt(12)
    para(left, "{%p for line in recipients %}", size=11)
    para(left, "- {{ line }}", size=11)
    para(left, "{%p endfor %}", size=11)
    right.paragraphs[0].add_run("{{ signer_role }}").bold = True
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    para(right, "{{ signer_title }}", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(right, "", align=WD_ALIGN_PARAGRAPH.CENTER)
    para(right, "", align=WD_ALIGN_PARAGRAPH.CENTER)
    para(right, "{{ signer_name }}", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    set_widths(table, [8, 8.5])
    row_props(table.rows[0])
    for cell in table.rows[0].cells:
        for p in cell.paragraphs[:-1]:
            keep_with_next(p)


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
    set_widths(table, widths)
    dress_table(table)
    return table


def dress_table(table) -> None:
    """12-point text; the header row repeated on every page; no row split across pages."""
    for i, row in enumerate(table.rows):
        row_props(row, header=i == 0)
        for cell in row.cells:
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(12)


def column_loop_table(doc, fixed: str, loop: str, header: str, cell: str, widths: list[float]):
    """A table with one fixed first column and the others from docxtpl's {%tc for … %}, for
    as many columns as the plan has blocks: header row and body rows (a {%tr for %} loop)."""
    table = doc.add_table(rows=4, cols=4)
    table.style = "Table Grid"
    head, start, body, end = table.rows
    head.cells[0].paragraphs[0].add_run(fixed).bold = True
    head.cells[1].paragraphs[0].add_run(f"{{%tc for h in {loop[0]} %}}")
    head.cells[2].paragraphs[0].add_run(header).bold = True
    head.cells[3].paragraphs[0].add_run("{%tc endfor %}")
    start.cells[0].paragraphs[0].add_run(f"{{%tr for {loop[1]} %}}")
    body.cells[0].paragraphs[0].add_run(loop[2])
    body.cells[1].paragraphs[0].add_run(f"{{%tc for v in {loop[3]} %}}")
    body.cells[2].paragraphs[0].add_run(cell)
    body.cells[3].paragraphs[0].add_run("{%tc endfor %}")
    end.cells[0].paragraphs[0].add_run("{%tr endfor %}")
    set_widths(table, widths)
    dress_table(table)
    return table


def minutes_template() -> None:
    doc = base_document()
    header_block(doc)
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
    listed(doc, "problems", "Cần kiểm tra:", bold=True)
    listed(
        doc,
        "invalid",
        "Phiếu không hợp lệ:",
        "- Phiếu số {{ x.number }} ({{ x.category }}): {{ x.reason }}.",
        True,
    )
    listed(
        doc,
        "ties",
        "Đề nghị bỏ phiếu lại (số phiếu bằng nhau ở vị trí cuối của chỉ tiêu):",
        "- {{ x.category }}, {{ x.block }}: {{ x.name }} ({{ x.votes }}).",
        True,
    )
    para(
        doc,
        "Biên bản kết thúc lúc … giờ … cùng ngày, đã được đọc lại cho Hội nghị nghe và nhất trí thông qua.",
        indent=True,
    )
    counting_team_block(doc)
    doc.save(HERE / "bien-ban-kiem-phieu.docx")


def counting_team_block(doc) -> None:
    """A Biên bản kiểm phiếu is signed by the vote-counting team, not by the Head: secretary
    (left) and team leader (right), the members below; no Nơi nhận (it is not a letter)."""
    table = doc.add_table(rows=1, cols=2)
    for cell, role, name in zip(
        table.rows[0].cells, ("THƯ KÝ", "TỔ TRƯỞNG TỔ KIỂM PHIẾU"), ("secretary", "leader"), strict=True
    ):
        cell.paragraphs[0].add_run(role).bold = True
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        para(cell, "(Ký, ghi rõ họ tên)", italic=True, size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
        para(cell, "", align=WD_ALIGN_PARAGRAPH.CENTER)
        para(cell, "", align=WD_ALIGN_PARAGRAPH.CENTER)
        para(cell, "{{ " + name + " }}", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    set_widths(table, [8, 8.5])
    para(doc, "{%p if members %}")
    para(doc, "CÁC THÀNH VIÊN TỔ KIỂM PHIẾU", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(doc, "{%p for m in members %}")
    para(doc, "{{ m }}: ………………………………", align=WD_ALIGN_PARAGRAPH.CENTER)
    para(doc, "{%p endfor %}")
    para(doc, "{%p endif %}")


def listed(doc, items: str, title: str, line: str = "- {{ x }}.", bold: bool = False) -> None:
    """A titled list of `items`, each line `line` (the item is `x`), shown only when not empty."""
    para(doc, f"{{%p if {items} %}}")
    para(doc, title, bold=bold, indent=True)
    para(doc, f"{{%p for x in {items} %}}")
    para(doc, line, indent=True)
    para(doc, "{%p endfor %}")
    para(doc, "{%p endif %}")


def heading(doc, text):
    p = para(doc, text, bold=True, indent=True)
    keep_with_next(p)  # a heading never ends a page
    return p


def to_write(doc, title):
    """A section the Head writes: clearly marked, so that no draft goes out unfinished."""
    heading(doc, title)
    para(doc, "[PHẦN DO {{ head_title|upper }} VIẾT — xoá dòng này khi hoàn thiện]", italic=True, indent=True)


def report_template() -> None:
    doc = base_document()
    header_block(doc)
    keep_with_next(para(doc, "BÁO CÁO", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER))
    keep_with_next(para(doc, "{{ report_subject }} {{ year }}", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER))
    rule_line(doc, 4, 16.5)  # Phụ lục I, ô 5b: a short line under the title
    para(
        doc,
        "[DỰ THẢO do hệ thống thidua tổng hợp từ bảng tính chung đến {{ as_of }}; {{ head_title }} "
        "rà soát, hoàn thiện trước khi ký]",
        italic=True,
        size=12,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    para(
        doc,
        "Thực hiện Kế hoạch số {{ plan_number }}, {{ area_name }} báo cáo {{ subject_lower }} {{ year }} "
        "như sau:",
        indent=True,
    )
    heading(doc, "I. VIỆC THỰC HIỆN CHẾ ĐỘ THÔNG TIN, BÁO CÁO CỦA CÁC ĐƠN VỊ")
    para(doc, "Hạn gửi báo cáo về {{ leaders }}: {{ by_day }} {{ deadline }}.", indent=True)
    para(doc, "{%p for b in blocks %}")
    para(
        doc,
        "- {{ b.block }}: {{ b.total }} đơn vị; gửi đúng hạn {{ b.on_time }}, gửi muộn {{ b.late }}, "
        "chưa đủ hồ sơ {{ b.incomplete }}, chưa gửi {{ b.missing }}.",
        indent=True,
    )
    para(doc, "{%p endfor %}")
    para(doc, "{{ chart }}", align=WD_ALIGN_PARAGRAPH.CENTER)
    loop_table(
        doc,
        ["Khối", "Đơn vị", "Tình trạng", "Ngày gửi", "Còn thiếu"],
        "u in units",
        ["{{ u.block }}", "{{ u.unit }}", "{{ u.state }}", "{{ u.date }}", "{{ u.missing }}"],
        [3, 5, 2.5, 2.5, 3.5],
    )
    listed(doc, "page_problems", "Văn bản vượt số trang quy định:")
    listed(doc, "by_mail", "Hồ sơ các đơn vị gửi qua thư điện tử (đã tính ở trên):")
    para(
        doc,
        "Từng văn bản của từng đơn vị trong kỳ (đúng hạn, muộn bao nhiêu ngày, chưa gửi, gửi qua thư "
        "điện tử): xem Phụ lục kèm theo.",
        italic=True,
        indent=True,
    )
    heading(doc, "II. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU")
    column_loop_table(
        doc,
        "Chỉ tiêu",
        ("indicator_headers", "i in indicators", "{{ i.indicator }}", "i.cells"),
        "{{ h }}",
        "{{ v }}",
        [6, 0.1, 10, 0.4],
    )
    para(doc, "Số liệu chi tiết của từng đơn vị: xem Phụ lục (tệp Excel kèm theo).", italic=True, indent=True)
    para(doc, "{%p if yearend %}")
    heading(doc, "III. KẾT QUẢ TỰ CHẤM ĐIỂM (để tham khảo)")
    para(
        doc,
        "Điểm do các đơn vị tự chấm, xếp thứ tự trong từng khối (các khối chấm theo tiêu chí khác "
        "nhau); không dùng để quyết định chỉ tiêu khen thưởng.",
        italic=True,
        indent=True,
    )
    loop_table(
        doc,
        ["Khối", "Thứ tự trong khối", "Đơn vị", "Tổng điểm tự chấm"],
        "r in ranking",
        ["{{ r.block }}", "{{ r.rank }}", "{{ r.unit }}", "{{ r.score }}"],
        [4, 2.5, 6.5, 3],
    )
    listed(doc, "score_flags", "Không xếp thứ tự (chưa gửi {{ scoring_document }}):")
    heading(doc, "IV. ĐĂNG KÝ THI ĐUA VÀ BÌNH XÉT KHEN THƯỞNG")
    loop_table(
        doc,
        ["Danh hiệu", "Số đăng ký", "Ứng viên trình Hội nghị"],
        "r in registrations",
        ["{{ r.title }}", "{{ r.registered }}", "{{ r.candidates }}"],
        [7, 3, 6.5],
    )
    para(doc, "{%p if final %}")
    para(
        doc,
        "Kết quả bình xét, suy tôn tại Hội nghị tổng kết (chỉ tiêu: {{ quotas }}); hồ sơ đề nghị "
        "của tập thể được đề nghị:",
        indent=True,
    )
    loop_table(
        doc,
        ["Danh hiệu", "Khối", "Ứng viên", "Số phiếu", "Kết quả", "Hồ sơ đề nghị"],
        "r in results",
        [
            "{{ r.category }}",
            "{{ r.block }}",
            "{{ r.name }}",
            "{{ r.votes }}",
            "{{ r.outcome }}",
            "{{ r.dossier }}",
        ],
        [3, 2.3, 3.7, 1.8, 2.2, 3.5],
    )
    para(doc, "{%p for p in vote_problems %}")
    para(doc, "- {{ p }}.", indent=True)
    para(doc, "{%p endfor %}")
    para(doc, "{%p else %}")
    para(
        doc,
        "Danh sách ứng viên trình Hội nghị tổng kết bình xét, bỏ phiếu (chỉ tiêu: {{ quotas }}); "
        "điểm tự chấm là của đơn vị đề nghị, để tham khảo:",
        indent=True,
    )
    loop_table(
        doc,
        [
            "Danh hiệu",
            "Khối",
            "Ứng viên",
            "Đơn vị đề nghị",
            "Điểm tự chấm của đơn vị đề nghị",
            "Hồ sơ đề nghị",
        ],
        "c in nominations",
        [
            "{{ c.title }}",
            "{{ c.block }}",
            "{{ c.name }}",
            "{{ c.proposed_by }}",
            "{{ c.score }}",
            "{{ c.dossier }}",
        ],
        [2.8, 2.2, 3.2, 3, 1.8, 3.5],
    )
    para(doc, "{%p endif %}")  # final
    para(doc, "{%p endif %}")  # yearend
    heading(doc, "{{ assess_number }}. ĐÁNH GIÁ CHUNG")
    para(doc, "{%p if notes %}")
    para(
        doc,
        "[Ghi chú của các đơn vị trên bảng tính, để tham khảo khi viết — xoá khi hoàn thiện:]",
        italic=True,
        indent=True,
    )
    para(doc, "{%p for n in notes %}")
    para(doc, "- {{ n.unit }} ({{ n.kind }}): {{ n.note }}", italic=True, indent=True)
    para(doc, "{%p endfor %}")
    para(doc, "{%p endif %}")
    to_write(doc, "1. Ưu điểm")
    to_write(doc, "2. Tồn tại, hạn chế và nguyên nhân")
    to_write(doc, "3. Phương hướng, nhiệm vụ {{ next_period }}")
    keep_with_next(
        para(doc, "Trên đây là {{ report_name_lower }} {{ year }} của {{ area_name }}./.", indent=True)
    )
    signature_block(doc)
    reporting_record_annex(doc)
    doc.save(HERE / "bao-cao.docx")


RECORD_HEADERS = [
    "STT",
    "Đơn vị",
    "Phải gửi",
    "Đúng hạn",
    "Muộn",
    "Số ngày muộn",
    "Chưa gửi",
    "Qua thư điện tử",
    "Ghi chú",
]
RECORD_CELLS = [
    "{{ loop.index }}",
    "{{ u.unit }}",
    "{{ u.owed }}",
    "{{ u.on_time }}",
    "{{ u.late }}",
    "{{ u.days_late }}",
    "{{ u.missing }}",
    "{{ u.by_mail }}",
    "{{ u.notes }}",
]


def reporting_record_annex(doc) -> None:
    """The annex after the signature, on a landscape page of its own (Nghị định 30/2020 lets an
    annex's table take the page's width): each unit's documents of the period, its totals and
    the area's."""
    from docx.enum.section import WD_ORIENT, WD_SECTION

    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21)
    section.different_first_page_header_footer = False  # the report's pages go on being numbered
    keep_with_next(para(doc, "Phụ lục", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER))
    keep_with_next(
        para(
            doc,
            "TÌNH HÌNH THỰC HIỆN CHẾ ĐỘ THÔNG TIN, BÁO CÁO CỦA CÁC ĐƠN VỊ",
            bold=True,
            align=WD_ALIGN_PARAGRAPH.CENTER,
        )
    )
    keep_with_next(
        para(
            doc,
            "(Kèm theo Báo cáo số {{ number }}/{{ symbol }} {{ date_words }} của {{ area_name }})",
            italic=True,
            align=WD_ALIGN_PARAGRAPH.CENTER,
        )
    )
    para(
        doc,
        "Các văn bản đơn vị phải gửi đến hạn trong kỳ ({{ record_period }}), tính đến {{ as_of }}; "
        "đúng hạn, muộn là theo lần gửi đầu tiên, như bảng tình trạng hồ sơ.",
        italic=True,
        size=12,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    table = doc.add_table(rows=5, cols=len(RECORD_HEADERS))
    table.style = "Table Grid"
    head, start, body, end, total = table.rows
    for cell, text in zip(head.cells, RECORD_HEADERS, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    start.cells[0].paragraphs[0].add_run("{%tr for u in record_units %}")
    for cell, text in zip(body.cells, RECORD_CELLS, strict=True):
        cell.paragraphs[0].add_run(text)
        if text not in ("{{ u.unit }}", "{{ u.notes }}"):
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    end.cells[0].paragraphs[0].add_run("{%tr endfor %}")
    sums = [
        "",
        "Cộng",
        *(
            f"{{{{ record_total.{k} }}}}"
            for k in ("owed", "on_time", "late", "days_late", "missing", "by_mail")
        ),
        "",
    ]
    for cell, text in zip(total.cells, sums, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
        if text != "Cộng":
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_widths(table, [1.3, 6.4, 1.7, 1.7, 1.6, 1.8, 1.7, 1.9, 7.1])
    dress_table(table)


if __name__ == "__main__":
    minutes_template()
    report_template()
    print(f"wrote templates in {HERE}")
