"""The send ledger on a real PostgreSQL server: a plain postgresql:// URL, exactly-once claims
between processes sending the same round at the same instant, and a server restart in the middle
of a batch that neither loses nor doubles a message."""

from __future__ import annotations

import datetime as dt
import email
import os
import subprocess
import sys
import time
from collections import Counter
from email.policy import default
from pathlib import Path

import pytest

from tasks.ledger import Ledger, LedgerError
from tests.helpers import round_mails
from tests.postgres import postgres_server
from tests.smtp_server import Faulty, free_port, smtp_env, smtp_server

REPO = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as server:
        yield server


def _worker(tmp_path: Path, controller, ledger_url: str, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "THIDUA_DATA_DIR": str(tmp_path / name),
        "THIDUA_LEDGER_URL": ledger_url,
        **smtp_env(controller),
    }
    return subprocess.Popen([sys.executable, "-m", "tests.crash_worker", "smtp"], cwd=tmp_path, env=env)


def _ids(recorder) -> Counter:
    return Counter(email.message_from_bytes(m.data, policy=default)["Message-ID"] for m in recorder.messages)


def _fresh_database(postgres, name: str) -> str:
    url = postgres.url.rsplit("/", 1)[0] + f"/{name}"
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(postgres.bindir / "createdb"), "-h", "127.0.0.1",
         "-p", str(postgres.port), "-U", "postgres", name],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return url


def test_two_processes_sending_the_same_round_at_once_send_each_message_once(
    postgres, tmp_path, sample, plan
):
    url = _fresh_database(postgres, "en_parallele")
    mails, _ = round_mails(sample, plan)
    recorder = Faulty(slow=0.1)
    with smtp_server(recorder=recorder) as (controller, _):
        workers = [_worker(tmp_path, controller, url, name) for name in ("may-a", "may-b")]
        assert [w.wait(timeout=120) for w in workers] == [0, 0]
    ids = _ids(recorder)
    assert len(ids) == len(mails) and set(ids.values()) == {1}  # every message, once
    rows = Ledger(url).rows()
    assert len(rows) == len(mails) and {r["status"] for r in rows} == {"sent"}
    assert {r["attempts"] for r in rows} == {1}


def test_a_postgres_restart_in_mid_batch_neither_loses_nor_doubles_mail(postgres, tmp_path, sample, plan):
    url = _fresh_database(postgres, "khoi_dong_lai")
    mails, _ = round_mails(sample, plan)
    recorder = Faulty(slow=0.5)
    with smtp_server(recorder=recorder) as (controller, _):
        worker = _worker(tmp_path, controller, url, "may")
        deadline = time.monotonic() + 60
        while recorder.data_calls < 2:
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.05)
        postgres.stop()  # the worker's connection drops while it sends the batch...
        time.sleep(2.0)  # ...and its next confirmations find no server
        assert worker.poll() is None
        postgres.start()
        assert worker.wait(timeout=120) == 0
    ids = _ids(recorder)
    assert len(ids) == len(mails) and set(ids.values()) == {1}
    assert {r["status"] for r in Ledger(url).rows()} == {"sent"}


def test_an_unreachable_postgres_is_one_clear_error_naming_the_variable():
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/thidua"
    with pytest.raises(LedgerError, match="THIDUA_LEDGER_URL") as info:
        Ledger(url, reconnect_for=dt.timedelta(seconds=1))
    assert "postgres@127.0.0.1" in str(info.value)


def test_a_round_with_its_ledger_down_sends_nothing_fails_clearly_and_still_alerts(
    prefect_server, tmp_path, monkeypatch
):
    from flows.milestone import milestone_round

    monkeypatch.setenv("THIDUA_LEDGER_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/thidua")
    state = milestone_round("so-ket", "before-1", at="2021-06-18T08:00", return_state=True)
    assert state.is_failed() and "THIDUA_LEDGER_URL" in state.message
    outbox = tmp_path / "var" / "outbox"
    written = sorted(p.name for p in outbox.rglob("*.eml"))
    assert len(written) == 1 and written[0].startswith("alert-")  # no unit mail; the alert went out
    alert = email.message_from_bytes(next(outbox.rglob("alert-*.eml")).read_bytes(), policy=default)
    assert "THIDUA_LEDGER_URL" in alert.get_body(("plain",)).get_content()


def test_a_claim_behind_another_runs_lock_gives_up_instead_of_waiting_for_ever(postgres):
    """A run (or an operator's psql session) holding the ledger's table locked used to hold every
    other run's claim with it, silently; PostgreSQL's lock_timeout now ends the wait with an
    error the round reports."""
    import threading

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from tasks.outcomes import Key

    ledger = Ledger(postgres.url, reconnect_for=dt.timedelta(seconds=1))
    holder = create_engine(postgres.url.replace("postgresql://", "postgresql+psycopg://"))
    outcome: list[object] = []

    def claim() -> None:
        try:
            outcome.append(
                ledger.claim(Key("p", "so-ket", "a@x.vn", "before-1"), "<m@x>", "reminder", "s", "a@x.vn")
            )
        except OperationalError as exc:
            outcome.append(exc)

    with holder.begin() as conn:
        conn.execute(text("LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE"))
        waiting = threading.Thread(target=claim, daemon=True)
        waiting.start()
        waiting.join(120)
        assert not waiting.is_alive(), "the claim still waits on the lock"
    (ended,) = outcome
    assert isinstance(ended, OperationalError) and "lock timeout" in str(ended)
    holder.dispose()
