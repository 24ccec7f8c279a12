"""The intake reads a real IMAP server (Dovecot, started here on loopback with TLS from a
throwaway CA) and counts what units e-mail to the Head, as plan 184/KH-KVTĐ tells them to."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from pypdf import PdfWriter
from typer.testing import CliRunner

from flows.cli import app
from tasks.inputs import assess, load_inputs
from tasks.plan import load_plan
from tasks.resources import Resources
from tasks.settings import Settings
from tests.helpers import local, write_plan
from tests.imap_server import HEAD, PASSWORD, env_for

ADDR = {
    "STP-BKA": "stp-bka@kvtd-tuphap.example",
    "STP-LCH": "stp-lch@kvtd-tuphap.example",
    "THADS-DBI": "thads-dbi@kvtd-tuphap.example",
}


def pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def message(
    sender: str,
    subject: str,
    when: tuple,
    files: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    body: str = "Kính gửi Trưởng Khu vực thi đua, đơn vị gửi hồ sơ.",
    date: bool = True,
    tz: str = "+07:00",
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "dau-moi.truong-khu-vuc@kvtd-tuphap.example"
    msg["Subject"] = subject
    if date:
        hours, minutes = (int(x) for x in tz.lstrip("+").split(":"))
        msg["Date"] = format_datetime(
            dt.datetime(*when, tzinfo=dt.timezone(dt.timedelta(hours=hours, minutes=minutes)))
        )
    msg["Message-ID"] = make_msgid(domain="donvi.example")
    msg.set_content(body)
    for name, data in files:
        maintype, subtype = (
            ("application", "pdf")
            if name.lower().endswith(".pdf")
            else ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
        )
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def status_of(code: str, at=(2021, 6, 21, 9)) -> dict:
    inputs = load_inputs(Resources(Settings()))
    table = assess(inputs, local(inputs.plan, *at), ["so-ket"])
    row = table[table["unit"] == code].iloc[0]
    return {
        "state": row.state,
        "missing": list(row.missing),
        "via_mail": list(row.via_mail),
        "inputs": inputs,
    }


def test_a_unit_that_emails_its_two_midyear_documents_on_time_is_on_time_and_not_reminded(imap_env):
    # STP-LCH sends nothing on the sheet (config/sample-2021.xlsx): by mail, on 18/06, both documents
    imap_env.deliver(
        HEAD,
        message(
            f"Sở Tư pháp tỉnh Lai Châu <{ADDR['STP-LCH']}>",
            "V/v gửi báo cáo sơ kết 6 tháng năm 2021",
            (2021, 6, 18, 15, 30),
            [("BC so ket 6 thang.pdf", pdf(8)), ("Báo cáo tóm tắt sơ kết.pdf", pdf(2))],
        ),
    )
    got = status_of("STP-LCH")
    assert got["state"] == "on_time" and got["missing"] == []
    assert any("thư điện tử" in v and ADDR["STP-LCH"] in v for v in got["via_mail"])
    from tasks.compose import unit_mails
    from tasks.round import Round

    inputs = got["inputs"]
    rnd = Round.of(inputs.plan, "so-ket", "overdue-1", local(inputs.plan, 2021, 6, 21, 8))
    reminded = {m.key.recipient for m in unit_mails(rnd, assess(inputs, rnd.instant))}
    assert "STP-LCH" not in reminded and "THADS-DBI" in reminded  # THADS-DBI sent nothing anywhere


def thidua(*args):
    return CliRunner().invoke(app, list(args))


def intake_json(at: str = "2021-12-31T23:00") -> dict:
    result = thidua("intake", "--json", "--at", at)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_message_from_an_unknown_address_is_listed_not_counted(imap_env):
    imap_env.deliver(
        HEAD,
        message(
            "Nguyễn Văn Lạ <ai-do@thu-rieng.example>",
            "Gửi tài liệu",
            (2021, 6, 17, 10),
            [("tai lieu.pdf", pdf(1))],
        ),
    )
    got = intake_json()
    assert got["recognised"] == []
    (unknown,) = got["unrecognised"]
    assert unknown["sender"] == "ai-do@thu-rieng.example" and unknown["subject"] == "Gửi tài liệu"
    assert unknown["date"] == "17/06/2021 10:00" and unknown["attachments"] == ["tai lieu.pdf"]
    assert unknown["reasons"][0].startswith("không nhận ra đơn vị: địa chỉ ai-do@thu-rieng.example không có")
    human = thidua("intake", "--at", "2021-12-31T23:00")
    assert (
        "Thư chưa nhận ra, chưa được tính (1)" in human.output and "ai-do@thu-rieng.example" in human.output
    )
    assert "also_from" in human.output  # and how to settle it
    status = thidua("status", "--milestone", "so-ket", "--at", "2021-06-21T09:00")
    assert "1 thư chưa nhận ra, chưa được tính" in status.output


def test_a_malformed_list_of_deputies_mailboxes_still_reads_the_heads(imap_env, monkeypatch):
    imap_env.deliver(
        HEAD,
        message(
            f"Sở Tư pháp tỉnh Lai Châu <{ADDR['STP-LCH']}>",
            "Báo cáo sơ kết 6 tháng",
            (2021, 6, 18, 15, 30),
            [("BC so ket 6 thang.pdf", pdf(8)), ("Báo cáo tóm tắt sơ kết.pdf", pdf(2))],
        ),
    )
    monkeypatch.setenv("THIDUA_IMAP_MORE", "[{host: khong-phai-json")
    result = thidua("intake", "--json")
    got = json.loads(result.stdout)
    assert result.exit_code == 1 and len(got["mailboxes"]) == 1  # the Head's mailbox was read
    assert {r["unit"] for r in got["recognised"]} == {"STP-LCH"}
    (why,) = got["skipped"]
    assert why.startswith("THIDUA_IMAP_MORE không đọc được, các hộp thư trong đó bị bỏ qua")


def test_a_second_message_reusing_a_message_id_is_counted_not_lost(imap_env):
    """Another unit's message carrying an already-seen Message-ID (a broken mailer, or on purpose)
    is a message of its own: both are counted."""
    first = message(
        f"Sở Tư pháp tỉnh Lai Châu <{ADDR['STP-LCH']}>",
        "Báo cáo sơ kết 6 tháng",
        (2021, 6, 18, 15, 30),
        [("BC so ket 6 thang.pdf", pdf(8)), ("Báo cáo tóm tắt sơ kết.pdf", pdf(2))],
    )
    shared_id = next(line for line in first.split(b"\n") if line.lower().startswith(b"message-id:"))
    second = message(
        f"Cục Thi hành án dân sự tỉnh Điện Biên <{ADDR['THADS-DBI']}>",
        "Báo cáo sơ kết 6 tháng của Cục",
        (2021, 6, 18, 16, 0),
        [("BC so ket 6 thang.pdf", pdf(5)), ("Báo cáo tóm tắt sơ kết.pdf", pdf(3))],
    )
    own_id = next(line for line in second.split(b"\n") if line.lower().startswith(b"message-id:"))
    imap_env.deliver(HEAD, first)
    imap_env.deliver(HEAD, second.replace(own_id, shared_id))
    got = intake_json()
    assert got["fetched"] == 2
    senders = {r["unit"] for r in got["recognised"]}
    assert senders == {"STP-LCH", "THADS-DBI"}, got["recognised"]  # neither lost behind the other
    assert status_of("THADS-DBI")["state"] == "on_time" and status_of("STP-LCH")["state"] == "on_time"


def test_the_same_folder_read_twice_or_renumbered_counts_each_document_once(imap_env, monkeypatch):
    raw = message(
        f"Sở Tư pháp tỉnh Lai Châu <{ADDR['STP-LCH']}>",
        "Báo cáo sơ kết 6 tháng",
        (2021, 6, 18, 15, 30),
        [("BC so ket 6 thang.pdf", pdf(8)), ("Báo cáo tóm tắt sơ kết.pdf", pdf(2))],
    )
    imap_env.deliver(HEAD, raw)
    imap_env.deliver("pho-truong", raw)  # sent to the Head and a Deputy at once
    more = [
        {"host": "127.0.0.1", "port": imap_env.imaps_port, "user": "pho-truong", "password": "mat-khau-pho"}
    ]
    monkeypatch.setenv("THIDUA_IMAP_MORE", json.dumps([{**more[0], "ca_file": str(imap_env.ca_file)}]))
    first = intake_json()
    assert first["fetched"] == 2 and len(first["mailboxes"]) == 2, first
    assert sorted(r["kind"] for r in first["recognised"]) == ["Báo cáo sơ kết", "Báo cáo tóm tắt"]
    again = intake_json()
    assert again["fetched"] == 0 and again["recognised"] == first["recognised"]
    imap_env.renumber(HEAD)  # a new UIDVALIDITY: the folder is read again
    renumbered = intake_json()
    assert renumbered["fetched"] == 1 and renumbered["recognised"] == first["recognised"]
    inputs = load_inputs(Resources(Settings()))
    row = assess(inputs, local(inputs.plan, 2021, 6, 21, 9), ["so-ket"]).set_index("unit").loc["STP-LCH"]
    assert row.state == "on_time" and row.problems == []  # not "nộp 2 lần"


def test_the_mailbox_is_byte_identical_flags_included_after_a_run(imap_env, monkeypatch):
    seen = imap_env.deliver(
        HEAD,
        message(
            f"<{ADDR['STP-BKA']}>",
            "Báo cáo tóm tắt sơ kết",
            (2021, 6, 18, 9),
            [("Bao cao tom tat.pdf", pdf(2))],
        ),
        flags="S",
    )
    unseen = imap_env.deliver(
        HEAD,
        message(f"<{ADDR['THADS-DBI']}>", "Sơ kết", (2021, 6, 18, 9), [("Báo cáo sơ kết.pdf", pdf(9))]),
    )
    before = imap_env.snapshot(HEAD)
    # over STARTTLS this time (port 143 style), the CA still checked
    monkeypatch.setenv("THIDUA_IMAP_SECURITY", "starttls")
    monkeypatch.setenv("THIDUA_IMAP_PORT", str(imap_env.imap_port))
    got = intake_json()
    assert len(got["recognised"]) == 2 and got["skipped"] == []
    assert imap_env.snapshot(HEAD) == before  # same files, same names (flags), same bytes
    assert seen.exists() and unseen.exists() and unseen.name.endswith(":2,")  # \Seen never set


def forwarded(original_from: str, when: str, files) -> bytes:
    body = (
        "Chuyển đồng chí xem.\n\n---------- Forwarded message ---------\n"
        f"From: {original_from}\nDate: {when}\nSubject: Gửi báo cáo sơ kết\n"
        "To: dau-moi.truong-khu-vuc@kvtd-tuphap.example\n\nKính gửi Trưởng Khu vực, đơn vị gửi báo cáo.\n"
    )
    return message(
        "Phạm Thị Minh Lý <dau-moi.truong-khu-vuc@kvtd-tuphap.example>",
        "Fwd: Gửi báo cáo sơ kết",
        (2021, 6, 22, 8),
        files,
        body=body,
    )


def test_the_clients_usual_quirks(imap_env):
    # a coordinator forwards Cục THADS Điện Biên's mail of 19/06: the unit's time counts, not hers
    imap_env.deliver(
        HEAD,
        forwarded(
            f"Cục THADS tỉnh Điện Biên <{ADDR['THADS-DBI']}>",
            "Sat, 19 Jun 2021 16:05:00 +0700",
            [("Báo cáo sơ kết 6 tháng.pdf", pdf(10)), ("Báo cáo tóm tắt.pdf", pdf(3))],
        ),
    )
    # STP-BKA replies to the reminder, quoting it; the file name says neither milestone nor marks
    reminder = (
        "> Kính gửi: Sở Tư pháp tỉnh Bắc Kạn\n> - Báo cáo tóm tắt (không quá 3 trang A4)\n> - Báo cáo sơ kết"
    )
    imap_env.deliver(
        HEAD,
        message(
            f"Văn thư STP Bắc Kạn <{ADDR['STP-BKA']}>",
            "Re: [KVTĐ Tư pháp miền núi phía Bắc] Nhắc gửi hồ sơ sơ kết 6 tháng: hạn trước ngày 20/06/2021",
            (2021, 6, 19, 7, 45),
            [("bao cao tom tat.pdf", pdf(3))],
            body=f"Đơn vị xin gửi báo cáo tóm tắt.\n\n{reminder}",
        ),
    )
    got = intake_json()
    by = {(r["unit"], r["kind"]): r for r in got["recognised"]}
    assert by[("THADS-DBI", "Báo cáo sơ kết")]["submitted_at"].startswith("2021-06-19T16:05")
    assert (
        by[("THADS-DBI", "Báo cáo tóm tắt")]["pages"] == 3
        and not by[("THADS-DBI", "Báo cáo tóm tắt")]["late"]
    )
    assert by[("STP-BKA", "Báo cáo tóm tắt")]["milestone"] == "so-ket"
    assert ("STP-BKA", "Báo cáo sơ kết") not in by  # the quoted reminder lists it: not a document
    assert got["unrecognised"] == []
    assert status_of("STP-BKA")["state"] == "on_time"  # its report is on the sheet, the summary by mail
    assert status_of("THADS-DBI")["state"] == "on_time"


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("docProps/app.xml", b"<Pages>1</Pages>" + b" " * (300 * 1024 * 1024))
    return out.getvalue()


def test_bad_attachments_and_messages_are_listed_with_why_and_nothing_crashes(imap_env, tmp_path):
    sender = f"<{ADDR['STP-LCH']}>"
    imap_env.deliver(
        HEAD,
        message(sender, "Báo cáo sơ kết", (2021, 6, 18, 8), [("Báo cáo sơ kết.pdf", b"\0" * (25 << 20))]),
    )
    imap_env.deliver(
        HEAD, message(sender, "Báo cáo sơ kết", (2021, 6, 18, 9), [("Báo cáo sơ kết.docx", zip_bomb())])
    )
    imap_env.deliver(
        HEAD, message(sender, "Tóm tắt", (2021, 6, 18, 10), [("Báo cáo tóm tắt.pdf", b"PK\3\4 not a pdf")])
    )
    imap_env.deliver(
        HEAD, message(sender, "Sơ kết", (2021, 6, 18, 11), [("../../../../tmp/Báo cáo sơ kết.pdf", pdf(7))])
    )
    imap_env.deliver(
        HEAD,
        message(sender, "Sơ kết không ngày", (2021, 6, 18, 12), [("Báo cáo sơ kết.pdf", pdf(7))], date=False),
    )
    got = intake_json()
    reasons = {u["subject"] + " " + u["date"]: " ".join(u["reasons"]) for u in got["unrecognised"]}
    assert len(reasons) == 4, reasons
    assert "vượt giới hạn 20 MB: không tải về" in reasons["Báo cáo sơ kết 18/06/2021 08:00"]
    assert "bất thường, không mở" in reasons["Báo cáo sơ kết 18/06/2021 09:00"]
    assert "không phải tệp PDF như tên của nó" in reasons["Tóm tắt 18/06/2021 10:00"]
    assert "thư không có ngày gửi" in next(v for k, v in reasons.items() if k.startswith("Sơ kết không ngày"))
    (counted,) = got["recognised"]  # the name with a path: shown and counted, never used as a path
    assert counted["file_name"] == "Báo cáo sơ kết.pdf" and counted["pages"] == 7
    assert not (tmp_path.parent / "Báo cáo sơ kết.pdf").exists() and not list(tmp_path.glob("**/*.pdf"))
    kept = list((tmp_path / "var" / "intake" / "files").iterdir())
    assert len(kept) == 1 and len(kept[0].name) == 64  # by content hash


def test_a_wrong_password_or_a_dead_server_skips_the_intake_and_the_round_goes_on(dovecot, monkeypatch):
    for key, value in env_for(dovecot, THIDUA_IMAP_PASSWORD="sai-mat-khau").items():
        monkeypatch.setenv(key, value)
    status = thidua("status", "--milestone", "so-ket", "--at", "2021-06-18T08:00")
    assert status.exit_code == 0 and "Sơ kết 6 tháng" in status.output
    assert "bỏ qua hộp thư" in status.output and "từ chối đăng nhập của 'truong'" in status.output
    assert "sai-mat-khau" not in status.output  # never shown
    inputs = load_inputs(Resources(Settings()))
    from tasks.compose import digest_mail
    from tasks.outcomes import Outcome
    from tasks.round import Round

    rnd = Round.of(inputs.plan, "so-ket", "before-1", local(inputs.plan, 2021, 6, 18, 8))
    digest = digest_mail(rnd, assess(inputs, rnd.instant), [], [], Outcome(), [], inputs.intake)
    assert "Không đọc được hộp thư, đợt này chỉ dựa vào bảng tính" in digest.text
    dovecot.stop()
    monkeypatch.setenv("THIDUA_IMAP_PASSWORD", PASSWORD)
    dead = thidua("intake", "--json")
    assert dead.exit_code == 1  # the command whose job is reading the mailboxes failed at it
    (why,) = json.loads(dead.stdout)["skipped"]
    assert "không kết nối được" in why and "THIDUA_IMAP_HOST" in why


def test_the_digest_and_the_report_say_which_documents_came_by_mail(imap_env, tmp_path):
    imap_env.deliver(
        HEAD,
        message(
            f"<{ADDR['STP-LCH']}>",
            "Báo cáo sơ kết",
            (2021, 6, 18, 15),
            [("Báo cáo sơ kết.pdf", pdf(8)), ("Báo cáo tóm tắt.pdf", pdf(2))],
        ),
    )
    imap_env.deliver(HEAD, message("<ai-do@thu-rieng.example>", "Hỏi", (2021, 6, 18, 16)))
    inputs = load_inputs(Resources(Settings()))
    from tasks.compose import digest_mail
    from tasks.outcomes import Outcome
    from tasks.report_files import to_markdown, write_docx
    from tasks.reports import compile_report
    from tasks.round import Round

    rnd = Round.of(inputs.plan, "so-ket", "overdue-1", local(inputs.plan, 2021, 6, 21, 8))
    table = assess(inputs, rnd.instant)
    digest = digest_mail(rnd, table, [], [], Outcome(), [], inputs.intake).text
    assert (
        "Hồ sơ nhận qua thư điện tử:\n- Sở Tư pháp tỉnh Lai Châu: Báo cáo sơ kết: thư điện tử của stp-lch@"
        in digest
    )
    assert "Thư gửi tới hộp thư chưa nhận ra" in digest and "ai-do@thu-rieng.example" in digest
    data = compile_report(inputs.plan, inputs, table, "midyear", rnd.instant)
    assert any(
        line.startswith("Sở Tư pháp tỉnh Lai Châu: Báo cáo tóm tắt: thư điện tử") for line in data.by_mail
    )
    assert "**Hồ sơ nhận qua thư điện tử:**" in to_markdown(data)
    import docx

    text = "\n".join(p.text for p in docx.Document(write_docx(data, tmp_path / "bc.docx")).paragraphs)
    assert "Hồ sơ các đơn vị gửi qua thư điện tử" in text and "stp-lch@kvtd-tuphap.example" in text


def test_a_row_of_the_sheet_naming_the_message_id_settles_it(imap_env, tmp_path, monkeypatch):
    from openpyxl import load_workbook

    from tests.helpers import SAMPLE

    raw = message(
        "<ai-do@thu-rieng.example>", "Gửi báo cáo", (2021, 6, 18, 9), [("Báo cáo sơ kết.pdf", pdf(9))]
    )
    imap_env.deliver(HEAD, raw)
    message_id = intake_json()["unrecognised"][0]["message_id"]
    book = load_workbook(SAMPLE)
    book["Nộp hồ sơ"].append(
        ["18/06/2021 09:00", "STP-LCH", "so-ket", "Báo cáo sơ kết", 9, "", f"Thư {message_id}"]
    )
    book.save(tmp_path / "sheet.xlsx")
    monkeypatch.setenv("THIDUA_SOURCE", str(tmp_path / "sheet.xlsx"))
    settled = intake_json()
    assert settled["unrecognised"] == [] and settled["settled"] == 1


def test_a_thousand_messages_in_one_connection_and_nothing_old_fetched_again(imap_env):
    for i in range(1000):
        imap_env.deliver(HEAD, message("<ban-tin@tin-tuc.example>", f"Bản tin số {i}", (2020, 3, 1, 8)))
    from tasks.intake_run import read_mailboxes

    plan = load_plan(Settings().plan)
    first = read_mailboxes(Resources(Settings()), plan)
    assert first.fetched == 1000 and first.outside == 1000  # old newsletters: counted, not listed
    assert imap_env.logins() == 1  # one connection for all of them
    again = read_mailboxes(Resources(Settings()), plan)
    assert again.fetched == 0 and imap_env.logins() == 2


def test_a_clerks_own_address_in_also_from_settles_its_messages(imap_env, tmp_path, monkeypatch):
    raw = message(
        "Văn thư <van-thu.lai-chau@thu-rieng.example>",
        "Gửi báo cáo",
        (2021, 6, 18, 9),
        [("BC so ket.pdf", pdf(9))],
    )
    imap_env.deliver(HEAD, raw)
    assert intake_json()["unrecognised"][0]["sender"] == "van-thu.lai-chau@thu-rieng.example"
    line = "name: Sở Tư pháp tỉnh Lai Châu, email: stp-lch@kvtd-tuphap.example"
    plan = write_plan(
        tmp_path, lambda text: text.replace(line, line + ", also_from: [van-thu.lai-chau@thu-rieng.example]")
    )
    monkeypatch.setenv("THIDUA_PLAN", str(plan))
    after = intake_json()  # the message is not read again: recognition runs on what was kept
    assert after["fetched"] == 0 and after["unrecognised"] == []
    assert [(r["unit"], r["kind"]) for r in after["recognised"]] == [("STP-LCH", "Báo cáo sơ kết")]


def test_a_document_both_emailed_and_typed_in_the_sheet_counts_once_from_the_mail(
    imap_env, tmp_path, monkeypatch
):
    from openpyxl import load_workbook

    from tests.helpers import SAMPLE

    imap_env.deliver(
        HEAD,
        message(
            f"<{ADDR['STP-LCH']}>",
            "Sơ kết",
            (2021, 6, 18, 15),
            [("Báo cáo sơ kết.pdf", pdf(8)), ("Báo cáo tóm tắt.pdf", pdf(2))],
        ),
    )
    book = load_workbook(SAMPLE)  # a coordinator types the rows on Monday, after the deadline
    for kind, pages in (("Báo cáo sơ kết", 8), ("Báo cáo tóm tắt", 2)):
        book["Nộp hồ sơ"].append(["21/06/2021 08:30", "STP-LCH", "so-ket", kind, pages, "", "nhận qua thư"])
    book.save(tmp_path / "sheet.xlsx")
    monkeypatch.setenv("THIDUA_SOURCE", str(tmp_path / "sheet.xlsx"))
    inputs = load_inputs(Resources(Settings()))
    row = assess(inputs, local(inputs.plan, 2021, 6, 22, 9), ["so-ket"]).set_index("unit").loc["STP-LCH"]
    assert row.state == "on_time" and row.problems == []  # the mail's time decides; counted once
    from tasks.round import Round, RoundResult
    from tasks.round_artifacts import round_markdown

    rnd = Round.of(inputs.plan, "so-ket", "overdue-1", local(inputs.plan, 2021, 6, 21, 8))
    artifact = round_markdown(inputs, assess(inputs, rnd.instant), rnd, RoundResult.of(rnd))
    assert "## Hồ sơ nhận qua thư điện tử (2)" in artifact and "stp-lch@kvtd-tuphap.example" in artifact


def test_a_second_worker_sharing_the_ledger_counts_what_the_first_one_read(imap_env, tmp_path, monkeypatch):
    monkeypatch.setenv("THIDUA_LEDGER_URL", f"sqlite:///{tmp_path / 'shared-ledger.sqlite'}")
    imap_env.deliver(
        HEAD,
        message(f"<{ADDR['STP-LCH']}>", "Sơ kết", (2021, 6, 18, 15), [("Báo cáo sơ kết.pdf", pdf(8))]),
    )
    first = intake_json()
    monkeypatch.setenv("THIDUA_DATA_DIR", str(tmp_path / "worker-2"))  # its own data directory
    second = intake_json()
    assert second["fetched"] == 0 and second["recognised"] == first["recognised"] != []


def test_a_round_run_from_the_command_line_opens_one_ledger_database_engine(
    imap_env, prefect_server, monkeypatch
):
    """`thidua run` reads the mailboxes (the intake's store) and its round then sends and records
    its letters (the ledger): one database engine for both, the command's, which the round it
    runs uses too, instead of one per layer."""
    import tasks.ledger

    imap_env.deliver(HEAD, message(f"<{ADDR['STP-LCH']}>", "Báo cáo sơ kết", (2021, 6, 18, 15)))
    opened = []
    real = tasks.ledger.open_engine
    monkeypatch.setattr(tasks.ledger, "open_engine", lambda url: opened.append(url) or real(url))
    result = CliRunner().invoke(
        app, ["run", "--milestone", "so-ket", "--stage", "overdue-1", "--at", "2021-06-21T08:00"]
    )
    assert result.exit_code == 0, result.output
    sent = list(Path(Settings().outbox_dir).rglob("*.eml"))
    assert sent and "thư cho đơn vị" in " ".join(result.output.split())
    assert len(opened) == 1, opened
