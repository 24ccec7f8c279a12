"""Where the units' submissions come from: raw tabs of strings, behind one small interface.

The embedded default reads a local .xlsx workbook; the Google Sheet source (gspread) answers the
same call. Every cell arrives as text; parsing is normalise's job, on purpose.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tasks.contract import MAX_COLUMNS, MAX_ROWS, TABS, RawTabs, Source, SourceError
from tasks.text import match_key

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
    """A local .xlsx workbook with the same tabs as the shared sheet (the embedded default)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.description = f"bảng tính {self.path}"

    def read_tabs(self) -> RawTabs:
        from openpyxl import load_workbook

        if not self.path.is_file():
            raise SourceError(
                f"Không tìm thấy tệp bảng tính '{self.path}'. Đặt THIDUA_SOURCE là đường dẫn tới "
                "tệp .xlsx (hoặc khoá của Google Sheet)."
            )
        try:
            book = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise SourceError(
                f"Không đọc được '{self.path}' như một tệp .xlsx ({type(exc).__name__}: {exc}). "
                "Mở tệp bằng Excel/LibreOffice và lưu lại dạng .xlsx."
            ) from None
        wanted = {match_key(t): t for t in TABS}
        tabs: RawTabs = {}
        try:
            for sheet in book.worksheets:
                canonical = wanted.get(match_key(sheet.title))
                if canonical is not None:
                    tabs[canonical] = self._rows(sheet, canonical)
        except SourceError:
            raise
        except Exception as exc:  # a malformed sheet XML surfaces while rows are read
            raise SourceError(
                f"Tệp '{self.path}' hỏng, không đọc hết được ({type(exc).__name__}: {exc}). "
                "Mở tệp bằng Excel/LibreOffice và lưu lại dạng .xlsx."
            ) from None
        finally:
            book.close()
        return tabs

    def _rows(self, sheet, tab: str) -> list[list[str]]:
        """Every row up to the last non-blank one, whatever the file's `<dimension>` claims (tools
        often leave it stale, and openpyxl would stop reading there)."""
        sheet.reset_dimensions()
        rows: list[list[str]] = []
        last = 0
        for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            if any(v is not None and v != "" for v in values):
                if len(rows) > MAX_ROWS:
                    where = f"Tab '{tab}' của '{self.path}'"
                    raise SourceError(
                        f"{where} có dữ liệu ở dòng {len(rows) + 1}, quá {MAX_ROWS:_} dòng".replace("_", ".")
                        + ": xoá các dòng thừa ở cuối tab."
                    )
                rows.append([cell_text(v) for v in values])
                last = len(rows)
            else:
                rows.append(EMPTY_ROW)  # one shared list: a million blank rows cost little
        return rows[:last]


def open_source(settings, plan) -> Source:
    """The source named by THIDUA_SOURCE or the plan: a .xlsx workbook or a Google Sheet."""
    from tasks.gsheet import GoogleSheetSource, load_service_account, spreadsheet_key

    spec = settings.source_spec(plan.spreadsheet)
    if spec.lower().endswith((".xlsx", ".xlsm")):
        return WorkbookSource(spec)
    key = spreadsheet_key(spec)
    if key is None:
        raise SourceError(
            f"Nguồn '{spec}' không phải tệp .xlsx, đường dẫn Google Sheet hay khoá Google Sheet. "
            "Đặt THIDUA_SOURCE là một trong ba dạng đó."
        )
    account = load_service_account(settings.google_credentials, settings.google_credentials_block)
    return GoogleSheetSource(key, account, settings.sheets_api_url, plan.sheet_tabs, settings.sheets_max_wait)
