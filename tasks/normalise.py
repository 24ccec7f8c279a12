"""Raw tabs of strings -> typed tables, and a finding for every cell or row that could not be
understood (tab, row number, reason). A row is never dropped without a finding."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from tasks.contract import (
    COLUMNS,
    MAX_CELL_CHARS,
    MAX_ROWS,
    REQUIRED_TABS,
    TAB_BALLOTS,
    TAB_INDICATORS,
    TAB_INSPECTIONS,
    TAB_REGISTRATIONS,
    TAB_SCORES,
    TAB_SUBMISSIONS,
    RawTabs,
    SourceError,
    header_map,
)
from tasks.parse import in_range, in_years, parse_int, parse_number, parse_timestamp
from tasks.plan import Plan
from tasks.text import clean, match_key

MAX_PAGES = 10_000  # a document's page count
MAX_SCORE = 10_000  # a self-score total
MAX_VALUE = 1e12  # an indicator's value (counts, money in đồng)


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


class UnitDirectory:
    """Resolves how the sheet names a unit (code, official name, usual abbreviations) to its code."""

    def __init__(self, plan: Plan):
        self._by_key = {match_key(s): u.code for u in plan.units for s in plan.spellings(u)}

    def resolve(self, text: str) -> str | None:
        return self._by_key.get(match_key(text))


def _rows(plan: Plan, raw: RawTabs, tab: str, findings: list[Finding]):
    """Yield (row number, {column: text}) for the non-blank data rows of a tab."""
    rows = raw.get(tab)
    if rows is None:
        if tab in REQUIRED_TABS:
            raise SourceError(
                f"Bảng tính không có tab '{tab}'. Thêm tab này với dòng tiêu đề: " + " · ".join(COLUMNS[tab])
            )
        return
    if not rows or not any(clean(h) for h in rows[0]):
        problem = "tab trống" if not rows else "dòng 1 (dòng tiêu đề) trống"
        if tab in REQUIRED_TABS:
            raise SourceError(
                f"Tab '{tab}': {problem}. Dòng 1 phải là dòng tiêu đề: " + " · ".join(COLUMNS[tab])
            )
        if rows:
            findings.append(Finding(tab, 1, f"{problem} — bỏ qua cả tab"))
        return
    if len(rows) > MAX_ROWS + 1:
        too_many = f"{MAX_ROWS:_}".replace("_", ".")
        raise SourceError(f"Tab '{tab}' có hơn {too_many} dòng dữ liệu: xoá các dòng thừa ở cuối tab.")
    index, problems = header_map(plan, tab, rows[0])
    if problems:
        if tab in REQUIRED_TABS:
            raise SourceError(f"Tab '{tab}': " + "; ".join(problems) + ".")
        findings.append(Finding(tab, 1, "; ".join(problems) + " — bỏ qua cả tab"))
        return
    for number, row in enumerate(rows[1:], start=2):
        record = {col: clean(row[i]) if i < len(row) else "" for col, i in index.items()}
        long = [col for col, text in record.items() if len(text) > MAX_CELL_CHARS]
        for col in long:
            record[col] = record[col][:MAX_CELL_CHARS]
        if long:
            findings.append(
                Finding(tab, number, f"ô dài quá {MAX_CELL_CHARS} ký tự, chỉ giữ phần đầu", dropped=False)
            )
        if any(record.values()):
            yield number, record


def _submissions(plan: Plan, raw: RawTabs, units: UnitDirectory, findings: list[Finding]):
    years = plan_years(plan)
    records = []
    for number, r in _rows(plan, raw, TAB_SUBMISSIONS, findings):
        reasons = []
        try:
            at = in_years(parse_timestamp(r["submitted_at"], plan.tz), *years)
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
        if reasons or milestone is None or doc is None:
            findings.append(Finding(TAB_SUBMISSIONS, number, "; ".join(reasons), True, r["unit"]))
            continue
        pages = None
        if r.get("pages"):
            try:
                pages = int(in_range(parse_int(r["pages"]), 0, MAX_PAGES))
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


def plan_years(plan: Plan) -> tuple[int, int]:
    """Dates a sheet may hold: the plan year, the one before (registrations) and after."""
    return plan.year - 1, plan.year + 1


def normalise(plan: Plan, raw: RawTabs) -> Normalised:
    findings: list[Finding] = []
    years = plan_years(plan)
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
        scores=_simple(
            plan,
            raw,
            TAB_SCORES,
            units,
            findings,
            ["unit"],
            {"score": lambda t: in_range(parse_number(t), 0, MAX_SCORE)},
        ),
        indicators=_simple(
            plan,
            raw,
            TAB_INDICATORS,
            units,
            findings,
            ["unit"],
            {"milestone": milestone_id, "value": lambda t: in_range(parse_number(t), -MAX_VALUE, MAX_VALUE)},
        ),
        inspections=_simple(
            plan,
            raw,
            TAB_INSPECTIONS,
            units,
            findings,
            ["lead_unit", "inspected_unit"],
            {
                "start": lambda t: in_years(parse_timestamp(t, tz), *years).date(),
                "end": lambda t: in_years(parse_timestamp(t, tz), *years).date(),
            },
        ),
        ballots=_simple(plan, raw, TAB_BALLOTS, units, findings, [], {}),
        findings=findings,
    )
