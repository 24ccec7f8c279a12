"""Who receives what: only units that owe something, naming what they owe; never a stranger."""

import email
from email.policy import default

from tasks.compose import digest_mail, unit_mails
from tasks.mime import Mail, build, message_id
from tasks.outcomes import Key, Outcome
from tasks.round import Round
from tests.helpers import local, shown_name, table_at


def round_of(sample, plan, stage, *when, milestone="so-ket"):
    instant = local(plan, *when)
    table = table_at(plan, sample.data, instant, [milestone])
    return table, unit_mails(Round.of(plan, milestone, stage, instant), table)


def parse(outgoing):
    return email.message_from_bytes(outgoing.data, policy=default)


def test_reminders_go_only_to_units_that_owe(sample, plan):
    table, mails = round_of(sample, plan, "before-1", 2021, 6, 18, 8)
    owing = set(table[table.missing.map(len) > 0].unit)
    assert {m.key.recipient for m in mails} == owing
    assert "STP-YBA" not in owing  # complete: never reminded


def test_reminder_names_what_is_missing_and_the_deadline_with_weekday(sample, plan):
    _, mails = round_of(sample, plan, "before-1", 2021, 6, 18, 8)
    bka = next(m for m in mails if m.key.recipient == "STP-BKA")
    assert bka.to == (("Sở Tư pháp tỉnh Bắc Kạn", "stp-bka@kvtd-tuphap.example"),)
    assert "20/06/2021 (Chủ nhật)" in bka.subject
    assert "- Báo cáo tóm tắt (không quá 3 trang A4)" in bka.text
    assert "Hồ sơ đã nhận:\n- Báo cáo sơ kết" in bka.text
    assert "ngày làm việc cuối cùng trước hạn là 18/06/2021 (Thứ Sáu)" in bka.text
    # Friday 18/06 is the last working day before the weekend that ends the period
    assert "trước ngày 20/06/2021 (Chủ nhật); hôm nay là ngày làm việc cuối cùng trước hạn." in bka.text
    assert "<li>Báo cáo tóm tắt (không quá 3 trang A4)</li>" in bka.html
    assert bka.cc == ()


def test_overdue_copies_head_and_deputies_but_never_the_withdrawn_contact(sample, plan):
    _, mails = round_of(sample, plan, "overdue-1", 2021, 6, 21, 8)
    assert mails
    active = {str(c.email) for c in plan.active_contacts}
    withdrawn = next(str(c.email) for c in plan.contacts if not c.active)
    for m in mails:
        assert {a for _, a in m.cc} == active
        assert withdrawn not in m.recipients and withdrawn not in m.text + m.html
        assert "Vy Văn Luận" not in m.text + m.html
        assert "Hạn đã qua 1 ngày" in m.text


def test_overdue_round_skips_units_that_completed_late(sample, plan):
    _, mails = round_of(sample, plan, "overdue-3", 2021, 6, 23, 8)
    recipients = {m.key.recipient for m in mails}
    assert "STP-PTH" not in recipients and "THADS-BGI" not in recipients
    assert {"STP-LCH", "THADS-DBI", "STP-BKA", "STP-CBA"} == recipients


def test_recipients_come_only_from_the_plan(sample, plan):
    _, mails = round_of(sample, plan, "before-7", 2021, 6, 11, 8)
    allowed = {str(u.email) for u in plan.units} | {str(c.email) for c in plan.active_contacts}
    assert all(set(m.recipients) <= allowed for m in mails)


def test_digest_lists_reminded_complete_problems_and_rejected_rows(sample, plan):
    table, mails = round_of(sample, plan, "before-1", 2021, 6, 18, 8)
    findings = [f.__dict__ for f in sample.data.findings]
    sent = [m.key.recipient for m in mails]
    rnd = Round.of(plan, "so-ket", "before-1", local(plan, 2021, 6, 18, 8))
    d = digest_mail(rnd, table, sent, [], Outcome(sent=sent), findings)
    assert {a for _, a in d.to} == {str(c.email) for c in plan.active_contacts}
    assert "21/28 đơn vị đủ hồ sơ" in d.subject
    assert "- Sở Tư pháp tỉnh Bắc Kạn: còn thiếu Báo cáo tóm tắt" in d.text
    assert 'Trang tính "Nộp hồ sơ", dòng 81' in d.text and "Hà Tây" in d.text and "Tab" not in d.text
    assert "Sở Tư pháp tỉnh Sơn La: Báo cáo tóm tắt: 5 trang" in d.text


def sample_mail(subject="Nhắc gửi hồ sơ Sơ kết 6 tháng", name="Sở Tư pháp tỉnh Bắc Kạn"):
    return Mail(
        key=Key("p", "so-ket", "STP-BKA", "before-3"),
        kind="reminder",
        to=((name, "stp-bka@kvtd-tuphap.example"),),
        reply_to=(("Phạm Thị Minh Lý", "head@kvtd-tuphap.example"),),
        subject=subject,
        text="Kính gửi: <b>không phải HTML</b>",
        html="<p>Kính gửi</p>",
    )


