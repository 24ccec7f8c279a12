from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks.inputs import Inputs, load_inputs
from tasks.plan import Plan, load_plan
from tasks.resources import Resources
from tasks.settings import REPO, Settings
from tests.imap_server import DOVECOT, HEAD, PASSWORD, env_for, start_dovecot

PLAN_PATH = REPO / "config" / "plan-2021.yaml"
SAMPLE = REPO / "config" / "sample-2021.xlsx"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No operator setting or .env leaks into a test; every test has its own data directory."""
    for name in list(os.environ):
        if name.startswith("THIDUA_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THIDUA_DATA_DIR", str(tmp_path / "var"))


@pytest.fixture(scope="session")
def plan() -> Plan:
    return load_plan(PLAN_PATH)


@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> Inputs:
    data_dir = tmp_path_factory.mktemp("sample-var")  # the read cache goes there, not into the repo
    return load_inputs(Resources(Settings(plan=PLAN_PATH, source=str(SAMPLE), data_dir=data_dir)))


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "var")


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """One temporary Prefect server for the whole session (it takes ~15 s to start)."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def dovecot():
    if not Path(DOVECOT).exists():
        if os.environ.get("CI"):
            pytest.fail("Dovecot is missing: .ci/run must install it (Debian package dovecot-imapd)")
        pytest.skip("Dovecot not installed here (CI installs it: apt-get install dovecot-imapd)")
    server = start_dovecot({HEAD: PASSWORD, "pho-truong": "mat-khau-pho"})
    yield server
    server.stop()


@pytest.fixture
def imap_env(dovecot, monkeypatch):
    for key, value in env_for(dovecot).items():
        monkeypatch.setenv(key, value)
    return dovecot
