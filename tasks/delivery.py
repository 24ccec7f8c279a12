"""Exactly-once delivery: build every message, then claim, send and confirm each of them.

The claim rules (docs/reliability.md):
- every message is built and its addresses checked before anything is claimed;
- a message is claimed just before it is handed to the transport and confirmed as soon as the
  transport accepted it, so a run that dies leaves claimed at most the messages in flight: one
  per SMTP connection (THIDUA_SMTP_CONNECTIONS), one for the file outbox;
- a live run renews its claims (heartbeat); a claim whose lease lapsed is a dead run's, and the
  next run sends it again with the same Message-ID (at most one duplicate per connection);
- only a confirmed delivery counts as sent; a claim held by another live run is "in progress".
"""

from __future__ import annotations

import datetime as dt
import operator
import time
from collections.abc import Callable, Iterator
from email.utils import format_datetime

from tasks.addresses import FALLBACK_SENDER, InvalidAddress
from tasks.errors import MailProblem
from tasks.ledger import Busy, Claim, Ledger
from tasks.mime import Mail, build, message_id
from tasks.outcomes import Key, Orphan, Outcome, Outgoing, Recovery
from tasks.resources import Resources
from tasks.settings import Settings
from tasks.transport import Result, Transport, TransportError

SENDER_NAME = "Hệ thống thidua"  # a letter whose plan names no sender


def from_address(settings: Settings, mail: Mail) -> str:
    """The From address: THIDUA_MAIL_FROM when the operator's mail server insists on one, else
    the plan's sender (the Head's unit)."""
    return str(settings.mail_from or mail.sender[1] or FALLBACK_SENDER)


class RoundTimeout(MailProblem, RuntimeError):
    """The round's sending outlived THIDUA_ROUND_DEADLINE."""


def _label(key: Key) -> str:
    return f"{key.milestone} {key.stage} {key.recipient}"


def send(
    mails: list[Mail],
    resources: Resources,
    instant: dt.datetime,
    *,
    dry_run: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    note: str | None = None,
) -> Outcome:
    """Mail through the run's ledger and transport, or, in a dry run, a preview that touches
    neither. `note` is kept in the ledger beside each letter sent (a round sent early on purpose
    says so)."""
    settings = resources.settings
    outcome = Outcome()
    ready = _build_all(mails, settings, instant, outcome)
    if dry_run:
        outcome.previews = ready
        return outcome
    if not ready:
        return outcome
    ledger = resources.ledger
    deadline = time.monotonic() + settings.round_deadline
    with ledger.heartbeat():
        _deliver(ready, ledger, resources.transport, outcome, deadline, on_progress, note=note)
    return outcome


def send_unrecorded(mails: list[Mail], resources: Resources, instant: dt.datetime) -> Outcome:
    """Mail without the ledger, for the one message that must go out when the ledger itself is
    what failed: the coordinators' alert. Not exactly-once; used for nothing else."""
    outcome = Outcome()
    ready = _build_all(mails, resources.settings, instant, outcome)
    try:
        for result in resources.transport.send_batch(ready):
            who = result.outgoing.key.recipient
            if result.accepted:
                outcome.sent.append(who)
            else:
                outcome.failed.append(f"{who}: {result.error}")
    except TransportError as exc:
        outcome.failed.append(str(exc))
    return outcome


def _build_all(
    mails: list[Mail], settings: Settings, instant: dt.datetime, outcome: Outcome
) -> list[Outgoing]:
    """Every message as the transport takes it; one with an unsendable address is a failure of
    its own, recorded in `outcome`, and never claimed."""
    redirect = str(settings.mail_redirect) if settings.mail_redirect else None
    date = format_datetime(instant)
    ready = []
    for mail in mails:
        sender = from_address(settings, mail)
        try:
            ready.append(
                build(
                    mail,
                    sender,
                    mail.sender[0] or SENDER_NAME,
                    message_id(mail.key, sender),
                    redirect,
                    date,
                )
            )
        except InvalidAddress as exc:
            outcome.failed.append(f"{mail.key.recipient}: {exc}")
    return ready


