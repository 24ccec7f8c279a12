"""The year's plan as validated data (config/plan-YYYY.yaml)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, model_validator

from tasks.text import match_key


class PlanError(Exception):
    """The plan file cannot be used; `problems` are full sentences naming file and key."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(f"{self.path}: {p}" for p in problems))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Requirement(StrEnum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    DOSSIER = "dossier"  # required only from units that registered for a title needing one


class Document(Strict):
    kind: str
    requirement: Requirement = Requirement.REQUIRED
    max_pages: int | None = Field(default=None, gt=0)
    aliases: list[str] = []


class Period(Strict):
    start: dt.date
    end: dt.date


class Milestone(Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    owed_by: Literal["units", "area", "inspection-teams"]
    deadline: dt.date | None = None
    period: Period | None = None
    submit_to: list[Literal["head", "deputy"]] = []
    documents: list[Document] = []

    @property
    def units_owe(self) -> bool:
        return self.owed_by == "units"

    def document(self, kind: str) -> Document | None:
        key = match_key(kind)
        for doc in self.documents:
            if key in {match_key(doc.kind), *(match_key(a) for a in doc.aliases)}:
                return doc
        return None


class AreaObligation(Strict):
    id: str
    name: str
    deadline: dt.date | None = None
    after_milestone: str | None = None
    days_after: int | None = Field(default=None, ge=0)
    about: str | None = None  # the milestone whose submissions the area compiles for it

    @model_validator(mode="after")
    def _one_anchor(self) -> AreaObligation:
        if (self.deadline is None) == (self.after_milestone is None):
            raise ValueError("give either 'deadline' or 'after_milestone' with 'days_after'")
        return self


class Contact(Strict):
    name: str
    title: str
    role: Literal["head", "deputy"]
    unit: str
    phone: str = ""
    email: EmailStr
    active: bool = True


class Unit(Strict):
    code: str = Field(pattern=r"^[A-Z0-9-]+$")
    name: str
    block: Literal["so-tu-phap", "cuc-thads"]
    province: str
    email: EmailStr
    aliases: list[str] = []

    def spellings(self) -> list[str]:
        """Every way the sheet may name this unit: code, official name, usual abbreviations."""
        short = {
            "so-tu-phap": [f"Sở Tư pháp {self.province}", f"STP {self.province}"],
            "cuc-thads": [f"Cục THADS tỉnh {self.province}", f"Cục THADS {self.province}"],
        }[self.block]
        return [self.code, self.name, *short, *self.aliases]


class Report(Strict):
    """A compiled area report: its milestone, and the obligation towards Vụ TĐKT it serves."""

    kind: Literal["midyear", "yearend"]
    name: str
    milestone: str
    obligation: str


class Indicator(Strict):
    name: str
    aggregate: Literal["sum", "mean"] = "sum"  # a rate is averaged over units, a count summed


class Reminders(Strict):
    send_time: dt.time = dt.time(8, 0)
    before_days: list[int] = [7, 3, 1]
    overdue_days: list[int] = [1, 3]


class Title(Strict):
    name: str
    needs_dossier: bool = False


class Award(Strict):
    title: str
    quotas: dict[str, int] = {}
    among: str | None = None


class Voting(Strict):
    threshold: Literal["more_than_half", "at_least_half"] = "more_than_half"
    # units_present: ballots cast (one per member unit present) unless `units_present` is given
    denominator: Literal["units_present", "member_units", "valid_ballots"] = "units_present"
    units_present: int | None = Field(default=None, gt=0)
    tie_at_quota_edge: Literal["revote"] = "revote"


class Leadership(Strict):
    head_unit: str
    deputy_units: list[str]
    signer_title: str
    signer_name: str


class Plan(Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    year: int = Field(ge=2000, le=2100)
    title: str
    document_number: str
    area_name: str
    area_short_name: str
    timezone: str = "Asia/Ho_Chi_Minh"
    deadline_rule: Literal["before_day", "end_of_day"] = "before_day"
    extra_days_off: list[dt.date] = []
    reminders: Reminders = Reminders()
    submission_instructions: str = ""
    titles: list[Title] = []
    milestones: list[Milestone]
    area_obligations: list[AreaObligation] = []
    reports: list[Report] = []
    indicators: list[Indicator] = []  # how the Số liệu tab's indicators add up; unlisted: sum
    contacts: list[Contact]
    leadership: Leadership
    awards: list[Award] = []
    voting: Voting = Voting()
    units: list[Unit]
    header_aliases: dict[str, list[str]] = {}
    spreadsheet: str | None = None  # Google Sheet key or URL (THIDUA_SOURCE overrides)
    sheet_tabs: dict[str, str] = {}  # canonical tab -> its title in the sheet (a Form's tab)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def milestone(self, ident: str) -> Milestone:
        key = match_key(ident)
        for m in self.milestones:
            if key in (match_key(m.id), match_key(m.name)):
                return m
        known = ", ".join(m.id for m in self.milestones)
        raise KeyError(f"không có mốc '{ident}' trong kế hoạch (có: {known})")

    def unit(self, code: str) -> Unit:
        return next(u for u in self.units if u.code == code)

    @property
    def active_contacts(self) -> list[Contact]:
        return [c for c in self.contacts if c.active]

    def due_instant(self, deadline: dt.date) -> dt.datetime:
        """The first instant at which a submission for this deadline is late."""
        day = deadline if self.deadline_rule == "before_day" else deadline + dt.timedelta(days=1)
        return dt.datetime.combine(day, dt.time(0, 0), tzinfo=self.tz)

    def titles_needing_dossier(self) -> set[str]:
        return {match_key(t.name) for t in self.titles if t.needs_dossier}

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        problems: list[str] = []
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"timezone: '{self.timezone}' is not a known time zone")
        for label, values in (
            ("milestones", [m.id for m in self.milestones]),
            ("units (code)", [u.code for u in self.units]),
            ("units (name)", [match_key(u.name) for u in self.units]),
            ("units (email)", [u.email.lower() for u in self.units]),
        ):
            dupes = sorted(v for v, n in Counter(values).items() if n > 1)
            if dupes:
                problems.append(f"{label}: duplicated {', '.join(dupes)}")
        codes = {u.code for u in self.units}
        for i, c in enumerate(self.contacts):
            if c.unit not in codes:
                problems.append(f"contacts[{i}].unit: '{c.unit}' is not a member unit's code")
        lead = self.leadership
        for unit in [lead.head_unit, *lead.deputy_units]:
            if unit not in codes:
                problems.append(f"leadership: '{unit}' is not a member unit's code")
        ids = {m.id for m in self.milestones}
        for i, ob in enumerate(self.area_obligations):
            for key in ("after_milestone", "about"):
                value = getattr(ob, key)
                if value and value not in ids:
                    problems.append(f"area_obligations[{i}].{key}: unknown milestone '{value}'")
        obligations = {o.id for o in self.area_obligations}
        for i, r in enumerate(self.reports):
            if r.milestone not in ids:
                problems.append(f"reports[{i}].milestone: unknown milestone '{r.milestone}'")
            if r.obligation not in obligations:
                problems.append(f"reports[{i}].obligation: unknown area obligation '{r.obligation}'")
        if not any(c.active and c.role == "head" for c in self.contacts):
            problems.append("contacts: no active contact with role 'head'")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _explain(error: ValidationError) -> list[str]:
    problems = []
    for e in error.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (misspelt? see config/plan-2021.yaml for the keys a plan takes)"
        elif e["type"] == "missing":
            msg = "required key is missing"
        problems.append(f"{where}: {msg}")
    return problems


def load_plan(path: Path | str) -> Plan:
    path = Path(path)
    if not path.is_file():
        raise PlanError(path, ["file not found: set THIDUA_PLAN to the plan's path"])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlanError(path, [f"{where}not valid YAML ({problem})"]) from None
    except UnicodeDecodeError:
        raise PlanError(path, ["not UTF-8 text: save the file as UTF-8"]) from None
    if not isinstance(data, dict):
        raise PlanError(path, ["the file must be a mapping of keys (id, year, milestones, …)"])
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanError(path, _explain(exc)) from None
