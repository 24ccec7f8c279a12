"""Mail transports: the file outbox (default; nothing leaves the machine) and SMTP via yagmail.

Both take a batch and yield one result per message as soon as it is known, so the caller can
confirm each message in the ledger before the next one goes out.
"""

from __future__ import annotations

import contextlib
import email.policy
import operator
import smtplib
import socket
import ssl
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Protocol, cast

from tasks.addresses import FALLBACK_SENDER, smtp_address
from tasks.errors import MailProblem
from tasks.outcomes import Outgoing
from tasks.settings import Settings


@dataclass(frozen=True)
class Result:
    outgoing: Outgoing
    accepted: bool
    error: str = ""
    where: str = ""  # file path, or the SMTP server
    fatal: bool = False  # the transport cannot go on: the rest of the batch is not attempted


class TransportError(MailProblem):
    """The transport cannot be used at all (server down, wrong password): nothing was sent."""


class Transport(Protocol):
    description: str

    def send_batch(self, batch: Iterable[Outgoing]) -> Iterator[Result]:
        """Take the messages one at a time, as the caller hands them over (it claims each one
        just before), and yield each result as soon as it is known."""
        ...


class FileOutbox:
    """One .eml per message under the outbox, byte for byte what an SMTP server would receive."""

    def __init__(self, root: Path):
        self.root = root
        self.description = f"hộp thư đi (tệp) {root}"

    def path_for(self, out: Outgoing) -> Path:
        k = out.key
        return self.root / k.plan / k.milestone / k.stage / f"{k.recipient}.eml"

    def send_batch(self, batch: Iterable[Outgoing]) -> Iterator[Result]:
        for out in batch:
            path = self.path_for(out)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(out.data)
            tmp.replace(path)  # atomic: a crash never leaves half a message
            yield Result(out, True, where=str(path))


