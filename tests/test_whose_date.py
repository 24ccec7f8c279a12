"""Whose date it is (issue 24, item 1): where plan 184 gives only a month ("Thời gian thực
hiện: Tháng 9/2021"), the day is the area's choice and letters say so; they never cite the plan
for a day it does not give."""

from tasks.compose import obligation_mail
from tasks.plan_new import roll_forward
from tasks.round import Round
from tests.helpers import local


def test_thoi_gian_thuc_hien_thang_9_2021_the_area_chose_the_day_and_says_so(plan):
    mail = obligation_mail(Round.of(plan, "ke-hoach-kiem-tra", "before-3", local(plan, 2021, 8, 27, 8)), None)
    first = " ".join(mail.text.split("\n\n")[1].split())
    assert "định thực hiện trong tháng 9/2021; Khu vực chọn hạn trước ngày 01/09/2021" in first
    assert "Theo Kế hoạch số 184" not in first
    html = " ".join(mail.html.split())
    assert "định thực hiện trong tháng 9/2021; Khu vực chọn hạn trước ngày <b>01/09/2021" in html


def test_a_day_the_plan_gives_is_still_cited_from_the_plan(plan):
    mail = obligation_mail(Round.of(plan, "to-chuc-phat-dong", "before-3", local(plan, 2021, 3, 5, 8)), None)
    assert "Theo Kế hoạch số 184/KH-KVTĐ" in mail.text and "chọn hạn" not in mail.text


def test_next_years_plan_says_its_own_month():
    from tests.conftest import PLAN_PATH

    new = roll_forward(PLAN_PATH, 2027).plan
    assert new.obligation("ke-hoach-kiem-tra").plan_says == "trong tháng 9/2027"
    assert new.obligation("ke-hoach-hoi-nghi").plan_says == "trước Hội nghị tổng kết (tháng 12/2027)"
