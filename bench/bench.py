"""thidua against the script a clerk would write, at three scales, on loopback stand-ins with
the latency of the real services. One run, one table: docs/performance.md.

For each scale a synthetic plan and sheet (bench/synthetic.py) are served by the Sheets API
stand-in (tests/sheets_standin.py: the real gspread and google-auth clients, a token exchange,
`--sheets-latency` seconds per request) and mail goes to a real SMTP server on loopback (aiosmtpd,
`--smtp-latency` seconds per MAIL, RCPT and DATA command). Every thidua command is a fresh
process, as a coordinator or the scheduler starts it; wall time and peak memory are its own.

    bench/run.sh                      # all three scales (about 15 minutes on 2 cores)
    bench/run.sh --scales small       # the shipped year only
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import synthetic  # noqa: E402

from tests.sheets_standin import SPREADSHEET_ID, SheetsStandIn  # noqa: E402
from tests.smtp_server import PASSWORD, Recorder, smtp_env, smtp_server  # noqa: E402

SCALES = {"small": (28, 500), "medium": (1_000, 20_000), "large": (5_000, 100_000)}
ROUND = ["run", "--milestone", "so-ket", "--stage", "overdue-1", "--at", "2021-06-21T08:00"]
STATUS = ["status", "--milestone", "so-ket", "--at", "2021-06-21T08:00", "--json"]
YEAREND = ["report", "yearend", "--at", "2021-11-16T08:00"]


@dataclass
class SlowSmtp(Recorder):
    """A recorder that answers MAIL, RCPT and DATA after `latency` seconds, like a real server
    across a network (EHLO answers at once: bench_slow_mail.SlowServer delays it too)."""

    latency: float = 0.0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        await _pause(self.latency)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await _pause(self.latency)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await _pause(self.latency)
        return await super().handle_DATA(server, session, envelope)


async def _pause(seconds: float) -> None:
    import asyncio

    if seconds:
        await asyncio.sleep(seconds)


@dataclass
class Measure:
    what: str
    scale: str
    seconds: float
    peak_mb: float = 0.0
    sheets_requests: int | None = None
    smtp_connections: int | None = None
    messages: int | None = None
    task_runs: int | None = None
    note: str = ""


def timed(argv: list[str], env: dict, cwd: Path) -> tuple[float, float, str]:
    """Wall seconds and peak resident MB of one process (its own, children excluded)."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read().decode()  # type: ignore[union-attr]
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode not in (0,):
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode}):\n{output[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, output


def thidua(*args: str) -> list[str]:
    return [sys.executable, "-m", "flows.cli", *args]


def task_runs(api_url: str) -> int:
    import httpx

    return int(httpx.post(f"{api_url}/task_runs/count", json={}, timeout=30).json())


def bench_scale(name: str, args, work: Path, server_api: str | None) -> list[Measure]:
    units, rows = SCALES[name]
    folder = work / name
    plan, sheet = synthetic.main(units, rows, folder)
    from tasks.source import WorkbookSource

    tabs = WorkbookSource(sheet).read_tabs()
    measures: list[Measure] = []
    recorder = SlowSmtp(latency=args.smtp_latency)
    # a login with "@": yagmail turns a bare one into "…@gmail.com" (LIBRARY-NOTES)
    login = "thidua@bench.example"
    with SheetsStandIn(tabs) as standin, smtp_server(login, recorder=recorder) as (controller, _):
        standin.latency = args.sheets_latency
        account = folder / "service-account.json"
        account.write_text(json.dumps(standin.service_account), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("THIDUA_", "PREFECT_API"))}
        env.update(
            smtp_env(controller),
            THIDUA_SMTP_USER=login,
            THIDUA_PLAN=str(plan),
            THIDUA_SOURCE=SPREADSHEET_ID,
            THIDUA_GOOGLE_CREDENTIALS=str(account),
            THIDUA_SHEETS_API_URL=standin.base_url,
            PREFECT_HOME=str(work / "prefect"),  # shared: migrations once, not per scale
        )

        def measure(what: str, argv: list[str], data_dir: str, extra: dict | None = None, note: str = ""):
            before_requests, before_messages = len(standin.api_requests), len(recorder.messages)
            before_logins = len(recorder.logins)
            before_tasks = task_runs(server_api) if extra and server_api else None
            run_env = {**env, "THIDUA_DATA_DIR": str(folder / data_dir), **(extra or {})}
            seconds, peak, _ = timed(argv, run_env, folder)
            m = Measure(what, name, seconds, peak, len(standin.api_requests) - before_requests, note=note)
            if argv[3:4] != ["status"]:
                m.smtp_connections = len(recorder.logins) - before_logins  # one login a connection
                m.messages = len(recorder.messages) - before_messages
                envelopes.extend(r.rcpt_tos for r in recorder.messages[before_messages:])
            if before_tasks is not None and server_api:
                m.task_runs = task_runs(server_api) - before_tasks
            measures.append(m)
            print(f"  {name:>6} {what:<38} {seconds:7.2f} s {peak:6.0f} MB", flush=True)
            return m

        envelopes: list[list[str]] = []  # the first round's, for the naive mail script
        measure("status", thidua(*STATUS), "var-status")
        measure("reminder round, temporary Prefect server", thidua(*ROUND), "var-round-ephemeral")
        if server_api:
            measure(
                "reminder round, running Prefect server",
                thidua(*ROUND),
                "var-round-served",
                {"PREFECT_API_URL": server_api},
            )
        measure("year-end report", thidua(*YEAREND), "var-report")
        if name == "small":
            measure("replay of the year", thidua("replay"), "var-replay")
            measures.append(shipped_replay(folder, env["PREFECT_HOME"]))
        first_round = envelopes[: measures[1].messages or 0]
        (folder / "envelopes.json").write_text(json.dumps(first_round), encoding="utf-8")
        measures += naive(name, sheet, standin, recorder, controller, env, folder, len(first_round))
    return measures


def shipped_replay(folder: Path, prefect_home: str) -> Measure:
    """`scripts/demo`'s replay: the shipped plan on its sample workbook, letters to files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THIDUA_", "PREFECT_API"))}
    data = folder / "var-shipped"
    env.update(THIDUA_DATA_DIR=str(data), PREFECT_HOME=prefect_home)
    seconds, peak, _ = timed(thidua("replay"), env, ROOT)
    m = Measure("replay of the year, shipped plan, file outbox", "2021", seconds, peak)
    m.messages = len(list((data / "outbox").rglob("*.eml")))
    print(f"  {'2021':>6} {m.what:<38} {seconds:7.2f} s {peak:6.0f} MB", flush=True)
    return m


NAIVE_STATUS = """
import sys, gspread, pandas as pd
from tasks.gsheet import _Adapter  # the one line that is not the clerk's: Google is a stand-in
gc = gspread.service_account(filename=sys.argv[1])
gc.http_client.session.mount("https://sheets.googleapis.com", _Adapter(sys.argv[2]))
book = gc.open_by_key(sys.argv[3])
tabs = {ws.title: pd.DataFrame(book.worksheet(ws.title).get_all_records()) for ws in book.worksheets()}
sub = tabs["Nộp hồ sơ"]
sub["at"] = pd.to_datetime(sub["Thời gian nộp"], dayfirst=True, errors="coerce")
sent = sub[(sub["Mốc"] == "Sơ kết 6 tháng") & (sub["at"] < "2021-06-20")]
print(sent.groupby("Đơn vị").size().to_json(force_ascii=False))
"""

NAIVE_XLSX = """
import sys, pandas as pd
sub = pd.read_excel(sys.argv[1], sheet_name="Nộp hồ sơ", dtype=str)
sub["at"] = pd.to_datetime(sub["Thời gian nộp"], dayfirst=True, errors="coerce")
sent = sub[(sub["Mốc"] == "Sơ kết 6 tháng") & (sub["at"] < "2021-06-20")]
print(sent.groupby("Đơn vị").size().to_json(force_ascii=False))
"""

NAIVE_MAIL = """
import sys, yagmail
import json
port, password, envelopes = int(sys.argv[1]), sys.argv[2], json.load(open(sys.argv[3]))
for to in envelopes:  # yagmail's README one-liner per message, to the same addresses as thidua's
    yagmail.SMTP("thidua@bench.example", password=password, host="127.0.0.1", port=port, smtp_ssl=False,
                 smtp_starttls=False).send(to, "Nhắc nộp báo cáo sơ kết", "Đơn vị chưa nộp báo cáo sơ kết.")
"""


def naive(name, sheet, standin, recorder, controller, env, folder, owing) -> list[Measure]:
    out = []
    account, envelopes = str(folder / "service-account.json"), str(folder / "envelopes.json")
    for what, code, argv, reads in [
        (
            "naive: gspread get_all_records + pandas",
            NAIVE_STATUS,
            [account, standin.base_url, SPREADSHEET_ID],
            True,
        ),
        ("naive: pandas read_excel script", NAIVE_XLSX, [str(sheet)], False),
        (
            "naive: yagmail.send per message",
            NAIVE_MAIL,
            [str(controller.port), PASSWORD, envelopes],
            False,
        ),
    ]:
        before_requests, before_logins = len(standin.api_requests), len(recorder.logins)
        seconds, peak, _ = timed([sys.executable, "-c", code, *argv], env, ROOT)
        m = Measure(what, name, seconds, peak, len(standin.api_requests) - before_requests if reads else None)
        if "yagmail" in what:
            m.smtp_connections, m.messages = len(recorder.logins) - before_logins, owing
        out.append(m)
        print(f"  {name:>6} {what:<38} {seconds:7.2f} s {peak:6.0f} MB", flush=True)
    return out


FIRST_READ = "status, 28 units, .xlsx, first read"
SAME_FILE = "status, 28 units, .xlsx, same file again"


def rows_only(work: Path) -> list[Measure]:
    """`status` on the shipped plan's 28 units with the sample sheet inflated, read from .xlsx
    (the embedded default): how the cost grows with rows alone. The first call reads the file;
    the next ones find it in the read cache (tasks/read_cache.py): best of two."""
    out = []
    for rows in (135, 20_135, 100_135):
        folder = work / f"rows-{rows}"
        plan, sheet = synthetic.main(28, rows, folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("THIDUA_", "PREFECT_API"))}
        env.update(THIDUA_PLAN=str(plan), THIDUA_SOURCE=str(sheet), THIDUA_DATA_DIR=str(folder / "var"))
        first = timed(thidua(*STATUS), env, folder)
        again = min((timed(thidua(*STATUS), env, folder) for _ in range(2)), key=lambda r: r[0])
        for what, (seconds, peak, _) in ((FIRST_READ, first), (SAME_FILE, again)):
            out.append(Measure(what, f"{rows:,} rows", seconds, peak))
            print(f"  {rows:>7} rows  {what:<40} {seconds:.2f} s {peak:.0f} MB", flush=True)
    return out


def table(measures: list[Measure]) -> str:
    lines = [
        "| scale | what | wall s | peak MB | Sheets requests | SMTP connections | messages | task runs |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measures:
        cells = [m.sheets_requests, m.smtp_connections, m.messages, m.task_runs]
        shown = ["" if c is None else f"{c:,}" for c in cells]
        lines.append(
            f"| {m.scale} | {m.what} | {m.seconds:.2f} | {m.peak_mb:.0f} | " + " | ".join(shown) + " |"
        )
    return "\n".join(lines)


def ratios(measures: list[Measure]) -> str:
    by = {(m.scale, m.what): m for m in measures}
    lines = []
    for scale in SCALES:
        ours, theirs = by.get((scale, "status")), by.get((scale, "naive: gspread get_all_records + pandas"))
        if ours and theirs and ours.sheets_requests:
            lines.append(
                f"- {scale}: Sheets requests {theirs.sheets_requests} (naive) / {ours.sheets_requests} "
                "(thidua) "
                f"= {theirs.sheets_requests / ours.sheets_requests:.0f}×; status time thidua/naive = "
                f"{ours.seconds / theirs.seconds:.2f}"
            )
        sent = by.get((scale, "reminder round, temporary Prefect server"))
        mail = by.get((scale, "naive: yagmail.send per message"))
        if sent and mail and sent.smtp_connections:
            lines.append(
                f"- {scale}: SMTP connections {mail.smtp_connections} (naive) / {sent.smtp_connections} "
                "(thidua) "
                f"for {sent.messages} messages"
            )
    for what in (FIRST_READ, SAME_FILE):
        base = by.get(("135 rows", what))
        for rows in ("20,135 rows", "100,135 rows"):
            if base and (m := by.get((rows, what))):
                lines.append(f"- {what}: on {rows} / on 135 rows: {m.seconds / base.seconds:.2f}×")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="small,medium,large")
    parser.add_argument("--sheets-latency", type=float, default=0.2, help="seconds per Sheets request")
    parser.add_argument("--smtp-latency", type=float, default=0.005, help="seconds per MAIL/RCPT/DATA")
    parser.add_argument("--no-server", action="store_true", help="skip the running-server round")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "results.md")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    warnings.filterwarnings("ignore", module="aiosmtpd")  # AUTH without TLS: on loopback, on purpose
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="thidua-bench-") as tmp:
        work = Path(tmp)
        measures = rows_only(work)
        server_api = None
        from contextlib import ExitStack

        with ExitStack() as stack:
            if not args.no_server:
                from flows.local_server import local_prefect_server
                from tests.smtp_server import free_port

                os.environ["PREFECT_HOME"] = str(work / "prefect")
                server_api = stack.enter_context(
                    local_prefect_server(free_port(), work / "prefect-server.log")
                )
            for name in args.scales.split(","):
                measures += bench_scale(name, args, work, server_api)
    report = (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"Sheets latency {args.sheets_latency * 1000:.0f} ms/request, SMTP latency "
        f"{args.smtp_latency * 1000:.0f} ms/command.\n\n{table(measures)}\n\n{ratios(measures)}\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print("\n" + report + f"\n(written to {args.out})")


if __name__ == "__main__":
    main()