class _Watchdog:
    """An overall deadline for one SMTP conversation step (greeting and login, or one message).
    smtplib's timeout is per read: a server trickling one byte every few seconds would never
    trip it. When the deadline passes, the socket is shut down and the blocked read returns."""

    def __init__(self) -> None:
        self.connection: smtplib.SMTP | None = None
        self._timer: threading.Timer | None = None
        self.expired = False

    def _expire(self) -> None:
        self.expired = True
        # the connection's current socket: STARTTLS replaces the one it was opened with
        sock = getattr(self.connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    @contextlib.contextmanager
    def limit(self, seconds: float) -> Iterator[None]:
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()
        try:
            yield
        finally:
            self._timer.cancel()


def _watched(base: type[smtplib.SMTP], watchdog: _Watchdog) -> type[smtplib.SMTP]:
    """`base` (SMTP or SMTP_SSL) telling the watchdog which connection to cut."""

    class Watched(base):  # type: ignore[valid-type, misc]  # a base chosen at run time
        def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
            watchdog.connection = self
            return cast(socket.socket, super()._get_socket(host, port, timeout))

    return Watched


LETTERS_PER_CONNECTION = 4


@dataclass
class _Connection:
    client: Any  # yagmail's SMTP client: untyped
    watchdog: _Watchdog


class SmtpTransport:
    """SMTP through yagmail's connection handling: one login per connection, and up to
    THIDUA_SMTP_CONNECTIONS connections sending at once (a slow server answers each command
    after a round trip; several conversations overlap their waits). The caller claims each
    message as it hands it over, so at most one message per connection is ever in flight."""

    def __init__(self, settings: Settings):
        if not settings.smtp_host:
            raise TransportError("THIDUA_MAIL_TRANSPORT=smtp nhưng chưa đặt THIDUA_SMTP_HOST (máy chủ SMTP).")
        self.settings = settings
        security = settings.smtp_security
        self.port = settings.smtp_port or {"ssl": 465, "starttls": 587, "none": 25}[security]
        self.description = f"SMTP {settings.smtp_host}:{self.port} ({security})"

    def _connect(self) -> _Connection:
        import yagmail

        s = self.settings
        watchdog = _Watchdog()
        password = s.smtp_password.get_secret_value() if s.smtp_password else None
        # smtplib's own TLS context does not check the server's certificate: give it one that does
        context = ssl.create_default_context(cafile=s.smtp_ca_file) if s.smtp_security != "none" else None
        extra = {"context": context} if s.smtp_security == "ssl" else {}
        watched = _watched(smtplib.SMTP_SSL if s.smtp_security == "ssl" else smtplib.SMTP, watchdog)

        class Client(yagmail.SMTP):
            connection = property(lambda self: watched)

        client = Client(
            user=s.smtp_user or "thidua",  # only a login sends it
            password=password or "",  # always explicit: yagmail would otherwise prompt on stdin
            host=s.smtp_host,
            port=self.port,
            smtp_ssl=s.smtp_security == "ssl",
            smtp_starttls={"context": context} if s.smtp_security == "starttls" else False,
            smtp_skip_login=not s.smtp_user,
            soft_email_validation=False,  # an Exchange login (CORP\\thidua) is not an address
            timeout=s.smtp_timeout,
            **extra,
        )
        # yagmail appends "@gmail.com" to a login name without "@"; relays often use bare names
        client.user = s.smtp_user
        try:
            with watchdog.limit(s.smtp_deadline):
                client.login()
        except smtplib.SMTPAuthenticationError:
            raise TransportError(
                f"{self.description}: máy chủ từ chối đăng nhập của '{s.smtp_user}' "
                "(sai tên hoặc mật khẩu). Kiểm tra THIDUA_SMTP_USER / THIDUA_SMTP_PASSWORD."
            ) from None
        except UnicodeEncodeError:
            raise TransportError(
                f"{self.description}: tên đăng nhập hoặc mật khẩu SMTP có ký tự ngoài ASCII, "
                "thư viện SMTP của Python không gửi được; đổi sang mật khẩu chỉ gồm ký tự ASCII."
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise TransportError(
                f"{self.description}: chứng chỉ TLS của máy chủ không hợp lệ ({exc.verify_message}). "
                "Kiểm tra THIDUA_SMTP_HOST; nếu máy chủ dùng CA nội bộ, đặt THIDUA_SMTP_CA_FILE."
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            if watchdog.expired:
                raise TransportError(
                    f"{self.description}: máy chủ không chào và đăng nhập xong trong "
                    f"{s.smtp_deadline:.0f} giây (THIDUA_SMTP_DEADLINE); bỏ cuộc, lần chạy sau gửi lại."
                ) from None
            raise TransportError(
                f"{self.description}: không kết nối được ({type(exc).__name__}: {exc}). "
                "Kiểm tra THIDUA_SMTP_HOST, THIDUA_SMTP_PORT, THIDUA_SMTP_SECURITY và mạng."
            ) from None
        return _Connection(client, watchdog)

    def send_batch(self, batch: Iterable[Outgoing]) -> Iterator[Result]:
        """The first connection opens in the caller's thread (a server that refuses it fails the
        whole batch, as before); more open only while messages wait, up to the setting, each in
        its own thread. A server refusing one more connection (421 "too many connections", or
        any other failure) keeps the ones it accepted: the message goes on one of those.
        Messages are taken from `batch` (which claims them) only when a connection is free."""
        messages = iter(batch)
        first = next(messages, None)
        if first is None:
            return
        # a connection costs a greeting and a login, about one letter's round trips: one for
        # every LETTERS_PER_CONNECTION letters of the batch, when the batch says how many follow
        follow = operator.length_hint(messages, -1)
        size = self.settings.smtp_connections
        if follow >= 0:
            size = min(size, 1 + follow // LETTERS_PER_CONNECTION)
        idle = [self._connect()]
        opened, grow, stopped = 1, True, ""
        waiting: list[Outgoing] = [first]  # taken, not yet handed to a connection
        pending: dict[Future[tuple[_Connection | None, Result | None]], Outgoing] = {}
        pool = ThreadPoolExecutor(size, thread_name_prefix="smtp")
        try:
            while True:
                while not stopped and (idle or (grow and opened < size)):
                    out = waiting.pop() if waiting else next(messages, None)
                    if out is None:
                        break
                    connection = idle.pop() if idle else None
                    opened += connection is None
                    pending[pool.submit(self._send_on, connection, out)] = out
                if not pending:
                    for out in waiting:  # taken, and the transport stopped before it went out
                        yield Result(out, False, stopped, self.description, fatal=True)
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    out = pending.pop(future)
                    connection, result = future.result()
                    if connection is None or result is None:  # the server would not open one more
                        opened -= 1
                        grow = False
                        waiting.append(out)
                    elif result.fatal:  # that connection is gone; the others finish what they hold
                        opened -= 1
                        stopped = result.error
                        _close(connection)
                        yield result
                    else:
                        idle.append(connection)
                        yield result
        finally:
            pool.shutdown(wait=True)
            left = [f.result()[0] for f in pending if not f.cancelled() and f.exception() is None]
            for connection in [*idle, *left]:  # `left`: the caller stopped taking results meanwhile
                if connection is not None:
                    _close(connection)

    def _send_on(
        self, connection: _Connection | None, out: Outgoing
    ) -> tuple[_Connection | None, Result | None]:
        """In a pool thread: `out` on `connection`, or on a new one; (None, None) if the server
        refuses one more connection."""
        if connection is None:
            try:
                connection = self._connect()
            except TransportError:
                return None, None
        return connection, self._send_one(connection, out)

    def _send_one(self, connection: _Connection, out: Outgoing) -> Result:
        watchdog = connection.watchdog
        try:
            with watchdog.limit(self.settings.smtp_deadline):
                refused = self._sendmail(connection.client, self._envelope_sender(out), out)
        except smtplib.SMTPRecipientsRefused as exc:
            return Result(out, False, _refusal(exc.recipients), self.description)
        except smtplib.SMTPResponseException as exc:
            return Result(out, False, _reply(exc.smtp_code, exc.smtp_error), self.description)
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
            # the connection is gone: this message is unconfirmed, the rest not attempted
            why = (
                f"máy chủ không nhận xong thư trong {self.settings.smtp_deadline:.0f} giây "
                "(THIDUA_SMTP_DEADLINE)"
                if watchdog.expired
                else f"mất kết nối SMTP: {exc}"
            )
            return Result(out, False, why, self.description, fatal=True)
        if refused:
            return Result(out, True, "một số người nhận bị từ chối: " + _refusal(refused), self.description)
        return Result(out, True, where=self.description)

    def _envelope_sender(self, out: Outgoing) -> str:
        """MAIL FROM: THIDUA_MAIL_FROM if set, else the message's own From (the plan's sender)."""
        if self.settings.mail_from:
            return smtp_address(str(self.settings.mail_from))
        headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(out.data)
        return smtp_address(parseaddr(str(headers["From"] or ""))[1] or FALLBACK_SENDER)

    @staticmethod
    def _sendmail(client: Any, sender: str, out: Outgoing) -> dict[str, Any]:
        """sendmail on the connection; a temporary (4xx) answer is tried once more."""
        try:
            return cast(dict[str, Any], client.smtp.sendmail(sender, out.envelope_to, out.data))
        except smtplib.SMTPResponseException as exc:
            if not 400 <= exc.smtp_code < 500:
                raise
        return cast(dict[str, Any], client.smtp.sendmail(sender, out.envelope_to, out.data))


def _close(connection: _Connection) -> None:
    # closing a dead connection must not hide the real outcome
    with contextlib.suppress(Exception):
        connection.client.close()


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {text}"


def _refusal(recipients: dict[str, Any]) -> str:
    return "; ".join(f"{addr}: {_reply(code, msg)}" for addr, (code, msg) in recipients.items())


def open_transport(settings: Settings) -> Transport:
    if settings.mail_transport == "smtp":
        return SmtpTransport(settings)
    return FileOutbox(settings.outbox_dir)
