"""Next year's plan from an existing one (`thidua plan new`).

Every fixed date keeps its day and month; relative rules (N days after a milestone, reminder
stages) are kept as they are; what only the new plan can say is cleared for the coordinator to
fill: its number, its date of issue, the swapped days off of the old year. The YAML is edited
round-trip (ruamel.yaml), so the coordinator's comments and the order of keys survive.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from tasks.plan import Plan, PlanError, load_plan, parse_plan


class PlanNewError(ValueError):
    """The new plan cannot be made; the message says why and what to do."""


@dataclass
class Rollover:
    text: str  # the new plan file
    plan: Plan  # the new plan, validated
    cleared: list[str]  # keys the coordinator must fill in


def same_day(day: dt.date, years: int) -> dt.date:
    """The same day and month `years` later; 29/02 becomes 28/02 in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _shift_dates(node: Any, years: int) -> None:
    items = (
        node.items()
        if isinstance(node, CommentedMap)
        else enumerate(node)
        if isinstance(node, CommentedSeq)
        else ()
    )
    for key, value in list(items):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            node[key] = same_day(value, years)
        else:
            _shift_dates(value, years)


def _with_year(text: str, old: int, new: int) -> str:
    return re.sub(rf"(?<!\d){old}(?!\d)", str(new), text)


def roll_forward(source: Path, year: int) -> Rollover:
    """The plan of `year` made from the plan file `source` (PlanError if the source is not a
    valid plan, PlanNewError if the year is not after it)."""
    old = load_plan(source)
    if year <= old.year:
        raise PlanNewError(
            f"--year {year}: kế hoạch mới phải sau năm của kế hoạch gốc ({old.year}, {source})"
        )
    if year > old.year + 10:
        raise PlanNewError(f"--year {year}: quá xa năm của kế hoạch gốc ({old.year}); gõ nhầm năm?")
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a coordinator's long lines
    data = yaml.load(source.read_text(encoding="utf-8"))
    _shift_dates(data, year - old.year)
    data["year"] = year
    for key in ("id", "title"):
        data[key] = _with_year(str(data[key]), old.year, year)
    if data["id"] == old.id:  # an id without its year: give it one, so two years never share a ledger key
        data["id"] = f"{old.id}-{year}"
    cleared = []
    data["document_number"] = ""
    data.yaml_add_eol_comment(
        f"TODO: số của kế hoạch năm mới, ví dụ 12/{old.symbol('KH')}", "document_number"
    )
    cleared.append("document_number")
    if "issued" in data:
        data["issued"] = None
    else:
        data.insert(list(data).index("document_number") + 1, "issued", None)
    data.yaml_add_eol_comment("TODO: ngày ban hành kế hoạch (YYYY-MM-DD)", "issued")
    cleared.append("issued")
    if data.get("extra_days_off"):
        data["extra_days_off"] = CommentedSeq()
        data.yaml_add_eol_comment(
            "TODO: ngày nghỉ bù, làm bù theo thông báo của Chính phủ năm mới", "extra_days_off"
        )
        cleared.append("extra_days_off")
    # what happened in the old year is no date of the new one: recorded days, the conference's
    # day and the team it elected to count the votes start empty
    for m in data.get("milestones") or []:
        if m.get("held_on"):
            m["held_on"] = None
            cleared.append(f"milestones[{m['id']}].held_on")
    voting = data.get("voting") or {}
    for key, empty in (("day", None), ("counting_team", CommentedSeq())):
        if voting.get(key):
            voting[key] = empty
            cleared.append(f"voting.{key}")
    out = io.StringIO()
    yaml.dump(data, out)
    text = out.getvalue()
    try:
        plan = parse_plan(text, source)
    except PlanError as exc:
        raise PlanNewError("kế hoạch mới không hợp lệ: " + "; ".join(exc.problems)) from None
    return Rollover(text, plan, cleared)
