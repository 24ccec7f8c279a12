"""What the tests share besides fixtures: the shipped plan and sample, one header row, the
completeness table at an instant, a round's mails, a run after a dead run's lease."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pandas as pd

from tasks.completeness import completeness
from tasks.contract import COLUMNS, TAB_SUBMISSIONS
from tasks.inputs import Inputs
from tasks.normalise import Normalised
from tasks.plan import Plan
from tasks.resources import Resources
from tasks.settings import REPO, Settings

PLAN_PATH = REPO / "config" / "plan-2021.yaml"
SAMPLE = REPO / "config" / "sample-2021.xlsx"
# the Nộp hồ sơ tab's header row as the sheet contract writes it
HEADER = list(COLUMNS[TAB_SUBMISSIONS])


def local(plan: Plan, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=plan.tz)


def table_at(
    plan: Plan, data: Normalised, instant: dt.datetime, milestones: list[str] | None = None
) -> pd.DataFrame:
    """The completeness table of the read sheet `data` at `instant` (all milestones unless named):
    the one way tests build it."""
    return completeness(plan, data.submissions, data.registrations, instant, milestones)


def round_mails(sample: Inputs, plan: Plan, stage: str = "before-1", when=(2021, 6, 18, 8)):
    """The sample's so-ket round at `when`: its unit mails and the instant."""
    from tasks.compose import unit_mails
    from tasks.round import Round

    instant = local(plan, *when)
    table = table_at(plan, sample.data, instant, ["so-ket"])
    return unit_mails(Round.of(plan, "so-ket", stage, instant), table), instant


def later_run(mails, settings: Settings, instant):
    """Deliver as a run that starts after a dead run's claims have outlived their lease."""
    from tasks.delivery import send
    from tasks.ledger import Ledger
    from tasks.transport import FileOutbox

    return send(
        mails,
        Resources(
            settings,
            ledger=Ledger(settings.ledger, lease=dt.timedelta(0)),
            transport=FileOutbox(settings.outbox_dir),
        ),
        instant,
    )


def write_plan(tmp_path: Path, edit) -> Path:
    """A copy of the shipped plan with `edit(text) -> text` applied."""
    path = tmp_path / "plan.yaml"
    path.write_text(edit(PLAN_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def with_sheet(plan_path: Path) -> Path:
    """Next year's plan (from `plan new`) with the sheet it names, made as `thidua template`
    makes it: empty, every unit owes everything."""
    from tasks.plan import load_plan
    from tasks.source import write_template

    write_template(plan_path.parent / str(load_plan(plan_path).spreadsheet))
    return plan_path


def shown_name(address) -> str:
    """A display name as mail clients show it. Python's parser, against RFC 2047 §6.2, keeps the
    space between two encoded-words of a name; a long name is cut into words only before a space
    (tasks.mime.encoded_words), so Python shows that space doubled, and nothing else differs."""
    return address.display_name.replace("  ", " ")


def wait_for(predicate, timeout: float = 60.0, step: float = 0.05):
    """The predicate's first truthy value, polled: what a server records after answering (task
    runs from events, a scheduler's runs) or another process writes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(step)
    raise AssertionError("timed out")
