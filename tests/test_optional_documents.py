"""Reminders name the documents the plan asks for "nếu có" (issue 24, item 4): the tham luận
of the year-end review, with its page limit, apart from what the unit still owes."""

from tasks.compose import unit_mails
from tasks.round import Round
from tests.helpers import local, table_at


def test_tham_luan_neu_co_khong_qua_02_trang_is_named_in_the_reminder_never_as_missing(sample, plan):
    instant = local(plan, 2021, 11, 3, 8)
    mails = unit_mails(Round.of(plan, "tong-ket", "before-7", instant), table_at(plan, sample.data, instant))
    assert mails
    for mail in mails:
        owed, _, rest = mail.text.partition("Không bắt buộc, gửi nếu có:\n")
        assert "- Tham luận (không quá 2 trang A4)" in rest.split("\n\n")[0]
        assert "Tham luận" not in owed
        assert "Tham luận (không quá 2 trang A4)</li>" in mail.html
