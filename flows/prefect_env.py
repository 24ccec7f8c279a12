"""Prefect settings for an unattended, offline-friendly process; must run before `import prefect`."""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

EPHEMERAL_APP = b"prefect.server.api.server:create_app"


def configure(data_dir: Path) -> None:
    """A project-local PREFECT_HOME that is reused (a fresh one costs ~20 s of migrations), no
    analytics, and room for the ephemeral server to start on a slow machine. Explicit settings
    in the environment win. A temporary server left behind by a killed run is stopped first."""
    os.environ.setdefault("PREFECT_HOME", str((data_dir / "prefect").resolve()))
    # Prefect's SQLite cannot create a missing folder; the ephemeral server would only time out
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
    # runs log at INFO to the Prefect UI (one summary line a round) but nothing to the terminal:
    # the CLI prints its own one-line outcome, tracebacks stay in the run's log
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    stop_orphaned_servers(os.environ["PREFECT_HOME"])


def stop_orphaned_servers(prefect_home: str) -> list[int]:
    """Stop Prefect's temporary servers on this PREFECT_HOME whose parent run is gone (a run killed
    with SIGKILL cannot stop the server it started; its uvicorn is re-parented and lives on).
    Linux /proc only; elsewhere nothing is found. Returns the pids stopped."""
    stopped: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return stopped
    want = f"PREFECT_HOME={prefect_home}".encode()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if EPHEMERAL_APP not in (entry / "cmdline").read_bytes():
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
            if b"PREFECT__SERVER_EPHEMERAL=1" not in environ or want not in environ:
                continue
            if _run_alive(proc / str(_parent(entry))):
                continue
            os.kill(int(entry.name), signal.SIGTERM)
            stopped.append(int(entry.name))
        except (OSError, ValueError):
            continue  # gone meanwhile, or not ours to read
    return stopped


def _run_alive(parent: Path) -> bool:
    """The server's parent is the Python run that started it, not init or a reaper that adopted
    it after the run died. (The parent's PREFECT_HOME cannot tell: a run sets it at run time,
    after /proc recorded its environment.)"""
    try:
        return parent.name != "1" and os.path.basename(os.readlink(parent / "exe")).startswith("python")
    except OSError:
        return False


def _parent(entry: Path) -> int:
    for line in (entry / "status").read_text().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return 0


_started: TemporaryServer | None = None

# The temporary server's background writers (task runs recorded from events, events stored)
# committed after every few events, i.e. after every flow run, and the next run's creation
# collided with them on SQLite's single writer: a 503 that Prefect's client retries after 2 s,
# on one run in six of a year's replay. Batched every 5 s instead; no automations here to trigger.
QUIET_WRITERS = {
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": "1000",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "1000",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
}


class TemporaryServer:
    """Prefect's temporary server, started by the command at its edge instead of by Prefect at
    the first flow run: it starts (5 s on two cores) while the command imports and reads its
    inputs, and this process never imports Prefect's server package (2 s) to start it. The same
    program with the same environment as Prefect's own (`stop_orphaned_servers` knows it), on
    127.0.0.1, stopped when this process exits."""

    def __init__(self) -> None:
        with socket.socket() as s:  # a port the system has just given out: free
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.api_url = f"http://127.0.0.1:{port}/api"
        # where Prefect is installed, without importing it: its import is a second of the time
        # the server's start is meant to overlap
        spec = importlib.util.find_spec("prefect")
        assert spec is not None and spec.origin is not None
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(Path(spec.origin).parent.parent),
                "--factory",
                EPHEMERAL_APP.decode(),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],  # fmt: skip
            env={
                **os.environ,
                "PREFECT_UI_ENABLED": "0",
                "PREFECT__SERVER_EPHEMERAL": "1",
                "PREFECT__SERVER_FINAL": "1",
                **QUIET_WRITERS,
            },
        )

    def wait(self) -> None:
        from flows.local_server import wait_healthy

        timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120"))
        wait_healthy(self.api_url, timeout, self.process, step=0.1)

    def stop(self) -> None:
        from flows.local_server import stop_process

        stop_process(self.process, grace=10)


def start_temporary_server() -> None:
    """For a command that runs flows with no Prefect server configured: start the temporary
    server now; `on_temporary_server` runs the flows on it. Not when Prefect is imported already:
    the command runs inside a longer-lived process (a test calling the CLI), where Prefect's own
    temporary server serves it, as before, rather than one more kept until that process exits."""
    global _started
    if _started is None and not os.environ.get("PREFECT_API_URL") and "prefect" not in sys.modules:
        _started = TemporaryServer()
        atexit.register(_started.stop)


# commands that always run their flows here, on a temporary server unless one is configured
EARLY_START = {"replay", "report", "tally"}


def start_before_imports(argv: list[str]) -> None:
    """For `thidua replay` and the like, the temporary server starts first thing, before the
    command line imports its commands' modules (pandas and the like: a second of the 3 s the
    server takes to boot on two cores, which the command otherwise waited for). Any problem is
    left to the command, which reports it in its own words; a server started for a command that
    then refuses is stopped at exit."""
    if not argv or argv[0] not in EARLY_START or {"--help", "-h"} & set(argv):
        return
    try:
        from tasks.settings import Settings

        configure(Settings().data_dir)
    except Exception:  # noqa: BLE001 - a broken setting or data folder: the command says what
        return
    start_temporary_server()


@contextlib.contextmanager
def on_temporary_server() -> Iterator[None]:
    """The flow runs inside go to the server `start_temporary_server` started (once it answers);
    without one, where Prefect's settings say. The server stops when the process exits, after
    Prefect has sent its last logs and events (atexit runs last what was registered first)."""
    if _started is None:
        yield
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    _started.wait()
    with temporary_settings(updates={PREFECT_API_URL: _started.api_url}):
        yield
