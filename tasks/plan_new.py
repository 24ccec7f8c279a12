"""Next year's plan from an existing one (`thidua plan new`).

Every fixed date keeps its day and month; relative rules (N days after a milestone, reminder
stages) are kept as they are. The area passes to the Head and Deputies the conference announced
(identity, sender, letterhead, place, signer, Nơi nhận and contacts follow them); what only the new
year can say is left empty and marked `TODO`, never copied from last year: the plan's number and
date of issue, the signer's name, the contacts' people, the swapped days off, the days recorded as
held, the conference's place and team. The new plan points at this year's sheet, not last year's.
The YAML is edited round-trip (ruamel.yaml): order of keys and flow style survive; last year's
comments, which speak of last year, are replaced by Vietnamese ones about the new year.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from tasks.errors import UsageError
from tasks.plan import Plan, PlanError, Unit, load_plan, parse_plan
from tasks.text import match_key


class PlanNewError(UsageError, ValueError):
    """The new plan cannot be made; the message says why and what to do."""


@dataclass
class Rollover:
    text: str  # the new plan file
    plan: Plan  # the new plan, validated
    cleared: list[str]  # keys the coordinator must fill in
    handed_over: bool = False  # --head given: the area passed to the units the conference announced
    old_head: str = ""  # last year's Head unit's name
    reviews: list[str] = field(default_factory=list)  # keys kept but to be re-read for the new year


def same_day(day: dt.date, years: int) -> dt.date:
    """The same day and month `years` later; 29/02 becomes 28/02 in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _shift_dates(node: Any, years: int) -> None:
    for key, value in list(_items(node)):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            node[key] = same_day(value, years)
        else:
            _shift_dates(value, years)


def _items(node: Any) -> Iterable[tuple[Any, Any]]:
    if isinstance(node, CommentedMap):
        return cast(Iterable[tuple[Any, Any]], node.items())
    if isinstance(node, CommentedSeq):
        return enumerate(node)
    return ()
    return ()


def _drop_comments(node: Any) -> None:
    """Last year's comments ("trước ngày 20/6/2021 (a Sunday)") describe last year: dropped."""
    if isinstance(node, (CommentedMap, CommentedSeq)):
        node.ca.comment = None
        node.ca.items.clear()
        node.ca.end = None
    for _, value in list(_items(node)):
        _drop_comments(value)


def _with_year(text: str, old: int, new: int) -> str:
    return re.sub(rf"(?<!\d){old}(?!\d)", str(new), text)


def _member(plan: Plan, text: str, option: str) -> Unit:
    """The member unit a --head/--deputies value names: its code, or its name as the plan spells it."""
    key = match_key(text)
    for unit in plan.units:
        if key in {match_key(s) for s in plan.spellings(unit)}:
            return unit
    codes = ", ".join(u.code for u in plan.units)
    raise PlanNewError(f"{option} '{text}': không phải đơn vị thành viên trong kế hoạch gốc (mã có: {codes})")


def leaders(plan: Plan, head: str | None, deputies: list[str]) -> tuple[Unit, list[Unit]] | None:
    """The units the conference announced, checked: a member Head, member Deputies other than the
    Head and each named once. None when no --head was given."""
    if head is None:
        if deputies:
            raise PlanNewError("--deputies cần đi cùng --head (đơn vị Trưởng năm mới)")
        return None
    chief = _member(plan, head, "--head")
    named = [_member(plan, d, "--deputies") for d in deputies]
    for unit in named:
        if unit.code == chief.code:
            raise PlanNewError(
                f"--deputies: {unit.name} đã là Trưởng (--head); Phó trưởng phải là đơn vị khác"
            )
    codes = [u.code for u in named]
    if len(set(codes)) < len(codes):
        raise PlanNewError("--deputies: một đơn vị được ghi hai lần")
    return chief, named


