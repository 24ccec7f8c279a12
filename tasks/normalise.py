"""Raw tabs of strings -> typed tables, and a finding for every cell or row that could not be
understood (tab, row number, reason). A row is never dropped without a finding."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
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
    TABS,
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


def _table(plan: Plan, raw: RawTabs, tab: str, findings: list[Finding]) -> pd.DataFrame | None:
    """The tab's non-blank data rows as cleaned text, one column per contract column, `row` the
    sheet's row number; None when the tab is absent or unusable (with a finding, or an error for
    a required tab). Whole columns at a time: each distinct text is cleaned once."""
    rows = raw.get(tab)
    if rows is None:
        if tab in REQUIRED_TABS:
            raise SourceError(
                f"Bảng tính không có trang tính '{tab}'. Thêm trang tính này với dòng tiêu đề: "
                + " · ".join(COLUMNS[tab])
            )
        return None
    if not rows or not any(clean(h) for h in rows[0]):
        problem = "trang tính trống" if not rows else "dòng 1 (dòng tiêu đề) trống"
        if tab in REQUIRED_TABS:
            raise SourceError(
                f"Trang tính '{tab}': {problem}. Dòng 1 phải là dòng tiêu đề: " + " · ".join(COLUMNS[tab])
            )
        if rows:
            findings.append(Finding(tab, 1, f"{problem} — bỏ qua cả trang tính"))
        return None
    if len(rows) > MAX_ROWS + 1:
        too_many = f"{MAX_ROWS:_}".replace("_", ".")
        raise SourceError(
            f"Trang tính '{tab}' có hơn {too_many} dòng dữ liệu: xoá các dòng thừa ở cuối trang tính."
        )
    index, problems = header_map(plan, tab, rows[0])
    if problems:
        if tab in REQUIRED_TABS:
            raise SourceError(f"Trang tính '{tab}': " + "; ".join(problems) + ".")
        findings.append(Finding(tab, 1, "; ".join(problems) + " — bỏ qua cả trang tính"))
        return None
    # the Sheets API leaves out a row's trailing empty cells: rows come in many lengths
    width = max((len(r) for r in rows[1:]), default=0)
    body = pd.DataFrame(
        [r if len(r) == width else [*r, *[""] * (width - len(r))] for r in rows[1:]], dtype=object
    )
    table = pd.DataFrame({"row": pd.RangeIndex(2, len(rows) + 1)})
    long = pd.Series(False, index=table.index)
    for column in (c for c, _ in COLUMNS[tab].values()):
        if index.get(column, -1) in body.columns:
            raw_texts = body[index[column]].fillna("")
            uniques = raw_texts.unique()
            cleaned = dict(zip(uniques, map(clean, uniques), strict=True))
            too_long = [text for text, tidy in cleaned.items() if len(tidy) > MAX_CELL_CHARS]
            for text in too_long:
                cleaned[text] = cleaned[text][:MAX_CELL_CHARS]
            long |= raw_texts.isin(too_long)
            table[column] = raw_texts.map(cleaned).to_numpy()
        else:
            table[column] = ""
    for number in table.loc[long, "row"]:
        findings.append(
            Finding(tab, int(number), f"ô dài quá {MAX_CELL_CHARS} ký tự, chỉ giữ phần đầu", False)
        )
    texts = table.columns.drop("row")
    return table[(table[texts] != "").any(axis=1)].reset_index(drop=True)


def _per_distinct(column: pd.Series, function: Callable[[Any], Any]) -> pd.Series:
    """`function` of each value, computed once per distinct value (a sheet repeats the same few
    names on every row, and a Python call per cell is what makes a large sheet slow)."""
    uniques = column.unique()
    return column.map(dict(zip(uniques, map(function, uniques), strict=True)))


def _parsed(column: pd.Series, parse: Callable[[Any], Any]) -> tuple[pd.Series, pd.Series]:
    """(value, error) per row of `parse` applied once per distinct text; error is None or why."""

    values, errors = {}, {}
    for text in column.unique():
        try:
            values[text] = parse(text)
        except (ValueError, KeyError) as exc:
            errors[text] = str(exc.args[0]) if exc.args else str(exc)
    return column.map(values), column.map(errors)


# The shapes Google Forms and vi_VN sheets write, tried on the whole column at once, in order.
_TIMESTAMP_FORMATS = ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"]


def _zero_padded(column: pd.Series) -> pd.Series:
    """dd/mm/yyyy[ hh:mm[:ss]] with every field zero-padded, as Google Forms and vi_VN sheets
    write it, read by array arithmetic on the characters (pandas' strptime costs 1.7 µs a
    value, a third of normalising a large sheet); NaT for every other text and impossible date."""
    none = pd.Series(pd.NaT, index=column.index, dtype="datetime64[us]")
    if column.empty:
        return none
    text = column.to_numpy(dtype=str)
    length = np.strings.str_len(text)
    codes = text.astype("<U19").view(np.uint32).reshape(len(text), 19).astype(np.int64)
    digit = (codes >= 48) & (codes <= 57)

    def at(*positions: int) -> np.ndarray:
        value = np.zeros(len(text), dtype=np.int64)
        for p in positions:
            value = value * 10 + codes[:, p] - 48
        return value

    def chars(positions: list[int], code: int) -> np.ndarray:
        return np.asarray((codes[:, positions] == code).all(axis=1))

    date = digit[:, [0, 1, 3, 4, 6, 7, 8, 9]].all(axis=1) & chars([2, 5], ord("/"))
    clock = chars([10], ord(" ")) & digit[:, [11, 12, 14, 15]].all(axis=1) & chars([13], ord(":"))
    seconds = clock & digit[:, [17, 18]].all(axis=1) & chars([16], ord(":"))
    shaped = date & ((length == 10) | ((length == 16) & clock) | ((length == 19) & seconds))
    if not shaped.any():
        return none
    fields = {
        "year": at(6, 7, 8, 9),
        "month": at(3, 4),
        "day": at(0, 1),
        "hour": np.where(length >= 16, at(11, 12), 0),
        "minute": np.where(length >= 16, at(14, 15), 0),
        "second": np.where(length == 19, at(17, 18), 0),
    }
    valid = shaped & (fields["hour"] <= 23) & (fields["minute"] <= 59) & (fields["second"] <= 59)
    valid &= (fields["month"] >= 1) & (fields["month"] <= 12) & (fields["day"] >= 1)
    harmless = {"year": 2000, "month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0}
    frame = pd.DataFrame({k: np.where(valid, v, harmless[k]) for k, v in fields.items()})
    moments = pd.to_datetime(frame, errors="coerce").astype("datetime64[us]")  # 31/06: NaT
    return pd.Series(moments.to_numpy(), index=column.index).where(valid)


def _timestamps(column: pd.Series, plan: Plan) -> tuple[pd.Series, pd.Series]:
    """Submission times (UTC) and errors: the usual shapes parsed for the whole column at once,
    anything else (ISO, serial numbers, impossible dates) by parse_timestamp, once per text."""
    first, last = plan_years(plan)
    local = _zero_padded(column)
    for shape in _TIMESTAMP_FORMATS:
        todo = local.isna()
        if todo.any():
            local[todo] = pd.to_datetime(column[todo], format=shape, errors="coerce").astype("datetime64[us]")
    moments = local.dt.tz_localize(plan.tz).dt.tz_convert("UTC")
    errors = pd.Series(pd.NA, index=column.index, dtype=object)
    years = local.dt.year
    for at in column.index[(years < first) | (years > last)]:
        errors[at] = f"năm {years[at]} nằm ngoài năm kế hoạch (chỉ nhận {first}–{last}); gõ nhầm năm?"
    other = moments.isna()
    if other.any():
        values, other_errors = _parsed(
            column[other], lambda text: in_years(parse_timestamp(text, plan.tz), first, last)
        )
        moments[other] = pd.to_datetime(values, utc=True)
        errors[other] = other_errors
    start, end = plan.window
    local = moments.dt.tz_convert(plan.tz)
    after_end = pd.Timestamp(end, tz=plan.tz) + pd.Timedelta(days=1)
    outside = errors.isna() & ((local < pd.Timestamp(start, tz=plan.tz)) | (local >= after_end))
    for at in column.index[outside]:
        errors[at] = (
            f"ngày {local[at]:%d/%m/%Y} thuộc năm khác: kế hoạch năm {plan.year} chỉ tính hồ sơ nộp từ "
            f"{start:%d/%m/%Y} đến {end:%d/%m/%Y}"
        )
    return moments, errors


def _dropped(
    tab: str, table: pd.DataFrame, reasons: list[pd.Series], values: pd.Series, findings: list[Finding]
) -> pd.DataFrame:
    """Rows with any reason become findings (reasons in the order given); returns the others."""
    bad = pd.Series(False, index=table.index)
    for reason in reasons:
        bad |= reason.notna()
    for at in table.index[bad]:
        why = "; ".join(str(r[at]) for r in reasons if pd.notna(r[at]))
        findings.append(Finding(tab, int(table.at[at, "row"]), why, True, values[at]))
    return table[~bad]


def _prefixed(prefix: str, reasons: pd.Series) -> pd.Series:
    return (prefix + reasons.astype("str")).where(reasons.notna())


_PAIR = "\x1f"  # joins a milestone id and a kind into one key: clean() removes it from sheet text


# a submission's columns; `row` is its sheet row (MAIL_ROW for one found in a mail)
SUBMISSION_COLUMNS = [
    "row",
    "submitted_at",
    "unit",
    "milestone",
    "kind",
    "pages",
    "link",
    "note",
    "inspected",
]
SUBMISSION_COLUMNS += ["origin"]
MAIL_ROW = 0
MAIL = "thư điện tử"


def _unknown_unit(text: str) -> str:
    return f"đơn vị '{text}' không có trong danh sách đơn vị thành viên"


def _submissions(plan: Plan, raw: RawTabs, units: UnitDirectory, findings: list[Finding]) -> pd.DataFrame:
    cols = SUBMISSION_COLUMNS
    table = _table(plan, raw, TAB_SUBMISSIONS, findings)
    if table is None or table.empty:
        frame = pd.DataFrame(columns=cols)
        frame["pages"] = frame["pages"].astype("Int64")
        return frame
    at, at_error = _timestamps(table["submitted_at"], plan)
    _refuse_another_year(plan, at)
    at_error = _prefixed("Thời gian nộp: ", at_error)
    code = _per_distinct(table["unit"], units.resolve)
    unit_error = _per_distinct(table["unit"], _unknown_unit).where(code.isna())
    milestone, milestone_error = _parsed(table["milestone"], lambda text: plan.milestone(text).id)

    def kind(pair: str) -> str:
        milestone_id, text = pair.split(_PAIR, 1)
        found = plan.milestone(milestone_id)
        doc = found.document(text)
        if doc is None:
            kinds = "; ".join(d.kind for d in found.documents) or "(không có)"
            raise ValueError(f"loại hồ sơ '{text}' không thuộc mốc {found.name} (có: {kinds})")
        return doc.kind

    known = milestone.notna()
    kinds, kind_error = _parsed(milestone[known] + _PAIR + table.loc[known, "kind"], kind)
    kinds, kind_error = kinds.reindex(table.index), kind_error.reindex(table.index)
    table = table.assign(submitted_at=at, unit_code=code, milestone_id=milestone, kind_name=kinds)
    kept = _dropped(
        TAB_SUBMISSIONS, table, [at_error, unit_error, milestone_error, kind_error], table["unit"], findings
    )
    pages, pages_error = _parsed(
        kept["pages"], lambda t: int(in_range(parse_int(t), 0, MAX_PAGES)) if t else None
    )
    inspected = _per_distinct(kept["inspected"], lambda text: units.resolve(text) if text else "")
    ignored: list[tuple[pd.Series, Callable[[Any], str]]] = [
        (pages_error.notna(), lambda at: f"Số trang: {pages_error[at]}")
    ]
    ignored += [
        (inspected.isna(), lambda at: f"Đơn vị được kiểm tra: {_unknown_unit(kept.at[at, 'inspected'])}")
    ]
    for bad, why in ignored:  # a cell that cannot be read is left out; its row still counts
        for at in kept.index[bad]:
            findings.append(
                Finding(TAB_SUBMISSIONS, int(kept.at[at, "row"]), f"{why(at)} — bỏ qua ô này", False)
            )
    frame = pd.DataFrame(
        {
            "row": kept["row"].astype("int64"),
            "submitted_at": kept["submitted_at"].dt.tz_convert(plan.tz),
            "unit": kept["unit_code"],
            "milestone": kept["milestone_id"].astype("str"),
            "kind": kept["kind_name"].astype("str"),
            "pages": pages.astype("Int64") if len(kept) else pages,
            "link": kept["link"],
            "note": kept["note"],
            "inspected": inspected.fillna("").astype("str"),
            "origin": "",  # the sheet; a document the intake found in a mail says so here
        },
        columns=cols,
    ).reset_index(drop=True)
    frame["pages"] = frame["pages"].astype("Int64")
    return frame


def _simple(
    plan: Plan,
    raw: RawTabs,
    tab: str,
    units: UnitDirectory,
    findings: list[Finding],
    unit_columns: list[str],
    parsers: dict[str, Callable[[str], Any]],
) -> pd.DataFrame:
    """A tab whose rows name units and carry a few typed cells; bad rows become findings."""
    columns = ["row", *(c for c, _ in COLUMNS[tab].values())]
    table = _table(plan, raw, tab, findings)
    if table is None or table.empty:
        return pd.DataFrame(columns=columns)
    reasons = []
    for col in unit_columns:
        code = _per_distinct(table[col], units.resolve)
        reasons.append(_per_distinct(table[col], _unknown_unit).where(code.isna()))
        table[col] = code
    for col, parse in parsers.items():
        values, errors = _parsed(table[col], parse)
        reasons.append(_prefixed(f"{col}: ", errors))
        table[col] = values
    kept = _dropped(tab, table, reasons, pd.Series("", index=table.index), findings)
    return kept[columns].reset_index(drop=True).infer_objects()  # the types a record list would get


class SourceOfAnotherYear(SourceError):
    """Every dated row of the source belongs to another year: last year's sheet, not this one's."""


def _refuse_another_year(plan: Plan, moments: pd.Series) -> None:
    """A sheet whose submissions all fall outside the plan's years is another year's sheet (a new
    plan still pointing at last year's): one message stops the run instead of a warning per row,
    and none of its rows, ballots or registrations is counted for this year."""
    start, end = plan.window
    local = moments.dropna().dt.tz_convert(plan.tz)
    if local.empty or local.dt.date.between(start, end).any():
        return  # (dropna: every value is a real date here)
    years = local.dt.year
    seen = ", ".join(str(y) for y in sorted(set(years)))
    raise SourceOfAnotherYear(
        f"mọi {len(years)} dòng có ngày của trang tính Nộp hồ sơ thuộc năm {seen}, không thuộc năm kế "
        f"hoạch {plan.year}: đây là bảng tính của năm khác. Tạo bảng tính năm {plan.year} "
        "(`thidua template --out …`), rồi ghi nó vào `spreadsheet` của kế hoạch hoặc THIDUA_SOURCE."
    )


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

    normalised = Normalised(
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
    # each tab's findings in the sheet's order, as a clerk reads them
    findings.sort(key=lambda f: (TABS.index(f.tab), f.row))
    return normalised
