"""A real SMTP server on loopback (aiosmtpd) that records what it receives."""

from __future__ import annotations

import asyncio
import socket
import threading
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    session: int


@dataclass
class Recorder:
    messages: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content, id(session))
        )
        return "250 OK"


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free on loopback: each socket is held until all are chosen (two
    calls of one bind-and-release can get the same port back: Dovecot then refused its
    configuration, "duplicate listener")."""
    with ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


@dataclass
class Faulty(Recorder):
    """Injects the faults a real server produces: 550 for some recipients, a 451 once for others,
    a connection dropped at the Nth message."""

    refuse: set[str] = field(default_factory=set)
    busy_once: set[str] = field(default_factory=set)
    drop_at: int | None = None
    slow: float = 0.0  # seconds before every DATA reply (a server slower than the lease)
    hold_at: int | None = None  # the Nth DATA is recorded, then its reply never comes (10 s)
    data_calls: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Hộp thư không tồn tại"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_calls += 1
        if self.hold_at is not None and self.data_calls == self.hold_at:
            await super().handle_DATA(server, session, envelope)  # accepted, the reply is lost
            await asyncio.sleep(10)
            return "451 too late"
        if self.slow:
            await asyncio.sleep(self.slow)
        if self.drop_at is not None and self.data_calls == self.drop_at:
            server.transport.close()  # no reply: the client sees the connection go
            return "421 closing"
        busy = self.busy_once & set(envelope.rcpt_tos)
        if busy:
            self.busy_once -= busy
            return "451 4.3.0 Thử lại sau"
        return await super().handle_DATA(server, session, envelope)


@dataclass
class Crowded(Recorder):
    """A server that takes at most `limit` connections in all and answers any further one's
    greeting with 421, as a relay with a per-client connection limit does."""

    limit: int = 1
    sessions: list[int] = field(default_factory=list)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        if id(session) not in self.sessions:
            self.sessions.append(id(session))
        if self.sessions.index(id(session)) >= self.limit:
            return ["421 4.7.0 Too many connections from your host"]
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        return "421 4.7.0 Too many connections from your host"


@contextmanager
def smtp_server(
    user: str = "thidua", password: str | None = None, recorder: Recorder | None = None, tls_context=None
):
    """`tls_context`: offer STARTTLS and require it before AUTH, as a real submission server does."""
    password = password or PASSWORD
    recorder = recorder or Recorder()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode() == user and auth_data.password.decode() == password
        )
        if ok:
            recorder.logins.append(user)
        # handled=False: with the default a failed login gets no 535 and smtplib hangs
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=tls_context is not None,
        tls_context=tls_context,
        require_starttls=tls_context is not None,
    )
    controller.start()
    try:
        yield controller, recorder
    finally:
        controller.stop()


PASSWORD = "thu-nghiem-S3cret"


def smtp_settings(tmp_path, controller, password: str = PASSWORD, **extra):
    """Settings of the smtp transport against the loopback server, without TLS, with login."""
    from tasks.settings import Settings

    values = {
        "data_dir": tmp_path / "var",
        "mail_transport": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": controller.port,
        "smtp_security": "none",
        "smtp_user": "thidua",
        "smtp_password": password,
    }
    return Settings(**{**values, **extra})


@contextmanager
def trickling_server(interval: float = 1.0):
    """A TCP server that greets one byte every `interval` seconds, forever: every read gets
    something, so smtplib's per-read timeout never fires."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                while not stop.wait(interval):
                    try:
                        conn.sendall(b"2")
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        listener.close()


def smtp_env(controller) -> dict[str, str]:
    """The environment of a thidua process (a worker, a crash worker) that sends to this server."""
    return {
        "THIDUA_MAIL_TRANSPORT": "smtp",
        "THIDUA_SMTP_HOST": "127.0.0.1",
        "THIDUA_SMTP_PORT": str(controller.port),
        "THIDUA_SMTP_SECURITY": "none",
        "THIDUA_SMTP_USER": "thidua",
        "THIDUA_SMTP_PASSWORD": PASSWORD,
    }
