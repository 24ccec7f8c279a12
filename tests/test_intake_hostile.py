"""Mail nobody should have to read, on a real Dovecot: a message the server cannot give, headers of
a megabyte, Subjects of twenty thousand encoded-words, a server that trickles. The mailbox is still
read, what is read is kept, the round goes on, and a command stays under the stated memory
ceiling (MEMORY_CEILING_MB, measured as the child's peak resident size)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import zipfile
from email import policy
from email.parser import BytesParser

from sqlalchemy import Column, MetaData, Table, create_engine, insert, select
from sqlalchemy.schema import CreateTable

from tasks.intake_store import IntakeStore, body_hash, seen
from tasks.settings import REPO
from tests.imap_server import HEAD, env_for
from tests.slow_proxy import SlowProxy
from tests.test_intake import (
    ADDR,
    intake_json,
    message,
    pdf,
    status_of,
    thidua,
)

MEMORY_CEILING_MB = 500  # any single command on the shipped scale, whatever a stranger sends


def on_time_summary(when=(2021, 6, 18, 9)) -> bytes:
    return message(
        f"Sở Tư pháp tỉnh Lai Châu <{ADDR['STP-LCH']}>",
        "Báo cáo sơ kết 6 tháng",
        when,
        [("BC so ket 6 thang.pdf", pdf(8)), ("Báo cáo tóm tắt sơ kết.pdf", pdf(2))],
    )


def with_header(raw: bytes, name: bytes, value: bytes) -> bytes:
    """The message with one more header, put first."""
    return name + b": " + value + b"\r\n" + raw


# runs the command as its own child and prints that child's peak resident size: measured from a
# small parent, since a child forked from pytest itself would be charged pytest's pages too
_MEASURE = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[1:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, file=sys.stderr)\n"
)


def peak_of(command: list[str], env: dict[str, str], cwd) -> tuple[int, float, str]:
    """(exit code, peak resident MB, stdout) of a command, from the kernel's own count."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    code, kilobytes = done.stderr.strip().splitlines()[-1].split()
    return int(code), int(kilobytes) / 1024, done.stdout


def letter_text(raw: bytes) -> str:
    letter = BytesParser(policy=policy.default).parsebytes(raw)
    body = letter.get_body(("plain",))
    return str(body.get_content()) if body is not None else ""


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "flows.cli", *args]


def test_a_message_the_server_cannot_give_is_listed_and_the_rest_of_the_mailbox_is_read(imap_env):
    """Dovecot hangs up on a FETCH of a message whose file is damaged (its size hint lies): that
    one message used to fail every run. Now it is listed with why, once, and the next one counts."""
    damaged = imap_env.deliver(HEAD, message("<stp-bka@kvtd-tuphap.example>", "Báo cáo", (2021, 6, 14, 9)))
    damaged.rename(damaged.with_name(damaged.name.replace(":2,", ",S=50:2,")))
    imap_env.deliver(HEAD, on_time_summary())
    got = intake_json()
    assert got["fetched"] == 2 and not got["skipped"]
    assert {r["unit"] for r in got["recognised"]} == {"STP-LCH"}
    (listed,) = got["unrecognised"]
    assert "máy chủ thư không trả được thư này" in " ".join(listed["reasons"])
    again = intake_json()  # read once: the next run neither stumbles on it nor loses it
    assert again["fetched"] == 0 and len(again["unrecognised"]) == 1
    assert status_of("STP-LCH")["state"] == "on_time"


def test_headers_of_a_megabyte_do_not_stop_the_mailbox(imap_env):
    """IMAP's ENVELOPE sends a header on one line; imaplib refuses a line over 1,000,000 bytes, and
    the whole FETCH failed with it ('lần chạy sau đọc lại' — it never did)."""
    base = message("<stp-bka@kvtd-tuphap.example>", "Thư rác", (2021, 6, 14, 9))
    imap_env.deliver(HEAD, base.replace(b"Message-ID: <", b"Message-ID: <" + b"x" * 1_100_000, 1))
    imap_env.deliver(HEAD, with_header(base, b"To", b", ".join(b"u%d@x.vn" % i for i in range(100_000))))
    imap_env.deliver(HEAD, base.replace(b"Date: ", b"Date: " + b"9" * 1_100_000 + b" ", 1))
    imap_env.deliver(HEAD, on_time_summary())
    got = intake_json()
    assert got["fetched"] == 4 and not got["skipped"]
    assert {r["unit"] for r in got["recognised"]} == {"STP-LCH"}
    assert len(got["unrecognised"]) == 3  # listed, each with why: none dropped
    assert all(u["reasons"] for u in got["unrecognised"])


