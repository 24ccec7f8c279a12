"""States a reader of the sample workbook agrees with, and the edges of a deadline."""

import pytest

from tasks.normalise import normalise
from tests.helpers import HEADER, local, table_at


def by_unit(sample, plan, *when, milestone="so-ket"):
    """One milestone's table at a local instant, indexed by unit code."""
    return table_at(plan, sample.data, local(plan, *when), [milestone]).set_index("unit")


def test_midyear_on_18_june_morning(sample, plan):
    t = by_unit(sample, plan, 2021, 6, 18, 8)
    assert len(t) == 28
    states = t["state"].to_dict()
    assert {u for u, s in states.items() if s == "missing"} == {
        "STP-LCH",
        "THADS-DBI",
        "STP-PTH",
        "THADS-BGI",
        "THADS-TNG",
    }
    assert {u for u, s in states.items() if s == "incomplete"} == {"STP-BKA", "STP-CBA"}
    assert {u for u, s in states.items() if s == "on_time"} == set(t.index) - {
        "STP-LCH",
        "THADS-DBI",
        "STP-PTH",
        "THADS-BGI",
        "THADS-TNG",
        "STP-BKA",
        "STP-CBA",
    }
    assert t.loc["STP-BKA", "missing"] == ["Báo cáo tóm tắt"]
    assert not t["overdue"].any()


def test_rows_after_the_instant_do_not_exist_yet(sample, plan):
    assert by_unit(sample, plan, 2021, 6, 18, 8).loc["THADS-TNG", "state"] == "missing"
    assert by_unit(sample, plan, 2021, 6, 19, 23, 59).loc["THADS-TNG", "state"] == "on_time"


def test_late_units_after_the_deadline(sample, plan):
    t = by_unit(sample, plan, 2021, 6, 30, 8)
    assert t.loc["STP-PTH", "state"] == "late"
    assert t.loc["THADS-BGI", "state"] == "late"
    assert any("nộp muộn" in p for p in t.loc["STP-PTH", "problems"])
    assert t.loc["STP-LCH", "overdue"] and t.loc["STP-BKA", "overdue"]
    assert not t.loc["STP-PTH", "overdue"]


def test_page_limit_and_duplicate_are_problems(sample, plan):
    t = by_unit(sample, plan, 2021, 6, 18, 8)
    assert t.loc["STP-SLA", "problems"] == ["Báo cáo tóm tắt: 5 trang, vượt giới hạn 3 trang A4"]
    (dup,) = t.loc["THADS-YBA", "problems"]
    assert "nộp 2 lần" in dup and "15:20 17/06/2021" in dup


def one_submission(plan, when):
    raw = {
        "Nộp hồ sơ": [
            HEADER,
            [when, "STP-YBA", "so-ket", "Báo cáo sơ kết", "10", "", ""],
            [when, "STP-YBA", "so-ket", "Báo cáo tóm tắt", "3", "", ""],
        ]
    }
    data = normalise(plan, raw)
    return table_at(plan, data, local(plan, 2021, 6, 25), ["so-ket"]).set_index("unit").loc["STP-YBA"]


@pytest.mark.parametrize(
    ("when", "state"), [("19/06/2021 23:59:59", "on_time"), ("20/06/2021 00:00:00", "late")]
)
def test_deadline_is_before_the_day_as_the_plan_says(plan, when, state):
    assert one_submission(plan, when)["state"] == state


def test_overdue_starts_at_the_deadline(sample, plan):
    assert not by_unit(sample, plan, 2021, 6, 19, 23, 59).loc["STP-LCH", "overdue"]
    assert by_unit(sample, plan, 2021, 6, 20, 0, 0).loc["STP-LCH", "overdue"]


def test_dossier_required_only_from_units_registered_for_a_flag(sample, plan):
    t = by_unit(sample, plan, 2021, 11, 20, milestone="tong-ket")
    assert t.loc["THADS-LCA", "state"] == "incomplete"
    assert t.loc["THADS-LCA", "missing"] == ["Biên bản họp Hội đồng thi đua, khen thưởng"]
    assert t.loc["STP-YBA", "state"] == "on_time"  # registered, full dossier
    assert t.loc["STP-LCA", "state"] == "on_time"  # not registered for a flag: no dossier owed
    assert t.loc["STP-HGI", "state"] == "late"
    assert any("Tham luận: 4 trang, vượt giới hạn 2" in p for p in t.loc["STP-YBA", "problems"])


def test_every_unit_and_every_unit_milestone(sample, plan):
    t = table_at(plan, sample.data, local(plan, 2021, 12, 31))
    assert set(t.milestone) == {"dang-ky", "so-ket", "dien-hinh", "tong-ket"}
    assert len(t) == 4 * 28
    assert t.groupby("milestone").size().eq(28).all()
    no_date = t[t.milestone == "dien-hinh"]
    assert no_date["deadline"].isna().all() and not no_date["overdue"].any()
