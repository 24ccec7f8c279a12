"""Deadlines as the plan chooses to read them (issue 12, items 5 and 6): the Civil Code's rule for
a period ending on a day off, "chậm nhất N ngày sau X" with its last day included, and the
words a unit reads about the time it has left."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tasks.compose import unit_mails
from tasks.dates import deadline_note, last_day, time_left_words
from tasks.normalise import normalise
from tasks.plan import load_plan
from tasks.round import Round
from tasks.schedule import obligation_deadline, triggers
from tests.helpers import HEADER, local, table_at, write_plan

D = dt.date


def civil_code_plan(tmp_path):
    path = write_plan(tmp_path, lambda t: t.replace("day_off_rule: literal", "day_off_rule: civil_code"))
    return load_plan(path)


def sheet(plan, *rows):
    return normalise(plan, {"Nộp hồ sơ": [HEADER, *rows]})


MONDAY_MORNING = ["21/06/2021 09:50", "STP-YBA", "so-ket", "Báo cáo sơ kết", "4"]


def test_the_civil_code_extends_a_period_ending_on_a_weekend_to_the_next_working_day(tmp_path, plan):
    """ "Trước ngày 20/6/2021" ends on Saturday 19/06. Read literally, a Monday 09:50 submission is
    late and Monday 08:00 brings the overdue notice copied to the leadership; under Điều 148 the
    period ends with Monday, so neither happens."""
    civil = civil_code_plan(tmp_path)
    assert last_day(plan, D(2021, 6, 20)) == D(2021, 6, 19)
    assert last_day(civil, D(2021, 6, 20)) == D(2021, 6, 21)

    def so_ket_rounds(p):
        return {t.stage: t.at for t in triggers(p) if t.target == "so-ket"}

    assert so_ket_rounds(plan)["overdue-1"] == local(plan, 2021, 6, 21, 8)
    assert so_ket_rounds(civil)["overdue-1"] == local(civil, 2021, 6, 23, 8)
    assert all(at.date() != D(2021, 6, 21) for at in so_ket_rounds(civil).values())

    tuesday = local(plan, 2021, 6, 22, 8)
    literal_state = table_at(plan, sheet(plan, MONDAY_MORNING), tuesday, ["so-ket"])
    civil_state = table_at(civil, sheet(civil, MONDAY_MORNING), tuesday, ["so-ket"])
    yba = literal_state.set_index("unit").loc["STP-YBA"]
    assert any("nộp muộn" in p for p in yba.problems)
    assert not any("nộp muộn" in p for p in civil_state.set_index("unit").loc["STP-YBA"].problems)
    # nobody is overdue on Monday under the civil code: the period has not ended
    monday = local(civil, 2021, 6, 21, 8)
    assert not civil_state.empty and not table_at(civil, sheet(civil), monday, ["so-ket"]).overdue.any()

    note = deadline_note(civil, D(2021, 6, 20))
    assert note is not None and "Điều 148 Bộ luật Dân sự 2015" in note and "21/06/2021 (Thứ Hai)" in note


def test_the_extension_is_in_the_reminder_and_the_overdue_notice(tmp_path):
    civil = civil_code_plan(tmp_path)
    data = sheet(civil)
    for stage, when in (("before-1", (2021, 6, 18, 8)), ("overdue-1", (2021, 6, 23, 8))):
        instant = local(civil, *when)
        mails = unit_mails(
            Round.of(civil, "so-ket", stage, instant), table_at(civil, data, instant, ["so-ket"])
        )
        assert mails and all("hạn kéo dài đến hết ngày 21/06/2021 (Thứ Hai)" in m.text for m in mails)
    assert "Hạn đã qua 1 ngày." in mails[0].text  # counted from the extended end, not from Sunday


def test_at_the_latest_n_days_after_includes_the_nth_day(plan):
    """ "Chậm nhất là 10 ngày sau khi kết thúc kiểm tra": the tenth day is still allowed."""
    inspection = plan.milestone("kiem-tra")
    assert inspection.period is not None
    deadline = obligation_deadline(plan, plan.obligation("bao-cao-kiem-tra"))
    assert deadline is not None
    assert last_day(plan, deadline) == inspection.period.end + dt.timedelta(days=10)


def test_time_left_is_counted_to_the_last_allowed_day_in_working_days_when_days_off_fall_between(plan):
    # Tết 2021 (10–16/02) inside the registration period ending Friday 19/02
    assert time_left_words(plan, D(2021, 2, 20), D(2021, 2, 9)) == "còn 10 ngày, trong đó 3 ngày làm việc"
    assert time_left_words(plan, D(2021, 2, 20), D(2021, 2, 19)) == "hôm nay là ngày cuối cùng"
    assert time_left_words(plan, D(2021, 2, 20), D(2021, 2, 17)) == "còn 2 ngày"
    # a period ending on a Saturday: Friday is the last working day
    assert (
        time_left_words(plan, D(2021, 6, 20), D(2021, 6, 18))
        == "hôm nay là ngày làm việc cuối cùng trước hạn"
    )


def test_a_day_off_note_only_when_the_last_allowed_day_is_a_day_off(plan):
    # Saturday 20/02 as "trước ngày": the last allowed day is Friday 19/02, a working day
    assert deadline_note(plan, D(2021, 2, 20)) is None
    # Monday 15/03 as "trước ngày": the last allowed day is Sunday 14/03
    note = deadline_note(plan, D(2021, 3, 15))
    assert note == (
        "Lưu ý: ngày cuối cùng của hạn, 14/03/2021 (Chủ nhật), là ngày nghỉ cuối tuần; "
        "ngày làm việc cuối cùng trước hạn là 12/03/2021 (Thứ Sáu)."
    )


def test_mail_prose_says_the_time_in_words_and_the_milestone_in_lower_case(sample, plan):
    instant = local(plan, 2021, 2, 9, 8)
    table = table_at(plan, sample.data, instant, ["dang-ky"])
    (mail, *_) = unit_mails(Round.of(plan, "dang-ky", "before-7", instant), table)
    assert "Tính đến 08 giờ 00 ngày 09/02/2021," in mail.text and "Đến 08:00" not in mail.text
    assert "gửi hồ sơ đăng ký thi đua về Trưởng" in mail.text
    assert "Nhắc gửi hồ sơ đăng ký thi đua:" in mail.subject
    assert isinstance(table, pd.DataFrame)


# -- the area's own tasks (issue 12, item 2) ---------------------------------------------------


def test_cham_nhat_la_5_ngay_ke_tu_ngay_to_chuc_hoi_nghi_phat_dong_counts_from_the_day_after(tmp_path, plan):
    """ "Chậm nhất là 5 ngày kể từ ngày tổ chức Hội nghị phát động": the period starts the day
    after the launch (Bộ luật Dân sự 2015, Điều 147). Until the launch is recorded, from the last
    day the plan allows ("xong trước ngày 10/3": 09/03), so the last day is 14/03; once recorded
    (held on Friday 05/03), from it: 10/03. The reminder says which."""
    from tasks.compose import obligation_mail

    ob = plan.obligation("bao-cao-phat-dong")
    assert last_day(plan, obligation_deadline(plan, ob)) == D(2021, 3, 14)
    held = load_plan(
        write_plan(
            tmp_path,
            lambda t: t.replace(
                "    held_on: null                 # the day the launch was held",
                "    held_on: 2021-03-05           # the day the launch was held",
            ),
        )
    )
    assert last_day(held, obligation_deadline(held, held.obligation("bao-cao-phat-dong"))) == D(2021, 3, 10)
    rounds = {t.stage: t.at for t in triggers(held) if t.target == "bao-cao-phat-dong"}
    assert rounds["before-1"] == local(held, 2021, 3, 10, 8)  # the day before the new deadline 11/03
    instant = local(held, 2021, 3, 8, 8)
    mail = obligation_mail(Round.of(held, "bao-cao-phat-dong", "before-3", instant), None)
    assert "Hạn này tính 5 ngày kể từ ngày 05/03/2021 (Thứ Sáu) (phát động thi đua" in mail.text
    estimate = obligation_mail(
        Round.of(plan, "bao-cao-phat-dong", "before-3", local(plan, 2021, 3, 12, 8)), None
    )
    assert "ngày muộn nhất kế hoạch cho phép" in estimate.text and "held_on" in estimate.text


def test_the_head_and_deputies_are_reminded_of_the_areas_own_tasks(plan):
    own = {t.target for t in triggers(plan) if t.action == "obligation"}
    assert {"to-chuc-phat-dong", "ke-hoach-kiem-tra", "ke-hoach-hoi-nghi"} <= own
    # the inspection report goes to Vụ TĐKT: its reminder no longer asks them to send it to themselves
    assert (
        plan.obligation("bao-cao-kiem-tra").name
        == "Báo cáo kết quả kiểm tra của Khu vực gửi Vụ Thi đua - Khen thưởng"
    )


def test_next_years_plan_starts_without_this_years_recorded_days(tmp_path):
    from tasks.plan_new import roll_forward

    path = write_plan(
        tmp_path,
        lambda t: t.replace(
            "    held_on: null                 # the day the launch was held",
            "    held_on: 2021-03-05           # the day the launch was held",
        ).replace("  day: null ", "  day: 2021-12-20 "),
    )
    rolled = roll_forward(path, 2022)
    assert rolled.plan.milestone("phat-dong").held_on is None and rolled.plan.voting.day is None
    assert "milestones[phat-dong].held_on" in rolled.cleared and "voting.day" in rolled.cleared


def test_an_obligation_recorded_as_done_gets_no_later_reminder(tmp_path, plan):
    from tasks.schedule import stale_reason

    done = load_plan(
        write_plan(
            tmp_path,
            lambda t: t.replace(
                "    deadline: 2021-09-01          # the inspections",
                "    done_on: 2021-08-20\n    deadline: 2021-09-01          # the inspections",
            ),
        )
    )
    rounds = {t.stage: t.at for t in triggers(done) if t.target == "ke-hoach-kiem-tra"}
    before = local(done, 2021, 8, 18, 8)
    assert rounds["before-7"].date() == D(2021, 8, 25)
    assert stale_reason(done, "ke-hoach-kiem-tra", "before-7", rounds["before-7"]).startswith(
        "đã hoàn thành ngày 20/08/2021"
    )
    assert stale_reason(plan, "ke-hoach-kiem-tra", "before-7", rounds["before-7"]) is None
    assert stale_reason(done, "ke-hoach-kiem-tra", "before-7", before) is None
