"""A round's letters against a slow mail server: thidua's exactly-once delivery at several
connection-pool sizes against the naive script (yagmail's one-liner per letter), same envelopes.

The server is a real aiosmtpd on loopback answering EHLO, MAIL, each RCPT and DATA after
`--latency` seconds (0.25 s: a loaded relay across a province's network). thidua's letters are
the reminder round of the sample's mid-year review on a synthetic area of `--units` units (bench/
synthetic.py), claimed and confirmed in a SQLite ledger as in a real round; only the sending is
timed (the round's reading and composing are measured in bench.py).

    bench/run.sh slow-mail                  # 28 units (the shipped area), pools 1, 2, 4, 8
    bench/run.sh slow-mail --units 200 --pools 1 4 8
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import synthetic  # noqa: E402

from bench import SlowSmtp  # noqa: E402  # bench/bench.py
from tests.smtp_server import PASSWORD, smtp_server  # noqa: E402

LOGIN = "thidua@bench.example"  # with "@": yagmail turns a bare login into "…@gmail.com"


@dataclass
class SlowServer(SlowSmtp):
    """bench.py's slow recorder (MAIL, each RCPT and DATA late), its EHLO late too."""

    latency: float = 0.25

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        await asyncio.sleep(self.latency)
        session.host_name = hostname
        return responses


def round_letters(units: int, work: Path):
    """The reminder 7 days before the mid-year review's deadline (13/06/2021) on `units` units:
    its letters (each to the unit, copied to the area's contacts)."""
    from tasks.compose import unit_mails
    from tasks.inputs import assess, load_inputs
    from tasks.resources import Resources
    from tasks.round import Round
    from tasks.settings import Settings

    plan_path, sheet = synthetic.main(units, units * 18, work / "area")
    settings = Settings(plan=plan_path, source=str(sheet), data_dir=work / "read")
    with Resources(settings) as resources:
        inputs = load_inputs(resources)
    instant = dt.datetime(2021, 6, 13, 8, tzinfo=inputs.plan.tz)
    table = assess(inputs, instant, ["so-ket"])
    return unit_mails(Round.of(inputs.plan, "so-ket", "before-7", instant), table), instant


def thidua_send(mails, instant, port: int, pool: int, work: Path) -> tuple[float, int]:
    from tasks.delivery import send
    from tasks.resources import Resources
    from tasks.settings import Settings

    settings = Settings(
        data_dir=work / f"pool-{pool}",
        mail_transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_user=LOGIN,
        smtp_password=PASSWORD,
        smtp_connections=pool,
    )
    started = time.perf_counter()
    with Resources(settings) as resources:
        outcome = send(mails, resources, instant)
    seconds = time.perf_counter() - started
    if outcome.failed:
        raise SystemExit(f"thidua, {pool} connections: {outcome.failed[:3]}")
    return seconds, len(outcome.sent)


def naive_send(envelopes: list[list[str]], port: int) -> float:
    import yagmail

    started = time.perf_counter()
    for to in envelopes:  # yagmail's README one-liner per letter, to the same addresses
        yagmail.SMTP(
            LOGIN, password=PASSWORD, host="127.0.0.1", port=port, smtp_ssl=False, smtp_starttls=False
        ).send(to, "Nhắc nộp báo cáo sơ kết", "Đơn vị chưa nộp báo cáo sơ kết.")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=28)
    parser.add_argument("--latency", type=float, default=0.25, help="seconds before every reply")
    parser.add_argument("--pools", type=int, nargs="+", default=[1, 2, 4, 8])
    args = parser.parse_args()
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's notes on a loopback test server
    with tempfile.TemporaryDirectory(prefix="thidua-slow-mail-") as tmp:
        work = Path(tmp)
        mails, instant = round_letters(args.units, work)
        envelopes = [m.recipients for m in mails]
        rows = []
        recorder = SlowServer(latency=args.latency)
        with smtp_server(LOGIN, recorder=recorder) as (controller, _):
            for pool in args.pools:
                before = len(recorder.logins)
                seconds, sent = thidua_send(mails, instant, controller.port, pool, work)
                rows.append(
                    (f"thidua, THIDUA_SMTP_CONNECTIONS={pool}", seconds, sent, len(recorder.logins) - before)
                )
                print(f"  {rows[-1][0]:<40} {seconds:7.2f} s", flush=True)
            before = len(recorder.logins)
            seconds = naive_send(envelopes, controller.port)
            rows.append(
                ("naive: yagmail.send per letter", seconds, len(envelopes), len(recorder.logins) - before)
            )
            print(f"  {rows[-1][0]:<40} {seconds:7.2f} s", flush=True)
    naive_seconds = rows[-1][1]
    recipients = sum(len(e) for e in envelopes)
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"every reply {args.latency * 1000:.0f} ms late; {len(mails)} letters to {recipients} recipients "
        f"({args.units} units).",
        "",
        "| sender | seconds | letters | connections | time against the naive script |",
        "|---|---:|---:|---:|---:|",
        *(f"| {w} | {s:.2f} | {n} | {c} | ×{s / naive_seconds:.2f} |" for w, s, n, c in rows),
    ]
    out = ROOT / "var" / "bench" / "slow-mail.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
