"""What the intake has read from each mailbox, in the ledger's database: (mailbox, UIDVALIDITY,
UID) -> the message's fingerprint, its content's hash and its bytes (in the database, so that
every worker sharing the ledger reads them). A run fetches only UIDs above the highest seen for
the folder's current UIDVALIDITY; a new UIDVALIDITY re-reads the folder. One message is one
Message-ID *with* one content (the body's hash): read twice, or sitting in two coordinators'
mailboxes, it counts once; two different messages sharing a Message-ID both count."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.schema import CreateTable

from tasks.errors import IntakeProblem
from tasks.ledger import database_url, open_engine
from tasks.mailbox import Fetched

metadata = MetaData()
seen = Table(
    "intake_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("mailbox", String(300), nullable=False),  # user@host/folder
    Column("uidvalidity", BigInteger, nullable=False),
    Column("uid", BigInteger, nullable=False),
    Column("fingerprint", String(500), nullable=False),  # Message-ID, else sha256 of the bytes
    Column("sha256", String(64)),  # of the bytes; NULL when over the size cap (not downloaded)
    Column("raw", LargeBinary),  # the message as the server holds it
    Column("size", BigInteger, nullable=False),
    Column("sender", Text, nullable=False, default=""),
    Column("subject", Text, nullable=False, default=""),
    Column("date", String(40), nullable=False, default=""),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    # added in 2026 (added to an older table when it is opened):
    Column("content", String(64)),  # sha256 of the body (all after the header block)
    Column("problem", Text),  # why the server would not give the message
    UniqueConstraint("mailbox", "uidvalidity", "uid", name="one_row_per_uid"),
)


class IntakeStoreError(IntakeProblem):
    pass


@dataclass(frozen=True)
class Stored:
    """A message the intake has read once (its bytes are loaded only when needed)."""

    id: int
    mailbox: str
    uid: int
    fingerprint: str
    sha256: str | None  # None: too large, not downloaded
    size: int
    sender: str
    subject: str
    date: str
    problem: str = ""  # why it could not be fetched: listed, never counted


def body_hash(raw: bytes) -> str:
    """The hash of what a relay does not touch: the body, not the headers (Received, Delivered-To)
    each mailbox's copy has its own of."""
    _, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        _, separator, body = raw.partition(b"\n\n")
    return hashlib.sha256(body if separator else raw).hexdigest()


def fingerprint(raw: bytes | None, message_id: str, uid_key: str) -> str:
    if message_id:
        return message_id.strip()[:500]
    return body_hash(raw) if raw is not None else uid_key


class IntakeStore:
    def __init__(self, url: str, engine: Engine | None = None):
        self.engine = engine or open_engine(database_url(url))
        try:
            with self.engine.begin() as conn:
                conn.execute(CreateTable(seen, if_not_exists=True))
            self._add_new_columns()
        except IntegrityError:  # another run created it at the same moment
            pass
        except SQLAlchemyError as exc:
            raise IntakeStoreError(
                f"Không mở được cơ sở dữ liệu của sổ gửi thư để ghi thư đã đọc ({type(exc).__name__}); "
                "kiểm tra THIDUA_LEDGER_URL."
            ) from None

    def _add_new_columns(self) -> None:
        """A table written by an earlier version gains the columns it lacks; its messages get
        their content hash from the bytes they kept."""
        present = {c["name"] for c in inspect(self.engine).get_columns(seen.name)}
        missing = [c for c in (seen.c.content, seen.c.problem) if c.name not in present]
        if not missing:
            return
        with self.engine.begin() as conn:
            for column in missing:
                kind = column.type.compile(dialect=self.engine.dialect)
                conn.execute(text(f"ALTER TABLE {seen.name} ADD COLUMN {column.name} {kind}"))
            rows = conn.execute(select(seen.c.id, seen.c.raw).where(seen.c.raw.is_not(None))).all()
            for row in rows:
                conn.execute(update(seen).where(seen.c.id == row.id).values(content=body_hash(row.raw)))

    def last_uid(self, mailbox: str, uidvalidity: int) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(func.max(seen.c.uid)).where(
                    (seen.c.mailbox == mailbox) & (seen.c.uidvalidity == uidvalidity)
                )
            ).scalar()
        return int(value or 0)

    def remember(self, mailbox: str, uidvalidity: int, messages: list[Fetched]) -> None:
        """Records each fetched message: its fingerprint, content hash and bytes, or why the server
        would not give it."""
        now = dt.datetime.now(dt.UTC)
        with self.engine.begin() as conn:
            for message in messages:
                print_ = fingerprint(
                    message.raw, message.message_id, f"{mailbox}/{uidvalidity}/{message.uid}"
                )
                raw = message.raw
                try:
                    with conn.begin_nested():
                        conn.execute(
                            insert(seen).values(
                                mailbox=mailbox,
                                uidvalidity=uidvalidity,
                                uid=message.uid,
                                fingerprint=print_,
                                sha256=hashlib.sha256(raw).hexdigest() if raw is not None else None,
                                content=body_hash(raw) if raw is not None else None,
                                raw=raw,
                                size=message.size,
                                sender=message.sender[:500],
                                subject=message.subject[:2000],
                                date=message.date[:40],
                                problem=message.problem or None,
                                fetched_at=now,
                            )
                        )
                except IntegrityError:  # a concurrent run recorded it first
                    pass

    def messages(self) -> list[Stored]:
        """Every message read so far, once (the first read wins); no bytes. One message is one
        Message-ID with one content: the copy a unit sent to the Head and to a Deputy at once
        counts once, but another message reusing a Message-ID (another unit, another document: a
        broken mailer, or on purpose) is never lost behind the first. A message not downloaded
        (too large, or refused by the server) is known by its sender, subject and date instead."""
        columns = [c for c in seen.c if c.name != "raw"]
        with self.engine.connect() as conn:
            rows = conn.execute(select(*columns).order_by(seen.c.id)).all()
        out: dict[tuple[str, ...], Stored] = {}
        for r in rows:
            content = r.content or (r.problem and f"{r.mailbox}/{r.uidvalidity}/{r.uid}") or ""
            out.setdefault(
                (r.fingerprint, content, r.sender, r.subject, r.date),
                Stored(
                    int(r.id),
                    r.mailbox,
                    int(r.uid),
                    r.fingerprint,
                    r.sha256,
                    int(r.size),
                    r.sender,
                    r.subject,
                    r.date,
                    r.problem or "",
                ),
            )
        return list(out.values())

    def raw(self, stored: Stored) -> bytes | None:
        with self.engine.connect() as conn:
            return conn.execute(select(seen.c.raw).where(seen.c.id == stored.id)).scalar()
