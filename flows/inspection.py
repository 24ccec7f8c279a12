"""The inspection teams' flow: before a team's visits, a notice to each unit it inspects; after
them, reminders and overdue notices to its leading unit, counted from the team's own last day
(the teams are read from the Kiểm tra tab at run time)."""

import pandas as pd
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State

from flows.alerts import alert_coordinators
from flows.common import (
    assess_task,
    early_banner,
    finish,
    in_words,
    open_round,
    publish_status_task,
    recover_task,
    refused_early,
    round_task,
)
from flows.params import At, DryRun, Early, MilestoneId, PlanFile, TeamsStage, run_name
from tasks.compose import inspection_notices, unit_mails
from tasks.delivery import send
from tasks.inputs import Inputs
from tasks.round import Round, RoundResult
from tasks.schedule import team_rounds_due
from tasks.teams import NOTICE, Team, team_markdown, team_table, teams


@round_task(name="tinh-trang-doan-kiem-tra", description="Tính tình trạng hồ sơ của từng đoàn kiểm tra")
def assess_teams(inputs: Inputs, rnd: Round) -> tuple[list[Team], pd.DataFrame]:
    all_teams = teams(rnd.plan, rnd.milestone, inputs.data.inspections)
    return all_teams, team_table(rnd.plan, rnd.milestone, all_teams, inputs.data.submissions, rnd.instant)


@flow(
    name="Nhắc đoàn kiểm tra",
    flow_run_name=run_name,
    on_failure=[alert_coordinators],
    on_crashed=[alert_coordinators],
)
@in_words
def inspection_round(
    milestone: MilestoneId,
    stage: TeamsStage,
    at: At = None,
    dry_run: DryRun = False,
    plan: PlanFile = None,
    early: Early = False,
) -> RoundResult | State:
    """The teams' rounds due at `at` (a named one, or every one of that day for `daily`): each
    leading unit that still owes something gets a reminder or an overdue notice."""
    resources, inputs, rnd = open_round(plan, milestone, stage, at, dry_run, early)
    all_teams, table = assess_teams(inputs, rnd)
    if refusal := refused_early(rnd, {rnd.target: all_teams}):
        return refusal
    units_table = assess_task(inputs, rnd.instant)  # the teams' table above is the teams' own
    publish_status_task(resources.settings, rnd.plan, units_table, rnd.instant, rnd.dry_run)  # daily look too
    by_slug = {t.slug: t for t in all_teams}
    mails = []
    for due in team_rounds_due(rnd.plan, rnd.milestone, all_teams, rnd.stage, rnd.instant):
        team = by_slug[due.stage.partition(".")[0]]
        one = Round(rnd.plan, rnd.action, rnd.target, due.stage, rnd.instant, rnd.dry_run, rnd.early)
        if due.stage.endswith(f".{NOTICE}"):
            # once the visits have begun the notice has no use (a round run late, after a restart)
            mails += inspection_notices(one, team) if rnd.local.date() < team.first_day else []
        else:
            mails += unit_mails(one, table[table["team"] == team.name])
    # owing: the teams' leading units that still owe documents, not the units told of a visit
    result = RoundResult.of(rnd, owing=sum(m.kind != NOTICE for m in mails))
    result.recovery = recover_task(rnd, table, resources, {m.key for m in mails})
    result.units = send(mails, resources, rnd.instant, dry_run=rnd.dry_run, note=rnd.ledger_note)
    create_markdown_artifact(
        key=f"{rnd.plan.id}-{rnd.target}-doan",
        markdown=early_banner(rnd, {rnd.target: all_teams})
        + team_markdown(rnd.plan, all_teams, table, rnd.instant),
        description="Tình trạng hồ sơ của các đoàn kiểm tra",
    )
    get_run_logger().info("Đoàn kiểm tra: %d đoàn, %d thư", len(all_teams), len(mails))
    return finish(result, "nhật ký của lần chạy")
