"""The workbook read once is not parsed again while it is the same file, for the same plan and
program; a changed workbook, another plan or a damaged cache is read afresh."""

import shutil

import pytest
from openpyxl import load_workbook

from tasks.contract import TAB_SUBMISSIONS
from tasks.inputs import load_inputs
from tasks.resources import Resources
from tasks.settings import Settings
from tasks.source import WorkbookSource
from tests.conftest import PLAN_PATH, SAMPLE


@pytest.fixture
def book(tmp_path):
    path = tmp_path / "sheet.xlsx"
    shutil.copy(SAMPLE, path)
    return path


def read(tmp_path, book, plan=PLAN_PATH):
    return load_inputs(Resources(Settings(plan=plan, source=str(book), data_dir=tmp_path / "var")))


def refuse_to_read(monkeypatch):
    def no(self):
        raise AssertionError("the workbook was parsed again")

    monkeypatch.setattr(WorkbookSource, "read_tabs", no)


def test_the_same_workbook_is_read_once_and_gives_the_same_tables(tmp_path, book, monkeypatch):
    first = read(tmp_path, book)
    refuse_to_read(monkeypatch)
    again = read(tmp_path, book)
    assert again.data.submissions.equals(first.data.submissions)
    assert again.data.registrations.equals(first.data.registrations)
    assert again.headers == first.headers and len(again.data.findings) == len(first.data.findings)


def test_a_row_added_to_the_workbook_is_seen_at_the_next_read(tmp_path, book):
    before = read(tmp_path, book)
    wb = load_workbook(book)
    ws = wb[TAB_SUBMISSIONS]
    ws.append(["05/07/2021 09:00", "Sở Tư pháp tỉnh Bắc Kạn", "Sơ kết 6 tháng", "Báo cáo sơ kết", "2"])
    wb.save(book)
    after = read(tmp_path, book)
    assert len(after.data.submissions) == len(before.data.submissions) + 1


def test_another_plan_or_a_damaged_cache_reads_the_workbook_again(tmp_path, book, monkeypatch):
    read(tmp_path, book)
    other = tmp_path / "plan.yaml"  # the same plan under another id
    other.write_text(PLAN_PATH.read_text(encoding="utf-8").replace("id: kvtd-tp-mnpb-2021", "id: ban-sao"))
    calls = []
    real = WorkbookSource.read_tabs
    monkeypatch.setattr(WorkbookSource, "read_tabs", lambda self: calls.append(1) or real(self))
    assert read(tmp_path, book, other).plan.id == "ban-sao" and calls == [1]
    for kept in (tmp_path / "var" / "cache").iterdir():
        kept.write_bytes(b"not a pickle")
    assert len(read(tmp_path, book, other).data.submissions) > 0 and calls == [1, 1]
