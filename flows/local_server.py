"""A local Prefect server as a child process, for `thidua serve` when no server is configured."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx


class ServerError(RuntimeError):
    pass


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def wait_healthy(api_url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerError(f"máy chủ Prefect dừng ngay khi khởi động (mã {process.returncode})")
        try:
            if httpx.get(f"{api_url}/health", timeout=2).json() is True:
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise ServerError(f"máy chủ Prefect tại {api_url} không sẵn sàng sau {timeout:.0f} giây")


@contextmanager
def local_prefect_server(port: int, log_file: Path, timeout: float = 120.0, extra_env: dict | None = None):
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
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
