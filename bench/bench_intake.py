"""The mail intake against a real Dovecot on loopback (as root: it starts its own server, like
the tests): N messages, each with a small PDF, read cold, then again (nothing new), then one
new message. Prints wall time, connections (Dovecot's logins) and messages fetched."""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pypdf import PdfWriter  # noqa: E402

from tasks.intake_run import read_mailboxes  # noqa: E402
from tasks.plan import load_plan  # noqa: E402
from tasks.resources import Resources
from tasks.settings import REPO, Settings  # noqa: E402
from tests.imap_server import start_dovecot  # noqa: E402


def pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def message(i: int, plan, attachment: bytes) -> bytes:
    import datetime as dt

    unit = plan.units[i % len(plan.units)]
    msg = EmailMessage()
    msg["From"] = f"{unit.name} <{unit.email}>"
    msg["Subject"] = f"Gửi báo cáo sơ kết 6 tháng ({i})"
    msg["Date"] = format_datetime(dt.datetime(plan.year, 6, 10, 8, tzinfo=dt.timezone(dt.timedelta(hours=7))))
    msg["Message-ID"] = f"<bench-{i}@donvi.example>"
    msg.set_content("Kính gửi Trưởng Khu vực thi đua.")
    msg.add_attachment(attachment, maintype="application", subtype="pdf", filename="Báo cáo sơ kết.pdf")
    return msg.as_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    plan = load_plan(REPO / "config" / "plan-2021.yaml")
    server = start_dovecot({"truong": "bench"})
    data = Path(tempfile.mkdtemp(prefix="thidua-bench-intake-"))
    try:
        attachment = pdf()
        for i in range(args.messages):
            server.deliver("truong", message(i, plan, attachment))
        os.environ.update(
            THIDUA_IMAP_HOST="127.0.0.1",
            THIDUA_IMAP_PORT=str(server.imaps_port),
            THIDUA_IMAP_USER="truong",
            THIDUA_IMAP_PASSWORD="bench",
            THIDUA_IMAP_CA_FILE=str(server.ca_file),
            THIDUA_DATA_DIR=str(data),
        )
        print(
            "| run | messages in the folder | fetched | documents | connections | seconds |\n"
            + "|---" * 6
            + "|"
        )
        for label in ("cold", "again (nothing new)", "one new message"):
            if label == "one new message":
                server.deliver("truong", message(args.messages, plan, attachment))
            logins = server.logins()
            start = time.perf_counter()
            result = read_mailboxes(Resources(Settings()), plan)
            seconds = time.perf_counter() - start
            total = args.messages + (label == "one new message")
            print(
                f"| {label} | {total} | {result.fetched} | {len(result.documents)} | "
                f"{server.logins() - logins} | {seconds:.2f} |"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
