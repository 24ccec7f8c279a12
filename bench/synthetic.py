"""A synthetic area at any scale: the shipped 2021 plan with extra member units, and the sample
workbook with extra rows for them. The 28 real units and every messy row of the sample stay, so a
bench run exercises the same cases as the tests, only more of them.

    python bench/synthetic.py UNITS ROWS OUT_DIR   ->  OUT_DIR/plan.yaml, OUT_DIR/sheet.xlsx
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path

import xlsxwriter
import yaml
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tasks.contract import TAB_REGISTRATIONS, TAB_SCORES, TAB_SUBMISSIONS  # noqa: E402
from tasks.plan import load_plan  # noqa: E402

PLAN_FILE = ROOT / "config" / "plan-2021.yaml"
SAMPLE = ROOT / "config" / "sample-2021.xlsx"
BLOCKS = [("so-tu-phap", "STP", "Sở Tư pháp"), ("cuc-thads", "THADS", "Cục Thi hành án dân sự")]


def plan_text(units: int) -> str:
    """The 2021 plan with `units` member units in all (the real 28 first)."""
    plan = yaml.safe_load(PLAN_FILE.read_text(encoding="utf-8"))
    real = plan["units"]
    for n in range(len(real), units):
        block, prefix, name = BLOCKS[n % 2]
        province = f"Vùng thử {n // 2:04d}"
        code = f"{prefix}-T{n // 2:04d}"
        real.append(
            {
                "code": code,
                "block": block,
                "province": province,
                "name": f"{name} {province}",
                "email": f"{code.lower()}@bench.example",
            }
        )
    plan["id"] = f"bench-{units}"
    return yaml.safe_dump(plan, allow_unicode=True, sort_keys=False, width=200)


def workbook(plan_path: Path, rows: int, out: Path, seed: int = 2021) -> None:
    """The sample's tabs, then `Nộp hồ sơ` padded to `rows` data rows with on-time and late
    documents of every unit, and one registration and self-score per extra unit."""
    plan = load_plan(plan_path)
    rng = random.Random(seed)
    sample = load_workbook(SAMPLE, read_only=True, data_only=True)
    tabs = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in sample.worksheets}
    sample.close()
    real = {u.code for u in load_plan(PLAN_FILE).units}
    extra = [u for u in plan.units if u.code not in real]
    owed = [(m, d) for m in plan.milestones if m.units_owe and m.deadline for d in m.documents]
    submissions = tabs[TAB_SUBMISSIONS]
    while len(submissions) - 1 < rows:
        unit = rng.choice(plan.units)
        milestone, doc = rng.choice(owed)
        when = milestone.deadline - dt.timedelta(days=rng.randint(-3, 20))
        stamp = f"{when:%d/%m/%Y} {rng.randint(7, 17):02d}:{rng.randint(0, 59):02d}:00"
        submissions.append([stamp, unit.name, milestone.name, doc.kind, rng.randint(1, 8), "", ""])
    for unit in extra:
        tabs[TAB_REGISTRATIONS].append([unit.name, "Tập thể lao động xuất sắc", ""])
        tabs[TAB_SCORES].append([unit.name, round(rng.uniform(70, 99), 1)])
    # xlsxwriter writes shared strings as Excel and Google Sheets do (openpyxl writes inline
    # strings, which no real export has and which read several times slower).
    book = xlsxwriter.Workbook(str(out))
    for title, data in tabs.items():
        sheet = book.add_worksheet(title)
        for number, row in enumerate(data):
            sheet.write_row(number, 0, ["" if v is None else v for v in row])
    book.close()


def main(units: int, rows: int, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    plan_path = out_dir / "plan.yaml"
    plan_path.write_text(plan_text(units), encoding="utf-8")
    sheet = out_dir / "sheet.xlsx"
    workbook(plan_path, rows, sheet)
    return plan_path, sheet


if __name__ == "__main__":
    print(*main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])))