def test_two_messages_with_one_message_id_from_one_sender_both_count(imap_env):
    """A mailer that stamps every message with one Message-ID and the minute: the report and, in a
    second message, the summary. Both are documents; neither is lost behind the other."""
    report = message(
        f"<{ADDR['STP-LCH']}>", "Sơ kết 6 tháng", (2021, 6, 18, 9), [("BC so ket 6 thang.pdf", pdf(8))]
    )
    summary = message(
        f"<{ADDR['STP-LCH']}>", "Sơ kết 6 tháng", (2021, 6, 18, 9), [("Báo cáo tóm tắt sơ kết.pdf", pdf(2))]
    )
    one_id = next(line for line in report.split(b"\n") if line.lower().startswith(b"message-id:"))
    own_id = next(line for line in summary.split(b"\n") if line.lower().startswith(b"message-id:"))
    imap_env.deliver(HEAD, report)
    imap_env.deliver(HEAD, summary.replace(own_id, one_id))
    imap_env.deliver(HEAD, report)  # and the report again, the very same message: once
    got = intake_json()
    assert sorted(r["kind"] for r in got["recognised"]) == ["Báo cáo sơ kết", "Báo cáo tóm tắt"]
    assert status_of("STP-LCH")["state"] == "on_time"


def test_hostile_headers_stay_under_the_memory_ceiling(dovecot, tmp_path):
    """A Subject of 20,000 folded encoded-words (860 KB) took 8 GB to read; a 617 KB header 2.4 GB."""
    word = "=?utf-8?b?" + base64.b64encode("Báo cáo sơ kết đơn vị".encode()).decode() + "?="
    base = message("<stp-bka@kvtd-tuphap.example>", "x", (2021, 6, 14, 9))
    encoded = "\r\n ".join([word] * 20_000).encode()
    dovecot.deliver(HEAD, base.replace(b"Subject: x", b"Subject: " + encoded, 1))
    dovecot.deliver(HEAD, with_header(base, b"X-Note", b"\r\n ".join([b"ab cd"] * 100_000)))  # 617 KB
    dovecot.deliver(HEAD, on_time_summary())
    env = {**os.environ, **env_for(dovecot), "THIDUA_DATA_DIR": str(tmp_path / "var")}
    code, peak, out = peak_of(cli("intake", "--json", "--at", "2021-12-31T23:00"), env, REPO)
    got = json.loads(out)
    assert code == 0 and got["fetched"] == 3
    assert {r["unit"] for r in got["recognised"]} == {"STP-LCH"}
    assert peak < MEMORY_CEILING_MB, f"intake peaked at {peak:.0f} MB"


def test_a_zip_bomb_workbook_is_refused_unread_under_the_memory_ceiling(tmp_path, monkeypatch):
    """A workbook that inflates to 1 GB made `check` peak at 1.16 GB."""
    bomb = tmp_path / "bang-tinh.xlsx"
    source = zipfile.ZipFile(REPO / "config" / "sample-2021.xlsx")
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, data)
                continue
            head, _, tail = data.partition(b"<sheetData>")
            with out.open(info.filename, "w", force_zip64=True) as part:
                part.write(head + b"<sheetData>")
                for _ in range(1024):
                    part.write(b" " * (1 << 20))
                part.write(tail)
    assert bomb.stat().st_size < 2 << 20  # two megabytes on disk
    env = {**os.environ, "THIDUA_SOURCE": str(bomb), "THIDUA_DATA_DIR": str(tmp_path / "var")}
    env.pop("THIDUA_PLAN", None)
    code, peak, _ = peak_of(cli("check"), env, REPO)
    assert code == 1
    assert peak < MEMORY_CEILING_MB, f"check peaked at {peak:.0f} MB"
    monkeypatch.setenv("THIDUA_SOURCE", str(bomb))
    refused = thidua("status", "--milestone", "so-ket")
    assert refused.exit_code != 0
    said = refused.output.replace("\n", " ")
    assert "giải nén ra 1.024 MB" in said and "quá giới hạn 200 MB" in said and "Traceback" not in said


