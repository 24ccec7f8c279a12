"""The send ledger: exactly one message per (plan, target, recipient, stage).

A row is claimed just before its message is handed to the transport and confirmed ("sent") once
the server (or the outbox) accepted it. The claim holds a lease that the live run renews (a
heartbeat); a claim whose lease lapsed belongs to a run that died, and the next run takes it over
and resends the stored message with the same Message-ID, so a mail client folds the rare
duplicate. A sent row is never sent again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    insert,
    inspect,
    make_url,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, Engine, Row
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

from tasks.errors import LedgerProblem
from tasks.outcomes import Key, Orphan

log = logging.getLogger("thidua.ledger")
metadata = MetaData()
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("plan", String(100), nullable=False),
    Column("milestone", String(50), nullable=False),  # milestone, obligation or report: the target
    Column("recipient", String(50), nullable=False),  # unit code, or "digest"
    Column("stage", String(50), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("message_id", String(300), nullable=False),
    Column("subject", Text, nullable=False, default=""),
    Column("to_addrs", Text, nullable=False, default=""),
    Column("status", String(10), nullable=False),  # claimed | sent | failed | abandoned
    Column("claim_token", String(40), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),  # renewed by the live run
    Column("sent_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, default=1),
    Column("error", Text),
    Column("envelope", Text),  # SMTP envelope recipients, comma-separated
    Column("data", LargeBinary),  # the message as handed to the transport: a dead run's is resent
    UniqueConstraint("plan", "milestone", "recipient", "stage", name="one_message_per_stage"),
)
# columns added after the first release: an older ledger gets them on open
_ADDED_COLUMNS: dict[str, TypeEngine[Any]] = {"envelope": Text(), "data": LargeBinary()}

# A claim not renewed for this long belongs to a run that died. The live run renews its claims
# every quarter of it, so a slow server never makes a live claim look abandoned.
CLAIM_LEASE = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Claim:
    key: Key
    message_id: str
    retry: bool  # an earlier claim was never confirmed: this is a resend with the same id


class Busy(StrEnum):
    """Why a claim was refused: sent already, or held by another live run."""

    SENT = "sent"
    HELD = "held"


class LedgerError(LedgerProblem, RuntimeError):
    """The ledger cannot be opened: nothing may be sent without it."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone=True columns
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def database_url(url: str) -> URL:
    """The ledger's URL as people write it: a plain postgresql:// (or postgres://) URL uses
    psycopg 3, which is installed with thidua (SQLAlchemy's default driver is not)."""
    parsed = make_url(
        url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url
    )
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def open_engine(database: URL) -> Engine:
    """The ledger's database (an SQLite file's folder created first)."""
    if database.get_backend_name() == "sqlite" and database.database not in (None, "", ":memory:"):
        Path(database.database).parent.mkdir(parents=True, exist_ok=True)
    # pre-ping: after a database restart, pooled connections are dead; test before use
    return create_engine(database, pool_pre_ping=True, connect_args=_bounded(database))


def _bounded(database: URL) -> dict[str, object]:
    """PostgreSQL's own bounds on waiting, so that a ledger operation ends even when the server
    (or the network to it) stops answering: a connection attempt, a silent peer (TCP keepalives,
    unacknowledged data), a statement or a lock held by another run. Each ends in an
    OperationalError, which the ledger retries for RECONNECT_FOR and then reports."""
    if database.get_backend_name() != "postgresql":
        return {}
    return {
        "connect_timeout": 10,
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": 30_000,  # milliseconds
        "options": "-c statement_timeout=30000 -c lock_timeout=15000",
    }


# how long the ledger keeps trying while its database restarts, before the round gives up
RECONNECT_FOR = dt.timedelta(seconds=60)

P = ParamSpec("P")
R = TypeVar("R")


