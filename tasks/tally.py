"""Counting the conference's ballots: validation, threshold, quotas per block, ties.

Ballots are secret: a ballot is known by its number only. The candidates of a category are the
nominations of the Đăng ký tab for that title (a unit itself, a Chi cục THADS or a person it
proposes), so a ballot can be checked against them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tasks.normalise import UnitDirectory
from tasks.plan import ALL_BLOCKS, Award, Plan
from tasks.text import clean, match_key

YES = {"x", "có", "đồng ý", "1", "✓", "v", "true", "yes", "đ"}
NO = {"", "không", "0", "false", "no", "-"}


@dataclass(frozen=True)
class Candidate:
    name: str
    block: str  # a block id of the plan, or ALL_BLOCKS (a person, for advanced models)
    proposed_by: str  # unit code


@dataclass
class Result:
    category: str
    block: str
    quota: int | None
    of: int
    candidates: list[dict[str, Any]] = field(default_factory=list)  # unit_name, votes, of, passed, selected


@dataclass
class Tally:
    results: list[Result]
    invalid_ballots: list[dict[str, Any]]  # number, category, reason
    ties: list[dict[str, Any]]  # category, block, unit_name, votes
    ballots_cast: dict[str, int]
    problems: list[str] = field(default_factory=list)  # the count as a whole needs a look

    def as_json(self) -> dict[str, Any]:
        categories: dict[str, dict[str, Any]] = {}
        for r in self.results:
            categories.setdefault(r.category, {})[r.block] = {
                "quota": r.quota,
                "of": r.of,
                "candidates": r.candidates,
            }
        return {
            "categories": categories,
            "invalid_ballots": self.invalid_ballots,
            "problems": self.problems,
            "ties": self.ties,
            "ballots_cast": self.ballots_cast,
        }


def candidates(plan: Plan, registrations: pd.DataFrame) -> dict[str, list[Candidate]]:
    """Nominees per award title, from the registrations ("Tập thể" or blank = the unit itself)."""
    units = UnitDirectory(plan)
    out: dict[str, list[Candidate]] = {a.title: [] for a in plan.awards}
    for r in registrations.itertuples():
        if r.title not in out:
            continue
        nominee = clean(r.nominee) if isinstance(r.nominee, str) else ""
        if match_key(nominee) in ("", match_key("Tập thể")):
            unit = plan.unit(r.unit)
            cand = Candidate(unit.name, unit.block, unit.code)
        elif code := units.resolve(nominee):
            unit = plan.unit(code)
            cand = Candidate(unit.name, unit.block, r.unit)
        else:
            cand = Candidate(nominee, _nominee_block(plan, nominee), r.unit)
        if cand not in out[r.title]:
            out[r.title].append(cand)
    for award in plan.awards:
        if award.among:  # only those proposed for the other title; all of them if none is named
            eligible = out[award.among]
            named = {c.name for c in out[award.title]}
            out[award.title] = [c for c in eligible if not named or c.name in named]
    return out


def _approval(text: str) -> bool | None:
    key = match_key(text)
    if key in {match_key(y) for y in YES}:
        return True
    return False if key in {match_key(n) for n in NO} else None


@dataclass
class Ballots:
    """The Phiếu bầu tab read against the nominations: per title, ballot number -> approved names;
    invalid ballots with their reason (a ballot is invalid for that title only)."""

    approvals: dict[str, dict[str, set[str]]]
    invalid: list[dict[str, Any]] = field(default_factory=list)  # number, category, reason
    bad: dict[str, set[str]] = field(default_factory=dict)  # title -> invalid ballot numbers

    def reject(self, number: str, category: str, reason: str) -> None:
        if number not in self.bad.setdefault(category, set()):
            self.invalid.append({"number": number, "category": category, "reason": reason})
            self.bad[category].add(number)

    def valid(self, title: str) -> list[str]:
        return [b for b in self.approvals[title] if b not in self.bad.get(title, set())]


def read_ballots(plan: Plan, ballots: pd.DataFrame, nominees: dict[str, list[Candidate]]) -> Ballots:
    """Each row is one candidate on one ballot: unknown titles, candidates not proposed,
    unreadable marks and a candidate written twice make the ballot invalid for that title."""
    units = UnitDirectory(plan)
    titles = {match_key(a.title): a for a in plan.awards}
    read = Ballots({a.title: {} for a in plan.awards}, bad={a.title: set() for a in plan.awards})
    seen_rows: set[tuple[str, str, str]] = set()
    for r in ballots.itertuples():
        number = clean(r.ballot)
        award = titles.get(match_key(r.category))
        if award is None:
            known = "; ".join(a.title for a in plan.awards)
            read.invalid.append(
                {
                    "number": number,
                    "category": clean(r.category),
                    "reason": f"hạng mục '{clean(r.category)}' không có trong kế hoạch (có: {known})",
                }
            )
            continue
        cat = award.title
        read.approvals[cat].setdefault(number, set())
        cand = _find_candidate(plan, units, nominees[cat], str(r.candidate))
        if cand is None:
            reason = f"ứng viên '{clean(r.candidate)}' không có trong danh sách đề nghị {cat}"
            if award.among:
                reason = f"ứng viên '{clean(r.candidate)}' không được đề nghị tặng {award.among}"
            read.reject(number, cat, reason)
            continue
        approve = _approval(str(r.approve))
        if approve is None:
            read.reject(
                number, cat, f"ô Đồng ý của '{cand.name}' ghi '{clean(r.approve)}' (chỉ ghi x hoặc để trống)"
            )
            continue
        if (number, cat, cand.name) in seen_rows:
            read.reject(number, cat, f"ứng viên '{cand.name}' được ghi hai lần trên cùng phiếu")
            continue
        seen_rows.add((number, cat, cand.name))
        if approve:
            read.approvals[cat][number].add(cand.name)
    return read


def _find_candidate(plan: Plan, units: UnitDirectory, pool: list[Candidate], text: str) -> Candidate | None:
    """A nominee as written on a ballot: by name, or a member unit by code or usual spelling."""
    by_key = {match_key(c.name): c for c in pool}
    cand = by_key.get(match_key(text))
    if cand is None and (code := units.resolve(text)):
        name = plan.unit(code).name
        cand = next((c for c in pool if c.name == name), None)
    return cand


def _reject_over_quota(plan: Plan, award: Award, pool: list[Candidate], read: Ballots) -> None:
    """A ballot approving more candidates of a block than its quota is invalid for the title."""
    cat = award.title
    for number, chosen in read.approvals[cat].items():
        if number in read.bad[cat]:
            continue
        for block, quota in award.quotas.items():
            in_block = [n for n in chosen if block == ALL_BLOCKS or _block_of(pool, n) == block]
            if len(in_block) > quota:
                which = "" if block == ALL_BLOCKS else f" {plan.block_name(block)}"
                read.reject(number, cat, f"chọn {len(in_block)} ứng viên{which}, quá số được chọn ({quota})")


def _count_award(
    plan: Plan, award: Award, pool: list[Candidate], read: Ballots, of: int
) -> tuple[list[Result], list[dict[str, Any]]]:
    """Votes per candidate of each block, against the threshold, selected within the quota;
    ties at a quota's edge for a re-vote."""
    cat = award.title
    valid = read.valid(cat)
    results, ties = [], []
    blocks: dict[str, int | None] = dict(award.quotas) or {ALL_BLOCKS: None}
    for block, quota in blocks.items():
        members = [c for c in pool if block == ALL_BLOCKS or c.block == block]
        votes = {c.name: sum(c.name in read.approvals[cat][b] for b in valid) for c in members}
        result = Result(cat, block, quota, of)
        ranked = sorted(members, key=lambda c: -votes[c.name])
        passing = [c for c in ranked if _passes(plan, votes[c.name], of)]
        selected, tied = _within_quota(passing, votes, quota)
        result.candidates = [
            {
                "unit_name": c.name,
                "votes": votes[c.name],
                "of": of,
                "passed": c in passing,
                "selected": c in selected,
            }
            for c in ranked
        ]
        ties += [{"category": cat, "block": block, "unit_name": c.name, "votes": votes[c.name]} for c in tied]
        results.append(result)
    return results, ties


