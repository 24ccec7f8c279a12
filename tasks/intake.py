"""Documents units e-mail to the Head and Deputies, as the plan tells them to, recognised from the
plan alone: the sender's address (or the unit's name in subject or body) gives the unit, the
attachments' names (and a Word file's title) give the document and its milestone, the message's
Date the submission time, the attached PDF/DOCX its page count. What cannot be recognised is
listed with why; nothing is dropped. Bodies are read as text, HTML is never rendered, and an
attachment is opened by nothing but the page counter."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from tasks.mail_parse import parse_message
from tasks.normalise import MAIL
from tasks.pages import office_part, pages_in
from tasks.plan import Document, Milestone, Plan
from tasks.text import contains_words, match_key, plain_words

if TYPE_CHECKING:
    from tasks.intake_store import Stored

ARCHIVES = {".zip", ".rar", ".7z", ".gz", ".tar"}
# what an attachment's first bytes must be for the type its name says
SIGNATURES = {".pdf": (b"%PDF",), ".docx": (b"PK",), ".xlsx": (b"PK",), ".odt": (b"PK",), ".ods": (b"PK",)}
SIGNATURES |= {".doc": (b"\xd0\xcf\x11\xe0",), ".xls": (b"\xd0\xcf\x11\xe0",)}
ZIP_MAX_UNPACKED = 200 * 1024 * 1024  # an office file that unpacks to more is not a document
ZIP_MAX_RATIO = 200  # nor one that compresses like a zip bomb
ZIP_MAX_ENTRIES = 5_000
MB = 1024 * 1024
SETTLE = (
    "Xử lý một thư chưa nhận ra: thêm địa chỉ người gửi vào also_from của đơn vị trong kế hoạch, hoặc "
    "nhập một dòng vào trang tính Nộp hồ sơ, ghi Message-ID của thư vào cột Ghi chú."
)
NO_DATE = "thư không có ngày gửi (Date, Received)"
_TITLE = re.compile(rb"<dc:title>([^<]{1,300})</dc:title>")
_FORWARD_MARK = re.compile(r"(forwarded message|original message|thư chuyển tiếp|chuyển tiếp)", re.I)
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|tl|chuyển tiếp)\s*:", re.I)
_HEADER_LINE = re.compile(r"^\s*[>*]*\s*(from|từ|người gửi|date|sent|ngày|đã gửi)\s*:\s*(.+)$", re.I | re.M)


@dataclass(frozen=True)
class MailDocument:
    """One document found in one message: a submission beside the sheet's rows."""

    unit: str
    milestone: str
    kind: str
    submitted_at: dt.datetime
    pages: int | None
    file_name: str
    sha256: str
    sender: str
    message_id: str
    inspected: str = ""

    @property
    def origin(self) -> str:
        return f"{MAIL} của {self.sender}, {self.message_id}"


@dataclass
class Unrecognised:
    """A message (or part of one) that counts for nothing until a coordinator settles it."""

    sender: str
    subject: str
    date: str
    attachments: list[str]
    reasons: list[str]
    message_id: str
    mailbox: str

    def line(self) -> str:
        """The message as a coordinator looks for it, why it is not counted, and the Message-ID a
        sheet row quotes to settle it."""
        files = ", ".join(self.attachments) or "không có tệp đính kèm"
        return (
            f"{self.date or 'không rõ ngày'} — {self.sender or 'không rõ người gửi'} — “{self.subject}” "
            f"({files}): {'; '.join(self.reasons)} [Message-ID {self.message_id}]"
        )


@dataclass
class IntakeResult:
    documents: list[MailDocument] = field(default_factory=list)
    unrecognised: list[Unrecognised] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # mailboxes that could not be read, and why
    mailboxes: list[str] = field(default_factory=list)
    fetched: int = 0  # new messages read by this run
    outside: int = 0  # messages dated outside the plan's year, not considered
    settled: int = 0  # unrecognised messages a row of the sheet names by Message-ID


