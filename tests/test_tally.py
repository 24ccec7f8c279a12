"""Ballot counting against hand-counted fixtures."""

import pandas as pd
import pytest

from tasks.tally import count

FLAG = "Cờ thi đua ngành Tư pháp"
GOV = "Cờ thi đua của Chính phủ"
MODEL = "Điển hình tiên tiến"


def registrations(rows):
    return pd.DataFrame(rows, columns=["unit", "title", "nominee"]).assign(row=range(2, len(rows) + 2))


def ballots(spec):
    """spec: {ballot number: {category: [approved names]}} plus explicit blanks for listed names."""
    rows = []
    for number, cats in spec.items():
        for cat, names in cats.items():
            for name, mark in names:
                rows.append({"ballot": str(number), "category": cat, "candidate": name, "approve": mark})
    return pd.DataFrame(rows, columns=["ballot", "category", "candidate", "approve"])


STP = ["STP-YBA", "STP-TQU", "STP-LCA", "STP-HGI", "STP-SLA"]
NAMES = {
    "STP-YBA": "Sở Tư pháp tỉnh Yên Bái",
    "STP-TQU": "Sở Tư pháp tỉnh Tuyên Quang",
    "STP-LCA": "Sở Tư pháp tỉnh Lào Cai",
    "STP-HGI": "Sở Tư pháp tỉnh Hà Giang",
    "STP-SLA": "Sở Tư pháp tỉnh Sơn La",
    "THADS-LCA": "Cục Thi hành án dân sự tỉnh Lào Cai",
}


@pytest.fixture
def regs():
    rows = [(u, FLAG, "Tập thể") for u in STP] + [
        ("THADS-LCA", FLAG, "Tập thể"),
        ("THADS-LCA", FLAG, "Chi cục THADS huyện Bảo Thắng"),
    ]
    rows += [("THADS-LCA", MODEL, "Đồng chí Nguyễn Văn An")]
    return registrations(rows)


def votes_for(stp_yes: dict[str, int], total: int, category=FLAG):
    """`total` ballots; candidate c is approved on the first stp_yes[c] ballots."""
    spec = {}
    for b in range(1, total + 1):
        spec[b] = {category: [(NAMES.get(c, c), "x" if b <= n else "") for c, n in stp_yes.items()]}
    return spec


def by_name(tally, category, block):
    result = next(r for r in tally.results if r.category == category and r.block == block)
    return {c["unit_name"]: c for c in result.candidates}, result


def test_clear_winners_and_threshold_failure(plan, regs):
    # 10 ballots; more than half = 6 or more. Hand count: YBA 9, TQU 8, LCA 6 pass; HGI 5 fails (=half)
    spec = votes_for({"STP-YBA": 9, "STP-TQU": 8, "STP-LCA": 6, "STP-HGI": 5, "STP-SLA": 0}, 10)
    spec[10][FLAG] = [(NAMES["STP-SLA"], "x")]  # ballots 1-5 already approve four Sở Tư pháp
    tally = count(plan, ballots(spec), regs)
    got, result = by_name(tally, FLAG, "so-tu-phap")
    assert result.of == 10 and result.quota == 4
    assert [(n, c["votes"], c["passed"], c["selected"]) for n, c in got.items()] == [
        ("Sở Tư pháp tỉnh Yên Bái", 9, True, True),
        ("Sở Tư pháp tỉnh Tuyên Quang", 8, True, True),
        ("Sở Tư pháp tỉnh Lào Cai", 6, True, True),
        ("Sở Tư pháp tỉnh Hà Giang", 5, False, False),
        ("Sở Tư pháp tỉnh Sơn La", 1, False, False),
    ]
    assert tally.invalid_ballots == [] and tally.ties == []