def count(
    plan: Plan, ballots: pd.DataFrame, registrations: pd.DataFrame, units_present: int | None = None
) -> Tally:
    nominees = candidates(plan, registrations)
    read = read_ballots(plan, ballots, nominees)
    present = units_present or plan.voting.units_present
    results: list[Result] = []
    ties: list[dict[str, Any]] = []
    selected_by_title: dict[str, set[str]] = {}
    for award in plan.awards:  # the plan lists the sector flag before the Government flag
        pool = nominees[award.title]
        _reject_over_quota(plan, award, pool, read)
        if award.among:
            winners = selected_by_title.get(award.among, set())
            pool = [c for c in pool if c.name in winners]
        cast = len(read.approvals[award.title])
        of = _denominator(plan, cast, len(read.valid(award.title)), present)
        mine, tied = _count_award(plan, award, pool, read, of)
        results += mine
        ties += tied
        selected_by_title[award.title] = {c["unit_name"] for r in mine for c in r.candidates if c["selected"]}
    cast_by_title = {a.title: len(read.approvals[a.title]) for a in plan.awards}
    # one ballot per member unit present: more ballots than that means a ballot was entered twice
    most = present or len(plan.units)
    problems = [
        f"{title}: {n} phiếu, nhiều hơn số đơn vị thành viên có thể bỏ phiếu ({most}); "
        "kiểm tra lại việc nhập phiếu"
        for title, n in cast_by_title.items()
        if n > most
    ]
    return Tally(results, read.invalid, ties, cast_by_title, problems)


def _nominee_block(plan: Plan, nominee: str) -> str:
    """The block whose nominee prefix the name starts with; else a person (advanced models)."""
    for block in plan.blocks:
        if block.nominee_prefix and match_key(nominee).startswith(match_key(block.nominee_prefix)):
            return block.id
    return ALL_BLOCKS


def _block_of(pool: list[Candidate], name: str) -> str:
    return next(c.block for c in pool if c.name == name)


def _denominator(plan: Plan, cast: int, valid: int, units_present: int | None) -> int:
    rule = plan.voting.denominator
    if rule == "valid_ballots":
        return valid
    if rule == "member_units":
        return len(plan.units)
    return units_present or cast  # units_present: one ballot per member unit present


def _passes(plan: Plan, votes: int, of: int) -> bool:
    if plan.voting.threshold == "at_least_half":
        return of > 0 and 2 * votes >= of
    return 2 * votes > of


def _within_quota(
    passing: list[Any], votes: Mapping[str, int], quota: int | None
) -> tuple[list[Any], list[Any]]:
    """Selected within the quota; a tie straddling the quota's edge is sent to a re-vote."""
    if quota is None or len(passing) <= quota:
        return passing, []
    edge = votes[passing[quota - 1].name] if quota > 0 else None
    above = [c for c in passing if edge is None or votes[c.name] > edge]
    at_edge = [c for c in passing if edge is not None and votes[c.name] == edge]
    if len(above) + len(at_edge) <= quota:
        return above + at_edge, []
    return above, at_edge