def _date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        moment = None
    if moment is not None:
        return moment
    # a forwarded header as Vietnamese mail clients write it: "Ngày: 14/06/2027 09:30" (local time)
    found = re.search(r"(\d{1,2})/(\d{1,2})/(\d{4})\D{1,12}(\d{1,2}):(\d{2})", value)
    if found:
        day, month, year, hour, minute = (int(g) for g in found.groups())
        with contextlib.suppress(ValueError):
            return dt.datetime(year, month, day, hour, minute)
    return None


def sent_at(msg: EmailMessage) -> dt.datetime | None:
    """The message's Date, else the date of its first (topmost) Received header."""
    moment = _date(str(msg["Date"])) if msg["Date"] else None
    if moment is None:
        for received in msg.get_all("Received") or []:
            moment = _date(str(received).rpartition(";")[2].strip())
            if moment is not None:
                break
    return moment


def _text_body(msg: EmailMessage) -> str:
    """The message's words: its text/plain part, else its HTML with the tags taken out (the HTML
    is never rendered), at most 50,000 characters."""
    part = msg.get_body(("plain",)) if msg.is_multipart() or msg.get_content_type() == "text/plain" else None
    try:
        if part is not None:
            return str(part.get_content())[:50_000]
        part = msg.get_body(("html",))
        if part is not None:
            return html.unescape(re.sub(r"<[^>]*>", " ", str(part.get_content())[:200_000]))[:50_000]
    except (LookupError, UnicodeError, AttributeError):
        return ""
    return ""


def _own_words(body: str) -> str:
    """The sender's own words: quoted lines (a reply's "> …") left out."""
    return "\n".join(line for line in body.splitlines() if not line.lstrip().startswith(">"))


def _name_key(text: str) -> str:
    """A unit's name as the sheet matches it (case, spacing, Unicode form, tone placement),
    punctuation taken out so that it is found inside a sentence."""
    return match_key(re.sub(r"[^\w\s]", " ", text))


