"""Prefect settings for an unattended, offline-friendly process; must run before `import prefect`."""

from __future__ import annotations

import os
import signal
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
