"""The send ledger: exactly one message per (plan, milestone, recipient, stage).

A row is claimed before the message is handed to the transport and marked sent once the server
(or the outbox) accepted it. A rerun skips sent rows; a claimed-but-unconfirmed row is retried with
the same deterministic Message-ID, so a mail client folds the rare duplicate.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    insert,
    make_url,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateTable

metadata = MetaData()
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("plan", String(100), nullable=False),
    Column("milestone", String(50), nullable=False),
    Column("recipient", String(50), nullable=False),  # unit code, or "digest"
    Column("stage", String(50), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("message_id", String(300), nullable=False),
    Column("subject", Text, nullable=False, default=""),
    Column("to_addrs", Text, nullable=False, default=""),
    Column("status", String(10), nullable=False),  # claimed | sent | failed
    Column("claim_token", String(40), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, default=1),
    Column("error", Text),
    UniqueConstraint("plan", "milestone", "recipient", "stage", name="one_message_per_stage"),
)

# A claim younger than this belongs to a run that may still be sending it: leave it alone.
CLAIM_LEASE = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Key:
    plan: str
    milestone: str
    recipient: str
    stage: str


@dataclass(frozen=True)
class Claim:
    key: Key
    message_id: str
    retry: bool  # an earlier claim was never confirmed: this is a resend with the same id


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone=True columns
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class Ledger:
    def __init__(self, url: str, lease: dt.timedelta = CLAIM_LEASE):
        database = make_url(url)
        if database.get_backend_name() == "sqlite" and database.database not in (None, "", ":memory:"):
            Path(database.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url)
        self.lease = lease
        with self.engine.begin() as conn:
            # IF NOT EXISTS: two runs starting at once on a new ledger must not race on the DDL
            conn.execute(CreateTable(deliveries, if_not_exists=True))
        self.token = uuid.uuid4().hex  # identifies this run's claims

    def _where(self, key: Key):
        t = deliveries.c
        return (
            (t.plan == key.plan)
            & (t.milestone == key.milestone)
            & (t.recipient == key.recipient)
            & (t.stage == key.stage)
        )

    def claim(self, key: Key, message_id: str, kind: str, subject: str, to: str) -> Claim | None:
        """Claim the right to send; None when it was sent already or another run holds it."""
        now = _now()
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
                    )
                )
                return Claim(key, message_id, retry=False)
            except IntegrityError:
                pass
        with self.engine.begin() as conn:
            row = conn.execute(select(deliveries).where(self._where(key))).one()
            if row.status == "sent":
                return None
            mine = row.claim_token == self.token
            if not mine and row.status == "claimed" and now - _aware(row.claimed_at) < self.lease:
                return None
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
                )
            ).rowcount
        if not taken:
            return None
        return Claim(key, row.message_id, retry=row.status == "claimed")

    def mark_sent(self, key: Key, note: str | None = None) -> None:
        """`note`: what the server said about recipients it refused while accepting the others."""
        with self.engine.begin() as conn:
            conn.execute(
                update(deliveries).where(self._where(key)).values(status="sent", sent_at=_now(), error=note)
            )

    def mark_failed(self, key: Key, error: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(deliveries).where(self._where(key)).values(status="failed", error=error[:2000])
            )

    def rows(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(deliveries))]
