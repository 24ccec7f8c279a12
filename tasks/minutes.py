"""The vote minutes (Biên bản kiểm phiếu): DOCX and Markdown from a tally."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from tasks.documents import header_context, render_docx
from tasks.markdown import md, md_row
from tasks.nominations import decided, lacking_words
from tasks.plan import Plan, Teller
from tasks.tally import Tally


def threshold_words(plan: Plan) -> str:
    rule = {"more_than_half": "quá một nửa", "at_least_half": "từ một nửa trở lên"}[plan.voting.threshold]
    of = {
        "units_present": "số đơn vị thành viên có mặt (số phiếu phát ra)",
        "member_units": f"tổng số {len(plan.units)} đơn vị thành viên",
        "valid_ballots": "số phiếu hợp lệ",
    }[plan.voting.denominator]
    return f"{rule} {of}"


def rows(
    plan: Plan, tally: Tally, registrations: pd.DataFrame, missing: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """The count as the final report reads it (tasks/nominations.py), a selected candidate's
    missing dossier documents named beside its outcome."""
    out = []
    for d in decided(plan, tally, registrations, missing):
        note = f" ({lacking_words(d['lacking'])})" if d["lacking"] else ""
        out.append({**d, "outcome": d["outcome"] + note})
    return out


def categories(plan: Plan, tally: Tally) -> list[dict[str, Any]]:
    out = []
    for i, award in enumerate(plan.awards, start=1):
        cast = tally.ballots_cast.get(award.title, 0)
        invalid = sum(b["category"] == award.title for b in tally.invalid_ballots)
        out.append(
            {"index": i, "title": award.title, "cast": cast, "valid": cast - invalid, "invalid": invalid}
        )
    return out


def signers(team: list[Teller]) -> dict[str, Any]:
    """The minutes' signatures: the team's leader and secretary side by side, the members below.
    A team not yet named leaves the places blank, to be signed by hand."""
    leader = next((t.name for t in team if t.role == "tổ trưởng"), "")
    secretary = next((t.name for t in team if t.role == "thư ký"), "")
    members = [t.name for t in team if t.role == "thành viên"]
    return {"leader": leader, "secretary": secretary, "members": members}


def minutes_docx(
    plan: Plan,
    tally: Tally,
    day: dt.date,
    out: Path,
    counted: list[dict[str, Any]],
    team: list[Teller] | None = None,
    made: dt.datetime | None = None,
) -> Path:
    """The minutes of the count held on `day`, written at `made` (the file's properties)."""
    header = header_context(plan, day, "BB")
    place = plan.voting.place or header["place"]
    context = {
        **header,
        "place": place,  # the conference's place, in the header's place-and-date line too
        **signers(plan.voting.counting_team if team is None else team),
        "threshold_words": threshold_words(plan),
        "categories": categories(plan, tally),
        "rows": counted,
        "invalid": tally.invalid_ballots,
        "problems": tally.problems,
        "ties": [{**t, "block": plan.block_name(t["block"]), "name": t["unit_name"]} for t in tally.ties],
    }
    title = f"Biên bản kiểm phiếu bình xét, suy tôn danh hiệu thi đua năm {plan.year}"
    when = made or dt.datetime.combine(day, dt.time(12), tzinfo=plan.tz)
    return render_docx("bien-ban-kiem-phieu.docx", context, out, plan, title, when)


def minutes_markdown(
    plan: Plan, tally: Tally, day: dt.date, counted: list[dict[str, Any]], team: list[Teller] | None = None
) -> str:
    lines = [f"# Biên bản kiểm phiếu năm {plan.year}", "", f"Ngưỡng đạt: {threshold_words(plan)}.", ""]
    who = signers(plan.voting.counting_team if team is None else team)
    named = [
        f"tổ trưởng {who['leader']}" if who["leader"] else "",
        f"thư ký {who['secretary']}" if who["secretary"] else "",
    ]
    named += [f"thành viên {m}" for m in who["members"]]
    signed = ", ".join(md(n) for n in named if n) or "chưa có tên (xem `thidua tally --to-kiem-phieu`)"
    lines += [f"Tổ kiểm phiếu ký biên bản: {signed}.", ""]
    for c in categories(plan, tally):
        lines.append(
            f"- {md(c['title'])}: {c['cast']} phiếu, {c['valid']} hợp lệ, {c['invalid']} không hợp lệ"
        )
    lines += ["", "| Danh hiệu | Khối | Ứng viên | Số phiếu | Kết quả |", "|---|---|---|---|---|"]
    lines += [md_row(r["category"], r["block"], r["name"], r["votes"], r["outcome"]) for r in counted]
    if tally.problems:
        lines += ["", "## Cần kiểm tra", ""] + [f"- {md(p)}" for p in tally.problems]
    if tally.invalid_ballots:
        lines += ["", "## Phiếu không hợp lệ", ""]
        lines += [
            f"- Phiếu số {md(b['number'])} ({md(b['category'])}): {md(b['reason'])}"
            for b in tally.invalid_ballots
        ]
    if tally.ties:
        lines += ["", "## Đề nghị bỏ phiếu lại", ""]
        for t in tally.ties:
            block = plan.block_name(t["block"])
            lines.append(f"- {md(t['category'])}, {md(block)}: {md(t['unit_name'])} ({t['votes']} phiếu)")
    return "\n".join(lines) + "\n"
