"""Faults and bad input: each message exactly once, never to the wrong person, nothing lost.
docs/reliability.md maps each guarantee to the test here that proves it."""

from __future__ import annotations

import email
import threading
import time
from email.policy import default
from pathlib import Path

import pytest

from tasks.compose import digest_mail
from tasks.delivery import send
from tasks.ledger import Ledger
from tasks.normalise import normalise
from tasks.outcomes import Outcome
from tasks.resources import Resources
from tasks.round import Round
from tasks.transport import FileOutbox, SmtpTransport
from tests.helpers import HEADER, later_run, local, round_mails, table_at
from tests.smtp_server import Faulty, smtp_server, smtp_settings


def received_by(recorder, address):
    return [m for m in recorder.messages if address in m.rcpt_tos]


def ledger_status(settings):
    return {r["recipient"]: r for r in Ledger(settings.ledger).rows()}


# -- SMTP ------------------------------------------------------------------------------------


def test_recipient_refused_mid_batch_then_rerun_sends_exactly_the_rest(tmp_path, sample, plan):
    mails, instant = round_mails(sample, plan)
    recorder = Faulty(refuse={"stp-cba@kvtd-tuphap.example"})
    with smtp_server(recorder=recorder) as (controller, _):
        settings = smtp_settings(tmp_path, controller)
        first = send(
            mails,
            Resources(settings, ledger=Ledger(settings.ledger), transport=SmtpTransport(settings)),
            instant,
        )
        assert [f.split(":")[0] for f in first.failed] == ["STP-CBA"] and "550" in first.failed[0]
        assert len(first.sent) == len(mails) - 1  # the batch carried on after the refusal
        assert ledger_status(settings)["STP-CBA"]["status"] == "failed"
        recorder.refuse.clear()
        rerun = send(
            mails,
            Resources(settings, ledger=Ledger(settings.ledger), transport=SmtpTransport(settings)),
            instant,
        )
    assert rerun.sent == ["STP-CBA"]
    for m in mails:
        assert len(received_by(recorder, m.to[0][1])) == 1


def test_unit_refused_but_contacts_accepted_is_not_resent(tmp_path, sample, plan):
    mails, instant = round_mails(sample, plan, "overdue-1", (2021, 6, 21, 8))
    recorder = Faulty(refuse={"stp-lch@kvtd-tuphap.example"})
    with smtp_server(recorder=recorder) as (controller, _):
        settings = smtp_settings(tmp_path, controller)
        first = send(
            mails,
            Resources(settings, ledger=Ledger(settings.ledger), transport=SmtpTransport(settings)),
            instant,
        )
        rerun = send(
            mails,
            Resources(settings, ledger=Ledger(settings.ledger), transport=SmtpTransport(settings)),
            instant,
        )
    assert "STP-LCH" in first.sent and first.partial[0].startswith("STP-LCH: ")
    assert ledger_status(settings)["STP-LCH"]["error"].startswith("một số người nhận bị từ chối")
    assert rerun.sent == []  # the Head and Deputies got it: no duplicate for them


def test_temporary_failure_then_success(tmp_path, sample, plan):
    mails, instant = round_mails(sample, plan)
    recorder = Faulty(busy_once={"stp-bka@kvtd-tuphap.example"})
    with smtp_server(recorder=recorder) as (controller, _):
        settings = smtp_settings(tmp_path, controller)
        outcome = send(
            mails,
            Resources(settings, ledger=Ledger(settings.ledger), transport=SmtpTransport(settings)),
            instant,
        )
    assert outcome.failed == [] and "STP-BKA" in outcome.sent
    assert len(received_by(recorder, "stp-bka@kvtd-tuphap.example")) == 1


def test_connection_dropped_mid_batch(tmp_path, sample, plan):
    """The server drops the connection carrying the third message: that message is unconfirmed,
    the other connections finish the ones they hold, nothing more is taken; the rerun sends
    exactly the rest, and every unit gets its letter once."""
    mails, instant = round_mails(sample, plan)
    recorder = Faulty(drop_at=3)
    with smtp_server(recorder=recorder) as (controller, _):
        settings = smtp_settings(tmp_path, controller)
        first = send(
            mails,
            Resources(settings, ledger=Ledger(settings.ledger), transport=SmtpTransport(settings)),
            instant,
        )
        assert 2 <= len(first.sent) < len(mails) and len(first.sent) + len(first.failed) == len(mails)
        assert all("mất kết nối SMTP" in f for f in first.failed)
        statuses = ledger_status(settings)
        assert sorted(r for r, v in statuses.items() if v["status"] == "sent") == sorted(first.sent)
        rerun = send(
            mails,
            Resources(settings, ledger=Ledger(settings.ledger), transport=SmtpTransport(settings)),
            instant,
        )
    assert sorted(rerun.sent) == sorted(m.key.recipient for m in mails if m.key.recipient not in first.sent)
    for m in mails:
        assert len(received_by(recorder, m.to[0][1])) == 1


