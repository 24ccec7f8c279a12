"""Exactly once per (plan, milestone, unit, stage), across reruns and crashes."""

import email
from email.policy import default

import pytest

from tasks.delivery import send
from tasks.ledger import Ledger
from tasks.resources import Resources
from tasks.transport import FileOutbox
from tests.helpers import later_run, round_mails


@pytest.fixture(name="round_mails")
def before_1(sample, plan):
    return round_mails(sample, plan)


def emls(settings):
    return sorted(settings.outbox_dir.rglob("*.eml"))


def test_second_run_sends_nothing(settings, round_mails):
    mails, instant = round_mails
    first = send(
        mails,
        Resources(settings, ledger=Ledger(settings.ledger), transport=FileOutbox(settings.outbox_dir)),
        instant,
    )
    assert len(first.sent) == len(mails) == len(emls(settings))
    stamps = {p: p.stat().st_mtime_ns for p in emls(settings)}
    second = send(
        mails,
        Resources(settings, ledger=Ledger(settings.ledger), transport=FileOutbox(settings.outbox_dir)),
        instant,
    )
    assert second.sent == [] and sorted(second.already_sent) == sorted(first.sent)
    assert {p: p.stat().st_mtime_ns for p in emls(settings)} == stamps


def test_dry_run_renders_without_touching_ledger_or_outbox(settings, round_mails):
    mails, instant = round_mails
    outcome = send(
        mails, Resources(settings, transport=FileOutbox(settings.outbox_dir)), instant, dry_run=True
    )
    assert len(outcome.previews) == len(mails) and outcome.sent == []
    assert emls(settings) == []


class Crash(BaseException):
    """Stands for the process dying (kill -9, power cut): nothing after it runs."""


def test_crash_between_send_and_confirm_resends_once_with_same_message_id(settings, round_mails, monkeypatch):
    mails, instant = round_mails
    ledger = Ledger(settings.ledger)
    monkeypatch.setattr(ledger, "mark_sent", lambda key, note=None: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        send(mails, Resources(settings, ledger=ledger, transport=FileOutbox(settings.outbox_dir)), instant)
    (written,) = emls(settings)  # the first message went out, its confirmation never landed
    first_id = email.message_from_bytes(written.read_bytes(), policy=default)["Message-ID"]

    # a rerun within the lease leaves the dead run's one claim alone (that run might still be
    # sending it) and sends the rest, which the dead run never claimed
    busy = send(
        mails,
        Resources(settings, ledger=Ledger(settings.ledger), transport=FileOutbox(settings.outbox_dir)),
        instant,
    )
    assert busy.in_progress == [mails[0].key.recipient]
    assert busy.sent == [m.key.recipient for m in mails[1:]]

    rerun = later_run(mails, settings, instant)
    assert rerun.sent == [mails[0].key.recipient]  # resent once...
    again = email.message_from_bytes(written.read_bytes(), policy=default)["Message-ID"]
    assert again == first_id  # ...with the same Message-ID, so mail clients fold it
    assert len(emls(settings)) == len(mails)
    rows = {r["recipient"]: r for r in Ledger(settings.ledger).rows()}
    assert rows[mails[0].key.recipient]["attempts"] == 2
    assert all(r["status"] == "sent" for r in rows.values())


def test_crash_between_claim_and_send_loses_nothing(settings, round_mails):
    mails, instant = round_mails

    class DiesBeforeSending(FileOutbox):
        def send_batch(self, batch):
            raise Crash()
            yield  # pragma: no cover

    with pytest.raises(Crash):
        send(
            mails,
            Resources(
                settings, ledger=Ledger(settings.ledger), transport=DiesBeforeSending(settings.outbox_dir)
            ),
            instant,
        )
    assert emls(settings) == []
    rerun = later_run(mails, settings, instant)
    assert sorted(rerun.sent) == sorted(m.key.recipient for m in mails)
