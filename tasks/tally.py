"""Counting the conference's ballots: validation, threshold, quotas per block, ties.

Ballots are secret: a ballot is known by its number only. The candidates of a category are the
nominations of the Đăng ký tab for that title (a unit itself, a Chi cục THADS or a person it
proposes), so a ballot can be checked against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from tasks.normalise import UnitDirectory
from tasks.plan import Plan
from tasks.text import clean, match_key

YES = {"x", "có", "đồng ý", "1", "✓", "v", "true", "yes", "đ"}
NO = {"", "không", "0", "false", "no", "-"}
ALL = "all"
BLOCK_NAMES = {
    "so-tu-phap": "Sở Tư pháp",
    "cuc-thads": "Cục Thi hành án dân sự",
    "chi-cuc-thads": "Chi cục Thi hành án dân sự",
    ALL: "Chung",
}


@dataclass(frozen=True)
class Candidate:
    name: str
    block: str  # so-tu-phap | cuc-thads | chi-cuc-thads | all
    proposed_by: str  # unit code


@dataclass
class Result:
    category: str
    block: str
    quota: int | None
    of: int
    candidates: list[dict] = field(default_factory=list)  # unit_name, votes, of, passed, selected


@dataclass
class Tally:
    results: list[Result]
    invalid_ballots: list[dict]  # number, category, reason
    ties: list[dict]  # category, block, unit_name, votes
    ballots_cast: dict[str, int]
    problems: list[str] = field(default_factory=list)  # the count as a whole needs a look

    def as_json(self) -> dict:
        categories: dict[str, dict] = {}
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
        elif match_key(nominee).startswith(match_key("Chi cục")):
            cand = Candidate(nominee, "chi-cuc-thads", r.unit)
        else:
            cand = Candidate(nominee, ALL, r.unit)  # a person, for advanced models
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


def count(
    plan: Plan, ballots: pd.DataFrame, registrations: pd.DataFrame, units_present: int | None = None
) -> Tally:
    nominees = candidates(plan, registrations)
    units = UnitDirectory(plan)
    titles = {match_key(a.title): a for a in plan.awards}
    invalid: list[dict] = []
    # ballot -> category -> set of approved candidate names; plus ballots seen per category
    approvals: dict[str, dict[str, set[str]]] = {a.title: {} for a in plan.awards}
    bad: dict[str, set[str]] = {a.title: set() for a in plan.awards}

    def reject(number: str, category: str, reason: str) -> None:
        if number not in bad[category]:
            invalid.append({"number": number, "category": category, "reason": reason})
            bad[category].add(number)

    seen_rows: set[tuple[str, str, str]] = set()
    for r in ballots.itertuples():
        number = clean(r.ballot)
        award = titles.get(match_key(r.category))
        if award is None:
            known = "; ".join(a.title for a in plan.awards)
            invalid.append(
                {
                    "number": number,
                    "category": clean(r.category),
                    "reason": f"hạng mục '{clean(r.category)}' không có trong kế hoạch (có: {known})",
                }
            )
            continue
        cat = award.title
        approvals[cat].setdefault(number, set())
        by_key = {match_key(c.name): c for c in nominees[cat]}
        cand = by_key.get(match_key(r.candidate))
        if cand is None:
            code = units.resolve(r.candidate)
            cand = next((c for c in nominees[cat] if code and c.name == plan.unit(code).name), None)
        approve = _approval(r.approve)
        if cand is None:
            reason = f"ứng viên '{clean(r.candidate)}' không có trong danh sách đề nghị {cat}"
            if award.among:
                reason = f"ứng viên '{clean(r.candidate)}' không được đề nghị tặng {award.among}"
            reject(number, cat, reason)
            continue
        if approve is None:
            reject(
                number, cat, f"ô Đồng ý của '{cand.name}' ghi '{clean(r.approve)}' (chỉ ghi x hoặc để trống)"
            )
            continue
        if (number, cat, cand.name) in seen_rows:
            reject(number, cat, f"ứng viên '{cand.name}' được ghi hai lần trên cùng phiếu")
            continue
        seen_rows.add((number, cat, cand.name))
        if approve:
            approvals[cat][number].add(cand.name)

    results: list[Result] = []
    ties: list[dict] = []
    selected_by_title: dict[str, set[str]] = {}
    for award in plan.awards:  # the plan lists the sector flag before the Government flag
        cat = award.title
        pool = nominees[cat]
        if award.among:
            winners = selected_by_title.get(award.among, set())
            pool = [c for c in pool if c.name in winners]
        for number, chosen in approvals[cat].items():
            if number in bad[cat]:
                continue
            for block, quota in award.quotas.items():
                in_block = [n for n in chosen if block == ALL or _block_of(nominees[cat], n) == block]
                if len(in_block) > quota:
                    which = "" if block == ALL else f" {BLOCK_NAMES[block]}"
                    reject(
                        number,
                        cat,
                        f"chọn {len(in_block)} ứng viên{which}, quá số được chọn ({quota})",
                    )
        cast = len(approvals[cat])
        valid = [b for b in approvals[cat] if b not in bad[cat]]
        of = _denominator(plan, cast, len(valid), units_present or plan.voting.units_present)
        blocks = award.quotas or {ALL: None}
        selected_by_title[cat] = set()
        for block, quota in blocks.items():
            members = [c for c in pool if block == ALL or c.block == block]
            votes = {c.name: sum(c.name in approvals[cat][b] for b in valid) for c in members}
            result = Result(cat, block, quota, of)
            ranked = sorted(members, key=lambda c: -votes[c.name])
            passing = [c for c in ranked if _passes(plan, votes[c.name], of)]
            selected, tied = _within_quota(passing, votes, quota)
            for c in ranked:
                result.candidates.append(
                    {
                        "unit_name": c.name,
                        "votes": votes[c.name],
                        "of": of,
                        "passed": c in passing,
                        "selected": c in selected,
                    }
                )
            ties += [
                {"category": cat, "block": block, "unit_name": c.name, "votes": votes[c.name]} for c in tied
            ]
            selected_by_title[cat] |= {c.name for c in selected}
            results.append(result)
    cast = {a.title: len(approvals[a.title]) for a in plan.awards}
    # one ballot per member unit present: more ballots than that means a ballot was entered twice
    most = units_present or plan.voting.units_present or len(plan.units)
    problems = [
        f"{title}: {n} phiếu, nhiều hơn số đơn vị thành viên có thể bỏ phiếu ({most}); "
        "kiểm tra lại việc nhập phiếu"
        for title, n in cast.items()
        if n > most
    ]
    return Tally(results, invalid, ties, cast, problems)


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


def _within_quota(passing, votes, quota):
    """Selected within the quota; a tie straddling the quota's edge is sent to a re-vote."""
    if quota is None or len(passing) <= quota:
        return passing, []
    edge = votes[passing[quota - 1].name] if quota > 0 else None
    above = [c for c in passing if edge is None or votes[c.name] > edge]
    at_edge = [c for c in passing if edge is not None and votes[c.name] == edge]
    if len(above) + len(at_edge) <= quota:
        return above + at_edge, []
    return above, at_edge
