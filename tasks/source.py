"""Where the units' submissions come from: raw tabs of strings, behind one small interface.

The embedded default reads a local .xlsx workbook; the Google Sheet source (gspread) answers the
same call. Every cell arrives as text; parsing is normalise's job, on purpose.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.contract import COLUMNS, MAX_COLUMNS, MAX_ROWS, TABS, RawTabs, Source, SourceError
from tasks.text import match_key

if TYPE_CHECKING:
    from tasks.plan import Plan
    from tasks.settings import Settings

EMPTY_ROW: list[str] = []


def cell_text(value: object) -> str:
    """A typed workbook cell written back as the text a person sees in the sheet."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class WorkbookSource:
    """A local .xlsx workbook with the same tabs as the shared sheet (the embedded default).

    Read by calamine (Rust), about twenty times faster than openpyxl, unless a worksheet's cells
    span more than MAX_DENSE_CELLS: calamine holds a sheet's whole bounding box in memory, and a
    stray cell at XFD1048576 would ask it for 500 GB and abort the process. Such a workbook is
    streamed by openpyxl instead. Both give the same text for every cell."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.description = f"bảng tính {self.path}"

    def read_tabs(self) -> RawTabs:
        if not self.path.is_file():
            raise SourceError(
                f"Chưa có tệp bảng tính '{self.path}'. Tạo bảng tính trống có đủ các trang tính bằng "
                f"`thidua template --out {self.path}` (hoặc ghi đường dẫn Google Sheet vào `spreadsheet` "
                "của kế hoạch, hay THIDUA_SOURCE)."
            )
        try:
            sprawling = (
                max(rows * columns for rows, columns in worksheet_extents(self.path)) > MAX_DENSE_CELLS
            )
        except WorkbookTooLarge as exc:
            unpacked = f"{exc.declared / 2**20:,.0f}".replace(",", ".")
            raise SourceError(
                f"Không mở '{self.path}': tệp giải nén ra {unpacked} MB "
                f"({exc.parts} phần), quá giới hạn {WORKBOOK_MAX_UNPACKED / 2**20:.0f} MB của một bảng "
                "tính theo mẫu (200.000 dòng chỉ khoảng 45 MB). Đây không phải bảng tính bình thường (có "
                "thể là tệp độc hại): dùng bảng tính lập bằng `thidua template`, hoặc lưu lại từ "
                "Excel/LibreOffice/Google Sheets."
            ) from None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as exc:
            raise self._unreadable(exc) from None
        return read_streaming(self) if sprawling else read_fast(self)

    def _unreadable(self, exc: Exception) -> SourceError:
        what = what_file(self.path)
        if what:
            return SourceError(f"Không đọc được '{self.path}': {what}")
        return SourceError(
            f"Không đọc được '{self.path}' như một tệp .xlsx ({type(exc).__name__}: {exc}). "
            "Mở tệp bằng Excel/LibreOffice và lưu lại dạng .xlsx."
        )

    def _broken(self, exc: Exception) -> SourceError:
        return SourceError(
            f"Tệp '{self.path}' hỏng, không đọc hết được ({type(exc).__name__}: {exc}). "
            "Mở tệp bằng Excel/LibreOffice và lưu lại dạng .xlsx."
        )

    def _tab_rows(self, rows: Iterable[Sequence[object]], tab: str) -> list[list[str]]:
        """Row by row (openpyxl's stream): every row up to the last non-blank one, as text, cut
        to the tab's width; blank rows share one empty list (a million of them cost little)."""
        kept: list[list[str]] = []
        last = width = 0
        for values in rows:
            texts = [v if type(v) is str else cell_text(v) for v in values[:MAX_COLUMNS]]
            if any(texts):
                self._check_row_count(len(kept) + 1, tab)
                kept.append(texts)
                last = len(kept)
                width = max(width, next(i for i in range(len(texts), 0, -1) if texts[i - 1]))
            else:
                kept.append(EMPTY_ROW)
        return [row[:width] if row else row for row in kept[:last]]

    def _tab_columns(self, rows: Sequence[Sequence[object]], tab: str) -> list[list[str]]:
        """The same from a whole sheet in memory (calamine's), column by column: a column holds
        few distinct numbers and dates, each turned into text once; no Python loop per cell."""
        import numpy as np

        columns: list[Sequence[str]] = []
        for column in itertools.islice(zip(*rows, strict=True), MAX_COLUMNS):
            if set(map(type, column)) != {str}:
                known = {(type(v), v): cell_text(v) for v in set(column) if type(v) is not str}
                column = tuple(v if type(v) is str else _text(v, known) for v in column)
            columns.append(column)
        if not columns:
            return []
        filled = np.array(columns, dtype=object) != ""
        used, written = np.flatnonzero(filled.any(axis=1)), filled.any(axis=0)
        if not len(used):
            return []
        height = int(np.flatnonzero(written)[-1]) + 1
        self._check_row_count(height, tab)
        table: list[list[str]] = list(map(list, zip(*columns[: used[-1] + 1], strict=True)))
        del table[height:]
        for blank in np.flatnonzero(~written[:height]):
            table[blank] = EMPTY_ROW
        return table

    def _check_row_count(self, rows: int, tab: str) -> None:
        if rows > MAX_ROWS + 1:
            too_many = f"{MAX_ROWS:_}".replace("_", ".")
            raise SourceError(
                f"Trang tính '{tab}' của '{self.path}' có dữ liệu ở dòng {rows}, quá {too_many} dòng: "
                "xoá các dòng thừa ở cuối tab."
            )


def _text(value: object, known: dict[tuple[type, object], str]) -> str:
    return known.get((type(value), value)) or cell_text(value)  # NaN is never found: computed


MAX_DENSE_CELLS = 5_000_000  # rows x columns of one worksheet's bounding box: some 150 MB in calamine
_ROW_NUMBER = re.compile(rb'<row (?:[^>]*? )?r="(\d+)"')
_WIDE_CELL = re.compile(rb'<c r="([A-Z]{2,3})\d')  # column AA or later: rare in a real sheet


def worksheet_extents(path: Path) -> list[tuple[int, int]]:
    """(last row, last column) of each worksheet part, from a streaming scan of its XML: what
    calamine would allocate, known before it does. Cheap (some 40 ms for 100,000 rows).

    The scan is also the workbook's inspection as an archive before calamine opens it: one
    that declares more than WORKBOOK_MAX_UNPACKED (a zip bomb, or no real sheet) is refused
    unread, and every part is read through once, which checks each one's CRC against what it
    declares (Python's zipfile stops at the declared size), so a part that lies is refused too."""
    extents = [(0, 0)]
    with zipfile.ZipFile(path) as book:
        infos = book.infolist()
        declared = sum(i.file_size for i in infos)
        if declared > WORKBOOK_MAX_UNPACKED or len(infos) > WORKBOOK_MAX_PARTS:
            raise WorkbookTooLarge(declared, len(infos))
        for info in infos:
            if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                with book.open(info) as part:
                    while part.read(1 << 20):
                        pass
                continue
            last_row, last_column, tail = 0, 26, b""
            with book.open(info) as part:
                while chunk := part.read(1 << 20):
                    text = tail + chunk
                    for letters in set(_WIDE_CELL.findall(text)):
                        last_column = max(last_column, _column_number(letters))
                    at = text.rfind(b"<row ")
                    if at >= 0 and (found := _ROW_NUMBER.match(text, at)):
                        last_row = max(last_row, int(found.group(1)))
                    tail = text[-64:]
            extents.append((last_row, last_column))
    return extents


# what a workbook may unpack to: 200,000 rows of the contract take some 45 MB
WORKBOOK_MAX_UNPACKED = 200 * 1024 * 1024
WORKBOOK_MAX_PARTS = 10_000


class WorkbookTooLarge(ValueError):
    def __init__(self, declared: int, parts: int):
        super().__init__(f"{declared} bytes in {parts} parts")
        self.declared, self.parts = declared, parts


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def read_fast(source: WorkbookSource) -> RawTabs:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(source.path))
    except (CalamineError, OSError, ValueError) as exc:
        raise source._unreadable(exc) from None

    def reader(name: str) -> Callable[[str], list[list[str]]]:
        # skip_empty_area=False: row 1 of the list is row 1 of the sheet, always
        return lambda tab: source._tab_columns(
            book.get_sheet_by_name(name).to_python(skip_empty_area=False), tab
        )

    return _contract_tabs(source, [(name, reader(name)) for name in book.sheet_names], book.close)