def test_over_quota_ballot_is_invalid_and_excluded(plan, regs):
    spec = votes_for({"STP-YBA": 7, "STP-TQU": 7, "STP-LCA": 7, "STP-HGI": 7, "STP-SLA": 0}, 9)
    spec[9][FLAG] = [(NAMES[c], "x") for c in STP]  # ballot 9 approves 5 Sở Tư pháp: quota is 4
    tally = count(plan, ballots(spec), regs)
    assert tally.invalid_ballots == [
        {"number": "9", "category": FLAG, "reason": "chọn 5 ứng viên Sở Tư pháp, quá số được chọn (4)"}
    ]
    got, result = by_name(tally, FLAG, "so-tu-phap")
    assert result.of == 9  # ballots cast, the invalid one included (units present)
    assert got["Sở Tư pháp tỉnh Sơn La"]["votes"] == 0 and got["Sở Tư pháp tỉnh Yên Bái"]["votes"] == 7


def test_tie_at_the_quota_edge_goes_to_a_revote(plan, regs):
    # 12 ballots of 4 approvals each. Hand count: YBA 12, TQU 11, LCA 9, HGI 8, SLA 8 (all > 6).
    # Quota 4: YBA, TQU, LCA are in; HGI and SLA tie for the last place -> re-vote.
    approved = {b: ["STP-YBA"] for b in range(1, 13)}
    for b in range(1, 12):
        approved[b].append("STP-TQU")
    for b in [*range(1, 9), 12]:
        approved[b].append("STP-LCA")
    for b in [1, 2, 3, 4, 9, 10, 11, 12]:
        approved[b].append("STP-HGI")
    for b in [5, 6, 7, 8, 9, 10, 11, 12]:
        approved[b].append("STP-SLA")
    assert all(len(a) == 4 for a in approved.values())
    spec = {b: {FLAG: [(NAMES[c], "x" if c in a else "") for c in STP]} for b, a in approved.items()}
    tally = count(plan, ballots(spec), regs)
    got, _ = by_name(tally, FLAG, "so-tu-phap")
    assert {n: c["votes"] for n, c in got.items()} == {
        NAMES["STP-YBA"]: 12,
        NAMES["STP-TQU"]: 11,
        NAMES["STP-LCA"]: 9,
        NAMES["STP-HGI"]: 8,
        NAMES["STP-SLA"]: 8,
    }
    assert [n for n, c in got.items() if c["selected"]] == [
        NAMES["STP-YBA"],
        NAMES["STP-TQU"],
        NAMES["STP-LCA"],
    ]
    assert {t["unit_name"] for t in tally.ties} == {NAMES["STP-HGI"], NAMES["STP-SLA"]}
    assert tally.invalid_ballots == []


def test_government_flag_only_among_sector_flag_winners(plan, regs):
    spec = votes_for({"STP-YBA": 9, "STP-TQU": 8, "STP-LCA": 2, "STP-HGI": 0, "STP-SLA": 0}, 10)
    for b in range(1, 11):
        spec[b][GOV] = [(NAMES["STP-YBA"], "x"), (NAMES["STP-LCA"], "x" if b <= 8 else "")]
    tally = count(plan, ballots(spec), regs)
    got, result = by_name(tally, GOV, "all")
    assert result.quota == 2
    # Lào Cai has 8 Government-flag votes but did not win the sector flag: not a candidate
    assert set(got) == {"Sở Tư pháp tỉnh Yên Bái", "Sở Tư pháp tỉnh Tuyên Quang"}
    assert got["Sở Tư pháp tỉnh Yên Bái"]["selected"] and got["Sở Tư pháp tỉnh Yên Bái"]["votes"] == 10
    assert not got["Sở Tư pháp tỉnh Tuyên Quang"]["passed"]


def test_government_ballot_naming_someone_not_proposed_for_the_sector_flag(plan, regs):
    spec = votes_for({"STP-YBA": 9}, 3)
    spec[2][GOV] = [("Sở Tư pháp tỉnh Cao Bằng", "x")]
    tally = count(plan, ballots(spec), regs)
    (bad,) = tally.invalid_ballots
    assert bad["number"] == "2" and "không được đề nghị tặng Cờ thi đua ngành Tư pháp" in bad["reason"]