def test_crlf_in_data_cannot_inject_headers():
    evil = sample_mail(
        subject="Nhắc\r\nBcc: victim@elsewhere.example\r\n\r\nbody", name="Sở\r\nBcc: other@elsewhere.example"
    )
    out = build(evil, "thidua@kvtd-tuphap.example", "thidua", "<id@x>", None)
    msg = parse(out)
    assert msg["Bcc"] is None
    assert out.envelope_to == ["stp-bka@kvtd-tuphap.example"]
    assert msg["Subject"] == "Nhắc Bcc: victim@elsewhere.example body"


def test_redirect_sends_everything_to_one_address_and_notes_the_original():
    out = build(sample_mail(), "thidua@kvtd-tuphap.example", "thidua", "<id@x>", "coordinator@test.example")
    msg = parse(out)
    assert out.envelope_to == ["coordinator@test.example"]
    assert msg["To"].addresses[0].addr_spec == "coordinator@test.example"
    assert "stp-bka@kvtd-tuphap.example" in msg["X-Thidua-Original-To"]


def test_vietnamese_headers_survive_encoding_intact():
    long_name = "Lý Thị Hương Giang, Chánh Văn phòng Sở Tư pháp tỉnh Tuyên Quang"
    subject = "[KVTĐ Tư pháp miền núi phía Bắc] Quá hạn gửi hồ sơ Sơ kết 6 tháng — hạn trước ngày 20/06/2021"
    msg = parse(build(sample_mail(subject, long_name), "thidua@kvtd-tuphap.example", "thidua", "<i@x>", None))
    assert msg["Subject"] == subject
    assert shown_name(msg["To"].addresses[0]) == long_name


def test_message_id_is_deterministic():
    key = Key("kvtd-2021", "so-ket", "STP-BKA", "before-3")
    assert message_id(key, "a@kvtd.example") == message_id(key, "a@kvtd.example")
    assert message_id(key, "a@kvtd.example") != message_id(
        Key("kvtd-2021", "so-ket", "STP-BKA", "before-1"), "a@kvtd.example"
    )


def test_reminder_carries_its_deadline_as_ics(sample, plan):
    from icalendar import Calendar

    _, mails = round_of(sample, plan, "before-1", 2021, 6, 18, 8)
    msg = parse(build(mails[0], "thidua@kvtd-tuphap.example", "thidua", "<i@x>", None))
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == "han-so-ket-2021.ics" and att.get_content_type() == "text/calendar"
    (event,) = Calendar.from_ical(att.get_content()).walk("VEVENT")
    assert str(event["dtstart"].dt) == "2021-06-19"  # "trước ngày 20/06": the last day is the 19th
    assert "Sơ kết 6 tháng" in str(event["summary"])
    assert msg.get_body(("plain",)).get_content().startswith("Kính gửi")


def test_no_day_off_note_when_the_last_allowed_day_is_a_working_day(sample, plan):
    instant = local(plan, 2021, 11, 9, 8)
    table = table_at(plan, sample.data, instant, ["tong-ket"])
    (first, *_) = unit_mails(Round.of(plan, "tong-ket", "before-1", instant), table)
    assert "10/11/2021 (Thứ Tư)" in first.subject and "ngày nghỉ" not in first.text


def test_the_same_message_is_the_same_bytes_every_time(sample, plan):
    """Boundaries come from the Message-ID: a resend, or a second replay, writes identical bytes."""
    _, mails = round_of(sample, plan, "before-1", 2021, 6, 18, 8)
    first, again = (build(mails[0], "thidua@kvtd.example", "thidua", "<a@kvtd.example>", None) for _ in "12")
    assert first.data == again.data and b"=_thidua_" in first.data
    other = build(mails[0], "thidua@kvtd.example", "thidua", "<b@kvtd.example>", None)
    assert other.data != first.data


def test_every_letter_is_signed_by_the_heads_unit_and_only_units_are_told_to_ignore_it(sample, plan):
    """An area has no office: letters come from the Head's unit, end with "Trân trọng." and its
    name; the "xin bỏ qua thư này" line is for units, not for the coordinators' letters."""
    from tasks.compose import obligation_mail
    from tasks.delivery import SENDER_NAME

    instant = local(plan, 2021, 6, 18, 8)
    table, mails = round_of(sample, plan, "before-1", 2021, 6, 18, 8)
    rnd = Round.of(plan, "so-ket", "before-1", instant)
    digest = digest_mail(rnd, table, [m.key.recipient for m in mails], [], Outcome(), [])
    obligation = obligation_mail(
        Round.of(plan, "bao-cao-so-ket-khu-vuc", "before-7", local(plan, 2021, 6, 28, 8)), table
    )
    signer = "Trân trọng.\nSở Tư pháp tỉnh Yên Bái, đơn vị Trưởng Khu vực thi đua"
    for mail in (mails[0], digest, obligation):
        assert signer in mail.text and "Văn phòng Khu vực thi đua" not in mail.text
        assert mail.sender == ("Sở Tư pháp tỉnh Yên Bái (thidua)", "stp-yba@kvtd-tuphap.example")
        assert mail.sender[0] != SENDER_NAME
        assert ("xin bỏ qua thư này" in mail.text) == (mail is mails[0])
    assert '(trang tính "Nộp hồ sơ")' in mails[0].text and "tab" not in mails[0].text
    sent = parse(build(mails[0], "thidua@kvtd.example", mails[0].sender[0], "<x@kvtd.example>", None))
    assert sent["From"].addresses[0].display_name == "Sở Tư pháp tỉnh Yên Bái (thidua)"
