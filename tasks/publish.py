"""Where units see their own status: a tab of the shared Google Sheet (its own tab, replaced as a
whole, protected with a warning), or, beside the embedded workbook that is never written, a
self-contained HTML page and an .xlsx under `<data dir>/status/`. Publishing never stops a round:
what went wrong comes back as one line in `Published.problem`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from jinja2 import Environment, FileSystemLoader, select_autoescape

from tasks.contract import SourceError
from tasks.plan import Plan
from tasks.settings import REPO, Settings
from tasks.text import match_key
from tasks.unit_status import HEADER, StatusTable

if TYPE_CHECKING:
    from tasks.gsheet import GoogleSheetSource

TEMPLATES = REPO / "templates" / "status"
WIDTHS = [230, 190, 190, 170, 100, 260, 330, 330, 130]  # pixels, one per column of HEADER
# the state column's background: green, amber, yellow, red, as coordinators read the digest
COLOURS = {
    "on_time": (0.85, 0.94, 0.86),
    "late": (0.99, 0.91, 0.78),
    "incomplete": (1.0, 0.95, 0.69),
    "missing": (0.97, 0.83, 0.83),
}
STATE_COLUMN = HEADER.index("Tình trạng")
PROTECTION_NOTE = "Do chương trình thidua lập lại sau mỗi đợt: đơn vị không nhập vào đây."


@dataclass
class Published:
    where: str = ""  # the tab or the files, as the operator is told
    links: dict[str, str] = field(default_factory=dict)  # unit code -> its row or section
    problem: str = ""  # why nothing (or not everything) was published; the round goes on


class Board(Protocol):
    def publish(self, status: StatusTable) -> Published: ...


def publish_status(settings: Settings, plan: Plan, status: StatusTable) -> Published:
    """Publishes the table where this plan's units look; never raises for a foreseen failure."""
    try:
        return open_board(settings, plan).publish(status)
    except (SourceError, OSError) as exc:
        return Published(problem=f"Chưa đăng được bảng tình trạng cho đơn vị: {exc}")


def open_board(settings: Settings, plan: Plan) -> Board:
    from tasks.gsheet import GoogleSheetSource
    from tasks.source import open_source

    source = open_source(settings, plan, write=True)
    if isinstance(source, GoogleSheetSource):
        return SheetBoard(source, plan.status_tab)
    return FileBoard(settings.data_dir / "status", plan)


# -- the embedded default: files beside the workbook ------------------------------------------
class FileBoard:
    """`<folder>/<plan id>.html` (one section per unit, an anchor each, readable on a phone) and
    `<plan id>.xlsx`. Links go into mail only when the plan says where the office publishes
    this folder (`status_url`): a path on the coordinators' machine means nothing to a unit."""

    def __init__(self, folder: Path, plan: Plan):
        self.folder, self.plan = folder, plan

    def publish(self, status: StatusTable) -> Published:
        self.folder.mkdir(parents=True, exist_ok=True)
        page = self.folder / f"{self.plan.id}.html"
        _write_atomically(page, render_page(status).encode("utf-8"))
        book = self.folder / f"{self.plan.id}.xlsx"
        _write_atomically(book, workbook_bytes(status))
        base = (self.plan.status_url or "").rstrip("/")
        links = {code: f"{base}/{page.name}#{code}" for code, _, _ in status.by_unit()} if base else {}
        return Published(where=f"{page} và {book.name}", links=links)


@cache
def _env() -> Environment:  # one per process: its template cache spares a compile per round
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def render_page(status: StatusTable) -> str:
    return (
        _env()
        .get_template("page.html")
        .render(
            plan_title=status.plan_title,
            computed=status.computed,
            units=status.by_unit(),
            next_milestone=status.next_milestone,
        )
    )


