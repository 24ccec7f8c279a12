"""The smtp transport end to end: yagmail against a real SMTP server with AUTH on loopback."""

import email
from email.policy import default

import pytest

from tasks.delivery import send
from tasks.ledger import Ledger
from tasks.mime import message_id
from tasks.resources import Resources
from tasks.settings import Settings
from tasks.transport import SmtpTransport
from tests.helpers import round_mails
from tests.smtp_server import Crowded, smtp_server, smtp_settings


@pytest.fixture
def overdue_round(sample, plan):
    return round_mails(sample, plan, "overdue-1", (2021, 6, 21, 8))


def test_a_server_refusing_more_connections_gets_the_whole_round_on_those_it_accepted(tmp_path, sample, plan):
    """Seven letters want two connections; a relay that takes one answers the second with 421:
    no failure, every letter goes, once, on the connection it accepted."""
    mails, instant = round_mails(sample, plan)
    assert len(mails) >= 5
    recorder = Crowded(limit=1)
    with smtp_server(recorder=recorder) as (controller, _):
        settings = smtp_settings(tmp_path, controller).model_copy(update={"smtp_connections": 4})
        outcome = send(mails, Resources(settings), instant)
    assert outcome.failed == [] and sorted(outcome.sent) == sorted(m.key.recipient for m in mails)
    assert len(recorder.messages) == len(mails)
    assert len(recorder.sessions) >= 2  # more were asked for, and refused
    assert {m.session for m in recorder.messages} == {recorder.sessions[0]}


def test_a_small_round_is_one_connection_a_large_one_up_to_the_setting(tmp_path, sample, plan):
    """A connection costs a greeting and a login: four letters go on one connection; seven on
    two (one per four letters), never more than THIDUA_SMTP_CONNECTIONS."""
    mails, instant = round_mails(sample, plan)
    for count, wanted in ((4, 1), (len(mails), 2)):
        with smtp_server() as (controller, recorder):
            settings = smtp_settings(tmp_path / str(count), controller).model_copy(
                update={"smtp_connections": 4}
            )
            outcome = send(mails[:count], Resources(settings), instant)
        assert len(outcome.sent) == count and len(recorder.logins) == wanted


def test_batch_over_at_most_the_configured_connections_each_logged_in_once(tmp_path, overdue_round, plan):
    mails, instant = overdue_round
    with smtp_server() as (controller, recorder):
        settings = smtp_settings(tmp_path, controller).model_copy(update={"smtp_connections": 3})
        outcome = send(
            mails,
            Resources(settings, ledger=Ledger(settings.ledger), transport=SmtpTransport(settings)),
            instant,
        )
    assert sorted(outcome.sent) == sorted(m.key.recipient for m in mails)
    assert len(recorder.messages) == len(mails)
    sessions = {m.session for m in recorder.messages}
    assert 1 <= len(sessions) <= 3 and recorder.logins == ["thidua"] * len(sessions)

    got = next(m for m in recorder.messages if "stp-bka@kvtd-tuphap.example" in m.rcpt_tos)
    active = sorted(str(c.email) for c in plan.active_contacts)
    assert sorted(got.rcpt_tos) == sorted(["stp-bka@kvtd-tuphap.example", *active])
    msg = email.message_from_bytes(got.data, policy=default)
    assert [(a.display_name, a.addr_spec) for a in msg["To"].addresses] == [
        ("Sở Tư pháp tỉnh Bắc Kạn", "stp-bka@kvtd-tuphap.example")
    ]
    assert sorted(a.addr_spec for a in msg["Cc"].addresses) == active
    assert msg["Subject"] == (
        "[KVTĐ Tư pháp miền núi phía Bắc] Quá hạn gửi hồ sơ sơ kết 6 tháng: hạn trước ngày "
        "20/06/2021 (Chủ nhật)"
    )
    key = next(m.key for m in mails if m.key.recipient == "STP-BKA")
    assert msg["Message-ID"] == message_id(key, "thidua@kvtd-tuphap.example")
    assert msg["Message-ID"].startswith("<so-ket.stp-bka.overdue-1.")
    assert msg["Reply-To"].addresses[0].addr_spec == "dau-moi.truong-khu-vuc@kvtd-tuphap.example"
    plain = msg.get_body(("plain",)).get_content()
    assert "Kính gửi: Sở Tư pháp tỉnh Bắc Kạn" in plain and "<" not in plain.replace("<br", "")
    assert "<br>" not in plain and "<p>" not in plain
    assert "<p>" in msg.get_body(("html",)).get_content()

    rows = Ledger(settings.ledger).rows()
    assert {r["status"] for r in rows} == {"sent"}


def test_wrong_password_is_a_clear_failure_and_the_rerun_sends_everything(tmp_path, overdue_round):
    mails, instant = overdue_round
    with smtp_server() as (controller, recorder):
        bad = smtp_settings(tmp_path, controller, password="WrongPass123")
        failed = send(mails, Resources(bad, ledger=Ledger(bad.ledger), transport=SmtpTransport(bad)), instant)
        assert failed.sent == [] and len(failed.failed) == len(mails)
        assert "từ chối đăng nhập" in failed.failed[0] and "WrongPass123" not in failed.failed[0]
        assert recorder.messages == []
        good = smtp_settings(tmp_path, controller)
        rerun = send(
            mails, Resources(good, ledger=Ledger(good.ledger), transport=SmtpTransport(good)), instant
        )
    assert len(rerun.sent) == len(mails) == len(recorder.messages)


def test_server_down_is_reported_not_raised(tmp_path, overdue_round):
    mails, instant = overdue_round
    settings = Settings(
        data_dir=tmp_path / "var",
        mail_transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=1,
        smtp_security="none",
    )
    outcome = send(
        mails, Resources(settings, ledger=Ledger(settings.ledger), transport=SmtpTransport(settings)), instant
    )
    assert outcome.sent == [] and "không kết nối được" in outcome.failed[0]


def test_redirect_delivers_every_message_to_the_one_address(tmp_path, overdue_round):
    mails, instant = overdue_round
    with smtp_server() as (controller, recorder):
        settings = smtp_settings(tmp_path, controller, mail_redirect="kiem-thu@test.example")
        send(
            mails,
            Resources(settings, ledger=Ledger(settings.ledger), transport=SmtpTransport(settings)),
            instant,
        )
    assert {tuple(m.rcpt_tos) for m in recorder.messages} == {("kiem-thu@test.example",)}


def test_starttls_checks_the_servers_certificate(tmp_path, overdue_round):
    from tests.tls import make_ca_and_server

    mails, instant = overdue_round
    ca_file, server_tls = make_ca_and_server(tmp_path)
    with smtp_server(tls_context=server_tls) as (controller, recorder):
        trusted = smtp_settings(tmp_path, controller, smtp_security="starttls", smtp_ca_file=ca_file)
        outcome = send(
            mails,
            Resources(trusted, ledger=Ledger(trusted.ledger), transport=SmtpTransport(trusted)),
            instant,
        )
        assert len(outcome.sent) == len(mails) == len(recorder.messages)
        trusted_logins = list(recorder.logins)
        # the same server, without trusting its CA: refused before any password is sent
        other = smtp_settings(tmp_path / "b", controller, smtp_security="starttls")
        refused = send(
            mails, Resources(other, ledger=Ledger(other.ledger), transport=SmtpTransport(other)), instant
        )
    assert refused.sent == [] and "chứng chỉ TLS của máy chủ không hợp lệ" in refused.failed[0]
    assert recorder.logins == trusted_logins and set(trusted_logins) == {"thidua"}  # the trusting client only
