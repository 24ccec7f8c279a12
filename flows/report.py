"""The report flow: compile the area's mid-year or year-end report and send the draft."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.alerts import alert_coordinators
from flows.milestone import RoundFailed, assess_task, load
from tasks.compose import report_mail
from tasks.delivery import deliver
from tasks.inputs import parse_instant, round_summary
from tasks.ledger import Ledger
from tasks.report_files import to_markdown, write_docx, write_xlsx
from tasks.reports import compile_report
from tasks.settings import Settings
from tasks.transport import open_transport


@flow(
    name="area-report",
    flow_run_name="bao-cao-{kind}",
    on_failure=[alert_coordinators],
    on_crashed=[alert_coordinators],
)
def area_report(
    kind: str, at: str | None = None, out_dir: str | None = None, send: bool = True, dry_run: bool = False
) -> dict:
    """Compiles the report (`midyear` or `yearend`) as of `at`: DOCX for the Head to sign, XLSX
    annex, Markdown artifact; e-mails the draft to the active Head and Deputy contacts."""
    settings = Settings()
    inputs = load(settings)
    plan = inputs.plan
    instant = parse_instant(at, plan)
    table = assess_task(inputs, instant)
    data = compile_report(
        plan, inputs, table, kind, instant, settings.plan.parent, settings.count_pages_online
    )
    folder = Path(out_dir) if out_dir else settings.data_dir / "reports"
    stem = f"{'bao-cao-so-ket' if kind == 'midyear' else 'bao-cao-tong-ket'}-{plan.year}"
    docx_path = write_docx(data, folder / f"{stem}.docx")
    xlsx_path = write_xlsx(data, folder / f"{stem}-phu-luc.xlsx")
    create_markdown_artifact(key=f"{stem}", markdown=to_markdown(data), description=data.report.name)
    result = round_summary(kind, "compile", instant, kind=kind, docx=str(docx_path), xlsx=str(xlsx_path))
    if send:
        mail = report_mail(plan, data, docx_path, xlsx_path, instant)
        ledger = None if dry_run else Ledger(settings.ledger)
        outcome = deliver([mail], settings, ledger, open_transport(settings), instant, dry_run)
        result.update(sent=outcome.sent, failed=outcome.failed, skipped=outcome.skipped)
        if outcome.failed:
            raise RoundFailed("; ".join(outcome.failed))
    return result