def test_a_server_that_trickles_its_greeting_does_not_hold_the_round(dovecot, tmp_path):
    """A byte every half second defeats every per-read timeout (it used to hold `thidua run` for
    good); the intake's one deadline ends it, and the round's reminders go out without the
    mailbox, saying so."""
    proxy = SlowProxy(dovecot.imap_port, fast_bytes=0)  # plain IMAP: TLS's per-record deadline does not help
    try:
        env = {
            **os.environ,
            **env_for(dovecot),
            "THIDUA_IMAP_PORT": str(proxy.port),
            "THIDUA_IMAP_SECURITY": "none",
            "THIDUA_INTAKE_DEADLINE": "3",
            "THIDUA_DATA_DIR": str(tmp_path / "var"),
        }
        done = subprocess.run(
            cli("run", "--milestone", "so-ket", "--stage", "before-1", "--at", "2021-06-18T08:00"),
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=240,  # it used to never end
        )
    finally:
        proxy.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    letters = list((tmp_path / "var" / "outbox").rglob("*.eml"))
    assert len(letters) > 3  # the units that owe something were reminded
    texts = [letter_text(p.read_bytes()) for p in letters]
    (digest,) = [t for t in texts if "Không đọc được hộp thư" in t]  # to the coordinators, once
    assert "quá 3 giây (THIDUA_INTAKE_DEADLINE)" in digest


def test_a_server_that_slows_mid_fetch_keeps_what_was_read_and_the_next_run_reads_on(
    dovecot, tmp_path, monkeypatch
):
    """Messages are kept batch by batch as they arrive: a read cut short by the deadline keeps
    what it got, and the next run reads only the rest."""
    for i in range(6):
        dovecot.deliver(HEAD, on_time_summary((2021, 6, 18, 9, i)))
    monkeypatch.setattr("tasks.mailbox.FETCH_BATCH", 2)
    for key, value in {**env_for(dovecot), "THIDUA_INTAKE_DEADLINE": "4"}.items():
        monkeypatch.setenv(key, value)
    whole = SlowProxy(dovecot.imaps_port, fast_bytes=10**9)  # first, how many bytes a whole read is
    monkeypatch.setenv("THIDUA_IMAP_PORT", str(whole.port))
    monkeypatch.setenv("THIDUA_DATA_DIR", str(tmp_path / "measure"))
    try:
        assert intake_json()["fetched"] == 6
    finally:
        whole.stop()
    proxy = SlowProxy(dovecot.imaps_port, fast_bytes=whole.passed * 3 // 4, every=0.2)
    monkeypatch.setenv("THIDUA_IMAP_PORT", str(proxy.port))
    monkeypatch.setenv("THIDUA_DATA_DIR", str(tmp_path / "var"))
    try:
        slow = thidua("intake", "--json", "--at", "2021-12-31T23:00")
    finally:
        proxy.stop()
    assert slow.exit_code == 1  # the command whose job is reading the mailbox did not finish it
    (why,) = json.loads(slow.stdout)["skipped"]
    assert "quá 4 giây (THIDUA_INTAKE_DEADLINE)" in why and "lần chạy sau đọc tiếp" in why
    kept = int(why.split("đã giữ ")[1].split()[0])
    assert 2 <= kept < 6, why
    monkeypatch.setenv("THIDUA_IMAP_PORT", str(dovecot.imaps_port))
    fine = intake_json()
    assert not fine["skipped"] and fine["fetched"] == 6 - kept  # nothing read twice
    assert len(fine["recognised"]) == 12  # all six messages, two documents each, none twice


def test_a_store_written_before_2026_gains_the_content_column_and_keeps_its_messages(tmp_path):
    """The intake store of an earlier version has no content or problem column: opened, it gains
    them, and the messages it kept are known by their content from then on."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    old = Table(
        "intake_messages",
        MetaData(),
        *(Column(c.name, c.type) for c in seen.c if c.name not in ("content", "problem")),
    )
    engine = create_engine(url)
    raw = on_time_summary()
    with engine.begin() as conn:
        conn.execute(CreateTable(old))
        conn.execute(
            insert(old).values(
                id=1,
                mailbox="truong@x/INBOX",
                uidvalidity=1,
                uid=1,
                fingerprint="<a@b>",
                sha256="0" * 64,
                raw=raw,
                size=len(raw),
                sender="s@x",
                subject="s",
                date="",
                fetched_at=None,
            )
        )
    store = IntakeStore(url)
    (kept,) = store.messages()
    assert kept.fingerprint == "<a@b>"
    with store.engine.connect() as conn:
        assert conn.execute(select(seen.c.content)).scalar() == body_hash(raw)
