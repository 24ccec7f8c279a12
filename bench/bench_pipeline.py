"""Times the pure pipeline (normalise -> completeness -> compose) on synthetic sheets of growing
size. Wall time on this machine, best of 3; no Prefect, no I/O beyond rendering.

Run: bench/run.sh   (or .venv/bin/python bench/bench_pipeline.py 1000 10000 50000)
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tasks.completeness import completeness  # noqa: E402
from tasks.compose import unit_mails  # noqa: E402
from tasks.contract import COLUMNS  # noqa: E402
from tasks.normalise import normalise  # noqa: E402
from tasks.plan import load_plan  # noqa: E402
from tasks.settings import REPO  # noqa: E402

PLAN = load_plan(REPO / "config" / "plan-2021.yaml")


def synthetic(rows: int) -> dict:
    rng = random.Random(rows)
    kinds = [(m.id, d.kind) for m in PLAN.milestones if m.units_owe for d in m.documents]
    header = list(COLUMNS["Nộp hồ sơ"])
    data = [header]
    for _ in range(rows):
        unit = rng.choice(PLAN.units)
        milestone, kind = rng.choice(kinds)
        when = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2021 {rng.randint(7, 17):02d}:15"
        data.append([when, unit.name, milestone, kind, str(rng.randint(1, 6)), "", ""])
    return {"Nộp hồ sơ": data}


def best_of(fn, n=3) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(sizes: list[int]) -> None:
    instant = dt.datetime(2021, 6, 18, 8, tzinfo=PLAN.tz)
    print(f"{'rows':>8} {'normalise s':>12} {'completeness s':>15} {'compose s':>10}")
    for size in sizes:
        raw = synthetic(size)
        data = normalise(PLAN, raw)
        table = completeness(PLAN, data.submissions, data.registrations, instant)
        t_norm = best_of(lambda raw=raw: normalise(PLAN, raw))
        t_comp = best_of(lambda data=data: completeness(PLAN, data.submissions, data.registrations, instant))
        t_mail = best_of(lambda table=table: unit_mails(PLAN, table, "so-ket", "before-1", instant))
        print(f"{size:>8} {t_norm:>12.3f} {t_comp:>15.3f} {t_mail:>10.3f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 10_000, 50_000])
