"""Tasks every flow shares: read the inputs, assess them, send what dead runs left behind."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Generic, ParamSpec, TypeVar, cast

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.utilities.annotations import quote

from tasks.contract import SourceUnavailable
from tasks.delivery import recover
from tasks.errors import MailProblem, ThiduaError
from tasks.inputs import Inputs, assess, load_inputs, shared_resources
from tasks.markdown import md
from tasks.outcomes import Orphan, Recovery
from tasks.plan import Plan
from tasks.publish import Published, publish_status
from tasks.resources import Resources
from tasks.round import Round, RoundResult, why_not_due
from tasks.schedule import ACTION_TAGS
from tasks.settings import Settings, private_data_dir
from tasks.unit_status import unit_status

# Prefect's English wrapper around the project's own error text, e.g.
# "Flow run encountered an exception: RoundFailed: 2 thư gửi không thành công …", or a task's
# "Task run encountered an exception RuntimeError: …" (a replayed round is a task run)
_WRAPPER = re.compile(
    r"^(?:(?:Flow|Task) run encountered an exception:? )?"
    r"(?:[A-Za-z_][\w.]*(?:Error|Failed|Exception|Timeout): )?"
)


def cause(message: str) -> str:
    """The project's own error text from a failed state's message, without Prefect's wrapper."""
    return _WRAPPER.sub("", message.strip(), count=1) or "không rõ nguyên nhân (xem nhật ký của lần chạy)"


# "(BadZipFile: File is not a zip file)", "(OSError)": a library's words, for the administrator
_TECHNICAL = re.compile(r"\s*\((?:[\w.]+\.)?(?:[A-Z]\w*(?:Error|Exception|Timeout)|BadZipFile)\b[^()]*\)")
_PATH = re.compile(r"(?<![\w:/])/(?:[^\s'\"/]+/)+([^\s'\"/]+)")


def for_people(text: str) -> str:
    """An error as a coordinator reads it in a letter: no exception class, no server path (a
    file is named by its name); the full text stays in the run's log for the administrator."""
    return _PATH.sub(r"\1", _TECHNICAL.sub("", text))


P = ParamSpec("P")
R = TypeVar("R")


# set while a replay runs every round of a year inside its one flow run, each round one task run:
# a round then does not tag that run with its own milestone and stage (the run is the year's, not
# the round's), and its steps are plain calls, not task runs of their own (RoundTask): 230 task
# runs were two fifths of a year's replay, Prefect's bookkeeping on both sides of the API
_in_one_run: ContextVar[bool] = ContextVar("rounds_in_one_run", default=False)


@contextmanager
def rounds_in_one_run() -> Iterator[None]:
    token = _in_one_run.set(True)
    try:
        yield
    finally:
        _in_one_run.reset(token)


