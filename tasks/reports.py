"""The area's compiled mid-year and year-end reports, as plain data (tables of dicts).

Rendering (DOCX, XLSX, Markdown) lives in report_files.py; this module only counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tasks.completeness import STATE_LABELS, State, state_counts
from tasks.dates import vn_date, vn_date_weekday
from tasks.inputs import Inputs
from tasks.pages import count_pages
from tasks.plan import Plan, Report, Requirement
from tasks.tally import BLOCK_NAMES, candidates
from tasks.text import match_key

BLOCKS = ["so-tu-phap", "cuc-thads"]


@dataclass
class ReportData:
    plan: Plan
    report: Report
    instant: dt.datetime
    deadline: str
    discipline_blocks: list[dict]
    discipline_units: list[dict]
    indicator_blocks: list[dict]
    indicator_units: pd.DataFrame
    page_problems: list[str]
    notes: list[dict]
    ranking: list[dict] = field(default_factory=list)
    registrations: list[dict] = field(default_factory=list)
    flag_candidates: list[dict] = field(default_factory=list)
    gov_candidates: list[dict] = field(default_factory=list)
    models: list[dict] = field(default_factory=list)

    @property
    def yearend(self) -> bool:
        return self.report.kind == "yearend"


def _discipline(plan: Plan, rows: pd.DataFrame) -> tuple[list[dict], list[dict]]:
    blocks = []
    for block in BLOCKS:
        mine = rows[rows["block"] == block]
        blocks.append({"block": BLOCK_NAMES[block], "total": len(mine), **state_counts(mine)})
    units = []
    for r in rows.itertuples():
        last = r.last_submitted_at
        units.append(
            {
                "block": BLOCK_NAMES[r.block],
                "unit": r.unit_name,
                "state": STATE_LABELS[State(r.state)],
                "date": vn_date(last.date()) if last is not None and pd.notna(last) else "",
                "missing": "; ".join(r.missing),
            }
        )
    return blocks, units


def _indicators(plan: Plan, indicators: pd.DataFrame, milestone: str) -> tuple[list[dict], pd.DataFrame]:
    mine = indicators[indicators["milestone"] == milestone]
    if mine.empty:
        return [], pd.DataFrame()
    block = {u.code: u.block for u in plan.units}
    names = {u.code: u.name for u in plan.units}
    mine = mine.assign(block=mine["unit"].map(block), unit_name=mine["unit"].map(names))
    # a unit that sent the same indicator twice: the latest row counts
    mine = mine.sort_values("row").drop_duplicates(["unit", "indicator"], keep="last")
    how = {match_key(i.name): i.aggregate for i in plan.indicators}
    order = list(dict.fromkeys(mine["indicator"]))
    out = []
    for ind in order:
        values = mine[mine["indicator"] == ind]
        agg = how.get(match_key(ind), "sum")
        by_block = values.groupby("block")["value"].agg(agg)
        label = ind + (" (bình quân)" if agg == "mean" else "")
        out.append(
            {
                "indicator": label,
                **{b: _num(by_block.get(b, 0)) for b in BLOCKS},
                "total": _num(values["value"].agg(agg)),
            }
        )
    per_unit = mine.pivot_table(
        index=["block", "unit_name"], columns="indicator", values="value", aggfunc="last"
    )
    per_unit = per_unit[order].reset_index()
    per_unit["block"] = per_unit["block"].map(BLOCK_NAMES)
    return out, per_unit


def _num(value: float) -> str:
    """Vietnamese number format: 1.234,5"""
    value = round(float(value), 2)
    text = f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def _page_problems(
    plan: Plan, inputs: Inputs, milestone: str, instant: dt.datetime, base: Path | None, online: bool
) -> list[str]:
    m = plan.milestone(milestone)
    subs = inputs.data.submissions
    subs = subs[(subs["milestone"] == milestone) & (subs["submitted_at"] <= instant)]
    latest = subs.sort_values(["submitted_at", "row"]).drop_duplicates(["unit", "kind"], keep="last")
    names = {u.code: u.name for u in plan.units}
    problems = []
    for r in latest.itertuples():
        doc = m.document(r.kind)
        if not doc or not doc.max_pages:
            continue
        measured = None
        if r.link and (online or not r.link.startswith(("http://", "https://"))):
            measured = count_pages(r.link, base)
        pages, how = (measured, "đếm từ tệp") if measured is not None else (r.pages, "đơn vị khai")
        if pages is not None and pd.notna(pages) and int(pages) > doc.max_pages:
            problems.append(
                f"{names[r.unit]}: {r.kind} {int(pages)} trang ({how}), vượt giới hạn "
                f"{doc.max_pages} trang A4"
            )
    return problems


def _notes(plan: Plan, inputs: Inputs, milestone: str, instant: dt.datetime) -> list[dict]:
    subs = inputs.data.submissions
    subs = subs[(subs["milestone"] == milestone) & (subs["submitted_at"] <= instant)]
    names = {u.code: u.name for u in plan.units}
    out = []
    for r in subs.itertuples():
        note = (r.note or "").strip()
        if note and not note.replace(".", "").replace(" ", "").isdigit():  # a phone number is not a note
            out.append({"unit": names[r.unit], "kind": r.kind, "note": note})
    return out


def _yearend(plan: Plan, inputs: Inputs, table: pd.DataFrame, data: ReportData) -> None:
    names = {u.code: u.name for u in plan.units}
    blocks = {u.code: u.block for u in plan.units}
    scores = inputs.data.scores.drop_duplicates("unit", keep="last")
    score_of = dict(zip(scores["unit"], scores["score"], strict=True))
    for block in BLOCKS:
        mine = sorted(((score_of[c], c) for c in score_of if blocks[c] == block), reverse=True)
        data.ranking += [
            {"block": BLOCK_NAMES[block], "rank": i, "unit": names[c], "score": _num(s)}
            for i, (s, c) in enumerate(mine, start=1)
        ]
    regs = inputs.data.registrations
    for title in plan.titles:
        n = int((regs["title"].map(match_key) == match_key(title.name)).sum()) if not regs.empty else 0
        data.registrations.append({"title": title.name, "registered": n})

    m = plan.milestone(data.report.milestone)
    dossier_kinds = {d.kind for d in m.documents if d.requirement == Requirement.DOSSIER}
    rows = table[table["milestone"] == m.id].set_index("unit")
    nominees = candidates(plan, regs)
    flag = next((a for a in plan.awards if a.quotas and not a.among), None)
    gov = next((a for a in plan.awards if a.among), None)
    proposed: list[dict] = []
    if flag:
        for block, quota in flag.quotas.items():
            pool = [c for c in nominees[flag.title] if c.block == block]
            pool.sort(key=lambda c: -score_of.get(_code(plan, c.name) or "", 0))
            taken = 0
            for c in pool:
                missing = sorted(k for k in rows.loc[c.proposed_by, "missing"] if k in dossier_kinds)
                code = _code(plan, c.name)
                within = not missing and taken < quota
                taken += within
                entry = {
                    "block": BLOCK_NAMES[block],
                    "name": c.name,
                    "score": _num(score_of[code]) if code in score_of else "",
                    "dossier": "Đủ" if not missing else "THIẾU: " + "; ".join(missing),
                    "outcome": "Đề xuất" if within else ("Chưa đủ hồ sơ" if missing else "Ngoài chỉ tiêu"),
                    "quota": quota,
                    "code": code,
                }
                data.flag_candidates.append(entry)
                if within:
                    proposed.append(entry)
    if gov:
        quota = gov.quotas.get("all", 0)
        ranked = sorted((p for p in proposed if p["code"] in score_of), key=lambda p: -score_of[p["code"]])
        data.gov_candidates = [
            {**p, "outcome": "Đề xuất" if i < quota else "Ngoài chỉ tiêu"} for i, p in enumerate(ranked)
        ]
    model_title = next(
        (t.name for t in plan.titles if match_key(t.name) == match_key("Điển hình tiên tiến")), None
    )
    if model_title:
        data.models = [
            {"name": c.name, "proposed_by": names[c.proposed_by]} for c in nominees.get(model_title, [])
        ]


def _code(plan: Plan, name: str) -> str | None:
    return next((u.code for u in plan.units if u.name == name), None)


def compile_report(
    plan: Plan,
    inputs: Inputs,
    table: pd.DataFrame,
    kind: str,
    instant: dt.datetime,
    base_dir: Path | None = None,
    online: bool = False,
) -> ReportData:
    report = next(r for r in plan.reports if r.kind == kind)
    m = plan.milestone(report.milestone)
    rows = table[table["milestone"] == m.id]
    blocks, units = _discipline(plan, rows)
    ind_blocks, ind_units = _indicators(plan, inputs.data.indicators, m.id)
    data = ReportData(
        plan=plan,
        report=report,
        instant=instant,
        deadline=vn_date_weekday(m.deadline) if m.deadline else "",
        discipline_blocks=blocks,
        discipline_units=units,
        indicator_blocks=ind_blocks,
        indicator_units=ind_units,
        page_problems=_page_problems(plan, inputs, m.id, instant, base_dir, online),
        notes=_notes(plan, inputs, m.id, instant),
    )
    if kind == "yearend":
        _yearend(plan, inputs, table, data)
    return data
