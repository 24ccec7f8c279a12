"""The conference flow: count the ballots, write the vote minutes, publish them."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.common import assess_task, in_words, load, resources_for
from flows.params import At
from tasks.minutes import minutes_docx, minutes_markdown, rows
from tasks.nominations import missing_dossier
from tasks.plan import Teller
from tasks.round import in_plan_zone
from tasks.tally import Tally, count


@dataclass
class TallyResult:
    tally: Tally
    docx: Path


@flow(name="Kiểm phiếu", flow_run_name="Kiểm phiếu · {day}")
@in_words
def conference_tally(
    day: str | None = None,
    units_present: int | None = None,
    plan: str | None = None,
    counting_team: list[dict[str, Any]] | None = None,
    at: At = None,
) -> TallyResult:
    """Counts the Phiếu bầu tab: per title and block, votes against the threshold and quotas;
    writes the minutes (DOCX) under the plan's reports folder and publishes them as an artifact.
    `at` (default: now) is when the count is made; the minutes speak of the plan's year."""
    resources = resources_for(plan)
    settings = resources.settings
    inputs = load(resources)
    the_plan = inputs.plan
    instant = in_plan_zone(at, the_plan)
    when = (
        dt.date.fromisoformat(day) if day else the_plan.voting.day or instant.astimezone(the_plan.tz).date()
    )
    team = [Teller(**t) for t in counting_team] if counting_team else None
    tally = count(the_plan, inputs.data.ballots, inputs.data.registrations, units_present)
    # the dossiers as they stand at the count, read as the final report reads them
    table = assess_task(inputs, instant)
    counted = rows(the_plan, tally, inputs.data.registrations, missing_dossier(the_plan, table))
    path = minutes_docx(
        the_plan,
        tally,
        when,
        settings.reports_dir(the_plan.id) / f"bien-ban-kiem-phieu-{the_plan.year}.docx",
        counted,
        team,
        instant,
    )
    create_markdown_artifact(
        key=f"{the_plan.id}-kiem-phieu",
        markdown=minutes_markdown(the_plan, tally, when, counted, team),
        description="Biên bản kiểm phiếu",
    )
    return TallyResult(tally, path)