# -- concurrency -----------------------------------------------------------------------------


class SlowOutbox(FileOutbox):
    """A transport that takes its time, so that two runs overlap."""

    writes: list[str] = []
    lock = threading.Lock()

    def send_batch(self, batch):
        for result in super().send_batch(batch):
            time.sleep(0.05)
            with self.lock:
                self.writes.append(result.outgoing.key.recipient)
            yield result


def test_two_runs_of_the_same_round_at_once_send_each_message_once(settings, sample, plan):
    mails, instant = round_mails(sample, plan)
    SlowOutbox.writes = []
    outcomes = []

    def run():
        outcomes.append(
            send(
                mails,
                Resources(
                    settings, ledger=Ledger(settings.ledger), transport=SlowOutbox(settings.outbox_dir)
                ),
                instant,
            )
        )

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(SlowOutbox.writes) == sorted(m.key.recipient for m in mails)
    assert sorted(outcomes[0].sent + outcomes[1].sent) == sorted(m.key.recipient for m in mails)


# -- the sheet -------------------------------------------------------------------------------


def test_ten_thousand_junk_rows_are_reported_not_mailed_in_full(plan):
    junk = [
        [f"rác {i}", f'=IMPORTXML("http://x.example/{i}")', "???", "<b>x</b>", "", "", ""]
        for i in range(10_000)
    ]
    raw = {
        "Nộp hồ sơ": [HEADER, ["18/06/2021 09:00", "STP-YBA", "so-ket", "Báo cáo sơ kết", "", "", ""], *junk]
    }
    data = normalise(plan, raw)
    assert len(data.submissions) == 1 and len(data.findings) == 10_000
    assert {f.row for f in data.findings} == set(range(3, 10_003))
    instant = local(plan, 2021, 6, 18, 8)
    table = table_at(plan, data, instant, ["so-ket"])
    rnd = Round.of(plan, "so-ket", "before-1", instant)
    digest = digest_mail(rnd, table, [], [], Outcome(), [f.__dict__ for f in data.findings])
    assert "… và 9970 dòng khác" in digest.text and len(digest.text) < 20_000


def test_html_and_script_in_sheet_cells_are_inert(plan, tmp_path):
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    raw = {
        "Nộp hồ sơ": [
            HEADER,
            ["18/06/2021 09:00", "STP-YBA", "so-ket", "Báo cáo sơ kết", "", "", evil],
            ["18/06/2021 09:00", evil, "so-ket", "Báo cáo sơ kết", "", "", ""],
        ]
    }
    data = normalise(plan, raw)
    instant = local(plan, 2021, 6, 18, 8)
    table = table_at(plan, data, instant, ["so-ket"])
    rnd = Round.of(plan, "so-ket", "before-1", instant)
    digest = digest_mail(rnd, table, [], [], Outcome(), [f.__dict__ for f in data.findings])
    assert "<script>" not in digest.html and "&lt;script&gt;" in digest.html
    assert "<img" not in digest.html
    from tasks.markdown import md

    assert "<script>" not in md(evil) and "|" not in md("a|b").replace("\\|", "")


def test_formula_looking_cells_stay_text_in_the_xlsx_annex(sample, plan, tmp_path):
    from openpyxl import load_workbook

    from tasks.inputs import Inputs, assess
    from tasks.report_files import write_xlsx
    from tasks.reports import compile_report

    raw_indicators = sample.data.indicators.copy()
    raw_indicators.loc[0, "indicator"] = '=IMPORTXML("http://evil.example","//a")'
    inputs = Inputs(plan, sample.data, "mẫu", {})  # headers are not read by reports
    inputs.data = type(sample.data)(**{**sample.data.__dict__, "indicators": raw_indicators})
    at = local(plan, 2021, 6, 24)
    path = write_xlsx(compile_report(plan, inputs, assess(inputs, at), "midyear", at), tmp_path / "a.xlsx")
    cells = [
        c
        for ws in load_workbook(path)
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=IMPORTXML")
    ]
    assert cells and all(c.data_type == "s" for c in cells)


# -- secrets and recipients ------------------------------------------------------------------


def every_output(root: Path) -> bytes:
    return b"\n".join(
        p.read_bytes() for p in root.rglob("*") if p.is_file() and p.suffix != ".sqlite"
    ) + b"\n".join(str(r).encode() for p in root.rglob("*.sqlite") for r in Ledger(f"sqlite:///{p}").rows())


