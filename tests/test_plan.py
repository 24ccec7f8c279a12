import datetime as dt

import pytest

from tasks.plan import PlanError, Requirement, load_plan
from tests.helpers import write_plan


def test_the_shipped_plan_holds_plan_184(plan):
    assert plan.document_number == "184/KH-KVTĐ"
    assert len(plan.units) == 28
    provinces = {u.province for u in plan.units}
    assert len(provinces) == 14
    for province in provinces:
        blocks = sorted(u.block for u in plan.units if u.province == province)
        assert blocks == ["cuc-thads", "so-tu-phap"]
    assert plan.milestone("so-ket").deadline == dt.date(2021, 6, 20)
    assert plan.milestone("phat-dong").deadline == dt.date(2021, 3, 10)  # the seed's "10/3/2020"
    assert plan.milestone("Tổng kết năm").deadline == dt.date(2021, 11, 10)
    summary = plan.milestone("so-ket").document("Báo cáo tóm tắt")
    assert summary.max_pages == 3
    speech = plan.milestone("tong-ket").document("tham luận")
    assert (speech.requirement, speech.max_pages) == (Requirement.OPTIONAL, 2)
    flag = next(a for a in plan.awards if a.title == "Cờ thi đua ngành Tư pháp")
    assert flag.quotas == {"so-tu-phap": 4, "cuc-thads": 4, "chi-cuc-thads": 13}


def test_no_shipped_address_can_reach_a_real_person(plan):
    addresses = [str(u.email) for u in plan.units] + [str(c.email) for c in plan.contacts]
    assert all(a.endswith(".example") for a in addresses)


def test_struck_through_contact_is_inactive(plan):
    luan = next(c for c in plan.contacts if c.name == "Vy Văn Luận")
    assert not luan.active
    assert luan not in plan.active_contacts
    assert len(plan.active_contacts) == 3


def broken(tmp_path, old, new):
    path = write_plan(tmp_path, lambda t: t.replace(old, new, 1))
    with pytest.raises(PlanError) as info:
        load_plan(path)
    return "\n".join(info.value.problems)


def test_duplicate_unit_code(tmp_path):
    text = broken(tmp_path, "code: STP-TQU", "code: STP-HGI")
    assert "units (code): trùng STP-HGI" in text


def test_misspelt_key_is_named(tmp_path):
    text = broken(tmp_path, "  - id: so-ket\n", "  - id: so-ket\n    deadlin: 2021-06-20\n")
    assert "milestones.2.deadlin: khoá không có trong mẫu kế hoạch" in text


def test_malformed_address_is_named(tmp_path):
    text = broken(tmp_path, "email: stp-hgi@kvtd-tuphap.example", "email: stp-hgi-at-example")
    assert "units.0.email" in text


def test_invalid_yaml_gives_line(tmp_path):
    text = broken(tmp_path, "year: 2021", "year: [2021")
    assert "dòng" in text and "không phải YAML hợp lệ" in text


def test_contact_of_unknown_unit(tmp_path):
    text = broken(tmp_path, "unit: THADS-LCA", "unit: THADS-XXX")
    assert "contacts[3].unit: 'THADS-XXX' không phải mã của một đơn vị thành viên" in text


def test_missing_file():
    with pytest.raises(PlanError, match="không tìm thấy tệp"):
        load_plan("nowhere.yaml")