# Vietnamese comments for the sections a coordinator fills or reviews, about the new year
SECTION_NOTES = {
    "id": "Mã kế hoạch: đặt tên các deployment, artifact và khoá sổ gửi thư; mỗi năm một mã.",
    "legal_bases": "Căn cứ của kế hoạch. TODO: xem lại cho năm {year}: quyết định cử Trưởng, Phó trưởng "
    "năm {year}, kế hoạch phát động của Bộ năm {year}; Luật Thi đua, khen thưởng 2022 (hiệu lực "
    "01/01/2024) thay luật cũ.",
    "identity": "Cách {self_word} tự gọi mình, Trưởng, Phó trưởng và cơ quan cấp trên: mọi thư, văn "
    "bản lấy chữ từ đây. Thư gửi từ đơn vị Trưởng.",
    "letterhead": "Tiêu đề văn bản (Nghị định 30/2020, Phụ lục I). place để trống: tỉnh của đơn vị "
    "Trưởng. TODO: xem lại Nơi nhận (recipients) cho năm {year}.",
    "deadline_rule": "before_day: nộp trước 00 giờ ngày hạn mới là đúng hạn; end_of_day: nhận cả ngày hạn.",
    "day_off_rule": "Hạn rơi vào ngày nghỉ: literal giữ nguyên; civil_code kéo đến hết ngày làm việc "
    "tiếp theo (Bộ luật Dân sự 2015, Điều 148).",
    "reminders": "Các đợt nhắc: số ngày trước hạn và sau hạn, giờ gửi.",
    "titles": "Danh hiệu đơn vị được đăng ký. TODO: xem lại theo quy định hiện hành năm {year}.",
    "milestones": "Các mốc năm {year}: hạn giữ ngày, tháng của năm {old}; sửa theo kế hoạch năm {year}. "
    "held_on: ngày thực tế tổ chức, ghi khi đã diễn ra.",
    "area_obligations": "Việc {self_word} phải làm và báo cáo {superior}: ghi done_on khi đã xong.",
    "reports": "Báo cáo sơ kết, tổng kết của {self_word} do chương trình lập dự thảo.",
    "contacts": "Đầu mối liên hệ năm {year} của đơn vị Trưởng, Phó trưởng. TODO: họ tên, chức vụ, "
    "điện thoại và địa chỉ thư của người được cử.",
    "leadership": "Trưởng, Phó trưởng năm {year} và người ký văn bản.",
    "blocks": "Các khối đơn vị (chỉ tiêu khen thưởng tính theo khối).",
    "awards": "Chỉ tiêu khen thưởng. TODO: xem lại theo quy định hiện hành năm {year}.",
    "voting": "Bình xét, bỏ phiếu tại Hội nghị tổng kết năm {year}: ngày, địa điểm, Tổ kiểm phiếu ghi khi "
    "đã quyết định.",
    "units": "Đơn vị thành viên năm {year}. Sau sắp xếp đơn vị hành chính năm 2025, xem lại tên và danh "
    "sách (thidua check chỉ ra tên cũ); địa chỉ thư .example là địa chỉ giả, thay bằng địa chỉ thật.",
    "header_aliases": "Tên cột khác (ví dụ của Google Form) ứng với cột chuẩn của bảng tính.",
    "spreadsheet": "Bảng tính năm {year}: tệp .xlsx cạnh kế hoạch, hoặc đường dẫn Google Sheet. TODO: tạo "
    "bằng `thidua template --out {sheet}` hoặc ghi đường dẫn Google Sheet của năm {year}.",
}