def read_streaming(source: WorkbookSource) -> RawTabs:
    from openpyxl import load_workbook

    try:
        book = load_workbook(source.path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise source._unreadable(exc) from None

    def reader(sheet: Any) -> Callable[[str], list[list[str]]]:
        def read(tab: str) -> list[list[str]]:
            sheet.reset_dimensions()  # tools often leave `<dimension>` stale; openpyxl stops there
            return source._tab_rows(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), tab)

        return read

    return _contract_tabs(source, [(sheet.title, reader(sheet)) for sheet in book.worksheets], book.close)


def _contract_tabs(
    source: WorkbookSource,
    sheets: list[tuple[str, Callable[[str], list[list[str]]]]],
    close: Callable[[], object],
) -> RawTabs:
    """The contract's tabs among (title, read) pairs, matched by name as people type it; a
    failure while reading is the file's fault, said so (both readers raise many kinds)."""
    wanted = {match_key(t): t for t in TABS}
    tabs: RawTabs = {}
    try:
        for title, read in sheets:
            canonical = wanted.get(match_key(title))
            if canonical is not None:
                tabs[canonical] = read(canonical)
    except SourceError:
        raise
    except Exception as exc:
        raise source._broken(exc) from None
    finally:
        close()
    return tabs


def open_source(settings: Settings, plan: Plan, write: bool = False) -> Source:
    """The source named by THIDUA_SOURCE or the plan: a .xlsx workbook or a Google Sheet (asked
    for the scope to write too when `write`: the units' status tab)."""
    spec = settings.source_spec(plan.spreadsheet)
    if spec.lower().endswith((".xlsx", ".xlsm")):
        return WorkbookSource(spec)
    from tasks.gsheet import GoogleSheetSource, load_service_account  # requests: 80 ms
    from tasks.sheet_key import spreadsheet_key

    key = spreadsheet_key(spec)
    if key is None:
        raise SourceError(
            f"Nguồn '{spec}' không phải tệp .xlsx, đường dẫn Google Sheet hay khoá Google Sheet. "
            "Đặt THIDUA_SOURCE là một trong ba dạng đó."
        )
    account = load_service_account(settings.google_credentials, settings.google_credentials_block)
    return GoogleSheetSource(
        key,
        account,
        settings.sheets_api_url,
        plan.sheet_tabs,
        settings.sheets_max_wait,
        deadline=settings.sheets_deadline,
        write=write,
    )


