"""Scale-out: a shared Prefect server on PostgreSQL, two plans deployed to a process work pool with
`thidua deploy`, two workers (each with its own data directory, as on two machines) sharing the
send ledger on PostgreSQL. Two runs of the same trigger at the same instant, picked up by the
workers, deliver each message once (counted by Message-ID at a loopback SMTP server)."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import os
import subprocess
import sys
import time
from collections import Counter
from email.policy import default
from pathlib import Path

import httpx
import pytest

from flows.local_server import local_prefect_server
from tasks.plan import load_plan
from tasks.schedule import triggers
from tests.helpers import PLAN_PATH, with_sheet
from tests.postgres import postgres_server
from tests.smtp_server import Faulty, free_port, smtp_env, smtp_server

REPO = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as server:
        yield server


def _psql(pg, database: str, sql: str) -> None:
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(pg.bindir / "psql"), "-h", "127.0.0.1", "-p", str(pg.port),
         "-U", "postgres", "-d", database, "-c", sql],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


def _plans(tmp_path: Path, year: int) -> list[Path]:
    """Next year's plan (made by `plan new`, then filled in) and a second plan of another area."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    first = tmp_path / f"plan-{year}.yaml"
    subprocess.run(
        [sys.executable, "-m", "flows.cli", "plan", "new", "--year", str(year), "--from", str(PLAN_PATH),
         "--out", str(first)],
        check=True, capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    with_sheet(first)
    text = first.read_text(encoding="utf-8").replace("document_number: ''", "document_number: 1/KH-KVTĐ")
    text = text.replace("issued:", f"issued: {year}-01-05", 1)
    first.write_text(text, encoding="utf-8")
    second = tmp_path / f"plan-cum-{year}.yaml"
    second.write_text(
        text.replace(f"id: kvtd-tp-mnpb-{year}", f"id: cum-thu-nghiem-{year}"), encoding="utf-8"
    )
    return [first, second]


def _api(api: str, path: str, body: dict) -> list | dict:
    response = httpx.post(f"{api}{path}", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def test_two_workers_on_a_shared_server_send_each_message_of_two_simultaneous_runs_once(postgres, tmp_path):
    year = dt.date.today().year + 1
    plan_a, plan_b = _plans(tmp_path, year)
    for database in ("prefect", "ledger"):
        _psql(postgres, "postgres", f"CREATE DATABASE {database}")
    _psql(postgres, "prefect", "CREATE EXTENSION IF NOT EXISTS pg_trgm")
    base = postgres.url.rsplit("/", 1)[0]
    server_env = {
        "PREFECT_HOME": str(tmp_path / "prefect-server"),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": base.replace("postgresql://", "postgresql+asyncpg://")
        + "/prefect",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    recorder = Faulty(slow=0.05)
    workers: list[subprocess.Popen] = []
    with (
        local_prefect_server(free_port(), tmp_path / "server.log", timeout=180, extra_env=server_env) as api,
        smtp_server(recorder=recorder) as (controller, _),
        contextlib.ExitStack() as logs,
    ):
        common = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "THIDUA_"))}
        common |= {
            "PYTHONPATH": str(REPO),
            "PREFECT_API_URL": api,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
        deployed = subprocess.run(
            [sys.executable, "-m", "flows.cli", "deploy", str(plan_a), str(plan_b), "--pool", "thu"],
            env=common | {"THIDUA_DATA_DIR": str(tmp_path / "deployer")},
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        names = {d["name"] for d in _api(api, "/deployments/filter", {"limit": 50})}
        assert {f"Sơ kết 6 tháng · kvtd-tp-mnpb-{year}", f"Sơ kết 6 tháng · cum-thu-nghiem-{year}"} <= names
        worker_env = common | {
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "PREFECT_WORKER_PREFETCH_SECONDS": "5",
            "THIDUA_LEDGER_URL": f"{base}/ledger",
            **smtp_env(controller),
        }
        try:
            for name in ("may-1", "may-2"):  # two machines: own home, own data directory
                env = worker_env | {
                    "PREFECT_HOME": str(tmp_path / name / "prefect"),
                    "THIDUA_DATA_DIR": str(tmp_path / name / "var"),
                }
                workers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "prefect", "worker", "start", "--pool", "thu", "--name", name],
                        env=env,
                        cwd=tmp_path,
                        stdout=logs.enter_context(open(tmp_path / f"{name}.log", "w")),
                        stderr=subprocess.STDOUT,
                    )  # fmt: skip
                )
            deployment = next(
                d
                for d in _api(api, "/deployments/filter", {"limit": 50})
                if d["name"] == f"Sơ kết 6 tháng · kvtd-tp-mnpb-{year}"
            )
            before_7 = next(
                t.at for t in triggers(load_plan(plan_a)) if (t.target, t.stage) == ("so-ket", "before-7")
            )
            parameters = {
                "milestone": "so-ket",
                "stage": "before-7",
                "at": before_7.isoformat(),  # its own instant: earlier, the round is refused
                "plan": str(plan_a),
            }
            runs = [
                _api(api, f"/deployments/{deployment['id']}/create_flow_run", {"parameters": parameters})[
                    "id"
                ]
                for _ in range(2)
            ]
            deadline = time.monotonic() + 240
            while True:
                states = [httpx.get(f"{api}/flow_runs/{r}", timeout=30).json()["state"]["type"] for r in runs]
                if all(s in ("COMPLETED", "FAILED", "CRASHED") for s in states):
                    break
                assert time.monotonic() < deadline, states
                time.sleep(1)
            assert states == ["COMPLETED", "COMPLETED"], [
                (tmp_path / f"may-{i}.log").read_text()[-2000:] for i in (1, 2)
            ]
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
    plan = load_plan(plan_a)
    ids = Counter(email.message_from_bytes(m.data, policy=default)["Message-ID"] for m in recorder.messages)
    assert set(ids.values()) == {1}  # nothing twice
    assert len(ids) == len(plan.units) + 1  # every unit owes (the year's sheet is empty), and the digest
