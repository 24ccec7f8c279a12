"""A local Prefect server as a child process, for `thidua serve` when no server is configured;
and how other commands on the same machine find it instead of starting one of their own."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tasks.errors import ThiduaError


class ServerError(ThiduaError, RuntimeError):
    pass


def port_in_use(port: int) -> bool:
    """Whether a program listens on the port. Connections of a server that just stopped linger
    in TIME-WAIT for a minute: SO_REUSEADDR lets them be, as the Prefect server's own bind does,
    so a service manager restarting `thidua serve` at once finds the port free."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def wait_healthy(
    api_url: str, timeout: float, process: subprocess.Popen[bytes] | None = None, step: float = 0.5
) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2) as client:  # one client: each new one loads the CA bundle (35 ms)
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise ServerError(f"máy chủ Prefect dừng ngay khi khởi động (mã {process.returncode})")
            try:
                if client.get(f"{api_url}/health").json() is True:
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(step)
    raise ServerError(f"máy chủ Prefect tại {api_url} không sẵn sàng sau {timeout:.0f} giây")


@contextmanager
def local_prefect_server(
    port: int, log_file: Path, timeout: float = 120.0, extra_env: dict[str, Any] | None = None
) -> Iterator[str]:
    """Starts `prefect server start` on 127.0.0.1:port, waits for /api/health, yields the API URL,
    and stops the server on exit. Its output goes to `log_file`."""
    api_url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, **(extra_env or {})}
    env.pop("PREFECT_API_URL", None)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        try:
            wait_healthy(api_url, timeout, process)
        except ServerError as exc:
            raise ServerError(f"{exc}; xem nhật ký {log_file}") from None
        yield api_url
    finally:
        stop_process(process, grace=20)


def stop_process(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM, `grace` seconds to finish what it holds, then SIGKILL."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


SERVED_FILE = "prefect-served.json"  # in the data directory, while `thidua serve` runs


@contextmanager
def announced(data_dir: Path, api_url: str) -> Iterator[None]:
    """Tell other thidua commands on this machine where the served Prefect API is, while it runs."""
    path = data_dir / SERVED_FILE
    path.write_text(json.dumps({"api_url": api_url, "pid": os.getpid()}), encoding="utf-8")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def served_api(data_dir: Path) -> str | None:
    """The API of a `thidua serve` running on this data directory and answering, else None (a
    file left by a killed serve names a dead process or a silent port and is ignored)."""
    try:
        served = json.loads((data_dir / SERVED_FILE).read_text(encoding="utf-8"))
        os.kill(int(served["pid"]), 0)
        api_url = str(served["api_url"])
        return api_url if httpx.get(f"{api_url}/health", timeout=2).json() is True else None
    except (OSError, ValueError, KeyError, TypeError, httpx.HTTPError):
        return None
