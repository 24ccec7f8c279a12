"""The area's compiled mid-year and year-end reports, as plain data (tables of dicts).

Rendering (DOCX, XLSX, Markdown) lives in report_files.py; this module only counts.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tasks.completeness import STATE_LABELS, State, mail_lines, state_counts
from tasks.dates import vn_date, vn_date_weekday
from tasks.inputs import Inputs
from tasks.nominations import decided, missing_dossier, nominations
from tasks.pages import count_pages
from tasks.plan import Plan, Report
from tasks.reporting_record import ReportingRecord, reporting_record
from tasks.tally import candidates, count
from tasks.text import match_key, vn_sort_key

DOWNLOAD_BUDGET = 120.0  # seconds one report may spend downloading documents to count pages


@dataclass
class ReportData:
    plan: Plan
    report: Report
    instant: dt.datetime
    deadline: str
    discipline_blocks: list[dict[str, Any]]
    discipline_units: list[dict[str, Any]]
    indicator_blocks: list[dict[str, Any]]
    indicator_units: pd.DataFrame
    page_problems: list[str]
    notes: list[dict[str, Any]]
    by_mail: list[str] = field(default_factory=list)  # documents the intake found in mail, with origin
    ranking: list[dict[str, Any]] = field(default_factory=list)  # self-scores of units that sent their table
    score_flags: list[str] = field(default_factory=list)  # scores shown, not ranked: no table sent
    registrations: list[dict[str, Any]] = field(default_factory=list)
    final: bool = False  # after the conference's vote; before it, the draft for the conference
    not_final: str = ""  # why the year-end report is still the draft (Vietnamese), when it is
    nominations: list[dict[str, Any]] = field(default_factory=list)  # the draft's candidates, undecided
    results: list[dict[str, Any]] = field(default_factory=list)  # the final's vote, as the minutes read it
    vote_problems: list[str] = field(default_factory=list)  # ties, invalid ballots, odd counts
    record: ReportingRecord | None = None  # the annex: how each unit kept its reporting duties

    @property
    def yearend(self) -> bool:
        return self.report.kind == "yearend"


def reading_order(plan: Plan) -> list[str]:
    """Unit codes as every table of a report lists them: by the plan's order of blocks, then by
    name as a Vietnamese reader sorts (the DOCX and its XLSX annex alike)."""
    blocks = [b.id for b in plan.blocks]
    return [
        u.code
        for u in sorted(
            plan.units,
            key=lambda u: (blocks.index(u.block) if u.block in blocks else len(blocks), vn_sort_key(u.name)),
        )
    ]


def _discipline(
    plan: Plan, rows: pd.DataFrame, order: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    blocks = []
    for block in plan.member_blocks:
        mine = rows[rows["block"] == block.id]
        blocks.append({"block": block.name, "total": len(mine), **state_counts(mine)})
    units = []
    place = {code: i for i, code in enumerate(order)}
    for r in sorted(rows.itertuples(), key=lambda r: place[r.unit]):
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


def _indicators(
    plan: Plan, indicators: pd.DataFrame, milestone: str
) -> tuple[list[dict[str, Any]], pd.DataFrame]:
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


def _notes(plan: Plan, inputs: Inputs, milestone: str, instant: dt.datetime) -> list[dict[str, Any]]:
    subs = inputs.data.submissions
    subs = subs[(subs["milestone"] == milestone) & (subs["submitted_at"] <= instant)]
    names = plan.unit_names
    out = []
    for r in subs.itertuples():
        note = (r.note or "").strip()
        if note and not note.replace(".", "").replace(" ", "").isdigit():  # a phone number is not a note
            out.append({"unit": names[r.unit], "kind": r.kind, "note": note})
    return out


def _ranking(plan: Plan, score_of: dict[str, float]) -> list[dict[str, Any]]:
    """Self-scores within each member block, for information: blocks mark on different
    criteria, so no rank is compared across them, and no place is decided by it."""
    out = []
    for block in plan.member_blocks:
        mine = sorted(((s, c) for c, s in score_of.items() if plan.unit(c).block == block.id), reverse=True)
        out += [
            {"block": block.name, "rank": i, "unit": plan.unit_names[c], "score": _num(s)}
            for i, (s, c) in enumerate(mine, start=1)
        ]
    return out


def _registrations(plan: Plan, regs: pd.DataFrame) -> list[dict[str, Any]]:
    """How many registrations each title received, and how many candidates the conference has
    for it: the draft's counts agree with its candidate lists (a title chosen among another's
    candidates says so; a title the conference does not vote on says that)."""
    pools = candidates(plan, regs)
    among = {a.title: a.among for a in plan.awards if a.among}
    out = []
    for title in plan.titles:
        n = int((regs["title"].map(match_key) == match_key(title.name)).sum()) if not regs.empty else 0
        pool = pools.get(title.name)
        if pool is None:
            voted = "không bình xét tại Hội nghị"
        elif title.name in among:
            voted = f"{len(pool)} (trong số ứng viên {among[title.name]})"
        else:
            voted = str(len(pool))
        out.append({"title": title.name, "registered": n, "candidates": voted})
    return out


def _yearend(data: ReportData, inputs: Inputs, table: pd.DataFrame, units_present: int | None) -> None:
    plan, report = data.plan, data.report
    rows = table[table["milestone"] == report.milestone]
    scores = inputs.data.scores.drop_duplicates("unit", keep="last")
    score_of = dict(zip(scores["unit"], scores["score"], strict=True))
    if report.scoring_document:
        sent = {r.unit for r in rows.itertuples() if report.scoring_document in r.submitted}
        data.score_flags = [
            f"{plan.unit_names[c]}: {_num(s)} điểm — chưa gửi {report.scoring_document}, không xếp thứ tự"
            for c, s in score_of.items()
            if c not in sent
        ]
        score_of = {c: s for c, s in score_of.items() if c in sent}
    data.ranking = _ranking(plan, score_of)
    regs = inputs.data.registrations
    data.registrations = _registrations(plan, regs)
    missing = missing_dossier(plan, table)
    data.not_final = _not_final(plan, inputs, data.instant)
    data.final = not data.not_final
    if data.final:
        tally = count(plan, inputs.data.ballots, regs, units_present)
        data.results = decided(plan, tally, regs, missing)
        data.vote_problems = tally.problems + [
            f"Phiếu số {b['number']} ({b['category']}) không hợp lệ: {b['reason']}"
            for b in tally.invalid_ballots
        ]
    else:
        data.nominations = nominations(plan, regs, missing, {c: _num(s) for c, s in score_of.items()})


def _not_final(plan: Plan, inputs: Inputs, instant: dt.datetime) -> str:
    """Why the year-end report is still the conference's draft, or "" once the conference is
    recorded held and its ballots are in (the plan: "Hội nghị sẽ tiến hành bỏ phiếu")."""
    held = plan.conference_recorded
    conference = plan.voting.conference
    if held is None:
        return (
            f"chưa ghi ngày tổ chức Hội nghị (held_on của mốc {conference} hoặc voting.day trong "
            "tệp kế hoạch)"
        )
    if instant.astimezone(plan.tz).date() < held:
        return f"Hội nghị tổ chức ngày {vn_date_weekday(held)}, chưa diễn ra"
    if inputs.data.ballots.empty:
        return "trang tính Phiếu bầu chưa có phiếu nào"
    return ""


def compile_report(
    plan: Plan,
    inputs: Inputs,
    table: pd.DataFrame,
    kind: str,
    instant: dt.datetime,
    base_dir: Path | None = None,
    online: bool = False,
    units_present: int | None = None,
) -> ReportData:
    report = plan.report(kind)
    m = plan.milestone(report.milestone)
    rows = table[table["milestone"] == m.id]
    order = reading_order(plan)
    blocks, units = _discipline(plan, rows, order)
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
        by_mail=mail_lines(rows),
        record=reporting_record(plan, report, table, instant, order),
    )
    if kind == "yearend":
        _yearend(data, inputs, table, units_present)
    return data
