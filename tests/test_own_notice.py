"""Tell each unit about its own documents (issue 24, item 4): a unit whose submitted summary
breaks its page limit ("Báo cáo tóm tắt … không quá 03 trang"; Sơn La sent 5 pages), or whose
document came late or twice, learns it in a letter of its own when it owes nothing else — with
the limit and the count — not only the coordinators' digest. Once per distinct notice."""

from __future__ import annotations

import email
from email.policy import default

from tests.helpers import local, table_at


def read(path):
    return email.message_from_bytes(path.read_bytes(), policy=default)


def plain(msg) -> str:
    return " ".join(msg.get_body(("plain",)).get_content().split())


def test_son_la_sent_five_pages_against_three_and_owes_nothing_else_so_it_gets_its_own_notice(
    prefect_server, tmp_path
):
    from flows.milestone import milestone_round

    first = milestone_round("so-ket", "before-1", at="2021-06-18T08:00")
    notices = sorted(p for p in (tmp_path / "var" / "outbox").rglob("*.eml") if "/problems-" in str(p))
    assert sorted(p.stem for p in notices) == ["STP-SLA", "THADS-YBA"]
    assert {"STP-SLA", "THADS-YBA"} <= set(first.units.sent)
    msg = read(next(p for p in notices if p.stem == "STP-SLA"))
    assert [a.addr_spec for a in msg["To"].addresses] == ["stp-sla@kvtd-tuphap.example"]
    assert msg["Subject"].endswith("Hồ sơ sơ kết 6 tháng của đơn vị: đề nghị lưu ý")
    text = msg.get_body(("plain",)).get_content()
    assert "đã nhận đủ hồ sơ sơ kết 6 tháng của đơn vị" in text
    assert "- Báo cáo tóm tắt: 5 trang, vượt giới hạn 3 trang A4" in text
    assert "đề nghị đơn vị gửi bản thay thế đúng số trang" in text
    # sent twice, not over its pages: told so, without the page advice
    twice = read(next(p for p in notices if p.stem == "THADS-YBA")).get_body(("plain",)).get_content()
    assert "nộp 2 lần" in twice and "bản thay thế đúng số trang" not in twice
    # the round's artifact says what each letter was about, a notice as such
    from prefect.artifacts import Artifact

    shown = Artifact.get("kvtd-tp-mnpb-2021-so-ket-round").data
    assert (
        "| Sở Tư pháp tỉnh Sơn La | không (thư lưu ý: Báo cáo tóm tắt: 5 trang, vượt giới hạn 3 trang A4) |"
        in shown
    )
    # the Head, to whom replies go, reads in the digest which units were told
    told = "Đã gửi thư lưu ý về các vấn đề này tới 2 đơn vị đã đủ hồ sơ: "
    digest = read(tmp_path / "var" / "outbox" / "kvtd-tp-mnpb-2021" / "so-ket" / "before-1" / "digest.eml")
    assert told + "Sở Tư pháp tỉnh Sơn La, Cục Thi hành án dân sự tỉnh Yên Bái" in plain(digest)
    # the next round sees the same problems: nothing new to say, nothing sent again, none listed
    second = milestone_round("so-ket", "overdue-1", at="2021-06-21T08:00")
    assert not {"STP-SLA", "THADS-YBA"} & set(second.units.sent)
    assert len([p for p in (tmp_path / "var" / "outbox").rglob("*.eml") if "/problems-" in str(p)]) == 2
    digest = read(tmp_path / "var" / "outbox" / "kvtd-tp-mnpb-2021" / "so-ket" / "overdue-1" / "digest.eml")
    assert "Vấn đề trong hồ sơ đã nộp" in plain(digest) and "thư lưu ý" not in plain(digest)


def test_a_unit_that_still_owes_reads_its_problems_in_its_reminder_not_in_a_second_letter(sample, plan):
    from tasks.compose import problem_notices, unit_mails
    from tasks.round import Round

    at = local(plan, 2021, 6, 18, 8)
    table = table_at(plan, sample.data, at)
    rnd = Round.of(plan, "so-ket", "before-1", at)
    reminded = {m.key.recipient for m in unit_mails(rnd, table)}
    noticed = {m.key.recipient for m in problem_notices(rnd, table)}
    assert reminded and noticed and not reminded & noticed
    rows = table[(table["milestone"] == "so-ket") & table["unit"].isin(noticed)]
    assert all(r.missing == [] and r.problems for r in rows.itertuples())
