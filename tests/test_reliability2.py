"""Claims that cannot be orphaned, bounded time, addresses refused up front, stages spelt exactly.
Against a fault-injecting SMTP server on loopback; docs/reliability.md maps each line here."""

from __future__ import annotations

import dataclasses
import email
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from email.policy import default
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tasks.delivery import from_address, recover, send
from tasks.ledger import Ledger
from tasks.mime import build, message_id
from tasks.resources import Resources
from tasks.round import why_not_due
from tasks.settings import Settings
from tasks.transport import FileOutbox
from tests.helpers import local, round_mails, table_at, wait_for, write_plan
from tests.smtp_server import Faulty, smtp_env, smtp_server, smtp_settings, trickling_server

REPO = Path(__file__).parents[1]


def message_ids(recorder) -> Counter:
    return Counter(email.message_from_bytes(m.data, policy=default)["Message-ID"] for m in recorder.messages)


def statuses(settings) -> Counter:
    return Counter(r["status"] for r in Ledger(settings.ledger).rows())


# -- claims ----------------------------------------------------------------------------------


@pytest.mark.parametrize("connections", [1, 3])
def test_sigkill_in_mid_batch_then_a_rerun_after_the_lease_delivers_each_message(
    tmp_path, sample, plan, connections
):
    """The worker is killed while the server holds the third message (accepted, reply not yet
    sent). At most one message per connection is claimed and unconfirmed (with one connection:
    two confirmed, one claimed, four never claimed). After the 1-second lease, a rerun sends the
    claimed ones again (same Message-ID) and the rest: nothing lost, at most one duplicate per
    connection."""
    mails, instant = round_mails(sample, plan)
    recorder = Faulty(hold_at=3)
    with smtp_server(recorder=recorder) as (controller, _):
        settings = smtp_settings(tmp_path, controller, claim_lease=1)
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "THIDUA_DATA_DIR": str(settings.data_dir),
            **smtp_env(controller),
            "THIDUA_CLAIM_LEASE": "1",
            "THIDUA_SMTP_CONNECTIONS": str(connections),
        }
        worker = subprocess.Popen([sys.executable, "-m", "tests.crash_worker", "smtp"], cwd=tmp_path, env=env)
        try:
            wait_for(lambda: recorder.data_calls >= 3)
            time.sleep(0.3)  # the other connections go on meanwhile
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
        left = statuses(settings)
        claimed = left.get("claimed", 0)
        if connections == 1:
            assert left == {"sent": 2, "claimed": 1}
        assert 1 <= claimed <= connections and left["sent"] + claimed <= len(mails)

        busy = send(
            mails, Resources(settings), instant
        )  # within the lease: the dead run's claims are left alone
        assert len(busy.in_progress) == claimed and len(busy.sent) == len(mails) - left["sent"] - claimed
        time.sleep(1.1)
        rerun = send(mails, Resources(settings), instant)
        assert sorted(rerun.sent) == sorted(busy.in_progress) and rerun.failed == []
    ids = message_ids(recorder)
    assert set(ids) == {message_id(m.key, from_address(settings, m)) for m in mails}  # nothing lost
    twice = [i for i, n in ids.items() if n == 2]
    assert 1 <= len(twice) <= claimed and max(ids.values()) == 2  # only those in flight, twice at most
    assert statuses(settings) == {"sent": len(mails)}


def test_a_server_slower_than_the_lease_gets_no_second_delivery_from_a_concurrent_run(tmp_path, sample, plan):
    """Each message takes 3 s at the server, the lease is 1 s: the live run's heartbeat keeps its
    claim, so a second run started meanwhile reports it in progress and sends nothing."""
    mails, instant = round_mails(sample, plan)
    recorder = Faulty(slow=3.0)
    with smtp_server(recorder=recorder) as (controller, _):
        settings = smtp_settings(tmp_path, controller, claim_lease=1)
        first: list = []
        runner = threading.Thread(target=lambda: first.append(send(mails[:1], Resources(settings), instant)))
        runner.start()
        wait_for(lambda: recorder.data_calls >= 1)
        time.sleep(1.5)  # the first claim is now older than the lease
        second = send(mails[:1], Resources(settings), instant)
        runner.join()
    assert second.sent == [] and second.in_progress == [mails[0].key.recipient]
    assert first[0].sent == [mails[0].key.recipient]
    assert len(recorder.messages) == 1


