"""A throwaway Dovecot IMAP server on loopback, started and stopped by the tests (by process id),
with a throwaway user, TLS from a throwaway CA, and messages delivered as Maildir files."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.smtp_server import free_ports
from tests.tls import make_ca_and_server

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
HEAD = "truong"  # the Head's mailbox
PASSWORD = "mat-khau-thu"


@dataclass
class Dovecot:
    root: Path
    imap_port: int  # STARTTLS available
    imaps_port: int  # TLS from the first byte
    ca_file: Path
    users: dict[str, str]
    pid: int = 0
    delivered: int = field(default=0)

    def maildir(self, user: str) -> Path:
        return self.root / "home" / user / "Maildir"

    def deliver(self, user: str, raw: bytes, flags: str = "") -> Path:
        """Puts one message in the user's INBOX as Dovecot stores it (cur/, flags after '2,')."""
        self.delivered += 1
        path = (
            self.maildir(user)
            / "cur"
            / f"{1_700_000_000 + self.delivered}.M{self.delivered}P1.thidua:2,{flags}"
        )
        path.write_bytes(raw)
        owner = pwd.getpwnam("dovenull")
        os.chown(path, owner.pw_uid, owner.pw_gid)
        return path

    def snapshot(self, user: str) -> dict[str, bytes]:
        """Every message file (its name carries the flags) and its bytes."""
        box = self.maildir(user)
        return {
            str(p.relative_to(box)): p.read_bytes()
            for d in ("cur", "new")
            for p in sorted((box / d).iterdir())
        }

    def logins(self) -> int:
        log = (self.root / "dovecot.log").read_text(errors="replace")
        return log.count("Login: user=<")

    def renumber(self, user: str) -> None:
        """A new UIDVALIDITY for the user's INBOX, as after a server migration: Dovecot is
        stopped, its UID list and indexes removed, and started again."""
        self._halt()
        for path in self.maildir(user).glob("dovecot*"):
            path.unlink()
        _launch(self)

    def _halt(self) -> None:
        doveadm = shutil.which("doveadm") or "doveadm"
        subprocess.run(
            [doveadm, "-c", str(self.root / "dovecot.conf"), "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(self.pid, 9)

    def stop(self) -> None:
        self._halt()
        if not os.environ.get("KEEP_DOVECOT"):  # KEEP_DOVECOT=1 keeps its log for a failing test
            shutil.rmtree(self.root, ignore_errors=True)


def start_dovecot(users: dict[str, str]) -> Dovecot:
    """Dovecot with its own configuration under a fresh directory the server's unprivileged
    user can reach (a pytest tmp_path is private to root)."""
    root = Path(tempfile.mkdtemp(prefix="thidua-dovecot-"))
    root.chmod(0o755)
    ca_file, _ = make_ca_and_server(root)
    owner = pwd.getpwnam("dovenull")
    for user in users:
        for sub in ("cur", "new", "tmp"):
            (root / "home" / user / "Maildir" / sub).mkdir(parents=True, exist_ok=True)
        for path in [root / "home" / user, *(root / "home" / user).rglob("*")]:
            os.chown(path, owner.pw_uid, owner.pw_gid)
    (root / "home").chmod(0o755)
    (root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in users.items()))
    (root / "passwd").chmod(0o644)  # read by Dovecot's auth user; a test may have set umask 077
    imap_port, imaps_port = free_ports(2)
    (root / "dovecot.conf").write_text(
        f"""protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovenull gid=dovenull home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
"""
    )
    server = Dovecot(root, imap_port, imaps_port, ca_file, dict(users))
    _launch(server)
    return server


def _launch(server: Dovecot) -> None:
    root = server.root
    (root / "run" / "master.pid").unlink(missing_ok=True)
    # it daemonises: its output goes to a file, or the pipes would stay open with the daemon
    with open(root / "start.log", "ab") as out:
        subprocess.run(
            [DOVECOT, "-c", str(root / "dovecot.conf")], check=True, stdout=out, stderr=out, timeout=30
        )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        pid_file = root / "run" / "master.pid"
        if pid_file.exists() and pid_file.read_text().strip():
            server.pid = int(pid_file.read_text().split()[0])
            try:
                with socket.create_connection(("127.0.0.1", server.imaps_port), timeout=1):
                    return
            except OSError:
                pass
        time.sleep(0.1)
    log = (root / "dovecot.log").read_text(errors="replace") if (root / "dovecot.log").exists() else ""
    raise RuntimeError(f"Dovecot did not start: {log[-2000:]}")


def env_for(server: Dovecot, **more) -> dict[str, str]:
    return {
        "THIDUA_IMAP_HOST": "127.0.0.1",
        "THIDUA_IMAP_PORT": str(server.imaps_port),
        "THIDUA_IMAP_USER": HEAD,
        "THIDUA_IMAP_PASSWORD": PASSWORD,
        "THIDUA_IMAP_CA_FILE": str(server.ca_file),
        **more,
    }
