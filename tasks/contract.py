"""The sheet contract (DESIGN.md): the tabs units fill in, their columns, how a header row is
matched, and the errors a source raises. Every reader (workbook, Google Sheet) and the
normaliser speak this one vocabulary."""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from tasks.errors import SourceProblem
from tasks.plan import Plan
from tasks.text import clean, match_key

# The tabs of the sheet contract (DESIGN.md), in Vietnamese because units fill them in.
TAB_SUBMISSIONS = "Nộp hồ sơ"
TAB_REGISTRATIONS = "Đăng ký"
TAB_SCORES = "Chấm điểm"
TAB_INDICATORS = "Số liệu"
TAB_INSPECTIONS = "Kiểm tra"
TAB_BALLOTS = "Phiếu bầu"
TABS = [TAB_SUBMISSIONS, TAB_REGISTRATIONS, TAB_SCORES, TAB_INDICATORS, TAB_INSPECTIONS, TAB_BALLOTS]

RawTabs = dict[str, list[list[str]]]

# Bounds on what one sheet may cost: a stray cell at XFD1048576 or a 50 MB cell must not take a
# run's memory, nor reach a mail or the Prefect database.
MAX_ROWS = 200_000  # data rows per tab (a whole sector's year is some 20,000)
MAX_COLUMNS = 100  # the contract's widest tab (Chấm điểm with per-criterion columns) is far less
MAX_CELL_CHARS = 2_000  # longer text is cut, with a finding


class SourceError(SourceProblem):
    """The source cannot be read; the message says what is wrong and what to do."""


class SourceUnavailable(SourceError):
    """The source did not answer in time (quota, server errors, network): worth a later retry."""


# Canonical header -> column name in the tables, per tab; required headers first, then optional.
COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
    TAB_SUBMISSIONS: {
        "Thời gian nộp": ("submitted_at", True),
        "Đơn vị": ("unit", True),
        "Mốc": ("milestone", True),
        "Loại hồ sơ": ("kind", True),
        "Số trang": ("pages", False),
        "Đường dẫn": ("link", False),
        "Ghi chú": ("note", False),
        "Đơn vị được kiểm tra": ("inspected", False),  # an inspection team's Biên bản: for whom
    },
    TAB_REGISTRATIONS: {
        "Đơn vị": ("unit", True),
        "Danh hiệu": ("title", True),
        "Tập thể / cá nhân": ("nominee", False),
    },
    TAB_SCORES: {"Đơn vị": ("unit", True), "Tổng điểm tự chấm": ("score", True)},
    TAB_INDICATORS: {
        "Đơn vị": ("unit", True),
        "Mốc": ("milestone", True),
        "Chỉ tiêu": ("indicator", True),
        "Giá trị": ("value", True),
    },
    TAB_INSPECTIONS: {
        "Đoàn kiểm tra": ("team", True),
        "Đơn vị trưởng đoàn": ("lead_unit", True),
        "Đơn vị được kiểm tra": ("inspected_unit", True),
        "Ngày bắt đầu": ("start", True),
        "Ngày kết thúc": ("end", True),
    },
    TAB_BALLOTS: {
        "Phiếu số": ("ballot", True),
        "Hạng mục": ("category", True),
        "Ứng viên": ("candidate", True),
        "Đồng ý": ("approve", True),
    },
}
REQUIRED_TABS = {TAB_SUBMISSIONS}


class Source(Protocol):
    description: str

    def read_tabs(self) -> RawTabs:
        """Every tab of the contract that exists, as rows of strings (header row first)."""
        ...


def missing_columns(plan: Plan, tab: str, header: list[str]) -> list[str]:
    """Canonical columns of `tab` that the header row lacks (required, and optional ones the
    plan has a use for: "Đơn vị được kiểm tra" only when a document is per inspected unit)."""
    found, _ = header_map(plan, tab, header)
    per_inspected = any(d.per_inspected_unit for m in plan.milestones for d in m.documents)
    return [
        canonical
        for canonical, (column, _) in COLUMNS[tab].items()
        if column not in found and (column != "inspected" or per_inspected)
    ]


def header_map(plan: Plan, tab: str, header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Column index per table column, and problems (missing, duplicated headers)."""
    spec = COLUMNS[tab]
    accepted: dict[str, str] = {}
    for canonical, (column, _) in spec.items():
        for text in [canonical, *plan.header_aliases.get(canonical, [])]:
            accepted[match_key(text)] = column
    seen = Counter(match_key(h) for h in header if clean(h))
    problems = [
        f"tiêu đề cột '{clean(h)}' bị trùng: đổi tên hoặc xoá một cột"
        for h in dict.fromkeys(header)
        if clean(h) and seen[match_key(h)] > 1 and match_key(h) in accepted
    ]
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        matched = accepted.get(match_key(h))
        if matched and matched not in index:
            index[matched] = i
    for canonical, (column, required) in spec.items():
        if required and column not in index:
            problems.append(f"thiếu cột '{canonical}' ở dòng tiêu đề (dòng 1)")
    return index, problems