def test_a_trickling_greeting_is_given_up_within_the_deadline_and_the_next_run_sends_all(
    tmp_path, sample, plan
):
    mails, instant = round_mails(sample, plan)
    with trickling_server(interval=0.5) as port:
        settings = Settings(
            data_dir=tmp_path / "var",
            mail_transport="smtp",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            smtp_deadline=2,
        )
        started = time.monotonic()
        stuck = send(mails, Resources(settings), instant)
        elapsed = time.monotonic() - started
    assert elapsed < 6, elapsed
    assert stuck.sent == [] and len(stuck.failed) == len(mails)
    assert "THIDUA_SMTP_DEADLINE" in stuck.failed[0]
    assert statuses(settings)["claimed"] == 0  # nothing left behind for a lease to free
    with smtp_server() as (controller, recorder):
        good = smtp_settings(tmp_path, controller)
        rerun = send(mails, Resources(good), instant)
    assert sorted(rerun.sent) == sorted(m.key.recipient for m in mails)
    assert sorted(message_ids(recorder).values()) == [1] * len(mails)


def test_a_round_that_outlives_its_deadline_stops_and_the_next_run_sends_the_rest(tmp_path, sample, plan):
    mails, instant = round_mails(sample, plan)
    recorder = Faulty(slow=1.0)
    with smtp_server(recorder=recorder) as (controller, _):
        # two connections: two letters a second, four taken before the deadline, three left
        settings = smtp_settings(tmp_path, controller, round_deadline=1.5, smtp_connections=2)
        first = send(mails, Resources(settings), instant)
        assert 1 <= len(first.sent) < len(mails)
        assert len(first.failed) == len(mails) - len(first.sent)
        assert all("THIDUA_ROUND_DEADLINE" in f for f in first.failed)
        assert statuses(settings) == {"sent": len(first.sent)}  # the rest was never claimed
        recorder.slow = 0
        rerun = send(mails, Resources(settings), instant)
    assert sorted(first.sent + rerun.sent) == sorted(m.key.recipient for m in mails)
    assert sorted(message_ids(recorder).values()) == [1] * len(mails)


# -- what a dead run left: sent if still due, else abandoned -----------------------------------


def _dead_run_claim(settings, plan, mail, instant):
    """A run claims `mail` with its bytes and dies before sending (its lease then lapses)."""
    sender = from_address(settings, mail)
    out = build(mail, sender, "thidua", message_id(mail.key, sender), None, None)
    claim = Ledger(settings.ledger).claim(
        out.key, out.message_id, out.kind, out.subject, "", out.envelope_to, out.data
    )
    assert not isinstance(claim, str)
    return out


def test_a_dead_runs_mail_is_sent_at_the_next_round_if_still_due_else_abandoned(settings, sample, plan):
    settings = settings.model_copy(update={"claim_lease": 0.5})
    mails, instant = round_mails(sample, plan, "before-3", (2021, 6, 17, 8))
    bka = next(m for m in mails if m.key.recipient == "STP-BKA")
    due = _dead_run_claim(settings, plan, bka, instant)
    time.sleep(0.6)

    later = local(plan, 2021, 6, 17, 15)  # the same day: before-3 is still the current round
    table = table_at(plan, sample.data, later)
    outbox = FileOutbox(settings.outbox_dir)
    recovery = recover(
        Resources(settings, transport=outbox), plan.id, lambda o: why_not_due(plan, table, later, o)
    )
    assert recovery.resent == ["so-ket before-3 STP-BKA"] and recovery.abandoned == []
    (written,) = settings.outbox_dir.rglob("*.eml")
    assert written.read_bytes() == due.data  # exactly what the dead run had built
    assert statuses(settings) == {"sent": 1}

    # the next day the before-1 round is due: a before-3 mail of a dead run is stale
    other = next(m for m in mails if m.key.recipient != "STP-BKA")
    _dead_run_claim(settings, plan, other, instant)
    time.sleep(0.6)
    next_day = local(plan, 2021, 6, 18, 8)
    table = table_at(plan, sample.data, next_day)
    recovery = recover(
        Resources(settings, transport=outbox), plan.id, lambda o: why_not_due(plan, table, next_day, o)
    )
    assert recovery.resent == [] and len(recovery.abandoned) == 1
    assert "before-1" in recovery.abandoned[0]
    rows = {r["recipient"]: r for r in Ledger(settings.ledger).rows()}
    assert rows[other.key.recipient]["status"] == "abandoned" and rows[other.key.recipient]["data"] is None
    assert len(list(settings.outbox_dir.rglob("*.eml"))) == 1  # nothing sent for it