def _reconnecting(method: Callable[Concatenate[Ledger, P], R]) -> Callable[Concatenate[Ledger, P], R]:
    """Retry a ledger operation while the database restarts (connection refused, dropped): a
    confirmation must not be lost to a restart, or the next run would send the message again.
    Gives up after `reconnect_for`; every operation is safe to repeat."""

    @functools.wraps(method)
    def wrapper(self: Ledger, /, *args: P.args, **kwargs: P.kwargs) -> R:
        deadline = time.monotonic() + self.reconnect_for.total_seconds()
        pause = 0.2
        while True:
            try:
                return method(self, *args, **kwargs)
            except (OperationalError, InterfaceError) as exc:
                if time.monotonic() + pause > deadline:
                    raise
                log.warning("Sổ gửi thư tạm thời không kết nối được (%s); thử lại", type(exc.orig).__name__)
            except DBAPIError as exc:
                if not exc.connection_invalidated or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    return wrapper


class Ledger:
    def __init__(
        self,
        url: str,
        lease: dt.timedelta = CLAIM_LEASE,
        reconnect_for: dt.timedelta = RECONNECT_FOR,
        engine: Engine | None = None,  # the run's (tasks/resources.py), shared with the intake store
    ):
        database = database_url(url)
        self.engine = engine or open_engine(database)
        self.lease = lease
        self.reconnect_for = reconnect_for
        try:
            self._create_table()  # once per run: a run opens its ledger once (tasks/resources.py)
        except SQLAlchemyError as exc:
            shown = database.render_as_string(hide_password=True)
            raise LedgerError(
                f"Không mở được sổ gửi thư {shown} (THIDUA_LEDGER_URL): {type(exc).__name__}: "
                f"{str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0]}. Không thư nào được gửi; "
                "kiểm tra máy chủ cơ sở dữ liệu, quyền ghi và THIDUA_LEDGER_URL."
            ) from None
        self.token = uuid.uuid4().hex  # identifies this run's claims

    def _create_table(self) -> None:
        """The table, and the columns later releases added. Two runs starting at once on a new
        ledger race here; PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against that (the
        loser gets a unique violation in the catalogue), so the loser looks again."""
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    conn.execute(CreateTable(deliveries, if_not_exists=True))
                    present = {c["name"] for c in inspect(conn).get_columns("deliveries")}
                    for name, sql_type in _ADDED_COLUMNS.items():
                        if name not in present:
                            compiled = sql_type.compile(dialect=self.engine.dialect)
                            conn.execute(text(f"ALTER TABLE deliveries ADD COLUMN {name} {compiled}"))
                return
            except (IntegrityError, ProgrammingError):
                if attempt == 2:
                    raise
                time.sleep(0.2)

    def _where(self, key: Key) -> ColumnElement[bool]:
        t = deliveries.c
        return (
            (t.plan == key.plan)
            & (t.milestone == key.milestone)
            & (t.recipient == key.recipient)
            & (t.stage == key.stage)
        )

    @_reconnecting
    def claim(
        self,
        key: Key,
        message_id: str,
        kind: str,
        subject: str,
        to: str,
        envelope: Sequence[str] = (),
        data: bytes = b"",
    ) -> Claim | Busy:
        """Claim the right to send, storing the message; Busy.SENT or Busy.HELD when refused."""
        now = _now()
        stored: dict[str, Any] = {"envelope": ", ".join(envelope), "data": data or None}
        with self.engine.begin() as conn:
            try:
                conn.execute(
                    insert(deliveries).values(
                        plan=key.plan,
                        milestone=key.milestone,
                        recipient=key.recipient,
                        stage=key.stage,
                        kind=kind,
                        message_id=message_id,
                        subject=subject,
                        to_addrs=to,
                        status="claimed",
                        claim_token=self.token,
                        claimed_at=now,
                        attempts=1,
                        **stored,
                    )
                )
                return Claim(key, message_id, retry=False)
            except IntegrityError:
                pass
        with self.engine.begin() as conn:
            row = conn.execute(select(deliveries).where(self._where(key))).one()
            if row.status == "sent":
                return Busy.SENT
            mine = row.claim_token == self.token
            if not mine and row.status == "claimed" and self._alive(row.claimed_at, now):
                return Busy.HELD
            # take over an abandoned or failed claim, atomically against a concurrent run
            taken = conn.execute(
                update(deliveries)
                .where(self._where(key))
                .where(deliveries.c.status != "sent")
                .where(deliveries.c.claim_token == row.claim_token)
                .values(
                    status="claimed",
                    claim_token=self.token,
                    claimed_at=now,
                    attempts=row.attempts + 1,
                    error=None,
                    **stored,
                )
            ).rowcount
        if not taken:
            return Busy.HELD
        return Claim(key, row.message_id, retry=row.status == "claimed")

    @_reconnecting
    def mark_sent(self, key: Key, note: str | None = None) -> None:
        """`note`: what the server said about recipients it refused while accepting the others."""
        with self.engine.begin() as conn:
            conn.execute(
                update(deliveries)
                .where(self._where(key))
                .values(status="sent", sent_at=_now(), error=note, data=None)
            )

    @_reconnecting
    def mark_failed(self, key: Key, error: str) -> None:
        """Not delivered (or not known to be): any later run may take it and send it again."""
        with self.engine.begin() as conn:
            conn.execute(
                update(deliveries).where(self._where(key)).values(status="failed", error=error[:2000])
            )

    @_reconnecting
    def abandon(self, key: Key, reason: str) -> None:
        """A dead run's message that is no longer due: recorded, never sent."""
        with self.engine.begin() as conn:
            conn.execute(
                update(deliveries)
                .where(self._where(key))
                .where(deliveries.c.status == "claimed")
                .values(status="abandoned", error=reason[:2000], data=None)
            )

    def renew(self) -> None:
        """The heartbeat: this run is alive, its claims keep their lease."""
        with self.engine.begin() as conn:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.claim_token == self.token)
                .where(deliveries.c.status == "claimed")
                .values(claimed_at=_now())
            )

    @contextlib.contextmanager
    def heartbeat(self) -> Iterator[None]:
        """Renew this run's claims every quarter lease while the block runs."""
        stop = threading.Event()
        interval = max(self.lease.total_seconds() / 4, 0.05)

        def beat() -> None:
            while not stop.wait(interval):
                with contextlib.suppress(Exception):  # a missed beat only shortens the lease
                    self.renew()

        thread = threading.Thread(target=beat, name="thidua-ledger-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    @_reconnecting
    def _alive(self, claimed_at: dt.datetime, now: dt.datetime) -> bool:
        """A claim renewed within the lease belongs to a run that is still sending."""
        return now - _aware(claimed_at) < self.lease

    def _others_claims(self, where: ColumnElement[bool]) -> Sequence[Row[Any]]:
        """Unconfirmed claims matching `where` that other runs hold (alive or dead)."""
        t = deliveries.c
        with self.engine.connect() as conn:
            return conn.execute(
                select(deliveries)
                .where(where)
                .where(t.status == "claimed")
                .where(t.claim_token != self.token)
            ).all()

    @staticmethod
    def _round(plan: str, milestone: str, stage: str) -> ColumnElement[bool]:
        t = deliveries.c
        return (t.plan == plan) & (t.milestone == milestone) & (t.stage == stage)

    def orphans(self, plan: str) -> list[Orphan]:
        """Unconfirmed claims of runs that died: claimed, lease lapsed, not this run's."""
        now = _now()
        rows = self._others_claims(deliveries.c.plan == plan)
        return [
            Orphan(
                Key(r.plan, r.milestone, r.recipient, r.stage),
                r.kind,
                r.subject,
                r.message_id,
                [a for a in (r.envelope or "").split(", ") if a],
                r.data,
                r.claim_token,
            )
            for r in rows
            if not self._alive(r.claimed_at, now)
        ]

    @_reconnecting
    def held(self, plan: str, milestone: str, stage: str) -> list[str]:
        """Recipients of this round whose message another run holds within its lease (alive)."""
        now = _now()
        rows = self._others_claims(self._round(plan, milestone, stage))
        return [r.recipient for r in rows if self._alive(r.claimed_at, now)]

    @_reconnecting
    def confirmed(self, plan: str, milestone: str, stage: str) -> list[str]:
        """Recipients whose message of this round is confirmed sent, by any run."""
        t = deliveries.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.recipient)
                .where(self._round(plan, milestone, stage))
                .where(t.status == "sent")
                .order_by(t.sent_at, t.id)
            ).all()
        return [r.recipient for r in rows]

    def rows(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(deliveries))]
