"""Writes config/sample-cum-kinh-te-2027.xlsx: a year of submissions for the second example plan
(plan-cum-kinh-te-2027.yaml), a province's cluster of the economic block, fed by a Google Form.

Run: python config/make_sample_cum_2027.py [OUT.xlsx]   (deterministic: same cells every time)

What it holds, so that a reader can check thidua's answers by eye:
- Nộp hồ sơ has a Form's headers ("Dấu thời gian", "Tên đơn vị", "Văn bản nộp") and real
  date-time cells.
- Đăng ký thi đua (by 15/03/2027): all on time but KTTL (17/03).
- Sơ kết 6 tháng (by the end of 15/06/2027, a Tuesday): on time STC, SXD, SCT, BQL-KCN, XSKT;
  SNNMT sends only its report, named "BC so ket 6 thang" (an alias): incomplete; BQL-DA sends
  both on 18/06 (late); KTTL sends nothing. SCT's Biểu số liệu has 3 pages (limit 2).
- Tổng kết năm (by 15/11/2027): everyone sends report and self-score; STC, BQL-KCN and XSKT
  registered for the Cờ thi đua (which needs a dossier): XSKT forgets it; SXD adds the optional
  Sáng kiến tiêu biểu.
- Phiếu bầu: 8 ballots; Cờ thi đua của UBND tỉnh: STC 7, BQL-KCN 6, XSKT 3 (fails: more than
  half of 8 is 5).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tasks.contract import COLUMNS  # noqa: E402
from tasks.plan import load_plan  # noqa: E402

HERE = Path(__file__).resolve().parent
PLAN = load_plan(HERE / "plan-cum-kinh-te-2027.yaml")
OUT = HERE / "sample-cum-kinh-te-2027.xlsx"
FLAG = "Cờ thi đua của Ủy ban nhân dân tỉnh"
FLAG_UNITS = ["STC", "BQL-KCN", "XSKT"]
FORM_HEADERS = {"Thời gian nộp": "Dấu thời gian", "Đơn vị": "Tên đơn vị", "Loại hồ sơ": "Văn bản nộp"}


def submissions() -> list[list[object]]:
    names = {u.code: u.name for u in PLAN.units}
    rows: list[list[object]] = []

    def add(when: dt.datetime, code: str, milestone: str, kind: str, pages: int | str = "") -> None:
        link = f"https://drive.example/{code.lower()}/{milestone}-{len(rows)}.pdf"
        rows.append([when, names[code], milestone, kind, pages, link, ""])

    for i, u in enumerate(PLAN.units):
        day = dt.datetime(2027, 3, 17, 9) if u.code == "KTTL" else dt.datetime(2027, 3, 2 + i, 10, 15)
        add(day, u.code, "Đăng ký thi đua", "Bản đăng ký thi đua", 2)
    for i, code in enumerate(["STC", "SXD", "SCT", "BQL-KCN", "XSKT"]):
        when = dt.datetime(2027, 6, 8 + i, 14, 30)
        add(when, code, "so-ket", "Báo cáo sơ kết", 12)
        add(when, code, "so-ket", "Biểu số liệu", 3 if code == "SCT" else 2)
    add(dt.datetime(2027, 6, 14, 16), "SNNMT", "so-ket", "BC so ket 6 thang", 9)
    add(dt.datetime(2027, 6, 18, 9), "BQL-DA", "so-ket", "Báo cáo sơ kết", 10)
    add(dt.datetime(2027, 6, 18, 9, 5), "BQL-DA", "so-ket", "Biểu số liệu", 2)
    for i, u in enumerate(PLAN.units):
        when = dt.datetime(2027, 11, 3 + i, 8, 45)
        add(when, u.code, "tong-ket", "Báo cáo tổng kết", 18)
        add(when, u.code, "tong-ket", "Bảng tự chấm điểm", 3)
        if u.code in ("STC", "BQL-KCN"):
            add(when, u.code, "tong-ket", "Hồ sơ đề nghị Cờ thi đua", 15)
        if u.code == "SXD":
            add(when, u.code, "tong-ket", "Sáng kiến tiêu biểu", 5)
    return rows


def main(out: Path = OUT) -> None:
    book = Workbook()
    book.remove(book.active)
    names = {u.code: u.name for u in PLAN.units}

    sheet = book.create_sheet("Nộp hồ sơ")
    columns = [c for c in COLUMNS["Nộp hồ sơ"] if c != "Đơn vị được kiểm tra"]
    sheet.append([FORM_HEADERS.get(c, c) for c in columns])
    for row in submissions():
        sheet.append(row)
        sheet.cell(sheet.max_row, 1).number_format = "dd/mm/yyyy hh:mm:ss"

    sheet = book.create_sheet("Đăng ký")
    sheet.append(list(COLUMNS["Đăng ký"]))
    for u in PLAN.units:
        title = FLAG if u.code in FLAG_UNITS else "Tập thể lao động xuất sắc"
        sheet.append([u.name, title, "Tập thể"])
    sheet.append([names["SXD"], "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh", "Tập thể"])

    sheet = book.create_sheet("Chấm điểm")
    sheet.append(list(COLUMNS["Chấm điểm"]))
    for i, u in enumerate(PLAN.units):
        sheet.append([u.name, 98.5 - 1.5 * i])

    sheet = book.create_sheet("Số liệu")
    sheet.append(list(COLUMNS["Số liệu"]))
    for i, u in enumerate(PLAN.units):
        for milestone, factor in (("so-ket", 1), ("tong-ket", 2)):
            sheet.append([u.code, milestone, "Tỷ lệ giải ngân vốn đầu tư công (%)", 40 + 5 * i * factor / 2])
            sheet.append([u.code, milestone, "Số sáng kiến được công nhận", (i % 3 + 1) * factor])

    sheet = book.create_sheet("Phiếu bầu")
    sheet.append(list(COLUMNS["Phiếu bầu"]))
    approvals = {"STC": 7, "BQL-KCN": 6, "XSKT": 3}
    for number in range(1, 9):
        for code, yes in approvals.items():
            sheet.append([str(number), FLAG, names[code], "x" if number <= yes else ""])

    book.properties.created = book.properties.modified = dt.datetime(2027, 12, 1)
    book.save(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
    print(f"wrote {OUT if len(sys.argv) < 2 else sys.argv[1]}")
