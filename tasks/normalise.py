"""Raw tabs of strings -> typed tables, and a finding for every cell or row that could not be
understood (tab, row number, reason). A row is never dropped without a finding."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from tasks.parse import parse_int, parse_number, parse_timestamp
from tasks.plan import Plan
from tasks.source import (
    TAB_BALLOTS,
    TAB_INDICATORS,
    TAB_INSPECTIONS,
    TAB_REGISTRATIONS,
    TAB_SCORES,
    TAB_SUBMISSIONS,
    RawTabs,
    SourceError,
)
from tasks.text import clean, match_key

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


@dataclass(frozen=True)
class Finding:
    tab: str
    row: int  # the sheet's own row number (header = 1)
    reason: str
    dropped: bool = True  # False: the row counts, only a cell was ignored
    value: str = ""


@dataclass
class Normalised:
    submissions: pd.DataFrame
    registrations: pd.DataFrame
    scores: pd.DataFrame
    indicators: pd.DataFrame
    inspections: pd.DataFrame
    ballots: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)

    def findings_frame(self) -> pd.DataFrame:
        cols = ["tab", "row", "reason", "dropped", "value"]
        return pd.DataFrame([f.__dict__ for f in self.findings], columns=cols)


class UnitDirectory:
    """Resolves how the sheet names a unit (code, official name, usual abbreviations) to its code."""

    def __init__(self, plan: Plan):
        self._by_key = {match_key(s): u.code for u in plan.units for s in u.spellings()}

    def resolve(self, text: str) -> str | None:
        return self._by_key.get(match_key(text))


def missing_columns(plan: Plan, tab: str, header: list[str]) -> list[str]:
    """Canonical columns of `tab` that the header row lacks (required and optional)."""
    found, _ = _header_map(plan, tab, header)
    return [canonical for canonical, (column, _) in COLUMNS[tab].items() if column not in found]


def _header_map(plan: Plan, tab: str, header: list[str]) -> tuple[dict[str, int], list[str]]:
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
        column = accepted.get(match_key(h))
        if column and column not in index:
            index[column] = i
    for canonical, (column, required) in spec.items():
        if required and column not in index:
            problems.append(f"thiếu cột '{canonical}' ở dòng tiêu đề (dòng 1)")
    return index, problems


def _rows(plan: Plan, raw: RawTabs, tab: str, findings: list[Finding]):
    """Yield (row number, {column: text}) for the non-blank data rows of a tab."""
    rows = raw.get(tab)
    if rows is None:
        if tab in REQUIRED_TABS:
            raise SourceError(
                f"Bảng tính không có tab '{tab}'. Thêm tab này với dòng tiêu đề: " + " · ".join(COLUMNS[tab])
            )
        return
    if not rows:
        return
    index, problems = _header_map(plan, tab, rows[0])
    if problems:
        if tab in REQUIRED_TABS:
            raise SourceError(f"Tab '{tab}': " + "; ".join(problems) + ".")
        findings.append(Finding(tab, 1, "; ".join(problems) + " — bỏ qua cả tab"))
        return
    for number, row in enumerate(rows[1:], start=2):
        record = {col: clean(row[i]) if i < len(row) else "" for col, i in index.items()}
        if any(record.values()):
            yield number, record


def _submissions(plan: Plan, raw: RawTabs, units: UnitDirectory, findings: list[Finding]):
    records = []
    for number, r in _rows(plan, raw, TAB_SUBMISSIONS, findings):
        reasons = []
        try:
            at = parse_timestamp(r["submitted_at"], plan.tz)
        except ValueError as exc:
            reasons.append(f"Thời gian nộp: {exc}")
        code = units.resolve(r["unit"])
        if code is None:
            reasons.append(f"đơn vị '{r['unit']}' không có trong danh sách đơn vị thành viên")
        try:
            milestone = plan.milestone(r["milestone"])
        except KeyError as exc:
            milestone = None
            reasons.append(str(exc.args[0]))
        doc = milestone.document(r["kind"]) if milestone else None
        if milestone and doc is None:
            kinds = "; ".join(d.kind for d in milestone.documents) or "(không có)"
            reasons.append(f"loại hồ sơ '{r['kind']}' không thuộc mốc {milestone.name} (có: {kinds})")
        if reasons:
            findings.append(Finding(TAB_SUBMISSIONS, number, "; ".join(reasons), True, r["unit"]))
            continue
        pages = None
        if r.get("pages"):
            try:
                pages = parse_int(r["pages"])
            except ValueError as exc:
                findings.append(Finding(TAB_SUBMISSIONS, number, f"Số trang: {exc} — bỏ qua ô này", False))
        records.append(
            {
                "row": number,
                "submitted_at": at,
                "unit": code,
                "milestone": milestone.id,
                "kind": doc.kind,
                "pages": pages,
                "link": r.get("link", ""),
                "note": r.get("note", ""),
            }
        )
    cols = ["row", "submitted_at", "unit", "milestone", "kind", "pages", "link", "note"]
    frame = pd.DataFrame(records, columns=cols)
    frame["pages"] = frame["pages"].astype("Int64")
    return frame


def _simple(plan, raw, tab, units, findings, unit_columns, parsers):
    """A tab whose rows name units and carry a few typed cells; bad rows become findings."""
    records = []
    for number, r in _rows(plan, raw, tab, findings):
        reasons = []
        for col in unit_columns:
            code = units.resolve(r[col])
            if code is None:
                reasons.append(f"đơn vị '{r[col]}' không có trong danh sách đơn vị thành viên")
            r[col] = code
        for col, parse in parsers.items():
            try:
                r[col] = parse(r[col])
            except (ValueError, KeyError) as exc:
                reasons.append(f"{col}: {exc.args[0] if exc.args else exc}")
        if reasons:
            findings.append(Finding(tab, number, "; ".join(reasons)))
            continue
        records.append({"row": number, **r})
    columns = ["row", *(c for c, _ in COLUMNS[tab].values())]
    return pd.DataFrame(records, columns=columns)


def normalise(plan: Plan, raw: RawTabs) -> Normalised:
    findings: list[Finding] = []
    units = UnitDirectory(plan)
    tz = plan.tz

    def milestone_id(text: str) -> str:
        return plan.milestone(text).id

    titles = {match_key(t.name): t.name for t in plan.titles}

    def title_name(text: str) -> str:
        if match_key(text) not in titles:
            known = "; ".join(titles.values())
            raise ValueError(f"danh hiệu '{text}' không có trong danh mục của kế hoạch (có: {known})")
        return titles[match_key(text)]

    return Normalised(
        submissions=_submissions(plan, raw, units, findings),
        registrations=_simple(plan, raw, TAB_REGISTRATIONS, units, findings, ["unit"], {"title": title_name}),
        scores=_simple(plan, raw, TAB_SCORES, units, findings, ["unit"], {"score": parse_number}),
        indicators=_simple(
            plan,
            raw,
            TAB_INDICATORS,
            units,
            findings,
            ["unit"],
            {"milestone": milestone_id, "value": parse_number},
        ),
        inspections=_simple(
            plan,
            raw,
            TAB_INSPECTIONS,
            units,
            findings,
            ["lead_unit", "inspected_unit"],
            {
                "start": lambda t: parse_timestamp(t, tz).date(),
                "end": lambda t: parse_timestamp(t, tz).date(),
            },
        ),
        ballots=_simple(plan, raw, TAB_BALLOTS, units, findings, [], {}),
        findings=findings,
    )
