"""The report flow: compile the area's mid-year or year-end report and send the draft."""

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State

from flows.alerts import alert_coordinators
from flows.common import assess_task, early_banner, finish, in_words, open_round, recover_task, refused_early
from flows.params import At, DryRun, Early, OutDir, PlanFile, ReportKind, ReportStage, SendMail, run_name
from tasks.compose import report_mail
from tasks.delivery import send
from tasks.report_files import report_stem, to_markdown, write_docx, write_xlsx
from tasks.reports import compile_report
from tasks.round import FINAL, RoundResult


@flow(
    name="Lập báo cáo",
    flow_run_name=run_name,
    on_failure=[alert_coordinators],
    on_crashed=[alert_coordinators],
)
@in_words
def area_report(
    kind: ReportKind,
    at: At = None,
    out_dir: OutDir = None,
    send_mail: SendMail = True,
    dry_run: DryRun = False,
    plan: PlanFile = None,
    stage: ReportStage = "compile",
    early: Early = False,
) -> RoundResult | State:
    """Compiles the report (`midyear` or `yearend`) as of `at`: DOCX for the Head to sign, XLSX
    annex, Markdown artifact; e-mails the draft to the active Head and Deputy contacts. A draft
    may be compiled at any time; mailed before its scheduled day it is refused unless `early`
    (the scheduled mailing would find it already sent)."""
    resources, inputs, rnd = open_round(plan, kind, stage, at, dry_run, early)
    settings = resources.settings
    if send_mail and (refusal := refused_early(rnd)):
        return refusal
    table = assess_task(inputs, rnd.instant)
    data = compile_report(
        rnd.plan, inputs, table, rnd.target, rnd.instant, settings.plan.parent, settings.count_pages_online
    )
    folder = Path(out_dir) if out_dir else settings.reports_dir(rnd.plan.id)
    stem = report_stem(data)
    docx_path = write_docx(data, folder / f"{stem}.docx")
    xlsx_path = write_xlsx(data, folder / f"{stem}-phu-luc.xlsx")
    create_markdown_artifact(
        key=f"{rnd.plan.id}-{data.report.kind}",
        markdown=early_banner(rnd) + to_markdown(data),
        description=data.report.name,
    )
    result = RoundResult.of(rnd, files=[docx_path, xlsx_path])
    if rnd.stage == FINAL and not data.final:
        # the draft went out already: nothing is sent, and a run once the conference is recorded
        # sends the final (its letter is another one for the ledger)
        result.stale = (
            f"chưa lập bản sau Hội nghị: {data.not_final}; khi đủ, chạy lại: "
            f"thidua report {rnd.target} --send"
        )
        get_run_logger().warning("Báo cáo %s: %s", rnd.target, result.stale)
        return result
    if send_mail:
        mail = report_mail(rnd, data, docx_path, xlsx_path)
        result.recovery = recover_task(rnd, table, resources, {mail.key})
        result.units = send([mail], resources, rnd.instant, dry_run=rnd.dry_run, note=rnd.ledger_note)
    return finish(result, "nhật ký của lần chạy")