def test_a_dead_runs_reminder_to_a_unit_that_has_since_sent_everything_is_abandoned(settings, sample, plan):
    settings = settings.model_copy(update={"claim_lease": 0.5})
    mails, instant = round_mails(sample, plan, "before-3", (2021, 6, 17, 8))
    later = local(plan, 2021, 6, 17, 15)
    table = table_at(plan, sample.data, later, ["so-ket"])
    complete = next(r.unit for r in table.itertuples() if not r.missing)
    mail = dataclasses.replace(mails[0], key=dataclasses.replace(mails[0].key, recipient=complete))
    _dead_run_claim(settings, plan, mail, instant)
    time.sleep(0.6)
    recovery = recover(
        Resources(settings, transport=FileOutbox(settings.outbox_dir)),
        plan.id,
        lambda o: why_not_due(plan, table, later, o),
    )
    assert recovery.abandoned == [f"so-ket before-3 {complete}: đơn vị đã gửi đủ hồ sơ"]


def test_the_digest_waits_for_the_run_that_holds_the_rounds_mail(
    prefect_server, tmp_path, monkeypatch, sample, plan
):
    """Another run holds one unit's claim: this run sends the other six and reports that one as
    in progress (never as sent); its digest waits while the holder is alive. The holder dies (its
    3-second lease lapses unrenewed): the digest lists the six as reminded and that one as not
    confirmed; the next run sends it, and no second digest."""
    from flows.milestone import milestone_round

    monkeypatch.setenv("THIDUA_CLAIM_LEASE", "3")
    settings = Settings()
    mails, instant = round_mails(sample, plan)
    held = next(m for m in mails if m.key.recipient == "STP-BKA")
    _dead_run_claim(settings, plan, held, instant)  # fresh: within its lease, as if alive

    first = milestone_round("so-ket", "before-1", at="2021-06-18T08:00")
    assert first.units.in_progress == ["STP-BKA"] and "STP-BKA" not in first.units.sent
    # six units that owe (the seventh is held by the other run) and two units' own notices
    assert len(first.units.sent) == 6 + 2 and first.digest_sent
    digest = next(settings.outbox_dir.rglob("digest.eml"))
    text = email.message_from_bytes(digest.read_bytes(), policy=default).get_body(("plain",)).get_content()
    assert "Đã gửi thư nhắc tới 6 đơn vị" in text and "Sở Tư pháp tỉnh Bắc Kạn: còn thiếu" not in text
    assert "STP-BKA: lần chạy khác bị dừng trước khi xác nhận đã gửi" in text

    second = milestone_round("so-ket", "before-1", at="2021-06-18T08:00")
    assert second.units.sent == ["STP-BKA"] and not second.digest_sent
    assert second.digest.already_sent == ["digest"]


# -- addresses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("sởtưpháp-lch@kvtd-tuphap.example", "ngoài ASCII"),
        ("stp-lch@kvtd-tuphаp.example", "trộn nhiều bảng chữ cái"),
    ],
    ids=["vietnamese-local-part", "cyrillic-a-in-domain"],
)
def test_check_refuses_an_address_no_server_takes_naming_unit_and_field(tmp_path, address, why):
    path = write_plan(tmp_path, lambda t: t.replace("stp-lch@kvtd-tuphap.example", address))
    result = CliRunner().invoke(app, ["check"], env={"THIDUA_PLAN": str(path)})
    output = " ".join(result.output.split())
    assert result.exit_code == 1 and "units[5].email" in output and why in output, output


