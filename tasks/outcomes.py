"""The plain records of the send path: a message's key in the ledger, a dead run's orphaned
claim, what a round did with its messages. Kept apart from the ledger (SQLAlchemy) and the
transport so that what only reads a round's results imports neither (`thidua status`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Key:
    plan: str
    milestone: str  # the round's target: a milestone, an area obligation or a report kind
    recipient: str
    stage: str


@dataclass(frozen=True)
class Outgoing:
    """A message ready for the transport: what the ledger stores and a dead run's successor resends."""

    key: Key
    kind: str
    subject: str
    message_id: str
    envelope_to: list[str]
    data: bytes  # what goes after SMTP DATA, byte for byte


@dataclass(frozen=True)
class Orphan:
    """An unconfirmed claim of a run that died (its lease lapsed), with the stored message."""

    key: Key
    kind: str
    subject: str
    message_id: str
    envelope: list[str]
    data: bytes | None
    claim_token: str


@dataclass
class Outcome:
    """What happened to each message, by recipient key (unit code, 'digest', …)."""

    sent: list[str] = field(default_factory=list)  # confirmed by this run
    already_sent: list[str] = field(default_factory=list)  # confirmed by an earlier run
    in_progress: list[str] = field(default_factory=list)  # claimed by another run that is alive
    failed: list[str] = field(default_factory=list)  # "recipient: reason"; a later run retries
    partial: list[str] = field(default_factory=list)  # accepted, but some addresses refused
    previews: list[Outgoing] = field(default_factory=list)  # dry run: rendered, not sent


@dataclass
class Recovery:
    """What a round did with the messages of runs that died before confirming them."""

    resent: list[str] = field(default_factory=list)  # "target stage recipient"
    abandoned: list[str] = field(default_factory=list)  # "target stage recipient: why"
    failed: list[str] = field(default_factory=list)
