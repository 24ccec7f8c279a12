"""A composed e-mail -> the exact bytes an SMTP server receives (headers safe, redirect applied)."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from email import encoders
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate

from tasks.addresses import smtp_address
from tasks.outcomes import Key, Outgoing
from tasks.text import one_line

Address = tuple[str, str]  # (display name, e-mail address)


@dataclass(frozen=True, kw_only=True)
class Mail:
    key: Key
    kind: str  # reminder | overdue | digest | obligation | report | alert
    to: tuple[Address, ...]
    cc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    subject: str
    text: str
    html: str
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # (file name, MIME type, content)
    # the From (name, address): the Head's unit (an area has no office of its own)
    sender: Address = ("", "")

    @property
    def recipients(self) -> list[str]:
        return [addr for _, addr in (*self.to, *self.cc)]


def message_id(key: Key, sender: str) -> str:
    """The same message always gets the same id: a resend after a crash folds in mail clients.
    Kept short (the plan as a digest) so the header is never folded: some parsers keep the fold.
    """
    domain = sender.rsplit("@", 1)[-1]
    plan = hashlib.sha1(key.plan.encode()).hexdigest()[:8]
    local = ".".join(re.sub(r"[^a-z0-9-]", "-", p.lower()) for p in (key.milestone, key.recipient, key.stage))
    return f"<{local}.{plan}@{domain}>"


# The classic (compat32) header encoder: the modern policy's folder splits encoded words
# inside a character sequence and loses spaces ("tháng —hạn"), which recipients would see.
WIRE = compat32.clone(linesep="\r\n")


SUBJECT_WORD_BYTES = 39  # 52 base64 characters: "=?utf-8?b?" + 52 + "?=" = 64 characters
NAME_WORD_BYTES = 45  # 60 base64 characters: 72 characters, within RFC 2047's 75


def encoded_words(text: str, phrase: bool = False) -> str:
    """Non-ASCII `text` as RFC 2047 encoded-words of at most 75 characters each (the standard's
    limit; Python's Header made 76, formataddr one word of any length), separated by spaces,
    which readers drop between encoded-words. A Subject is cut between any two characters, in
    words short enough that the first fits on the header's own line (a folded first word left
    an empty first line, read back as a leading space). A display name (`phrase`) is cut only
    before a space, which starts the next word: mail clients read the name as written (Python's
    own parser, against the standard, adds a space there: "Sở Tư  pháp")."""
    if text.isascii():
        return text
    limit = NAME_WORD_BYTES if phrase else SUBJECT_WORD_BYTES
    pieces = [f" {w}" if i else w for i, w in enumerate(text.split(" "))] if phrase else list(text)
    chunks, chunk = [], b""
    for piece in pieces:
        encoded = piece.encode("utf-8")
        if chunk and len(chunk) + len(encoded) > limit:
            chunks.append(chunk)
            chunk = b""
        while len(encoded) > limit:  # one word longer than an encoded-word: cut between characters
            cut = limit
            while encoded[cut] & 0xC0 == 0x80:  # never inside a character
                cut -= 1
            chunks.append(encoded[:cut])
            encoded = encoded[cut:]
        chunk += encoded
    chunks.append(chunk)
    return " ".join(f"=?utf-8?b?{base64.b64encode(c).decode('ascii')}?=" for c in chunks)


def _address(name: str, addr: str) -> str:
    name, addr = one_line(name), smtp_address(one_line(addr))
    return formataddr((name, addr)) if name.isascii() else f"{encoded_words(name, phrase=True)} <{addr}>"


def _addresses(values: tuple[Address, ...]) -> str:
    return ", ".join(_address(name, addr) for name, addr in values)


def build(
    mail: Mail, sender: str, sender_name: str, msg_id: str, redirect: str | None, date: str | None = None
) -> Outgoing:
    """Standard-library MIME with a real text/plain alternative (yagmail's own is HTML).
    `date` is the instant of the round, so a replayed year carries the dates it would have had.
    Raises InvalidAddress for an address no SMTP server would take: before any claim."""
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(mail.text, "plain", "utf-8"))
    body.attach(MIMEText(mail.html, "html", "utf-8"))
    if mail.attachments:
        msg = MIMEMultipart("mixed")
        msg.attach(body)
        for name, mimetype, content in mail.attachments:
            maintype, subtype = mimetype.split("/", 1)
            if maintype == "text":
                part = MIMEBase(maintype, subtype, charset="utf-8")
            else:
                part = MIMEBase(maintype, subtype)
            part.set_payload(content)
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=one_line(name))
            msg.attach(part)
    else:
        msg = body
    msg["From"] = _addresses(((sender_name, sender),))
    if redirect:
        msg["To"] = _address("thidua (chuyển hướng)", redirect)
        msg["X-Thidua-Original-To"] = _addresses(mail.to)
        if mail.cc:
            msg["X-Thidua-Original-Cc"] = _addresses(mail.cc)
        envelope = [smtp_address(one_line(redirect))]
    else:
        msg["To"] = _addresses(mail.to)
        if mail.cc:
            msg["Cc"] = _addresses(mail.cc)
        envelope = [smtp_address(one_line(a)) for a in mail.recipients]
    if mail.reply_to:
        msg["Reply-To"] = _addresses(mail.reply_to)
    msg["Subject"] = encoded_words(one_line(mail.subject))
    msg["Date"] = date or formatdate(localtime=False)
    msg["Message-ID"] = msg_id
    msg["X-Thidua-Key"] = "/".join(
        one_line(p) for p in (mail.key.plan, mail.key.milestone, mail.key.recipient, mail.key.stage)
    )
    msg["Auto-Submitted"] = "auto-generated"
    # boundaries from the Message-ID, not random: the same message is the same bytes every time
    for i, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_thidua_{hashlib.sha1(f'{msg_id}/{i}'.encode()).hexdigest()[:24]}")
    return Outgoing(mail.key, mail.kind, one_line(mail.subject), msg_id, envelope, msg.as_bytes(policy=WIRE))
