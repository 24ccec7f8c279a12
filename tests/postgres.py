"""A throwaway PostgreSQL server on loopback, from Debian's packages (.ci/run installs them).

The binaries refuse to run as root, so the cluster belongs to the `postgres` user, in a
directory it can reach. The server is stopped by pg_ctl, then by its process id if it lingers.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.smtp_server import free_port


def _bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@dataclass
class Postgres:
    url: str
    bindir: Path
    data: Path
    port: int
    base: Path

    def ctl(self, *args: str) -> None:
        _as_postgres(self.bindir / "pg_ctl", "-D", str(self.data), *args)

    def stop(self) -> None:
        """Stop now, dropping every connection."""
        self.ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        # -l: without a log file the server keeps our pipe open and pg_ctl never returns
        self.ctl("-o", self._options(), "-l", str(self.base / "server.log"), "-w", "start")

    def _options(self) -> str:
        return f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1"

    def pid(self) -> int | None:
        pidfile = self.data / "postmaster.pid"
        return int(pidfile.read_text().split("\n", 1)[0]) if pidfile.exists() else None


def _as_postgres(*args: object) -> None:
    subprocess.run(
        ["runuser", "-u", "postgres", "--", *map(str, args)], check=True, capture_output=True, timeout=120
    )


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed: .ci/run installs it (apt-get install postgresql)")
    base = Path(tempfile.mkdtemp(prefix="thidua-pg-"))
    os.chmod(base, 0o755)
    shutil.chown(base, "postgres", "postgres")
    server = Postgres("", bindir, base / "data", free_port(), base)
    _as_postgres(bindir / "initdb", "-D", server.data, "-A", "trust", "-U", "postgres", "-E", "UTF8")
    server.start()
    pid = server.pid()
    try:
        _as_postgres(bindir / "createdb", "-h", "127.0.0.1", "-p", server.port, "-U", "postgres", "thidua")
        server.url = f"postgresql://postgres@127.0.0.1:{server.port}/thidua"
        yield server
    finally:
        with suppress(subprocess.SubprocessError):
            server.ctl("-m", "immediate", "-w", "stop")
        for stray in {pid, server.pid()} - {None}:
            with suppress(ProcessLookupError):
                os.kill(stray, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)
