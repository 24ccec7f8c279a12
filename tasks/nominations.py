"""The year-end's candidates in the plan's order: listed for the conference before it votes,
decided by its vote after. One reading of the count and of the dossiers serves the final report
and the vote minutes, so the two documents the Head signs can never disagree."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tasks.plan import Plan, Requirement
from tasks.tally import Candidate, Tally, candidates


def missing_dossier(plan: Plan, table: pd.DataFrame) -> dict[str, list[str]]:
    """Per unit code, the nomination dossier's documents (of the year-end milestone) it has not
    sent; a unit that registered no title needing a dossier owes none."""
    milestone = plan.milestone(plan.report("yearend").milestone)
    dossier = {d.kind for d in milestone.documents if d.requirement == Requirement.DOSSIER}
    rows = table[table["milestone"] == milestone.id]
    return {r.unit: sorted(k for k in r.missing if k in dossier) for r in rows.itertuples()}


def dossier_words(missing: list[str]) -> str:
    return "Đủ" if not missing else "Thiếu: " + "; ".join(missing)


def lacking_words(missing: list[str]) -> str:
    """A selected candidate's outcome note: "hồ sơ còn thiếu: Biên bản họp …" (names as written)."""
    return "hồ sơ còn thiếu: " + "; ".join(missing)


def nominations(
    plan: Plan, registrations: pd.DataFrame, missing: dict[str, list[str]], scores: dict[str, str]
) -> list[dict[str, Any]]:
    """Before the vote: every candidate of every title with who proposed it, the proposer's
    self-score for information and its dossier; nothing is decided here."""
    out = []
    for title, pool in candidates(plan, registrations).items():
        for c in pool:
            out.append(
                {
                    "title": title,
                    "block": plan.block_name(c.block),
                    "name": c.name,
                    "proposed_by": plan.unit_names[c.proposed_by],
                    "score": scores.get(c.proposed_by, ""),
                    "dossier": dossier_words(missing.get(c.proposed_by, [])),
                }
            )
    return out


def decided(
    plan: Plan, tally: Tally, registrations: pd.DataFrame, missing: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """After the vote: each candidate's votes as "X/N phiếu", the outcome, and for a selected
    candidate whether the nomination dossier is complete, naming what is missing."""
    proposer: dict[tuple[str, str], Candidate] = {
        (title, c.name): c for title, pool in candidates(plan, registrations).items() for c in pool
    }
    tied = {(t["category"], t["unit_name"]) for t in tally.ties}
    out = []
    for r in tally.results:
        for c in r.candidates:
            if not c["of"]:  # no valid ballot for this title: no vote, not a candidate who lost one
                outcome = "Chưa bỏ phiếu"
            elif c["selected"]:
                outcome = "Đề nghị"
            elif (r.category, c["unit_name"]) in tied:
                outcome = "Bỏ phiếu lại"
            else:
                outcome = "Đạt, ngoài chỉ tiêu" if c["passed"] else "Không đạt"
            who = proposer.get((r.category, c["unit_name"]))
            lacking = missing.get(who.proposed_by, []) if who else []
            out.append(
                {
                    "category": r.category,
                    "block": plan.block_name(r.block),
                    "name": c["unit_name"],
                    "votes": f"{c['votes']}/{c['of']} phiếu" if c["of"] else "không có phiếu hợp lệ",
                    "outcome": outcome,
                    "selected": bool(c["selected"]),
                    "dossier": dossier_words(lacking) if c["selected"] else "",
                    "lacking": lacking if c["selected"] else [],
                }
            )
    return out