def roll_forward(
    source: Path, year: int, head: str | None = None, deputies: list[str] | None = None
) -> Rollover:
    """The plan of `year` made from the plan file `source` (PlanError if the source is not a
    valid plan, PlanNewError if the year is not after it or the leaders are not members)."""
    old = load_plan(source)
    if year <= old.year:
        raise PlanNewError(
            f"--year {year}: kế hoạch mới phải sau năm của kế hoạch gốc ({old.year}, {source})"
        )
    if year > old.year + 10:
        raise PlanNewError(f"--year {year}: quá xa năm của kế hoạch gốc ({old.year}); gõ nhầm năm?")
    chosen = leaders(old, head, deputies or [])
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a coordinator's long lines
    data = yaml.load(source.read_text(encoding="utf-8"))
    _drop_comments(data)
    _shift_dates(data, year - old.year)
    data["year"] = year
    for key in ("id", "title"):
        data[key] = _with_year(str(data[key]), old.year, year)
    if data["id"] == old.id:  # an id without its year: give it one, so two years never share a ledger key
        data["id"] = f"{old.id}-{year}"
    cleared: list[str] = []

    def todo(node: CommentedMap, key: str, value: Any, why: str, after: str | None = None) -> None:
        if key in node:
            node[key] = value
        else:
            node.insert(list(node).index(after) + 1 if after in node else len(node), key, value)
        node.yaml_add_eol_comment(f"TODO: {why}", key)
        cleared.append(key)

    todo(data, "document_number", "", f"số của kế hoạch năm mới, ví dụ 12/{old.symbol('KH')}")
    todo(data, "issued", None, "ngày ban hành kế hoạch (YYYY-MM-DD)", after="document_number")
    days_off = CommentedSeq()
    days_off.fa.set_flow_style()
    todo(data, "extra_days_off", days_off, "ngày nghỉ bù, làm bù theo thông báo của Chính phủ năm mới")
    # what happened in the old year is no date of the new one
    for m in data.get("milestones") or []:
        if m.get("held_on"):
            m["held_on"] = None
            cleared.append(f"milestones[{m['id']}].held_on")
    for ob in data.get("area_obligations") or []:
        if ob.get("done_on"):
            ob["done_on"] = None
            cleared.append(f"area_obligations[{ob['id']}].done_on")
        if ob.get("plan_says"):  # "trong tháng 9/2021": the new plan's words are its own
            ob["plan_says"] = _with_year(str(ob["plan_says"]), old.year, year)
    voting = data.get("voting") or {}
    for key, empty in (("day", None), ("counting_team", CommentedSeq()), ("place", None)):
        if voting.get(key):
            voting[key] = empty
            cleared.append(f"voting.{key}")
    sheet = f"bang-tinh-{year}.xlsx"
    data["spreadsheet"] = sheet  # never last year's sheet: its rows would count for this year
    _hand_over(data, old, chosen, cleared)
    words = {
        "year": year,
        "old": old.year,
        "self_word": old.identity.self_word,
        "superior": old.identity.superior_brief,
        "sheet": sheet,
    }
    data.yaml_set_start_comment(
        f"Kế hoạch hoạt động năm {year} của {old.area_name}.\n"
        f"Lập bằng `thidua plan new` từ kế hoạch năm {old.year} ({source.name}); mọi chữ trong thư và "
        "văn bản lấy từ tệp này.\nCác dòng TODO là việc phải điền hoặc xem lại trước khi chạy "
        f"(`thidua check` nhắc lại)."
    )
    for key, note in SECTION_NOTES.items():
        if key in data and key != list(data)[0]:
            data.yaml_set_comment_before_after_key(key, before=note.format(**words))
    out = io.StringIO()
    yaml.dump(data, out)
    text = out.getvalue()
    try:
        plan = parse_plan(text, source)
    except PlanError as exc:
        raise PlanNewError("kế hoạch mới không hợp lệ: " + "; ".join(exc.problems)) from None
    reviews = ["legal_bases", "letterhead.recipients", "titles", "awards", "units"]
    head_name = old.unit(old.leadership.head_unit).name
    return Rollover(
        text, plan, cleared, chosen is not None, head_name, [r for r in reviews if r.split(".")[0] in data]
    )


def _hand_over(
    data: CommentedMap, old: Plan, chosen: tuple[Unit, list[Unit]] | None, cleared: list[str]
) -> None:
    """The area passes to the new Head and Deputies (or, without --head, stays with last year's
    until the author names them): identity's sender, letterhead's place and Nơi nhận, signer and
    contacts follow the leaders; the people are left for the author to name."""
    head, deputies = chosen or (
        old.unit(old.leadership.head_unit),
        [old.unit(c) for c in old.leadership.deputy_units],
    )
    lead = data["leadership"]
    lead["head_unit"] = head.code
    lead["deputy_units"] = CommentedSeq(u.code for u in deputies)
    lead["deputy_units"].fa.set_flow_style()
    if chosen is None:
        lead.yaml_add_eol_comment("TODO: đơn vị Trưởng năm mới (Hội nghị tổng kết công bố)", "head_unit")
        cleared.append("leadership.head_unit")
    for key, why in (
        ("signer_title", "chức vụ người ký của đơn vị Trưởng"),
        ("signer_name", "họ tên người ký"),
    ):
        lead[key] = ""
        lead.yaml_add_eol_comment(f"TODO: {why}", key)
        cleared.append(f"leadership.{key}")
    identity = data["identity"]
    for key in ("sender_name", "sender_address"):
        if key in identity:  # last year's sender: letters come from the new Head's unit
            del identity[key]
    letterhead = data["letterhead"]
    if letterhead.get("place"):
        letterhead["place"] = None  # the new Head unit's province
    recipients = letterhead.get("recipients") or []
    old_deputies = [match_key(old.unit(c).name) for c in old.leadership.deputy_units]
    for i, line in enumerate(recipients):
        if "phó trưởng" in line.lower() or any(d in match_key(line) for d in old_deputies):
            suffix = line.rsplit(" - ", 1)[1] if " - " in line else f"Phó trưởng {old.identity.kind};"
            recipients[i] = f"{', '.join(u.name for u in deputies)} - {suffix}"
    contacts = CommentedSeq()
    for unit, role in [(head, "head"), *((u, "deputy") for u in deputies)]:
        contact = CommentedMap(
            name="",
            title=f"Đầu mối của {unit.name}",
            role=role,
            unit=unit.code,
            phone="",
            email=str(unit.email),
        )
        contact.yaml_add_eol_comment("TODO: họ tên người được cử", "name")
        contact.yaml_add_eol_comment("TODO: địa chỉ thư của người được cử (đang là địa chỉ đơn vị)", "email")
        contacts.append(contact)
    data["contacts"] = contacts
    cleared.append("contacts")