class Recogniser:
    """Everything recognition needs from the plan, computed once per run."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.by_address: dict[str, str] = {}
        for u in plan.units:
            for address in (u.email, *u.also_from):
                self.by_address[str(address).lower()] = u.code
        self.contacts = {str(c.email).lower() for c in plan.contacts}
        self.spellings = sorted(
            ((_name_key(s), u.code) for u in plan.units for s in plan.spellings(u)),
            key=lambda pair: -len(pair[0]),
        )
        owed = [m for m in plan.milestones if m.owed_by in ("units", "inspection-teams")]
        self.docs: list[tuple[str, Milestone, Document]] = sorted(
            (
                (plain_words(name), m, d)
                for m in owed
                for d in m.documents
                for name in (d.kind, *d.aliases)
                if plain_words(name)
            ),
            key=lambda t: -len(t[0].split()),
        )
        self.cues = {m.id: {plain_words(m.name), plain_words(m.id.replace("-", " "))} for m in owed}

    def unit_by_address(self, address: str) -> str | None:
        return self.by_address.get(address.lower())

    def units_named(self, text: str) -> list[str]:
        """Member units whose name (or usual spelling) the text contains, longest names first,
        a shorter spelling inside a longer one found not counted twice."""
        key = f" {_name_key(text)} "
        found: list[str] = []
        for spelling, code in self.spellings:
            if spelling and f" {spelling} " in key:
                key = key.replace(f" {spelling} ", " … ")
                if code not in found:
                    found.append(code)
        return found

    def document(self, text: str, hint: str, day: dt.date) -> tuple[Milestone, Document] | str:
        """The (milestone, document) a file name names, or why not. `hint` (the subject) and
        `day` settle a document kind several milestones ask for."""
        words = plain_words(text)
        matches = [(key, m, d) for key, m, d in self.docs if contains_words(words, key)]
        if not matches:
            return "không nhận ra loại hồ sơ"
        longest = len(matches[0][0].split())  # self.docs runs from the longest name down
        milestones = {m.id: (m, d) for key, m, d in matches if len(key.split()) == longest}
        if len(milestones) == 1:
            return next(iter(milestones.values()))
        context = f"{words} {plain_words(hint)}"
        cued = [mid for mid in milestones if any(contains_words(context, c) for c in self.cues[mid])]
        if len(cued) == 1:
            return milestones[cued[0]]
        dated = sorted(
            (m.deadline, mid) for mid, (m, _) in milestones.items() if m.deadline and m.deadline >= day
        )
        if dated:
            return milestones[dated[0][1]]
        names = " hoặc ".join(m.name for m, _ in milestones.values())
        return f"không rõ thuộc mốc nào ({names}): ghi tên mốc vào tên tệp hoặc tiêu đề thư"


def _sniff(name: str, data: bytes, max_bytes: int) -> str | None:
    """Why an attachment is not a document the intake may keep, or None."""
    suffix = PurePosixPath(name.lower()).suffix
    if len(data) > max_bytes:
        return f"tệp '{name}' {len(data) / MB:.0f} MB, vượt giới hạn {max_bytes / MB:.0f} MB"
    if suffix in ARCHIVES:
        return f"tệp nén '{name}' không được mở; đề nghị đơn vị gửi từng văn bản (PDF, DOCX)"
    expected = SIGNATURES.get(suffix)
    if expected is None:
        return f"tệp '{name}' không phải văn bản (PDF, DOC/DOCX, XLS/XLSX, ODT)"
    if not data.startswith(expected):
        return f"tệp '{name}' không phải tệp {suffix[1:].upper()} như tên của nó (nội dung khác loại)"
    if expected == (b"PK",):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                infos = z.infolist()
                unpacked = sum(i.file_size for i in infos)
                packed = max(1, sum(i.compress_size for i in infos))
                if (
                    len(infos) > ZIP_MAX_ENTRIES
                    or unpacked > ZIP_MAX_UNPACKED
                    or unpacked / packed > ZIP_MAX_RATIO
                ):
                    return f"tệp '{name}' giải nén ra {unpacked / MB:.0f} MB: bất thường, không mở"
                if "[Content_Types].xml" not in z.namelist():
                    return f"tệp '{name}' không phải tệp {suffix[1:].upper()} (thiếu cấu trúc văn bản Office)"
        except zipfile.BadZipFile:
            return f"tệp '{name}' hỏng, không mở được"
    return None


def _title(name: str, data: bytes) -> str:
    if PurePosixPath(name.lower()).suffix not in (".docx", ".xlsx"):
        return ""
    found = office_part(data, "docProps/core.xml", _TITLE)
    return found.decode("utf-8", "replace") if found else ""


def _display_name(part: EmailMessage) -> str:
    """The attachment's name as the sender wrote it (RFC 2231 and encoded words decoded), with
    any folder part dropped: it is shown, never used as a path."""
    name = part.get_filename() or ""
    return PurePosixPath(name.replace("\\", "/")).name.strip() or "(không tên)"


@dataclass
class _Reading:
    """One message, as far as it was understood."""

    stored: Stored
    msg: EmailMessage | None = None
    sender: str = ""
    subject: str = ""
    message_id: str = ""
    date: dt.datetime | None = None
    attachments: list[EmailMessage] = field(default_factory=list)
    body: str = ""


def _forwarded(reading: _Reading) -> tuple[str, dt.datetime | None]:
    """The original sender and date of a forwarded message: an attached message, else the
    "From:/Date:" lines a mail client writes above the forwarded text."""
    msg = reading.msg
    assert msg is not None
    for part in msg.iter_attachments():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_content()
            addresses = getaddresses([str(inner["From"] or "")])
            reading.attachments += list(inner.iter_attachments())
            return (addresses[0][1] if addresses else ""), sent_at(inner)
    if not (_FORWARD_MARK.search(reading.body) or _FORWARD_SUBJECT.search(reading.subject)):
        return "", None
    sender, moment = "", None
    for key, value in _HEADER_LINE.findall(reading.body):
        if key.lower() in ("from", "từ", "người gửi") and not sender:
            found = re.search(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", value)
            sender = found.group(0) if found else ""
        elif key.lower() in ("date", "sent", "ngày", "đã gửi") and moment is None:
            moment = _date(value.strip())
    return sender, moment


# recognition results are kept per (plan, message): bump when recognition changes what it finds
RECOGNITION_VERSION = "1"


@dataclass
class _Found:
    """What one message gave: its documents, or why it counts for nothing, or that its date is
    outside the plan's year."""

    documents: list[MailDocument] = field(default_factory=list)
    unrecognised: Unrecognised | None = None
    outside: bool = False

    def to_json(self) -> str:
        documents = [{**asdict(d), "submitted_at": d.submitted_at.isoformat()} for d in self.documents]
        unrecognised = asdict(self.unrecognised) if self.unrecognised else None
        return json.dumps({"documents": documents, "unrecognised": unrecognised, "outside": self.outside})

    @classmethod
    def from_json(cls, text: str) -> _Found:
        data = json.loads(text)
        documents = [
            MailDocument(**{**d, "submitted_at": dt.datetime.fromisoformat(d["submitted_at"])})
            for d in data["documents"]
        ]
        unrecognised = Unrecognised(**data["unrecognised"]) if data["unrecognised"] else None
        return cls(documents, unrecognised, data["outside"])