def test_an_unsendable_address_fails_its_own_mail_and_no_other_unit_loses_its_mail(tmp_path, sample, plan):
    mails, instant = round_mails(sample, plan)
    bad = dataclasses.replace(mails[2], to=(("Sở Tư pháp", "sởtưpháp@kvtd-tuphap.example"),))
    mails[2] = bad
    with smtp_server() as (controller, recorder):
        settings = smtp_settings(tmp_path, controller)
        outcome = send(mails, Resources(settings), instant)
    assert outcome.failed == [
        f"{bad.key.recipient}: 'sởtưpháp@kvtd-tuphap.example': phần trước @ có ký tự "
        "ngoài ASCII (có dấu tiếng Việt?), máy chủ thư không nhận được; dùng địa chỉ không dấu"
    ]
    assert len(outcome.sent) == len(mails) - 1 == len(recorder.messages)
    assert statuses(settings) == {"sent": len(mails) - 1}  # the bad one was never claimed


def test_an_idn_domain_is_sent_in_idna(tmp_path, sample, plan):
    mails, instant = round_mails(sample, plan)
    idn = dataclasses.replace(mails[0], to=(("Sở", "stp@sởtưpháp.example"),))
    with smtp_server() as (controller, recorder):
        outcome = send([idn], Resources(smtp_settings(tmp_path, controller)), instant)
    assert outcome.sent == [idn.key.recipient]
    assert recorder.messages[0].rcpt_tos == ["stp@xn--stphp-0qa06lv43k.example"]


# -- the CLI's edges ---------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["OVERDUE-1", "overdue-1 ", "overdue-1/../../x", "before-2"])
def test_a_respelt_stage_is_refused_and_nothing_is_sent(tmp_path, stage):
    result = CliRunner().invoke(
        app, ["run", "--milestone", "so-ket", "--stage", stage, "--at", "2021-06-21T08:00"]
    )
    output = " ".join(result.output.split())
    assert result.exit_code == 1 and "không có trong kế hoạch" in output and "overdue-1, overdue-3" in output
    assert not (tmp_path / "var" / "outbox").exists()


def test_cleartext_password_to_another_host_is_refused(tmp_path):
    env = {
        "THIDUA_MAIL_TRANSPORT": "smtp",
        "THIDUA_SMTP_HOST": "mail.kvtd-tuphap.example",
        "THIDUA_SMTP_SECURITY": "none",
        "THIDUA_SMTP_USER": "thidua",
        "THIDUA_SMTP_PASSWORD": "bi-mat",
    }
    result = CliRunner().invoke(app, ["check"], env=env)
    assert result.exit_code == 1 and "THIDUA_SMTP_ALLOW_PLAINTEXT" in " ".join(result.output.split())
    assert "bi-mat" not in result.output
    allowed = CliRunner().invoke(app, ["calendar", "--json"], env={**env, "THIDUA_SMTP_ALLOW_PLAINTEXT": "1"})
    assert allowed.exit_code == 0


def test_the_data_directory_and_what_is_written_in_it_are_private(tmp_path, sample, plan):
    result = CliRunner().invoke(app, ["status", "--json"])
    assert result.exit_code == 0
    data_dir = tmp_path / "var"
    assert data_dir.stat().st_mode & 0o777 == 0o700
    mails, instant = round_mails(sample, plan)
    send(mails, Resources(Settings()), instant)
    written = [p for p in data_dir.rglob("*") if p.is_file()]
    assert written and {p.stat().st_mode & 0o777 for p in written} == {0o600}


def test_a_data_directory_that_is_a_file_gets_one_clear_message(tmp_path):
    (tmp_path / "tep").write_text("x")
    result = CliRunner().invoke(app, ["status"], env={"THIDUA_DATA_DIR": str(tmp_path / "tep")})
    assert (
        result.exit_code == 1
        and "không phải thư mục" in result.output
        and result.exception.__class__ is SystemExit
    )


def test_an_exchange_style_login_is_passed_to_the_server_as_configured(tmp_path, sample, plan):
    """yagmail validates its user as an address ("CORP\\thidua" is not one): the login still goes
    to the server exactly as configured, and the round is sent."""
    mails, instant = round_mails(sample, plan)
    with smtp_server(user="CORP\\thidua") as (controller, recorder):
        settings = smtp_settings(tmp_path, controller, smtp_user="CORP\\thidua")
        outcome = send(mails, Resources(settings), instant)
    assert set(recorder.logins) == {"CORP\\thidua"} and len(outcome.sent) == len(mails) == len(
        recorder.messages
    )