def test_invalid_ballots_excluded_with_reasons(plan, regs):
    spec = votes_for({"STP-YBA": 5, "STP-TQU": 5}, 5)
    spec[6] = {FLAG: [("Sở Tư pháp tỉnh Hà Tây", "x")]}  # unknown candidate
    spec[7] = {FLAG: [(NAMES["STP-YBA"], "có lẽ")]}  # unreadable mark
    spec[8] = {FLAG: [(NAMES["STP-YBA"], "x"), (NAMES["STP-YBA"], "x")]}  # same name twice
    tally = count(plan, ballots(spec), regs)
    reasons = {b["number"]: b["reason"] for b in tally.invalid_ballots}
    assert set(reasons) == {"6", "7", "8"}
    assert "Hà Tây" in reasons["6"] and "có lẽ" in reasons["7"] and "hai lần" in reasons["8"]
    got, result = by_name(tally, FLAG, "so-tu-phap")
    assert result.of == 8 and got["Sở Tư pháp tỉnh Yên Bái"]["votes"] == 5  # 5/8: passes (> 4)
    assert got["Sở Tư pháp tỉnh Yên Bái"]["passed"]


def test_chi_cuc_and_advanced_models(plan, regs):
    spec = {
        b: {FLAG: [("Chi cục THADS huyện Bảo Thắng", "x")], MODEL: [("Đồng chí Nguyễn Văn An", "x")]}
        for b in range(1, 4)
    }
    tally = count(plan, ballots(spec), regs)
    got, result = by_name(tally, FLAG, "chi-cuc-thads")
    assert result.quota == 13 and got["Chi cục THADS huyện Bảo Thắng"]["selected"]
    got, _ = by_name(tally, MODEL, "all")
    assert got["Đồng chí Nguyễn Văn An"] == {
        "unit_name": "Đồng chí Nguyễn Văn An",
        "votes": 3,
        "of": 3,
        "passed": True,
        "selected": True,
    }


def test_member_units_denominator(plan, regs):
    configured = plan.model_copy(
        update={"voting": plan.voting.model_copy(update={"denominator": "member_units"})}
    )
    tally = count(configured, ballots(votes_for({"STP-YBA": 14}, 20)), regs)
    got, result = by_name(tally, FLAG, "so-tu-phap")
    assert result.of == 28 and not got["Sở Tư pháp tỉnh Yên Bái"]["passed"]  # 14/28 is not more than half


