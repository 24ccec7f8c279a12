"""Exactly-once delivery of a round: claim in the ledger, hand to the transport, confirm."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime

from tasks.ledger import Ledger
from tasks.mime import Mail, Outgoing, build, message_id
from tasks.settings import Settings
from tasks.transport import Transport, TransportError

SENDER_NAME = "Văn phòng Khu vực thi đua (thidua)"


@dataclass
class Outcome:
    """What happened to each message of a round, by recipient key (unit code or 'digest')."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sent by an earlier run, or in progress
    failed: list[str] = field(default_factory=list)  # "recipient: reason"
    partial: list[str] = field(default_factory=list)  # accepted, but some addresses refused
    previews: list[Outgoing] = field(default_factory=list)  # dry run: rendered, not sent
    where: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"sent": self.sent, "skipped": self.skipped, "failed": self.failed, "partial": self.partial}


def deliver(
    mails: list[Mail],
    settings: Settings,
    ledger: Ledger | None,
    transport: Transport,
    instant: dt.datetime,
    dry_run: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    outcome = Outcome()
    sender = str(settings.mail_from)
    redirect = str(settings.mail_redirect) if settings.mail_redirect else None
    date = format_datetime(instant)

    def outgoing(mail: Mail, msg_id: str) -> Outgoing:
        return build(mail, sender, SENDER_NAME, msg_id, redirect, date)

    if dry_run or ledger is None:
        outcome.previews = [outgoing(m, message_id(m.key, sender)) for m in mails]
        return outcome

    batch = []
    for mail in mails:
        claim = ledger.claim(
            mail.key, message_id(mail.key, sender), mail.kind, mail.subject, ", ".join(mail.recipients)
        )
        if claim is None:
            outcome.skipped.append(mail.key.recipient)
        else:
            batch.append(outgoing(mail, claim.message_id))
    if not batch:
        return outcome
    try:
        for done, result in enumerate(transport.send_batch(batch), start=1):
            key = result.outgoing.mail.key
            if result.accepted:
                ledger.mark_sent(key, result.error or None)
                outcome.sent.append(key.recipient)
                if result.error:  # resending would duplicate it for those who got it
                    outcome.partial.append(f"{key.recipient}: {result.error}")
                outcome.where[key.recipient] = result.where
            else:
                ledger.mark_failed(key, result.error)
                outcome.failed.append(f"{key.recipient}: {result.error}")
            if on_progress:
                on_progress(done, len(batch))
    except TransportError as exc:
        for out in batch:
            if out.mail.key.recipient not in outcome.sent:
                ledger.mark_failed(out.mail.key, str(exc))
                outcome.failed.append(f"{out.mail.key.recipient}: {exc}")
    return outcome