def recognise(
    plan: Plan,
    messages: list[Stored],
    raw: Callable[[Stored], bytes | None],
    files: Path,
    max_bytes: int,
    cache: Path | None = None,
) -> IntakeResult:
    """The documents the messages carry, and the messages (or attachments) that count for
    nothing, each with why. `files` keeps recognised attachments by content hash; `cache`, what
    each message gave under this very plan (a run then parses only new messages)."""
    result = IntakeResult()
    first, last = plan.window
    plan_key = hashlib.sha256(f"{RECOGNITION_VERSION}{plan.model_dump_json()}".encode()).hexdigest()[:20]
    rec: Recogniser | None = None
    for stored in messages:
        day = _envelope_day(stored, plan)
        if day is not None and not first - dt.timedelta(days=1) <= day <= last + dt.timedelta(days=1):
            result.outside += 1  # years of unrelated mail are not parsed at every run
            continue
        kept = cache / plan_key / f"{stored.sha256}.json" if cache and stored.sha256 else None
        if kept is not None and kept.is_file():
            found = _Found.from_json(kept.read_text(encoding="utf-8"))
        else:
            rec = rec or Recogniser(plan)
            found = _one(rec, stored, raw(stored) if stored.sha256 else None, files, max_bytes)
            if kept is not None:
                kept.parent.mkdir(parents=True, exist_ok=True)
                kept.write_text(found.to_json(), encoding="utf-8")
        result.outside += found.outside
        result.documents += found.documents
        if found.unrecognised:
            result.unrecognised.append(found.unrecognised)
    return result


def _envelope_day(stored: Stored, plan: Plan) -> dt.date | None:
    """The message's day by the server's envelope (its Date header), without parsing it."""
    try:
        moment = dt.datetime.fromisoformat(stored.date)
    except ValueError:
        return None
    return (moment.astimezone(plan.tz) if moment.tzinfo else moment).date()


def _one(rec: Recogniser, stored: Stored, data: bytes | None, files: Path, max_bytes: int) -> _Found:
    plan = rec.plan
    reading = _read(stored, data)
    if reading.msg is None:
        if stored.problem:
            reason = f"máy chủ thư không trả được thư này ({stored.problem}): mở thư trong hộp thư để xem"
        elif data is None:
            reason = f"thư lớn {stored.size / MB:.0f} MB, vượt giới hạn {max_bytes / MB:.0f} MB: không tải về"
        else:
            reason = "không đọc được nội dung thư"
        return _Found(unrecognised=_unrecognised(reading, [reason], plan))
    if reading.date is None:
        return _Found(unrecognised=_unrecognised(reading, [NO_DATE], plan))
    local = reading.date.astimezone(plan.tz) if reading.date.tzinfo else reading.date.replace(tzinfo=plan.tz)
    first, last = plan.window
    if not first <= local.date() <= last:
        return _Found(outside=True)
    documents, reasons = _documents(rec, reading, local, files, max_bytes)
    return _Found(documents, _unrecognised(reading, reasons, plan) if reasons else None)


def _read(stored: Stored, data: bytes | None) -> _Reading:
    reading = _Reading(stored, sender=stored.sender, subject=stored.subject)
    if data is None:
        return reading
    try:
        msg = parse_message(data)
        reading.msg = msg
        addresses = getaddresses([str(msg["From"] or "")])
        reading.sender = (addresses[0][1] if addresses else "") or stored.sender
        reading.subject = str(msg["Subject"] or "")
        reading.message_id = str(msg["Message-ID"] or "").strip()
        reading.date = sent_at(msg)
        reading.attachments = [p for p in msg.iter_attachments() if p.get_content_type() != "message/rfc822"]
        reading.body = _text_body(msg)
    except Exception:  # noqa: BLE001 - a message the parser chokes on is listed, not fatal
        reading.msg = None
    return reading