def test_tally_command_on_the_sample_writes_json_and_minutes(prefect_server, tmp_path):
    import json

    import docx
    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(app, ["tally", "--json", "--day", "2021-12-20"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    flag = data["categories"][FLAG]
    stp = {c["unit_name"]: c for c in flag["so-tu-phap"]["candidates"]}
    # hand count from the sample's docstring: ballot 25 (invalid) approved Yên Bái, so 24 valid votes
    assert stp["Sở Tư pháp tỉnh Yên Bái"] == {
        "unit_name": "Sở Tư pháp tỉnh Yên Bái",
        "votes": 24,
        "of": 26,
        "passed": True,
        "selected": True,
    }
    assert not stp["Sở Tư pháp tỉnh Phú Thọ"]["passed"]
    chi_cuc = {c["unit_name"]: c for c in flag["chi-cuc-thads"]["candidates"]}
    assert (
        chi_cuc["Chi cục THADS huyện Lục Yên"]["votes"] == 13
        and not chi_cuc["Chi cục THADS huyện Lục Yên"]["passed"]
    )
    gov = [c["unit_name"] for c in data["categories"][GOV]["all"]["candidates"] if c["selected"]]
    assert gov == ["Sở Tư pháp tỉnh Yên Bái", "Cục Thi hành án dân sự tỉnh Lào Cai"]
    assert {(b["number"], b["category"]) for b in data["invalid_ballots"]} == {("25", FLAG), ("26", GOV)}
    assert data["ties"] == []

    doc = docx.Document(tmp_path / "var" / "reports" / "kvtd-tp-mnpb-2021" / "bien-ban-kiem-phieu-2021.docx")
    header = [
        c.text.rstrip("\n") for row in doc.tables[0].rows for c in row.cells
    ]  # the rule lines are empty
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc" in header
    assert "Yên Bái, ngày 20 tháng 12 năm 2021" in header
    assert doc.sections[0].page_width.cm == pytest.approx(21.0, abs=0.01)  # A4
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "BIÊN BẢN KIỂM PHIẾU" in text and "Phiếu số 26 (Cờ thi đua của Chính phủ)" in text
    rows = [[c.text for c in r.cells] for r in doc.tables[1].rows]
    assert [
        "Cờ thi đua ngành Tư pháp",
        "Sở Tư pháp",
        "Sở Tư pháp tỉnh Yên Bái",
        "24/26 phiếu",
        "Đề nghị",
    ] in rows
    assert all("{%" not in cell for row in rows for cell in row)


def test_the_minutes_are_signed_by_the_counting_team_at_the_conferences_place(prefect_server, tmp_path):
    """A Biên bản kiểm phiếu is signed by the Tổ kiểm phiếu the conference elected, at the place
    where it meets: no Nơi nhận, no signature of the Head."""
    import docx
    from typer.testing import CliRunner

    from flows.cli import app
    from tests.helpers import write_plan

    path = write_plan(tmp_path, lambda t: t.replace("  place: null\n", "  place: Lào Cai\n"))
    team = ["Hoàng Văn Thụ:tổ trưởng", "Lò Thị Mai:thư ký", "Giàng A Páo", "Nông Thị Lan:thành viên"]
    args = ["tally", "--day", "2021-12-20"] + [x for name in team for x in ("--to-kiem-phieu", name)]
    result = CliRunner().invoke(app, args, env={"THIDUA_PLAN": str(path)})
    assert result.exit_code == 0, result.output
    doc = docx.Document(tmp_path / "var" / "reports" / "kvtd-tp-mnpb-2021" / "bien-ban-kiem-phieu-2021.docx")
    header = [
        c.text.rstrip("\n") for row in doc.tables[0].rows for c in row.cells
    ]  # the rule lines are empty
    assert "Lào Cai, ngày 20 tháng 12 năm 2021" in header
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "tại Lào Cai, Tổ kiểm phiếu" in text
    signatures = [c.text for c in doc.tables[-1].rows[0].cells]
    assert signatures[0].startswith("THƯ KÝ") and signatures[0].endswith("Lò Thị Mai")
    assert signatures[1].startswith("TỔ TRƯỞNG TỔ KIỂM PHIẾU") and signatures[1].endswith("Hoàng Văn Thụ")
    assert "CÁC THÀNH VIÊN TỔ KIỂM PHIẾU" in text and "Giàng A Páo:" in text and "Nông Thị Lan:" in text
    everything = text + "".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert "Nơi nhận" not in everything and "TRƯỞNG KHU VỰC THI ĐUA" not in everything

    wrong = CliRunner().invoke(
        app, ["tally", "--to-kiem-phieu", "Ai đó:chủ tịch"], env={"THIDUA_PLAN": str(path)}
    )
    assert wrong.exit_code == 1 and "tổ trưởng, thư ký, thành viên" in wrong.output


def test_more_ballots_than_member_units_is_reported(plan, regs):
    tally = count(plan, ballots(votes_for({"STP-YBA": 20}, 30)), regs)
    assert tally.problems == [
        "Cờ thi đua ngành Tư pháp: 30 phiếu, nhiều hơn số đơn vị thành viên có thể bỏ phiếu (28); "
        "kiểm tra lại việc nhập phiếu"
    ]
    assert count(plan, ballots(votes_for({"STP-YBA": 20}, 28)), regs).problems == []