def workbook_bytes(status: StatusTable) -> bytes:
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Tình trạng nộp hồ sơ"
    for line in status.grid():
        sheet.append(line)
    if not status.rows:
        sheet.append([_nothing_open(status)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
    for row, r in zip(sheet.iter_rows(min_row=2), status.rows, strict=False):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        red, green, blue = COLOURS[r.state]
        row[STATE_COLUMN].fill = PatternFill("solid", fgColor=_hex(red, green, blue))
    for i, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width / 7
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _hex(red: float, green: float, blue: float) -> str:
    return "".join(f"{round(c * 255):02X}" for c in (red, green, blue))


def _nothing_open(status: StatusTable) -> str:
    then = f" Mốc tới: {status.next_milestone}." if status.next_milestone else ""
    return f"Hiện không có mốc nào đang nhận hồ sơ.{then}"


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)  # a unit opening the page mid-write sees the old one or the new one


# -- the shared Google Sheet: a tab of its own -----------------------------------------------
class SheetBoard:
    """The tab `title` of the shared sheet, created if missing and replaced as a whole: one read
    (the sheet's tabs) and at most two writes (the new tab; then size, clear, values, formats,
    widths and, once, a warning-only protection, in one batchUpdate). The units' tabs are never
    named in a write."""

    def __init__(self, source: GoogleSheetSource, title: str):
        self.source, self.title = source, title

    def publish(self, status: StatusTable) -> Published:
        source = self.source
        if match_key(self.title) in {match_key(t) for t in source.tab_titles.values()}:
            return Published(
                problem=f"Không đăng bảng tình trạng: status_tab '{self.title}' của kế hoạch trùng tên "
                "một trang tính đơn vị nhập liệu; đặt status_tab tên khác (mặc định 'Tình trạng nộp hồ sơ')."
            )
        with source.watched():
            meta = source.call("đọc danh sách trang tính", source.metadata, refused=self._refused)
            tabs = {s["properties"]["title"]: s for s in meta.get("sheets", [])}
            grid = status.grid() if status.rows else [*status.grid(), [_nothing_open(status)]]
            if self.title in tabs:
                sheet_id = int(tabs[self.title]["properties"]["sheetId"])
                protected = bool(tabs[self.title].get("protectedRanges"))
            else:
                reply = self._write([{"addSheet": {"properties": {"title": self.title, **_grid(grid)}}}])
                sheet_id, protected = int(reply["replies"][0]["addSheet"]["properties"]["sheetId"]), False
            self._write(self._requests(sheet_id, grid, status, protected))
        base = f"https://docs.google.com/spreadsheets/d/{source.key}/edit#gid={sheet_id}"
        links = {}
        for code, _, _ in status.by_unit():
            links[code] = f"{base}&range=A{status.first_line(code)}"
        return Published(where=f"trang tính '{self.title}' của {source.description}", links=links)

    def _write(self, requests: list[dict[str, Any]]) -> Any:
        source = self.source
        return source.call(
            f"ghi trang tính '{self.title}'",
            lambda: source.batch_update({"requests": requests}),
            refused=self._refused,
        )

    def _refused(self, code: int, message: str) -> SourceError | None:
        account = self.source.account
        if code == 403:
            return SourceError(
                f"tài khoản dịch vụ {account} chỉ được đọc Google Sheet, chưa được ghi trang tính "
                f"'{self.title}' (403). Mở bảng tính → Chia sẻ (Share) → đổi quyền của {account} thành "
                "Người chỉnh sửa (Editor). Thư nhắc vẫn gửi bình thường."
            )
        if code == 400 and "protected" in message.lower():
            return SourceError(
                f"trang tính '{self.title}' bị khoá chặt (bảo vệ không chỉ cảnh báo) ngoài tài khoản "
                f"{account}: gỡ bảo vệ đó, chương trình tự đặt bảo vệ dạng cảnh báo."
            )
        return None

    def _requests(
        self, sheet_id: int, grid: list[list[str]], status: StatusTable, protected: bool
    ) -> list[dict[str, Any]]:
        rows = []
        for i, line in enumerate(grid):
            state = status.rows[i - 1].state if 0 < i <= len(status.rows) else None
            rows.append(
                {
                    "values": [
                        _cell(text, i == 0, state if j == STATE_COLUMN else None)
                        for j, text in enumerate(line)
                    ]
                }
            )
        requests: list[dict[str, Any]] = [
            {
                "updateSheetProperties": {
                    "properties": {"sheetId": sheet_id, **_grid(grid)},
                    "fields": "gridProperties(rowCount,columnCount,frozenRowCount)",
                }
            },
            {"updateCells": {"range": {"sheetId": sheet_id}, "fields": "userEnteredValue,userEnteredFormat"}},
            {
                "updateCells": {
                    "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                    "rows": rows,
                    "fields": "userEnteredValue,userEnteredFormat",
                }
            },
        ]
        for i, width in enumerate(WIDTHS):
            requests.append(
                {
                    "updateDimensionProperties": {
                        "range": {
                            "sheetId": sheet_id,
                            "dimension": "COLUMNS",
                            "startIndex": i,
                            "endIndex": i + 1,
                        },
                        "properties": {"pixelSize": width},
                        "fields": "pixelSize",
                    }
                }
            )
        if not protected:
            requests.append(
                {
                    "addProtectedRange": {
                        "protectedRange": {
                            "range": {"sheetId": sheet_id},
                            "description": PROTECTION_NOTE,
                            "warningOnly": True,
                        }
                    }
                }
            )
        return requests


def _grid(grid: list[list[str]]) -> dict[str, Any]:
    # one spare row: a sheet must keep a row below the frozen header
    return {"gridProperties": {"rowCount": len(grid) + 1, "columnCount": len(HEADER), "frozenRowCount": 1}}


def _cell(text: str, header: bool, state: str | None) -> dict[str, Any]:
    fmt: dict[str, Any] = {"wrapStrategy": "WRAP", "verticalAlignment": "TOP"}
    if header:
        fmt |= {"textFormat": {"bold": True}, "backgroundColor": {"red": 0.87, "green": 0.87, "blue": 0.87}}
    elif state:
        red, green, blue = COLOURS[state]
        fmt["backgroundColor"] = {"red": red, "green": green, "blue": blue}
    return {"userEnteredValue": {"stringValue": text}, "userEnteredFormat": fmt}
