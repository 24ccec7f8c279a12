"""Mail transports: the file outbox (default; nothing leaves the machine) and SMTP via yagmail.

Both take a batch and yield one result per message as soon as it is known, so the caller can
confirm each message in the ledger before the next one goes out.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tasks.mime import Outgoing
from tasks.settings import Settings


@dataclass(frozen=True)
class Result:
    outgoing: Outgoing
    accepted: bool
    error: str = ""
    where: str = ""  # file path, or the SMTP server


class TransportError(Exception):
    """The transport cannot be used at all (server down, wrong password): nothing was sent."""


class Transport(Protocol):
    description: str

    def send_batch(self, batch: Iterable[Outgoing]) -> Iterator[Result]: ...


class FileOutbox:
    """One .eml per message under the outbox, byte for byte what an SMTP server would receive."""

    def __init__(self, root: Path):
        self.root = root
        self.description = f"hộp thư đi (tệp) {root}"

    def path_for(self, out: Outgoing) -> Path:
        k = out.mail.key
        return self.root / k.plan / k.milestone / k.stage / f"{k.recipient}.eml"

    def send_batch(self, batch: Iterable[Outgoing]) -> Iterator[Result]:
        for out in batch:
            path = self.path_for(out)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(out.data)
            tmp.replace(path)  # atomic: a crash never leaves half a message
            yield Result(out, True, where=str(path))


class SmtpTransport:
    """SMTP through yagmail's connection handling: one login for the whole batch."""

    def __init__(self, settings: Settings):
        if not settings.smtp_host:
            raise TransportError("THIDUA_MAIL_TRANSPORT=smtp nhưng chưa đặt THIDUA_SMTP_HOST (máy chủ SMTP).")
        self.settings = settings
        security = settings.smtp_security
        self.port = settings.smtp_port or {"ssl": 465, "starttls": 587, "none": 25}[security]
        self.description = f"SMTP {settings.smtp_host}:{self.port} ({security})"

    def _connect(self):
        import yagmail

        s = self.settings
        password = s.smtp_password.get_secret_value() if s.smtp_password else None
        # smtplib's own TLS context does not check the server's certificate: give it one that does
        context = ssl.create_default_context(cafile=s.smtp_ca_file) if s.smtp_security != "none" else None
        extra = {"context": context} if s.smtp_security == "ssl" else {}
        client = yagmail.SMTP(
            user=s.smtp_user or str(s.mail_from),
            password=password or "",  # always explicit: yagmail would otherwise prompt on stdin
            host=s.smtp_host,
            port=self.port,
            smtp_ssl=s.smtp_security == "ssl",
            smtp_starttls={"context": context} if s.smtp_security == "starttls" else False,
            smtp_skip_login=not s.smtp_user,
            timeout=s.smtp_timeout,
            **extra,
        )
        # yagmail appends "@gmail.com" to a login name without "@"; relays often use bare names
        client.user = s.smtp_user or str(s.mail_from)
        try:
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
            raise TransportError(
                f"{self.description}: không kết nối được ({type(exc).__name__}: {exc}). "
                "Kiểm tra THIDUA_SMTP_HOST, THIDUA_SMTP_PORT, THIDUA_SMTP_SECURITY và mạng."
            ) from None
        return client

    def send_batch(self, batch: Iterable[Outgoing]) -> Iterator[Result]:
        batch = list(batch)
        if not batch:
            return
        client = self._connect()
        sender = str(self.settings.mail_from)
        try:
            for i, out in enumerate(batch):
                try:
                    refused = self._send_one(client, sender, out)
                except smtplib.SMTPRecipientsRefused as exc:
                    yield Result(out, False, _refusal(exc.recipients), self.description)
                    continue
                except smtplib.SMTPResponseException as exc:
                    yield Result(out, False, _reply(exc.smtp_code, exc.smtp_error), self.description)
                    continue
                except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
                    # the connection is gone: this and every later message stay unconfirmed
                    for rest in batch[i:]:
                        yield Result(rest, False, f"mất kết nối SMTP: {exc}", self.description)
                    return
                if refused:
                    yield Result(
                        out, True, "một số người nhận bị từ chối: " + _refusal(refused), self.description
                    )
                else:
                    yield Result(out, True, where=self.description)
        finally:
            # closing a dead connection must not hide the real outcome
            with contextlib.suppress(Exception):
                client.close()

    @staticmethod
    def _send_one(client, sender: str, out: Outgoing) -> dict:
        """sendmail on the batch's connection; a temporary (4xx) answer is tried once more."""
        try:
            return client.smtp.sendmail(sender, out.envelope_to, out.data)
        except smtplib.SMTPResponseException as exc:
            if not 400 <= exc.smtp_code < 500:
                raise
        return client.smtp.sendmail(sender, out.envelope_to, out.data)


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {text}"


def _refusal(recipients: dict) -> str:
    return "; ".join(f"{addr}: {_reply(code, msg)}" for addr, (code, msg) in recipients.items())


def open_transport(settings: Settings) -> Transport:
    if settings.mail_transport == "smtp":
        return SmtpTransport(settings)
    return FileOutbox(settings.outbox_dir)
