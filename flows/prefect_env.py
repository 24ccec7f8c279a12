"""Prefect settings for an unattended, offline-friendly process; must run before `import prefect`."""

from __future__ import annotations

import os
from pathlib import Path


def configure(data_dir: Path) -> None:
    """A project-local PREFECT_HOME that is reused (a fresh one costs ~20 s of migrations), no
    analytics, and room for the ephemeral server to start on a slow machine. Explicit settings
    in the environment win."""
    os.environ.setdefault("PREFECT_HOME", str((data_dir / "prefect").resolve()))
    # Prefect's SQLite cannot create a missing folder; the ephemeral server would only time out
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