def _unrecognised(reading: _Reading, reasons: list[str], plan: Plan) -> Unrecognised:
    names = [_display_name(p) for p in reading.attachments]
    moment = reading.date
    if moment is None and reading.stored.date:  # a message not downloaded: the server's envelope
        with contextlib.suppress(ValueError):
            moment = dt.datetime.fromisoformat(reading.stored.date)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=plan.tz)
    if moment is not None and moment.tzinfo:
        moment = moment.astimezone(plan.tz)
    when = moment.strftime("%d/%m/%Y %H:%M") if moment else ""
    return Unrecognised(
        reading.sender,
        reading.subject,
        when,
        names,
        reasons,
        reading.message_id or reading.stored.fingerprint,
        reading.stored.mailbox,
    )


def _unit(rec: Recogniser, reading: _Reading) -> tuple[str | None, str, dt.datetime | None]:
    """(unit code or None, why not, the original date of a forwarded message)."""
    code = rec.unit_by_address(reading.sender)
    if code:
        return code, "", None
    original, original_date = _forwarded(reading)
    if original and rec.unit_by_address(original):
        return rec.unit_by_address(original), "", original_date
    for text in (reading.subject, _own_words(reading.body)):
        named = rec.units_named(text)
        if len(named) == 1:
            return named[0], "", original_date
        if len(named) > 1:
            names = ", ".join(rec.plan.unit_names[c] for c in named[:4])
            return None, f"thư nêu tên nhiều đơn vị ({names}): không biết của đơn vị nào", None
    who = original or reading.sender or "(không rõ)"
    return (
        None,
        f"không nhận ra đơn vị: địa chỉ {who} không có trong kế hoạch, tiêu đề và nội dung thư không nêu "
        "tên đơn vị thành viên",
        None,
    )


def _documents(
    rec: Recogniser, reading: _Reading, local: dt.datetime, files: Path, max_bytes: int
) -> tuple[list[MailDocument], list[str]]:
    code, why, original_date = _unit(rec, reading)
    if code is None:
        return [], [why]
    when = local
    if original_date is not None:  # a coordinator forwarding a unit's mail: the unit's own time
        when = (
            original_date.astimezone(rec.plan.tz)
            if original_date.tzinfo
            else original_date.replace(tzinfo=rec.plan.tz)
        )
    documents, reasons = [], []
    parts = [p for p in reading.attachments if not _decoration(p)]
    if not parts:
        return [], ["thư không có tệp đính kèm là hồ sơ"]
    for part in parts:
        name = _display_name(part)
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        problem = _sniff(name, data, max_bytes)
        if problem:
            reasons.append(problem)
            continue
        found = rec.document(f"{PurePosixPath(name).stem} {_title(name, data)}", reading.subject, when.date())
        if isinstance(found, str):
            reasons.append(f"tệp '{name}': {found}")
            continue
        milestone, document = found
        inspected = ""
        if document.per_inspected_unit:
            others = [u for u in rec.units_named(PurePosixPath(name).stem) if u != code]
            inspected = others[0] if len(others) == 1 else ""
        digest = _keep(files, data)
        documents.append(
            MailDocument(
                unit=code,
                milestone=milestone.id,
                kind=document.kind,
                submitted_at=when,
                pages=pages_in(data),  # the type was checked against the name above
                file_name=name,
                sha256=digest,
                sender=reading.sender,
                message_id=reading.message_id or reading.stored.fingerprint,
                inspected=inspected,
            )
        )
    return documents, reasons


def _decoration(part: EmailMessage) -> bool:
    """A picture in the sender's signature, shown inline: not an attachment the sender chose."""
    return part.get_content_maintype() == "image" and part.get_content_disposition() != "attachment"


def _keep(files: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    path = files / digest
    if not path.exists():
        files.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return digest
