"""What every round reads: the plan and the source's tabs, normalised. Read once per command:
the CLI preloads them and the flows it runs use the same copy (one Sheets request)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tasks.completeness import completeness
from tasks.normalise import Normalised, SourceOfAnotherYear, normalise
from tasks.plan import Plan, load_plan
from tasks.read_cache import ReadCache
from tasks.resources import Resources
from tasks.settings import Settings
from tasks.source import WorkbookSource

if TYPE_CHECKING:
    from tasks.intake import IntakeResult


@dataclass
class Inputs:
    plan: Plan
    data: Normalised
    source: str
    headers: dict[str, list[str]]  # tab -> its header row, as read
    plan_path: Path | None = None
    intake: IntakeResult | None = None  # what the coordinators' mailboxes held, when configured


# what a CLI command has read and opened, for the flows it runs in the same process: a flow's
# parameters must be JSON (the UI shows and replays them), so neither the read sheet nor an open
# database can be one; a context variable, set only inside `preloaded`, carries them instead of
# reading the sheet twice and opening a second ledger engine
_preloaded: ContextVar[tuple[Inputs, Resources] | None] = ContextVar("preloaded", default=None)


@contextmanager
def preloaded(inputs: Inputs, resources: Resources) -> Iterator[Inputs]:
    """Within the block, a flow for the same plan file uses the command's `inputs` (load_inputs
    returns them without reading again) and `resources` (`shared_resources`)."""
    token = _preloaded.set((inputs, resources))
    try:
        yield inputs
    finally:
        _preloaded.reset(token)


def shared_resources(settings: Settings) -> Resources | None:
    """The resources of the command this flow runs inside, when it is for the same plan file."""
    ready = _preloaded.get()
    if ready is not None and ready[0].plan_path == Path(settings.plan).resolve():
        return ready[1]
    return None


def load_inputs(resources: Resources, plan: Plan | None = None) -> Inputs:
    """The plan (unless already loaded) and the run's source, read and normalised, and what the
    coordinators' mailboxes hold when the intake is configured."""
    settings = resources.settings
    path = Path(settings.plan).resolve()
    ready = _preloaded.get()
    if ready is not None and ready[0].plan_path == path:
        return ready[0]
    plan = plan or load_plan(path)
    source = resources.source(plan)

    def read() -> tuple[dict[str, list[str]], Normalised]:
        raw = source.read_tabs()
        try:
            return {tab: (rows[0] if rows else []) for tab, rows in raw.items()}, normalise(plan, raw)
        except SourceOfAnotherYear as exc:
            raise SourceOfAnotherYear(f"{source.description}: {exc}") from None

    if isinstance(source, WorkbookSource) and source.path.is_file():
        plan_key = hashlib.sha256(plan.model_dump_json().encode()).hexdigest()
        headers, data = ReadCache(settings.data_dir / "cache").fetch(source.path, plan_key, read)
    else:
        headers, data = read()
    intake = None
    if settings.intake_configured:
        from tasks.intake_run import read_mailboxes, with_mail  # IMAP and e-mail parsing: only when used

        intake = read_mailboxes(resources, plan)
        data = with_mail(data, intake, plan)
    return Inputs(plan, data, source.description, headers, path, intake)


def assess(inputs: Inputs, instant: dt.datetime, milestones: list[str] | None = None) -> pd.DataFrame:
    """The completeness table at `instant` (all milestones units owe, unless named)."""
    return completeness(inputs.plan, inputs.data.submissions, inputs.data.registrations, instant, milestones)
