"""The year's plan as validated data (config/plan-YYYY.yaml)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from enum import StrEnum
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator, model_validator

from tasks.addresses import InvalidAddress, smtp_address
from tasks.errors import PlanProblem
from tasks.sheet_key import sheet_url, spreadsheet_key
from tasks.text import match_key


class PlanLookupError(PlanProblem, KeyError):
    """A code or id that the plan does not define; the message names what the plan has."""


class PlanError(PlanProblem):
    """The plan file cannot be used; `problems` are full sentences naming file and key."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [f"{self.path}: {p}" for p in self.problems]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _one_line(cls, value: Any) -> Any:
        """No text of the plan may carry a line break into a mail header or an .ics line, nor be
        longer than any sentence of a plan (a pasted file would fill every letter)."""
        if isinstance(value, str):
            return _short(" ".join(value.splitlines()))
        if isinstance(value, list):
            return [_short(" ".join(v.splitlines())) if isinstance(v, str) else v for v in value]
        return value


MAX_TEXT = 5_000  # characters of one text of the plan: the longest instruction is a few hundred


def _short(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise ValueError(
            f"dài {len(text):,} ký tự, quá {MAX_TEXT:,} (dán nhầm cả một tệp?)".replace(",", ".")
        )
    return text


class Requirement(StrEnum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    DOSSIER = "dossier"  # required only from units that registered for a title needing one


class Document(Strict):
    kind: str
    requirement: Requirement = Requirement.REQUIRED
    max_pages: int | None = Field(default=None, gt=0, le=1000)
    aliases: list[str] = []
    # an inspection team owes one per unit it inspected (a Biên bản kiểm tra), named in the
    # "Đơn vị được kiểm tra" column of Nộp hồ sơ
    per_inspected_unit: bool = False


class Period(Strict):
    start: dt.date
    end: dt.date


SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"  # ids that end up in paths, keys and Message-IDs
ALL_BLOCKS = "all"  # an award quota over every block
TEAM_HEAD_DAYS = 5  # the days a team's default deadline leaves the Head before the area's own
Days = Annotated[int, Field(ge=1, le=90)]  # reminder and overdue rounds: within three months


class Milestone(Strict):
    id: str = Field(pattern=SLUG)
    name: str
    owed_by: Literal["units", "area", "inspection-teams"]
    deadline: dt.date | None = None
    period: Period | None = None
    # the day the area's own event really took place (the launch conference, the end of the
    # inspections, the conference), recorded by a coordinator: deadlines counted "N days after"
    # it use this day instead of the latest one the plan allows
    held_on: dt.date | None = None
    # inspection teams: documents due N days after the team's own last day (that day included);
    # fewer than the area's own "N days after the inspection" report counts, so that the Head
    # has the teams' reports in time to compile it (default: TEAM_HEAD_DAYS fewer)
    days_after_end: int | None = Field(default=None, ge=0, le=365)
    submit_to: list[Literal["head", "deputy"]] = []
    documents: list[Document] = []

    @property
    def units_owe(self) -> bool:
        return self.owed_by == "units"

    @property
    def teams_owe(self) -> bool:
        return self.owed_by == "inspection-teams"

    def document(self, kind: str) -> Document | None:
        key = match_key(kind)
        for doc in self.documents:
            if key in {match_key(doc.kind), *(match_key(a) for a in doc.aliases)}:
                return doc
        return None


class AreaObligation(Strict):
    id: str = Field(pattern=SLUG)
    name: str
    deadline: dt.date | None = None
    after_milestone: str | None = None
    days_after: int | None = Field(default=None, ge=0, le=365)
    about: str | None = None  # the milestone whose submissions the area compiles for it
    done_on: dt.date | None = None  # recorded by a coordinator: no reminder after this day
    # the plan's own words when it sets no day ("trong tháng 9/2021"): the `deadline` is then the
    # area's choice, and letters say so instead of citing the plan for a date it does not give
    plan_says: str | None = None

    @model_validator(mode="after")
    def _one_anchor(self) -> AreaObligation:
        if (self.deadline is None) == (self.after_milestone is None):
            raise ValueError(
                "ghi hoặc 'deadline', hoặc 'after_milestone' cùng 'days_after' (không ghi cả hai)"
            )
        return self


class Contact(Strict):
    # a new year's plan knows the unit, not yet the person: `plan new` leaves the name empty and
    # the title "Đầu mối của <unit>", and `check` asks for them
    name: str = ""
    title: str
    role: Literal["head", "deputy"]
    unit: str
    phone: str = ""
    email: EmailStr
    active: bool = True


class Block(Strict):
    """A group of units assessed together (quotas are per block)."""

    id: str = Field(pattern=SLUG)
    name: str
    short_name: str | None = None  # in narrow places (table headers): "Cục THADS"
    member: bool = True  # False: bodies units may nominate, not member units
    spellings: list[str] = []  # other ways the sheet names a member unit; {province} is filled in
    nominee_prefix: str | None = None  # a nominee whose name starts so belongs to this block

    @field_validator("spellings")
    @classmethod
    def _only_province(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                value.format(province="")
            except (KeyError, IndexError, ValueError):
                raise ValueError(f"'{value}': chỉ được dùng chỗ trống {{province}} (tên tỉnh)") from None
        return values


class Unit(Strict):
    code: str = Field(pattern=r"^[A-Z0-9-]+$")
    name: str
    block: str
    province: str
    email: EmailStr
    aliases: list[str] = []
    # other addresses the unit e-mails from (a clerk's own mailbox): the intake counts them as its
    also_from: list[EmailStr] = []


class Report(Strict):
    """A compiled area report: its milestone, and the obligation towards Vụ TĐKT it serves."""

    kind: Literal["midyear", "yearend"]
    name: str
    milestone: str
    obligation: str
    # the document whose sender's self-score may be shown (a score without it is not ranked)
    scoring_document: str | None = None
    # Nơi nhận of this report (Nghị định 30/2020, Phụ lục I, ô 9); empty: letterhead.recipients
    recipients: list[str] = []


class Indicator(Strict):
    name: str
    aggregate: Literal["sum", "mean"] = "sum"  # a rate is averaged over units, a count summed


class Reminders(Strict):
    send_time: dt.time = dt.time(8, 0)
    before_days: list[Days] = [7, 3, 1]
    overdue_days: list[Days] = [1, 3]


class Title(Strict):
    name: str
    needs_dossier: bool = False


class Award(Strict):
    title: str
    quotas: dict[str, Annotated[int, Field(ge=0, le=10_000)]] = {}
    among: str | None = None


class Teller(Strict):
    """A member of the vote-counting team (Tổ kiểm phiếu), who signs the minutes."""

    name: str = Field(min_length=1)
    role: Literal["tổ trưởng", "thư ký", "thành viên"] = "thành viên"


class Voting(Strict):
    # who counts the votes and signs the minutes; `thidua tally --to-kiem-phieu` may name them
    counting_team: list[Teller] = []
    place: str | None = None  # where the conference meets (default: the Head's province)
    day: dt.date | None = None  # the conference's date, once known (`tally --day` overrides)
    conference: str | None = None  # the milestone whose period holds the conference
    threshold: Literal["more_than_half", "at_least_half"] = "more_than_half"
    # units_present: ballots cast (one per member unit present) unless `units_present` is given
    denominator: Literal["units_present", "member_units", "valid_ballots"] = "units_present"
    units_present: int | None = Field(default=None, gt=0)
    tie_at_quota_edge: Literal["revote"] = "revote"


class Identity(Strict):
    """How the area names itself and its leaders, and whom it answers to: every such word a
    letter or document says comes from here (a Cụm or Khối thi đua, of any sector, has its own)."""

    kind: str = Field(min_length=1)  # Khu vực thi đua | Cụm thi đua | Khối thi đua
    self_word: str = Field(min_length=1)  # in sentences: "hạn của Khu vực", "Toàn Khu vực"
    head: str = Field(min_length=1)  # Trưởng Khu vực thi đua | Cụm trưởng Cụm thi đua số 3
    leaders: str = Field(min_length=1)  # who units send to: "Trưởng, Phó trưởng Khu vực thi đua"
    superior: str = Field(min_length=1)  # the body the area reports to: "Vụ Thi đua - Khen thưởng"
    superior_short: str = ""  # its usual abbreviation in short texts: "Vụ TĐKT"
    # the From of every letter: the Head's unit and its address unless set (THIDUA_MAIL_FROM,
    # when set, is the address the operator's mail server insists on)
    sender_name: str | None = None
    sender_address: EmailStr | None = None

    @property
    def superior_brief(self) -> str:
        return self.superior_short or self.superior


class Letterhead(Strict):
    """The documents' header, symbol, place, signature and Nơi nhận (Nghị định 30/2020, Phụ lục I)."""

    parent: str = ""  # the governing body above the issuer (ô 1), e.g. the ministry, in capitals
    # the issuing body (ô 1): one line the cell wraps, or a list of the lines it is written on
    # (broken where its phrases end); default: the area's name in capitals
    issuer: str | list[str] | None = None
    symbol: str = Field(min_length=1, pattern=r"^\S+$")  # KVTĐ: "Số: 12/BC-KVTĐ"
    place: str | None = None  # ô 4; default: the Head unit's province
    signer_role: str | None = None  # ô 7a; default: `identity.head` in capitals
    recipients: list[str] = []  # Nơi nhận of a document whose report sets none ("Lưu: VT" last)

    @property
    def issuer_lines(self) -> list[str]:
        return [self.issuer] if isinstance(self.issuer, str) else list(self.issuer or [])

    @property
    def issuer_name(self) -> str:
        return " ".join(self.issuer_lines)


class Leadership(Strict):
    head_unit: str
    deputy_units: list[str]
    signer_title: str
    signer_name: str


class Plan(Strict):
    """The year's plan. Lookups by code or id raise PlanLookupError naming what the plan has."""

    id: str = Field(pattern=SLUG)
    year: int = Field(ge=2000, le=2100)
    title: str
    document_number: str = ""  # e.g. 184/KH-KVTĐ; empty until the plan is signed
    issued: dt.date | None = None  # the plan's date of issue
    area_name: str
    area_short_name: str
    identity: Identity
    letterhead: Letterhead
    timezone: str = "Asia/Ho_Chi_Minh"
    deadline_rule: Literal["before_day", "end_of_day"] = "before_day"
    # When a period's last day is a day off: "literal" keeps it (the last working day before it
    # is the real last chance); "civil_code" ends the period at the end of the next working day
    # (Bộ luật Dân sự 2015, Điều 148). Status, overdue rounds and reports all follow it.
    day_off_rule: Literal["literal", "civil_code"] = "literal"
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
    blocks: list[Block]
    awards: list[Award] = []
    voting: Voting = Voting()
    units: list[Unit]
    header_aliases: dict[str, list[str]] = {}
    # the documents the plan is based on ("Căn cứ …"), as the plan cites them; reviewed each year
    legal_bases: list[str] = []
    # Google Sheet key or URL, or a .xlsx workbook beside the plan (THIDUA_SOURCE overrides)
    spreadsheet: str | None = None
    # where a unit clerk submits: the Form feeding the sheet, or the sheet itself (default)
    submission_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    sheet_tabs: dict[str, str] = {}  # canonical tab -> its title in the sheet (a Form's tab)
    # where units see their own status: a tab of the shared sheet (written by thidua alone), and,
    # for a workbook source, the web address where the office publishes `<data dir>/status/`
    status_tab: str = Field(default="Tình trạng nộp hồ sơ", min_length=1, max_length=100)
    status_url: str | None = Field(default=None, pattern=r"^https?://\S+$")

    @property
    def citation(self) -> str | None:
        """'Kế hoạch số 184/KH-KVTĐ ngày 28/02/2021 của …', or None while number or date are unknown."""
        if not self.document_number or self.issued is None:
            return None
        return f"Kế hoạch số {self.document_number} ngày {self.issued:%d/%m/%Y} của {self.area_name}"

    def cited_on(self, day: dt.date) -> str | None:
        """The citation for something written on `day`: none before the plan was issued."""
        return self.citation if self.issued is not None and day >= self.issued else None

    @property
    def sender(self) -> tuple[str, str]:
        """(name, address) every letter is from: the Head's unit unless the plan names another."""
        head = self.unit(self.leadership.head_unit)
        return self.identity.sender_name or head.name, str(self.identity.sender_address or head.email)

    @property
    def submission_link(self) -> str | None:
        """The one link every unit mail offers: the plan's Form or the shared Google Sheet."""
        if self.submission_url:
            return self.submission_url
        spec = (self.spreadsheet or "").strip()
        if spec.startswith(("https://", "http://")):
            return spec
        key = spreadsheet_key(spec)  # a bare key, as the source reads it
        return sheet_url(key) if key else None

    @property
    def place(self) -> str:
        return self.letterhead.place or self.unit(self.leadership.head_unit).province

    def recipients(self, report_kind: str | None = None) -> list[str]:
        """Nơi nhận of a report (its own, else the letterhead's) or of another document."""
        own = self.report(report_kind).recipients if report_kind else []
        return own or self.letterhead.recipients

    def symbol(self, document_type: str) -> str:
        """'BC-KVTĐ' for a report (BC) of this area."""
        return f"{document_type}-{self.letterhead.symbol}"

    @property
    def label(self) -> str:
        """How the CLI names the plan: its number, or its title while it has none."""
        return self.document_number or self.title

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def window(self) -> tuple[dt.date, dt.date]:
        """The days a submission or a message may belong to this plan: its year, from 1 November
        before (early registrations) to 31 January after (late year-end documents). Anything
        dated outside is another year's and never counted."""
        return dt.date(self.year - 1, 11, 1), dt.date(self.year + 1, 1, 31)

    def milestone(self, ident: str) -> Milestone:
        key = match_key(ident)
        for m in self.milestones:
            if key in (match_key(m.id), match_key(m.name)):
                return m
        known = ", ".join(m.id for m in self.milestones)
        raise PlanLookupError(f"không có mốc '{ident}' trong kế hoạch (có: {known})")

    def unit(self, code: str) -> Unit:
        unit = self._units_by_code.get(code)
        if unit is None:
            raise PlanLookupError(f"không có đơn vị mã '{code}' trong kế hoạch")
        return unit

    @cached_property
    def _units_by_code(self) -> dict[str, Unit]:
        return {u.code: u for u in self.units}

    @cached_property
    def unit_names(self) -> dict[str, str]:
        """Unit code -> official name."""
        return {u.code: u.name for u in self.units}

    def unit_named(self, name: str) -> Unit | None:
        """The member unit with exactly this official name, if any."""
        return next((u for u in self.units if u.name == name), None)

    def spellings(self, unit: Unit) -> list[str]:
        """Every way the sheet may name a unit: code, official name, the block's usual
        abbreviations, and the unit's own aliases."""
        short = [s.format(province=unit.province) for s in self.block(unit.block).spellings]
        return [unit.code, unit.name, *short, *unit.aliases]

    def block(self, ident: str) -> Block:
        for b in self.blocks:
            if b.id == ident:
                return b
        known = ", ".join(b.id for b in self.blocks)
        raise PlanLookupError(f"không có khối '{ident}' trong kế hoạch (có: {known})")

    def block_name(self, ident: str) -> str:
        return "Chung" if ident == ALL_BLOCKS else self.block(ident).name

    def block_short_name(self, ident: str) -> str:
        block = self.block(ident)
        return block.short_name or block.name

    @property
    def member_blocks(self) -> list[Block]:
        return [b for b in self.blocks if b.member]

    def obligation(self, ident: str) -> AreaObligation:
        for ob in self.area_obligations:
            if ob.id == ident:
                return ob
        known = ", ".join(o.id for o in self.area_obligations) or "(không có)"
        raise PlanLookupError(
            f"không có nhiệm vụ chung (area_obligations) '{ident}' trong kế hoạch (có: {known})"
        )

    def report(self, kind: str) -> Report:
        for r in self.reports:
            if r.kind == kind:
                return r
        known = ", ".join(r.kind for r in self.reports) or "(không có)"
        raise PlanLookupError(f"loại báo cáo '{kind}' không có trong kế hoạch (có: {known})")

    def report_title(self, kind: str) -> str:
        """The report as it is written, with its year: '… khen thưởng năm 2021'."""
        return f"{self.report(kind).name} {self.year}"

    def title_named(self, name: str) -> Title | None:
        return next((t for t in self.titles if match_key(t.name) == match_key(name)), None)

    @property
    def flag_award(self) -> Award | None:
        """The award decided by quotas per block (the sector flag)."""
        return next((a for a in self.awards if a.quotas and not a.among), None)

    @property
    def award_among_flag(self) -> Award | None:
        """The award chosen among another award's winners (the Government flag)."""
        return next((a for a in self.awards if a.among), None)

    def area_report_on(self, milestone: Milestone) -> AreaObligation | None:
        """The area's own report counted from this milestone's end (the inspection's: "chậm nhất là
        10 ngày sau khi kết thúc kiểm tra")."""
        return next((o for o in self.area_obligations if o.after_milestone == milestone.id), None)

    def team_days(self, milestone: Milestone) -> int:
        """How many days after its own last day a team's documents are due: the plan's setting,
        else TEAM_HEAD_DAYS fewer than the area's report counted from the same end."""
        if milestone.days_after_end is not None:
            return milestone.days_after_end
        area = self.area_report_on(milestone)
        return max(1, (area.days_after or 0) - TEAM_HEAD_DAYS) if area and area.days_after else 0

    @property
    def conference_milestone(self) -> Milestone | None:
        """The milestone the conference is held in (`voting.conference`), if the plan has it."""
        return next((m for m in self.milestones if m.id == self.voting.conference), None)

    @property
    def conference_recorded(self) -> dt.date | None:
        """The day the conference is recorded as held: its milestone's `held_on`, else the day
        `voting.day` fixes for it; None while neither is written (the period's start is only the
        earliest it may be, never a record that it took place)."""
        held_in = self.conference_milestone
        return (held_in.held_on if held_in else None) or self.voting.day

    @property
    def active_contacts(self) -> list[Contact]:
        return [c for c in self.contacts if c.active]

    def titles_needing_dossier(self) -> set[str]:
        return {match_key(t.name) for t in self.titles if t.needs_dossier}

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        problems: list[str] = []
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"timezone: '{self.timezone}' không phải múi giờ (viết Asia/Ho_Chi_Minh)")
        for label, values in (
            ("milestones (id)", [m.id for m in self.milestones]),
            ("units (code)", [u.code for u in self.units]),
            ("units (name)", [match_key(u.name) for u in self.units]),
            ("units (email)", [u.email.lower() for u in self.units]),
        ):
            dupes = sorted(v for v, n in Counter(values).items() if n > 1)
            if dupes:
                problems.append(f"{label}: trùng {', '.join(dupes)}")
        addresses = [(f"units[{i}].email", u.email) for i, u in enumerate(self.units)]
        addresses += [(f"contacts[{i}].email", c.email) for i, c in enumerate(self.contacts)]
        for key, address in addresses:
            try:
                smtp_address(str(address))
            except InvalidAddress as exc:
                problems.append(f"{key}: {exc}")
        codes = {u.code for u in self.units}
        for i, c in enumerate(self.contacts):
            if c.unit not in codes:
                problems.append(f"contacts[{i}].unit: '{c.unit}' không phải mã của một đơn vị thành viên")
        lead = self.leadership
        for unit in [lead.head_unit, *lead.deputy_units]:
            if unit not in codes:
                problems.append(f"leadership: '{unit}' không phải mã của một đơn vị thành viên")
        blocks = {b.id for b in self.blocks}
        for i, u in enumerate(self.units):
            if u.block not in {b.id for b in self.member_blocks}:
                known = ", ".join(b.id for b in self.member_blocks)
                problems.append(
                    f"units[{i}].block: '{u.block}' không phải khối của đơn vị thành viên (có: {known})"
                )
        for i, award in enumerate(self.awards):
            for block in award.quotas:
                if block not in blocks | {ALL_BLOCKS}:
                    problems.append(
                        f"awards[{i}].quotas: '{block}' không phải mã khối (hoặc '{ALL_BLOCKS}' cho "
                        f"toàn {self.identity.self_word})"
                    )
        for m in self.milestones:
            area = self.area_report_on(m) if m.teams_owe else None
            if area and area.days_after is not None and self.team_days(m) >= area.days_after:
                problems.append(
                    f"milestones[{m.id}].days_after_end: {self.team_days(m)} ngày sau khi đoàn kết thúc "
                    f"kiểm tra, không sớm hơn hạn {self.identity.self_word} báo cáo "
                    f"(area_obligations[{area.id}]: "
                    f"{area.days_after} ngày sau khi kết thúc kiểm tra); hạn của đoàn phải sớm hơn để "
                    f"{self.identity.leaders} kịp tổng hợp, ví dụ "
                    f"{max(1, area.days_after - TEAM_HEAD_DAYS)} ngày"
                )
        ids = {m.id for m in self.milestones}
        for i, ob in enumerate(self.area_obligations):
            for key in ("after_milestone", "about"):
                value = getattr(ob, key)
                if value and value not in ids:
                    problems.append(f"area_obligations[{i}].{key}: không có mốc '{value}'")
        obligations = {o.id for o in self.area_obligations}
        for both in sorted(obligations & ids):
            problems.append(f"area_obligations: id '{both}' trùng mã một mốc; đặt mã khác để không nhầm đợt")
        for i, r in enumerate(self.reports):
            if r.milestone not in ids:
                problems.append(f"reports[{i}].milestone: không có mốc '{r.milestone}'")
            if r.obligation not in obligations:
                problems.append(
                    f"reports[{i}].obligation: không có nhiệm vụ chung (area_obligations) '{r.obligation}'"
                )
            milestone = next((m for m in self.milestones if m.id == r.milestone), None)
            if r.scoring_document and milestone and milestone.document(r.scoring_document) is None:
                problems.append(
                    f"reports[{i}].scoring_document: mốc {r.milestone} không có '{r.scoring_document}'"
                )
        if self.voting.conference and self.voting.conference not in ids:
            problems.append(f"voting.conference: không có mốc '{self.voting.conference}'")
        problems += self._dates_outside_the_year()
        problems += self._colliding_spellings()
        if not any(c.active and c.role == "head" for c in self.contacts):
            problems.append(
                "contacts: không có đầu mối đang hoạt động nào có role 'head' (đầu mối của Trưởng)"
            )
        if problems:
            raise ValueError("\n".join(problems))  # one problem a line: _explain lists each
        return self

    def _dates_outside_the_year(self) -> list[str]:
        """A date more than a year away from the plan's is a typing error (1/1/0001, 9999)."""
        dated: list[tuple[str, dt.date | None]] = []
        for m in self.milestones:
            dated.append((f"milestones[{m.id}].deadline", m.deadline))
            if m.period:
                dated += [
                    (f"milestones[{m.id}].period.start", m.period.start),
                    (f"milestones[{m.id}].period.end", m.period.end),
                ]
        dated += [(f"area_obligations[{o.id}].deadline", o.deadline) for o in self.area_obligations]
        dated += [(f"extra_days_off[{i}]", d) for i, d in enumerate(self.extra_days_off)]
        return [
            f"{key}: {day:%d/%m/%Y} cách năm kế hoạch {self.year} hơn một năm (gõ nhầm năm?)"
            for key, day in dated
            if day is not None and abs(day.year - self.year) > 1
        ]

    def _colliding_spellings(self) -> list[str]:
        """An alias naming another unit (its code, name, usual abbreviation or alias) would
        silently give it that unit's submissions."""
        owner: dict[str, str] = {}
        known = {b.id for b in self.blocks}
        units = [u for u in self.units if u.block in known]  # an unknown block is reported already
        for unit in units:
            for spelling in self.spellings(unit)[: -len(unit.aliases) or None]:
                owner.setdefault(match_key(spelling), unit.code)
        problems = []
        for unit in units:
            for alias in unit.aliases:
                other = owner.setdefault(match_key(alias), unit.code)
                if other != unit.code:
                    problems.append(
                        f"units[{unit.code}].aliases: '{alias}' đã là cách gọi của đơn vị {other}; "
                        "mỗi cách gọi chỉ được chỉ một đơn vị"
                    )
        return problems


# pydantic's own words for the usual mistakes, as a coordinator editing the YAML reads them
_PYDANTIC_WORDS = {
    "extra_forbidden": "khoá không có trong mẫu kế hoạch (gõ sai? xem các khoá trong config/plan-2021.yaml)",
    "missing": "thiếu khoá bắt buộc",
    "date_from_datetime_parsing": "không phải ngày (viết YYYY-MM-DD, ví dụ 2021-06-20)",
    "date_parsing": "không phải ngày (viết YYYY-MM-DD, ví dụ 2021-06-20)",
    "date_type": "không phải ngày (viết YYYY-MM-DD, ví dụ 2021-06-20)",
    "time_parsing": "không phải giờ (viết HH:MM, ví dụ 08:00)",
    "int_parsing": "phải là số nguyên",
    "int_type": "phải là số nguyên",
    "int_from_float": "phải là số nguyên",
    "bool_parsing": "phải là true hoặc false",
    "string_type": "phải là chữ",
    "list_type": "phải là danh sách",
    "dict_type": "phải là bảng các khoá",
    "model_type": "phải là bảng các khoá",
    "string_pattern_mismatch": "chỉ gồm chữ thường không dấu, số và dấu gạch ngang (ví dụ so-ket)",
}


def error_words(e: Any) -> str:
    """A pydantic error in the Vietnamese a coordinator reads (plans and settings alike)."""
    ctx = e.get("ctx") or {}
    bounds = {
        "greater_than": "phải lớn hơn {gt}",
        "greater_than_equal": "phải từ {ge} trở lên",
        "less_than": "phải nhỏ hơn {lt}",
        "less_than_equal": "không được quá {le}",
        "literal_error": "phải là một trong: {expected}",
    }
    if e["type"] in bounds:
        return bounds[e["type"]].format(**ctx)
    if e["type"] == "value_error" and e["loc"] and e["loc"][-1] == "email":
        return "địa chỉ thư không hợp lệ (" + str(e["msg"]).split(": ", 1)[-1] + ")"
    return _PYDANTIC_WORDS.get(str(e["type"]), str(e["msg"]).removeprefix("Value error, "))


def _explain(error: ValidationError) -> list[str]:
    problems = []
    for e in error.errors():
        where = ".".join(str(p) for p in e["loc"])
        for line in error_words(e).splitlines():
            problems.append(f"{where}: {line}" if where else line)
    return problems


def load_plan(path: Path | str) -> Plan:
    path = Path(path)
    if not path.is_file():
        raise PlanError(path, ["không tìm thấy tệp: đặt THIDUA_PLAN là đường dẫn tới tệp kế hoạch"])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PlanError(path, ["không phải văn bản UTF-8: lưu lại tệp dạng UTF-8"]) from None
    return parse_plan(text, path)


TOO_DEEP = "lồng nhau quá sâu, không thể là một kế hoạch (thừa ngoặc hoặc thụt lề sai?)"

# libyaml's loader when PyYAML was built with it: the pure-Python one spends most of a large
# sector's plan load (0.8 s of 1 s for 1,000 units) scanning tokens.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _YAML_LOADER(_FAST_LOADER):  # type: ignore[misc,valid-type]  # the C or the Python base
    """YAML keeps the last of two equal keys without a word: a plan must say each key once."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[str, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"khoá '{key}' ghi hai lần (dòng {seen[key]} và dòng {key_node.start_mark.line + 1}); "
                    "giữ một, bản sau sẽ đè bản trước",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return cast(dict[str, Any], super().construct_mapping(node, deep=deep))


def parse_plan(text: str, path: Path | str) -> Plan:
    """The plan in `text` (YAML), validated; `path` names it in the problems. The same text is
    parsed once per process (a plan is frozen): a year's replay reads the plan file in each of
    its 48 runs."""
    return _parse_plan(text, str(path))


@lru_cache(maxsize=16)
def _parse_plan(text: str, path: str) -> Plan:
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):  # libyaml's own guard against what RecursionError is below
            raise PlanError(path, [TOO_DEEP]) from None
        mark = getattr(exc, "problem_mark", None)
        where = f"dòng {mark.line + 1}, cột {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlanError(path, [f"{where}không phải YAML hợp lệ ({problem})"]) from None
    except RecursionError:
        raise PlanError(path, [TOO_DEEP]) from None
    if not isinstance(data, dict):
        raise PlanError(path, ["tệp phải là một bảng các khoá (id, year, milestones, …)"])
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanError(path, _explain(exc)) from None