def write_template(path: Path) -> Path:
    """An empty workbook with every tab of the contract and its header row: next year's sheet."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for tab, columns in COLUMNS.items():
        sheet = book.create_sheet(tab)
        sheet.append(list(columns))
        sheet.freeze_panes = "A2"
        for cell in sheet[1]:
            cell.number_format = "@"
    book.save(path)
    return path


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file of old Office files and of encrypted ones
ENCRYPTED = "EncryptionInfo".encode("utf-16-le")  # the stream an encrypted .xlsx is wrapped with


def what_file(path: Path) -> str | None:
    """What a file that is no .xlsx is, in the words of what to do about it (None: it is a zip,
    a broken .xlsx then). An encrypted .xlsx and an old .xls are both Office compound files: the
    encryption's own stream tells them apart."""
    with open(path, "rb") as file:
        head = file.read(1 << 16)
    if head.startswith(b"PK"):
        return None
    if head.startswith(OLE2):
        if ENCRYPTED in head:
            return (
                "tệp có đặt mật khẩu. Mở bằng Excel, bỏ mật khẩu (Tệp > Thông tin > Bảo vệ sổ làm việc), "
                "rồi lưu lại dạng .xlsx."
            )
        return (
            "đây là tệp Excel cũ (.xls), không phải .xlsx. Mở bằng Excel/LibreOffice và lưu lại dạng .xlsx."
        )
    return "tệp không phải bảng tính (không phải .xlsx). Kiểm tra đường dẫn, hoặc lưu bảng tính dạng .xlsx."
