"""The area's compiled mid-year and year-end reports, as plain data (tables of dicts).

Rendering (DOCX, XLSX, Markdown) lives in report_files.py; this module only counts.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tasks.completeness import STATE_LABELS, State, state_counts
from tasks.dates import vn_date, vn_date_weekday
from tasks.inputs import Inputs
from tasks.pages import count_pages
from tasks.plan import ALL_BLOCKS, Plan, Report, Requirement
from tasks.tally import Candidate, candidates
from tasks.text import match_key

DOWNLOAD_BUDGET = 120.0  # seconds one report may spend downloading documents to count pages


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
    for block in plan.member_blocks:
        mine = rows[rows["block"] == block.id]
        blocks.append({"block": block.name, "total": len(mine), **state_counts(mine)})
    units = []
    for r in rows.itertuples():
        last = r.last_submitted_at
        units.append(
            {
                "block": plan.block_name(r.block),
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
    mine = mine.assign(block=mine["unit"].map(block), unit_name=mine["unit"].map(plan.unit_names))
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
                **{b.id: _num(by_block.get(b.id, 0)) for b in plan.member_blocks},
                "total": _num(values["value"].agg(agg)),
            }
        )
    per_unit = mine.pivot_table(
        index=["block", "unit_name"], columns="indicator", values="value", aggfunc="last"
    )
    per_unit = per_unit[order].reset_index()
    per_unit["block"] = per_unit["block"].map(plan.block_name)
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
    names = plan.unit_names
    problems = []
    budget = time.monotonic() + DOWNLOAD_BUDGET
    for r in latest.itertuples():
        doc = m.document(r.kind)
        if not doc or not doc.max_pages:
            continue
        measured = None
        remote = r.link.startswith(("http://", "https://"))
        left = budget - time.monotonic()
        if r.link and (not remote or (online and left > 1)):
            measured = count_pages(r.link, base, total=min(30.0, left))
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
    names = plan.unit_names
    out = []
    for r in subs.itertuples():
        note = (r.note or "").strip()
        if note and not note.replace(".", "").replace(" ", "").isdigit():  # a phone number is not a note
            out.append({"unit": names[r.unit], "kind": r.kind, "note": note})
    return out


def _ranking(plan: Plan, score_of: dict[str, float]) -> list[dict]:
    """Self-scores ranked within each member block."""
    out = []
    for block in plan.member_blocks:
        mine = sorted(((s, c) for c, s in score_of.items() if plan.unit(c).block == block.id), reverse=True)
        out += [
            {"block": block.name, "rank": i, "unit": plan.unit_names[c], "score": _num(s)}
            for i, (s, c) in enumerate(mine, start=1)
        ]
    return out


def _registrations(plan: Plan, regs: pd.DataFrame) -> list[dict]:
    """How many registrations each title received."""
    out = []
    for title in plan.titles:
        n = int((regs["title"].map(match_key) == match_key(title.name)).sum()) if not regs.empty else 0
        out.append({"title": title.name, "registered": n})
    return out


def _flag_candidates(
    plan: Plan, nominees: dict[str, list[Candidate]], rows: pd.DataFrame, dossier_kinds: set[str], score_of
) -> list[dict]:
    """Per block, the flag's nominees by self-score; within the quota only with a full dossier
    (an incomplete one does not take a place: the next moves up)."""
    flag = plan.flag_award
    if flag is None:
        return []
    out = []
    for block, quota in flag.quotas.items():
        pool = [c for c in nominees[flag.title] if c.block == block]
        pool.sort(key=lambda c: -score_of.get(_code(plan, c.name) or "", 0))
        taken = 0
        for c in pool:
            missing = sorted(k for k in rows.loc[c.proposed_by, "missing"] if k in dossier_kinds)
            code = _code(plan, c.name)
            within = not missing and taken < quota
            taken += within
            out.append(
                {
                    "block": plan.block_name(block),
                    "name": c.name,
                    "score": _num(score_of[code]) if code in score_of else "",
                    "dossier": "Đủ" if not missing else "THIẾU: " + "; ".join(missing),
                    "outcome": "Đề xuất" if within else ("Chưa đủ hồ sơ" if missing else "Ngoài chỉ tiêu"),
                    "quota": quota,
                    "code": code,
                }
            )
    return out


def _gov_candidates(plan: Plan, flag_candidates: list[dict], score_of: dict[str, float]) -> list[dict]:
    """The award chosen among the flag's proposed candidates, best self-scores first."""
    gov = plan.award_among_flag
    if gov is None:
        return []
    quota = gov.quotas.get(ALL_BLOCKS, 0)
    proposed = [p for p in flag_candidates if p["outcome"] == "Đề xuất" and p["code"] in score_of]
    ranked = sorted(proposed, key=lambda p: -score_of[p["code"]])
    return [{**p, "outcome": "Đề xuất" if i < quota else "Ngoài chỉ tiêu"} for i, p in enumerate(ranked)]


def _models(plan: Plan, nominees: dict[str, list[Candidate]]) -> list[dict]:
    title = plan.title_named("Điển hình tiên tiến")
    if title is None:
        return []
    return [
        {"name": c.name, "proposed_by": plan.unit_names[c.proposed_by]} for c in nominees.get(title.name, [])
    ]


def _code(plan: Plan, name: str) -> str | None:
    unit = plan.unit_named(name)
    return unit.code if unit else None


def compile_report(
    plan: Plan,
    inputs: Inputs,
    table: pd.DataFrame,
    kind: str,
    instant: dt.datetime,
    base_dir: Path | None = None,
    online: bool = False,
) -> ReportData:
    report = plan.report(kind)
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
        scores = inputs.data.scores.drop_duplicates("unit", keep="last")
        score_of = dict(zip(scores["unit"], scores["score"], strict=True))
        regs = inputs.data.registrations
        nominees = candidates(plan, regs)
        dossier_kinds = {d.kind for d in m.documents if d.requirement == Requirement.DOSSIER}
        data.ranking = _ranking(plan, score_of)
        data.registrations = _registrations(plan, regs)
        data.flag_candidates = _flag_candidates(
            plan, nominees, rows.set_index("unit"), dossier_kinds, score_of
        )
        data.gov_candidates = _gov_candidates(plan, data.flag_candidates, score_of)
        data.models = _models(plan, nominees)
    return data