def _deliver(
    ready: list[Outgoing],
    ledger: Ledger,
    transport: Transport,
    outcome: Outcome,
    deadline: float,
    on_progress: Callable[[int, int], None] | None,
    name: Callable[[Key], str] = lambda key: key.recipient,
    note: str | None = None,
) -> None:
    """Claim each message as the transport takes it, confirm each as it answers; `outcome` lists
    each under `name(key)`."""
    in_flight: list[Outgoing] = []  # handed to the transport, no answer yet (one per connection)
    handled: set[Key] = set()

    unclaimed = iter(ready)  # a list's iterator knows how many are left (length_hint)

    def claimed() -> Iterator[Outgoing]:
        for out in unclaimed:
            if time.monotonic() > deadline:
                return
            claim = ledger.claim(
                out.key,
                out.message_id,
                out.kind,
                out.subject,
                ", ".join(out.envelope_to),
                out.envelope_to,
                out.data,
            )
            if isinstance(claim, Claim):
                in_flight.append(out)
                yield out
            else:
                handled.add(out.key)
                (outcome.already_sent if claim == Busy.SENT else outcome.in_progress).append(name(out.key))

    stopped = ""
    try:
        for done, result in enumerate(transport.send_batch(_Hinted(claimed(), unclaimed)), start=1):
            in_flight.remove(result.outgoing)
            handled.add(result.outgoing.key)
            _record(ledger, result, outcome, name(result.outgoing.key), note)
            if result.fatal:
                stopped = result.error
            if on_progress:
                on_progress(done, len(ready))
    except TransportError as exc:
        stopped = str(exc)
    except Exception as exc:
        # a bug or an unexpected fault: the message in hand is released to the next run
        for out in in_flight:
            ledger.mark_failed(out.key, f"{type(exc).__name__}: {exc}")
        raise
    if not stopped and time.monotonic() > deadline:
        stopped = "hết thời gian gửi của đợt (THIDUA_ROUND_DEADLINE); lần chạy sau gửi tiếp"
    for out in in_flight:  # the transport stopped without answering for it
        ledger.mark_failed(out.key, stopped or "không rõ kết quả")
        outcome.failed.append(f"{name(out.key)}: {stopped or 'không rõ kết quả'}")
        handled.add(out.key)
    for out in ready:  # never claimed: the transport gave up, or the round ran out of time
        if out.key not in handled:
            outcome.failed.append(f"{name(out.key)}: chưa gửi ({stopped})")


class _Hinted(Iterator[Outgoing]):
    """The claiming generator with `operator.length_hint`: at most how many messages may still
    come, so that the transport opens no more connections than the round needs."""

    def __init__(self, messages: Iterator[Outgoing], source: Iterator[Outgoing]):
        self.messages, self.source = messages, source

    def __next__(self) -> Outgoing:
        return next(self.messages)

    def __length_hint__(self) -> int:
        return operator.length_hint(self.source)


def _record(ledger: Ledger, result: Result, outcome: Outcome, who: str, note: str | None = None) -> None:
    key = result.outgoing.key
    if result.accepted:
        ledger.mark_sent(key, "; ".join(n for n in (note, result.error) if n) or None)
        outcome.sent.append(who)
        if result.error:  # resending would duplicate it for those who got it
            outcome.partial.append(f"{who}: {result.error}")
    else:
        ledger.mark_failed(key, result.error)
        outcome.failed.append(f"{who}: {result.error}")


def recover(
    resources: Resources,
    plan_id: str,
    why_not_due: Callable[[Orphan], str | None],
    *,
    skip: Callable[[Orphan], bool] = lambda orphan: False,
) -> Recovery:
    """At the start of a round: the messages that runs which died had claimed but never
    confirmed are sent now, as stored, if still due (`why_not_due` gives None), else recorded as
    abandoned with the reason. `skip`: orphans left for another round (the round's own keys,
    which it is about to send, or a round whose table it does not have)."""
    recovery = Recovery()
    ledger = resources.ledger
    due: list[Outgoing] = []
    for orphan in ledger.orphans(plan_id):
        if skip(orphan):
            continue
        reason = why_not_due(orphan) or ("thư không được lưu lại" if not orphan.data else None)
        if reason:
            ledger.abandon(orphan.key, reason)
            recovery.abandoned.append(f"{_label(orphan.key)}: {reason}")
        else:
            assert orphan.data is not None
            due.append(
                Outgoing(
                    orphan.key, orphan.kind, orphan.subject, orphan.message_id, orphan.envelope, orphan.data
                )
            )
    if not due:
        return recovery
    outcome = Outcome()
    deadline = time.monotonic() + resources.settings.round_deadline
    with ledger.heartbeat():
        _deliver(due, ledger, resources.transport, outcome, deadline, None, _label)
    recovery.resent = outcome.sent
    recovery.failed = outcome.failed
    return recovery