class RoundTask(Generic[P, R]):
    """A task of a round, called like its function. Its arguments are whole plans, tables and
    resources, never futures: they reach Prefect quoted, so Prefect does not walk every cell and
    field of them twice per call looking for upstream runs (that walk was a sixth of a year's
    replay), and nothing is cached (a round always reads and computes afresh)."""

    def __init__(self, fn: Callable[P, R], name: str, description: str, **options: Any):
        self.fn = fn
        self.prefect_task = task(name=name, description=description, cache_policy=NO_CACHE, **options)(fn)
        functools.update_wrapper(self, fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if _in_one_run.get():  # a replayed round is one task run; its steps are plain calls in it
            return self.fn(*args, **kwargs)
        call: Callable[..., Any] = self.prefect_task  # called with the arguments quoted
        return cast(R, call(*(quote(value) for value in args), **{k: quote(v) for k, v in kwargs.items()}))


def round_task(name: str, description: str, **options: Any) -> Callable[[Callable[P, R]], RoundTask[P, R]]:
    """`@round_task(name, description)`: the Prefect task of a round (RoundTask)."""
    return lambda fn: RoundTask(fn, name, description, **options)


class RoundFailed(MailProblem, RuntimeError):
    """Some mail of the round was not accepted; the ledger knows which, a rerun sends the rest."""


EARLY = "Chưa đến giờ"  # the state a round refused before its time ends in, as the UI shows it


def refused_early(rnd: Round, teams: dict[str, Any] | None = None) -> State | None:
    """A round whose time has not come (`Round.too_early`) ends, before it reads the ledger, in a
    failed state named "Chưa đến giờ" whose message is the reason: the Run button's user reads it
    on the run's page, with no traceback; no alert goes out (nothing was attempted)."""
    reason = rnd.too_early(teams)
    if not reason:
        return None
    from prefect import get_run_logger
    from prefect.states import Failed

    get_run_logger().error(reason)
    return Failed(name=EARLY, message=reason)


def early_banner(rnd: Round, teams: dict[str, Any] | None = None) -> str:
    """The first lines of a round's artifact when an operator sent it early on purpose."""
    if not rnd.early or rnd.dry_run:
        return ""
    trigger = rnd.scheduled(teams)
    planned = f" (theo lịch: {trigger.at:%d/%m/%Y %H:%M})" if trigger else ""
    return f"> **Gửi sớm theo yêu cầu** (--early) lúc {rnd.local:%d/%m/%Y %H:%M}{planned}.\n\n"


def in_words(fn: Callable[P, R]) -> Callable[P, R | State]:
    """Under `@flow` (in a module without `from __future__ import annotations`: the wrapper's
    globals are this module's, so Prefect could not resolve string annotations of the flow's
    parameters): a failure the project foresaw (a source, plan, ledger or mail server problem;
    letters not accepted) ends the run in a Failed state whose message is the project's own
    Vietnamese sentence, logged once, instead of Prefect's "Flow run encountered an exception:
    SourceError: …" over a traceback; the alert hook still runs. A bug still raises, with its
    traceback, for the administrator."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R | State:
        try:
            return fn(*args, **kwargs)
        except ThiduaError as exc:
            from prefect import get_run_logger
            from prefect.artifacts import create_markdown_artifact
            from prefect.states import Failed

            get_run_logger().error(str(exc))
            words = for_people(str(exc))  # the full text is in the log above, for the administrator
            create_markdown_artifact(  # the run's Artifacts tab: what a coordinator opens first
                markdown=f"# Không chạy xong\n\n**Nguyên nhân:** {md(words)}\n\n**Việc cần làm:** sửa "
                "nguyên nhân trên, rồi bấm *Retry* của lần chạy này: thư nào đã gửi được thì đã ghi sổ, "
                "chạy lại chỉ gửi những thư còn thiếu.\n",
                description="Lỗi: lần chạy không xong",
            )
            return Failed(message=words)

    return run


def _transient(task: Any, task_run: Any, state: State) -> bool:
    """Retry only a source that did not answer; a wrong key or a missing tab will not heal."""
    try:
        state.result()
    except SourceUnavailable:
        return True
    except Exception:  # noqa: BLE001 - any other failure is final
        return False
    return False


@round_task(
    name="doc-ke-hoach-va-bang-tinh",
    description="Đọc kế hoạch và bảng tính chung",
    retries=2,
    retry_delay_seconds=[60, 300],
    retry_condition_fn=_transient,
)
def load(resources: Resources) -> Inputs:
    private_data_dir(resources.settings)
    inputs = load_inputs(resources)
    from prefect import get_run_logger

    for reason in inputs.intake.skipped if inputs.intake else []:  # in the run's log, in the UI
        get_run_logger().warning("Không đọc được hộp thư, đợt này chỉ dựa vào bảng tính: %s", reason)
    return inputs


@round_task(
    name="dang-tinh-trang-cho-don-vi", description="Đăng bảng tình trạng nộp hồ sơ cho các đơn vị xem"
)
def publish_status_task(
    settings: Settings, plan: Plan, table: pd.DataFrame, instant: dt.datetime, dry_run: bool
) -> Published:
    """The units' status where they look, from the round's own completeness table (every
    milestone units owe), before the round's letters (which link to it). A dry run writes
    nothing; a failure is a warning in the run's log and never stops the mail."""
    if dry_run:
        return Published()
    from prefect import get_run_logger

    done = publish_status(settings, plan, unit_status(plan, table, instant))
    if done.problem:
        get_run_logger().warning("%s", done.problem)
    return done


@round_task(name="tinh-trang-ho-so", description="Tính tình trạng hồ sơ của từng đơn vị")
def assess_task(inputs: Inputs, instant: dt.datetime) -> pd.DataFrame:
    return assess(inputs, instant)


@round_task(name="gui-lai-thu-dang-do", description="Gửi lại thư của lần chạy bị dừng")
def recover_task(
    rnd: Round, table: pd.DataFrame, resources: Resources, mine: set[Any] | None = None
) -> Recovery:
    """Before the round's own mail: what runs that died claimed and never confirmed is sent now
    if still due, else recorded as abandoned. `mine`: the round's own keys, which it sends itself."""
    if rnd.dry_run:
        return Recovery()
    return recover(
        resources,
        rnd.plan.id,
        lambda orphan: why_not_due(rnd.plan, table, rnd.instant, orphan),
        skip=lambda orphan: orphan.key in (mine or set()) or not _judged_by(table, orphan),
    )


def _judged_by(table: pd.DataFrame, orphan: Orphan) -> bool:
    """Whether this round's table can tell if a dead run's letter is still due: a unit's or a
    team's letter is judged by the table of its own milestone (the units' rounds and the teams'
    flow hold different tables), anything else by its staleness alone."""
    return orphan.kind not in ("reminder", "overdue") or bool(
        (table["milestone"] == orphan.key.milestone).any()
    )


def settings_for(plan: str | None) -> Settings:
    """The operator's settings, for the plan file a deployment names (several plans can be
    served at once) or THIDUA_PLAN."""
    return Settings(plan=plan) if plan else Settings()


def resources_for(plan: str | None) -> Resources:
    """A flow's resources: inside a CLI command for the same plan, the command's (`preloaded`:
    one ledger engine, not one more per flow); else its own, from the operator's settings."""
    settings = settings_for(plan)
    return shared_resources(settings) or Resources(settings)


def open_round(
    plan: str | None, target: str, stage: str, at: str | dt.datetime | None, dry_run: bool, early: bool
) -> tuple[Resources, Inputs, Round]:
    """How every round flow starts: the operator's settings for its plan file and the run's
    resources built from them (opened when first used, once; inside a CLI command, the
    command's: `preloaded`), the plan and the sheet read once
    (the `load` task), the round validated, and the run tagged with it."""
    resources = resources_for(plan)
    inputs = load(resources)
    rnd = Round.of(inputs.plan, target, stage, at, dry_run, early)
    tag_run(rnd)
    return resources, inputs, rnd


def run_tags(plan: Plan, target: str, stage: str, action: str) -> set[str]:
    """A round's run carries its plan, year, target, stage and kind of action: the UI filters by them."""
    return {plan.id, f"nam-{plan.year}", target, stage, ACTION_TAGS[action]}


def tag_run(rnd: Round) -> None:
    """Tag the run with `run_tags`, unless it was created with them (one API call less a run)."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    if ctx is None or ctx.flow_run is None or _in_one_run.get():
        return
    run = ctx.flow_run
    wanted = run_tags(rnd.plan, rnd.target, rnd.stage, rnd.action)
    if wanted <= set(run.tags):
        return
    with get_client(sync_client=True) as client:
        client.update_flow_run(run.id, tags=sorted({*run.tags, *wanted}))


def finish(result: RoundResult, what: str) -> RoundResult:
    """The round's result, or RoundFailed (which alerts the coordinators) if any mail failed:
    one sentence per distinct cause, naming whom it kept from their mail."""
    if result.failed:
        raise RoundFailed(
            f"{len(result.failed)} thư gửi không thành công: {failure_summary(result.failed)}. Xem {what}; "
            "chạy lại đợt này sẽ chỉ gửi những thư còn thiếu."
        )
    return result


def failure_summary(failures: list[str]) -> str:
    """'STP-CBA, STP-BKA: <cause>; STP-LCH: <other cause>' from 'recipient: cause' lines."""
    by_cause: dict[str, list[str]] = {}
    for failure in failures:
        who, _, why = failure.partition(": ")
        why = why.removeprefix("chưa gửi (").removesuffix(")") if why.startswith("chưa gửi (") else why
        by_cause.setdefault(why.rstrip("."), []).append(who)
    return "; ".join(f"{', '.join(who)}: {why}" for why, who in by_cause.items())[:1500]
