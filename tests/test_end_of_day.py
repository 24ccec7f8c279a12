"""A plan whose deadlines include their day (`deadline_rule: end_of_day`) says "hết ngày"
everywhere a unit or a coordinator reads a deadline: mail, calendar, status, reports, `check`
(issue 24, item 7); the shipped plan's "trước ngày" is unchanged."""

import email
from email.policy import default

from tasks.compose import unit_mails
from tasks.dates import deadline_words
from tasks.delivery import from_address
from tasks.mime import build, message_id
from tasks.plan import load_plan
from tasks.round import Round
from tasks.settings import Settings
from tasks.unit_status import unit_status
from tests.helpers import local, table_at, write_plan


def end_of_day(tmp_path):
    return load_plan(
        write_plan(tmp_path, lambda t: t.replace("deadline_rule: before_day", "deadline_rule: end_of_day"))
    )


def test_an_end_of_day_plans_letters_and_calendar_say_het_ngay(tmp_path, sample):
    plan = end_of_day(tmp_path)
    instant = local(plan, 2021, 6, 13, 8)
    table = table_at(plan, sample.data, instant, ["so-ket"])
    mails = unit_mails(Round.of(plan, "so-ket", "before-7", instant), table)
    settings = Settings(data_dir=tmp_path / "var")
    mail = mails[0]
    msg = email.message_from_bytes(
        build(mail, from_address(settings, mail), "x", message_id(mail.key, "a@b.example"), None).data,
        policy=default,
    )
    assert "hạn hết ngày 20/06/2021" in msg["Subject"] and "trước ngày" not in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    assert "hết ngày 20/06/2021" in text and "trước ngày 20/06/2021" not in text
    (ics,) = [c for _, kind, c in mail.attachments if kind == "text/calendar"]
    assert "hết ngày 20/06/2021" in ics.decode().replace("\r\n ", "")
    status = unit_status(plan, table_at(plan, sample.data, instant), instant)
    assert any("hết ngày 20/06/2021" in row.deadline for row in status.rows)
    assert deadline_words(plan, plan.milestone("so-ket").deadline) == "hạn hết ngày 20/06/2021 (Chủ nhật)"


def test_the_shipped_plan_keeps_truoc_ngay(plan):
    assert deadline_words(plan, plan.milestone("so-ket").deadline) == "hạn trước ngày 20/06/2021 (Chủ nhật)"
