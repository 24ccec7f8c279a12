"""Writes config/sample-2021.xlsx: a realistic year of submissions for plan 184/KH-KVTĐ.

Run: python config/make_sample_workbook.py [OUT.xlsx]   (deterministic: same cells every time)

What the sample holds, so that a reader can check thidua's answers by eye:

Sơ kết 6 tháng (due before 20/06/2021, a Sunday); at 08:00 on 18/06/2021:
- on time: most units, both documents before 18/06 08:00
- STP-LCH and THADS-DBI: nothing at all (missing)
- STP-BKA: only Báo cáo sơ kết (incomplete; never sends the summary)
- STP-CBA: summary row has the malformed date "31/06/2021 09:00" (rejected) -> incomplete
- STP-PTH and THADS-BGI: submit on 21/06 and 22/06 (missing at 18/06, late afterwards)
- THADS-TNG: submits on 19/06 (after the 18/06 snapshot, still on time)
- STP-SLA: summary of 5 pages (over the 3-page limit)
- THADS-YBA: Báo cáo sơ kết submitted twice (duplicate; latest counts)
- THADS-SLA is written in NFD; STP-HBI as "Hoà Bình" (the old tone placement; the plan writes
  "Hòa Bình"), THADS-HBI as "Cục THADS tỉnh Hoà Bình"; STP-LSO by its code
- one row for "Sở Tư pháp tỉnh Hà Tây" (not a member unit: rejected)
- THADS-LCA's time is a sheet serial number; STP-TNG's is ISO 8601
- STP-LCA's note is a phone number with a leading zero: 0913483228
Đăng ký thi đua (before 20/02/2021): all but STP-LCH on time; STP-DBI and THADS-HGI late (22/02).
Kiểm tra: two teams (tab Kiểm tra); Đoàn 1 owes the Biên bản for THADS-LCA, Đoàn 2 everything.
Tổng kết năm (before 10/11/2021): the six units registered for a flag owe the nomination
dossier; THADS-LCA forgets the council minutes; STP-YBA's tham luận has 4 pages (limit 2).
Số liệu: a value written with a decimal comma ("1,5"); Chấm điểm: "95,5".
Phiếu bầu: 26 ballots. Sector flag (26 cast, more than half = 14): STP-YBA 25, STP-TQU 22 pass,
STP-PTH 11 fails; THADS-LCA 24, THADS-YBA 20, THADS-TNG 14 pass; Chi cục Bảo Thắng 21 passes,
Lục Yên 13 fails (exactly half). Ballot 25 names "Sở Tư pháp tỉnh Hà Tây" (invalid), so valid
counts are one lower for candidates it approved. Government flag: ballot 26 approves three
(quota 2: invalid). Advanced models: two persons nominated.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import unicodedata
from pathlib import Path

from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tasks.contract import COLUMNS  # noqa: E402
from tasks.plan import load_plan  # noqa: E402

HERE = Path(__file__).resolve().parent
PLAN = load_plan(HERE / "plan-2021.yaml")
OUT = HERE / "sample-2021.xlsx"

FLAG_UNITS = ["STP-YBA", "STP-TQU", "STP-PTH", "THADS-LCA", "THADS-YBA", "THADS-TNG"]


def stamp(day: str, hour: int, minute: int = 0) -> str:
    return f"{day} {hour:02d}:{minute:02d}:00"


def submissions(rng: random.Random) -> list[list[object]]:
    rows: list[list[object]] = []
    names = {u.code: u.name for u in PLAN.units}

    def add(when, unit, milestone, kind, pages="", link="", note="", inspected=""):
        rows.append([when, unit, milestone, kind, pages, link, note, inspected])

    def link(code, doc):
        return f"https://drive.example/{code.lower()}/{doc}.pdf"

    # Đăng ký thi đua
    for u in PLAN.units:
        if u.code == "STP-LCH":
            continue
        day = "22/02/2021" if u.code in ("STP-DBI", "THADS-HGI") else f"{rng.randint(1, 9):02d}/02/2021"
        add(
            stamp(day, rng.randint(8, 16), rng.randint(0, 59)),
            names[u.code],
            "Đăng ký thi đua",
            "Bản đăng ký thi đua",
            2,
            link(u.code, "dang-ky"),
        )

    # Sơ kết 6 tháng
    for u in PLAN.units:
        code = u.code
        if code in ("STP-LCH", "THADS-DBI"):
            continue
        unit_text = names[code]
        if code == "THADS-SLA":
            unit_text = unicodedata.normalize("NFD", unit_text)
        elif code == "STP-HBI":
            unit_text = "Sở Tư pháp tỉnh Hoà Bình"
        elif code == "THADS-HBI":
            unit_text = "Cục THADS tỉnh Hoà Bình"
        elif code == "STP-LSO":
            unit_text = code
        days = {"STP-PTH": "21/06/2021", "THADS-BGI": "22/06/2021", "THADS-TNG": "19/06/2021"}
        day = days.get(code, f"{rng.randint(8, 17):02d}/06/2021")
        when = stamp(day, rng.randint(7, 16), rng.randint(0, 59))
        if code == "THADS-LCA":
            when = 44362.375  # 15/06/2021 09:00 as a sheet serial number
        elif code == "STP-TNG":
            when = "2021-06-16T10:30:00"
        note = "0913483228" if code == "STP-LCA" else ""
        add(when, unit_text, "so-ket", "Báo cáo sơ kết", rng.randint(8, 20), link(code, "so-ket"), note)
        if code == "STP-BKA":
            continue
        summary_when = "31/06/2021 09:00" if code == "STP-CBA" else when
        pages = 5 if code == "STP-SLA" else rng.randint(2, 3)
        add(summary_when, unit_text, "Sơ kết 6 tháng", "Báo cáo tóm tắt", pages, link(code, "tom-tat"))
        if code == "THADS-YBA":
            add(
                stamp("17/06/2021", 15, 20),
                unit_text,
                "so-ket",
                "Báo cáo sơ kết",
                14,
                link(code, "so-ket-v2"),
                "Bản sửa lại, thay bản trước",
            )
    add(stamp("15/06/2021", 9), "Sở Tư pháp tỉnh Hà Tây", "so-ket", "Báo cáo sơ kết", 10)

    # Điển hình tiên tiến (no date in the plan)
    for code in FLAG_UNITS[:4]:
        add(
            stamp("20/10/2021", 9),
            names[code],
            "dien-hinh",
            "Báo cáo điển hình tiên tiến",
            6,
            link(code, "dien-hinh"),
        )

    # Kiểm tra: Đoàn 1 (led by STP-YBA, ended 15/09) sends its report and the Biên bản for
    # STP-LCA on time; the one for THADS-LCA is missing. Đoàn 2 (STP-TQU, ended 22/09) sends nothing.
    add(stamp("24/09/2021", 10), names["STP-YBA"], "kiem-tra", "Báo cáo kết quả kiểm tra", 5)
    add(stamp("24/09/2021", 10, 5), names["STP-YBA"], "kiem-tra", "Biên bản kiểm tra", 3, inspected="STP-LCA")

    # Tổng kết năm
    for u in PLAN.units:
        code = u.code
        if code in ("THADS-DBI", "STP-LCH"):
            continue
        day = "12/11/2021" if code == "STP-HGI" else f"{rng.randint(1, 9):02d}/11/2021"
        when = stamp(day, rng.randint(8, 16), rng.randint(0, 59))
        for kind, pages in (
            ("Báo cáo tổng kết", rng.randint(10, 25)),
            ("Báo cáo tóm tắt", rng.randint(2, 3)),
            ("Bảng tự chấm điểm", 4),
        ):
            add(when, names[code], "tong-ket", kind, pages, link(code, kind[:6]))
        if code in ("STP-YBA", "THADS-LCA", "STP-TQU"):
            add(
                when,
                names[code],
                "tong-ket",
                "Tham luận",
                4 if code == "STP-YBA" else 2,
                link(code, "tham-luan"),
            )
        if code in FLAG_UNITS:
            add(when, names[code], "tong-ket", "Văn bản đề nghị", 1, link(code, "de-nghi"))
            add(when, names[code], "tong-ket", "Báo cáo thành tích", 8, link(code, "thanh-tich"))
            if code != "THADS-LCA":
                add(
                    when,
                    names[code],
                    "tong-ket",
                    "Biên bản họp Hội đồng thi đua, khen thưởng",
                    2,
                    link(code, "bien-ban"),
                )
    return rows


def ballots() -> list[list[str]]:
    """26 ballots (STP-LCH and THADS-DBI absent). Candidate c is approved on ballots `on[c]`."""
    flag, gov, model = "Cờ thi đua ngành Tư pháp", "Cờ thi đua của Chính phủ", "Điển hình tiên tiến"
    first = lambda n: set(range(1, n + 1))  # noqa: E731
    names = {u.code: u.name for u in PLAN.units}
    on = {
        flag: {
            names["STP-YBA"]: first(25),
            names["STP-TQU"]: first(22),
            names["STP-PTH"]: first(11),
            names["THADS-LCA"]: first(24),
            names["THADS-YBA"]: first(20),
            names["THADS-TNG"]: first(14),
            "Chi cục THADS huyện Bảo Thắng": first(21),
            "Chi cục THADS huyện Lục Yên": first(13),
        },
        gov: {
            names["STP-YBA"]: first(19) | {26},
            names["THADS-LCA"]: first(16) | {26},
            names["STP-TQU"]: set(range(18, 27)),
        },  # ballot 26 approves three: over the quota of 2
        model: {"Đồng chí Nguyễn Văn An": first(23), "Đồng chí Trần Thị Bình": first(18)},
    }
    rows = []
    for number in range(1, 27):
        for category, candidates in on.items():
            for name, approved in candidates.items():
                rows.append([str(number), category, name, "x" if number in approved else ""])
    rows.append(["25", flag, "Sở Tư pháp tỉnh Hà Tây", "x"])  # not proposed: ballot 25 is invalid
    return rows


def main(out: Path = OUT) -> None:
    rng = random.Random(2021)
    book = Workbook()
    book.remove(book.active)
    header = {tab: list(cols) for tab, cols in COLUMNS.items()}

    sheet = book.create_sheet("Nộp hồ sơ")
    sheet.append(header["Nộp hồ sơ"])
    for row in submissions(rng):
        sheet.append(row)

    sheet = registrations = book.create_sheet("Đăng ký")
    sheet.append(header["Đăng ký"])
    for u in PLAN.units:
        title = "Cờ thi đua ngành Tư pháp" if u.code in FLAG_UNITS else "Tập thể lao động xuất sắc"
        sheet.append([u.name, title, "Tập thể"])

    sheet = book.create_sheet("Chấm điểm")
    sheet.append(header["Chấm điểm"])
    for u in PLAN.units:
        score = "95,5" if u.code == "STP-YBA" else str(rng.randint(820, 990) / 10).replace(".", ",")
        sheet.append([u.name, score])

    sheet = book.create_sheet("Số liệu")
    sheet.append(header["Số liệu"])
    for u in PLAN.units:
        for milestone in ("so-ket", "tong-ket"):
            factor = 1 if milestone == "so-ket" else 2
            sheet.append([u.code, milestone, "Số phong trào thi đua phát động", rng.randint(2, 6) * factor])
            sheet.append([u.code, milestone, "Số tập thể được khen thưởng", rng.randint(1, 8) * factor])
            rate = "1,5" if u.code == "STP-YBA" else str(rng.randint(5, 30) / 10).replace(".", ",")
            sheet.append([u.code, milestone, "Tỷ lệ sáng kiến trên cán bộ (%)", rate])

    sheet = book.create_sheet("Kiểm tra")
    sheet.append(header["Kiểm tra"])
    sheet.append(["Đoàn 1", "STP-YBA", "STP-LCA", "13/09/2021", "15/09/2021"])
    sheet.append(["Đoàn 1", "STP-YBA", "THADS-LCA", "13/09/2021", "15/09/2021"])
    sheet.append(["Đoàn 2", "STP-TQU", "STP-HGI", "20/09/2021", "22/09/2021"])
    sheet.append(["Đoàn 2", "STP-TQU", "THADS-HGI", "20/09/2021", "22/09/2021"])

    for code, nominee in (
        ("THADS-LCA", "Chi cục THADS huyện Bảo Thắng"),
        ("THADS-YBA", "Chi cục THADS huyện Lục Yên"),
    ):
        registrations.append([code, "Cờ thi đua ngành Tư pháp", nominee])
    registrations.append(["THADS-LCA", "Điển hình tiên tiến", "Đồng chí Nguyễn Văn An"])
    registrations.append(["STP-YBA", "Điển hình tiên tiến", "Đồng chí Trần Thị Bình"])
    sheet = book.create_sheet("Phiếu bầu")
    sheet.append(header["Phiếu bầu"])
    for row in ballots():
        sheet.append(row)

    book.properties.created = book.properties.modified = dt.datetime(2021, 12, 1)
    book.save(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
