"""A title nobody voted on (issue 24, item 5): its candidates read "Chưa bỏ phiếu", never
"0/0 phiếu – Không đạt", which would tell a unit it lost a vote that never took place."""

import pandas as pd

from tasks.nominations import decided
from tasks.tally import Result, Tally


def test_a_title_without_a_valid_ballot_is_not_a_lost_vote(plan):
    title = "Cờ thi đua của Bộ Tư pháp"
    voted = {"unit_name": "Sở Tư pháp tỉnh Yên Bái", "votes": 20, "of": 27, "passed": True, "selected": True}
    unvoted = {
        "unit_name": "Sở Tư pháp tỉnh Lào Cai",
        "votes": 0,
        "of": 0,
        "passed": False,
        "selected": False,
    }
    tally = Tally(
        [
            Result(title, "so-tu-phap", 1, 27, [voted]),
            Result(title + " (khác)", "so-tu-phap", 1, 0, [unvoted]),
        ],
        [],
        [],
        {},
    )
    rows = {r["name"]: r for r in decided(plan, tally, pd.DataFrame(), {})}
    assert (rows["Sở Tư pháp tỉnh Yên Bái"]["votes"], rows["Sở Tư pháp tỉnh Yên Bái"]["outcome"]) == (
        "20/27 phiếu",
        "Đề nghị",
    )
    assert rows["Sở Tư pháp tỉnh Lào Cai"]["outcome"] == "Chưa bỏ phiếu"
    assert "0/0" not in rows["Sở Tư pháp tỉnh Lào Cai"]["votes"]
