"""Tasks every flow shares: read the inputs, assess them, send what dead runs left behind."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from prefect import task

from tasks.contract import SourceUnavailable
from tasks.delivery import Recovery, recover
from tasks.inputs import Inputs, assess, load_inputs
from tasks.round import Round, RoundResult, why_not_due
from tasks.settings import Settings, private_data_dir


class RoundFailed(RuntimeError):
    """Some mail of the round was not accepted; the ledger knows which, a rerun sends the rest."""


def _transient(task, task_run, state) -> bool:
    """Retry only a source that did not answer; a wrong key or a missing tab will not heal."""
    try:
        state.result()
    except SourceUnavailable:
        return True
    except Exception:  # noqa: BLE001 - any other failure is final
        return False
    return False


@task(
    name="đọc kế hoạch và bảng tính", retries=2, retry_delay_seconds=[60, 300], retry_condition_fn=_transient
)
def load(settings: Settings) -> Inputs:
    private_data_dir(settings)
    return load_inputs(settings)


@task(name="tính tình trạng hồ sơ")
def assess_task(inputs: Inputs, instant: dt.datetime) -> pd.DataFrame:
    return assess(inputs, instant)


@task(name="gửi lại thư của lần chạy bị dừng")
def recover_task(rnd: Round, table: pd.DataFrame, settings: Settings, mine: set | None = None) -> Recovery:
    """Before the round's own mail: what runs that died claimed and never confirmed is sent now
    if still due, else recorded as abandoned. `mine`: the round's own keys, which it sends itself."""
    if rnd.dry_run:
        return Recovery()
    return recover(
        settings,
        rnd.plan.id,
        lambda orphan: why_not_due(rnd.plan, table, rnd.instant, orphan),
        skip=lambda key: key in (mine or set()),
    )


def finish(result: RoundResult, what: str) -> RoundResult:
    """The round's result, or RoundFailed (which alerts the coordinators) if any mail failed."""
    if result.failed:
        raise RoundFailed(
            f"{len(result.failed)} thư gửi không thành công ({'; '.join(result.failed)[:500]}); xem {what}. "
            "Chạy lại đợt này sẽ chỉ gửi những thư còn thiếu."
        )
    return result