def test_smtp_password_never_appears_in_any_output(tmp_path, sample, plan, capsys, caplog):
    secret = "KHONG-DUOC-LO-9f3a"
    mails, instant = round_mails(sample, plan)
    with smtp_server() as (controller, _):
        wrong = smtp_settings(tmp_path, controller, password=secret)
        outcome = send(
            mails, Resources(wrong, ledger=Ledger(wrong.ledger), transport=SmtpTransport(wrong)), instant
        )
    assert outcome.failed and secret not in repr(wrong) and secret not in str(wrong.model_dump())
    captured = capsys.readouterr()
    haystack = every_output(tmp_path / "var") + (captured.out + captured.err + caplog.text).encode()
    haystack += "\n".join(outcome.failed).encode()
    assert secret.encode() not in haystack


def test_private_key_never_appears_in_source_errors(sample, plan):
    from tasks.gsheet import GoogleSheetSource
    from tasks.source import SourceError, WorkbookSource
    from tests.sheets_standin import SPREADSHEET_ID, SheetsStandIn

    with SheetsStandIn(
        WorkbookSource(Path(__file__).parents[1] / "config/sample-2021.xlsx").read_tabs()
    ) as s:
        s.fail(403)
        key_body = s.service_account["private_key"].splitlines()[1]
        with pytest.raises(SourceError) as info:
            GoogleSheetSource(SPREADSHEET_ID, s.service_account, s.base_url).read_tabs()
    assert key_body not in str(info.value) and "PRIVATE KEY" not in str(info.value)


def test_redirect_is_honoured_by_every_kind_of_mail(prefect_server, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from flows.cli import app
    from flows.milestone import milestone_round

    monkeypatch.setenv("THIDUA_MAIL_REDIRECT", "kiem-thu@test.example")
    runner = CliRunner()
    assert runner.invoke(app, ["replay", "--until", "2021-07-05"]).exit_code == 0  # rounds, digests, report
    monkeypatch.setenv("THIDUA_SOURCE", str(tmp_path / "mat.xlsx"))
    milestone_round("so-ket", "before-1", at="2021-06-18T08:00", return_state=True)  # fails: an alert
    kinds = set()
    for path in (tmp_path / "var" / "outbox").rglob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=default)
        assert [a.addr_spec for a in msg["To"].addresses] == ["kiem-thu@test.example"], path
        assert msg["Cc"] is None and msg["X-Thidua-Original-To"]
        kinds.add(path.stem.split("-")[0] if path.stem.startswith("alert") else path.parent.parent.name)
    assert {"so-ket", "dang-ky", "midyear", "bao-cao-so-ket-khu-vuc", "alert"} <= kinds


# -- broken configuration ----------------------------------------------------------------------

BROKEN = sorted(
    p for p in (Path(__file__).parent / "broken_plans").glob("*.yaml") if p.name != "_minimal.yaml"
)


def test_the_minimal_plan_of_the_corpus_is_valid():
    from tasks.plan import load_plan

    assert load_plan(Path(__file__).parent / "broken_plans" / "_minimal.yaml").units


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_each_broken_plan_gives_one_clear_message_and_exit_1(path):
    from typer.testing import CliRunner

    from flows.cli import app

    expect = path.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace").removeprefix("# expect: ")
    result = CliRunner().invoke(app, ["check"], env={"THIDUA_PLAN": str(path)})
    output = " ".join(result.output.split())
    assert result.exit_code == 1, output
    assert expect in output and str(path) in output
    assert "Traceback" not in output and result.exception is None or isinstance(result.exception, SystemExit)


# -- a real kill -9 --------------------------------------------------------------------------


@pytest.mark.parametrize("point", ["after-claim", "after-send"])
def test_process_killed_mid_round_loses_nothing_and_resends_at_most_once(
    point, settings, sample, plan, tmp_path
):
    import os
    import subprocess
    import sys

    repo = Path(__file__).parents[1]
    env = {**os.environ, "THIDUA_DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(repo)}
    done = subprocess.run(
        [sys.executable, "-m", "tests.crash_worker", point], cwd=tmp_path, env=env, timeout=120
    )
    assert done.returncode == -9  # it really died
    mails, instant = round_mails(sample, plan)
    written = sorted(settings.outbox_dir.rglob("*.eml"))
    before = {p.stem: email.message_from_bytes(p.read_bytes(), policy=default)["Message-ID"] for p in written}
    assert len(before) == (0 if point == "after-claim" else 1)
    assert {r["status"] for r in Ledger(settings.ledger).rows()} == {"claimed"}

    rerun = later_run(mails, settings, instant)
    assert sorted(rerun.sent) == sorted(m.key.recipient for m in mails)  # nothing lost
    after = {
        p.stem: email.message_from_bytes(p.read_bytes(), policy=default)["Message-ID"]
        for p in settings.outbox_dir.rglob("*.eml")
    }
    assert len(after) == len(mails)
    assert all(after[k] == v for k, v in before.items())  # the one resend carries the same Message-ID
    assert {r["status"] for r in Ledger(settings.ledger).rows()} == {"sent"}
