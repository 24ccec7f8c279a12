"""The coordinators' mailboxes over IMAP (IMAPClient), read-only: the folder is EXAMINEd, bodies
fetched with BODY.PEEK[], nothing flagged, moved or deleted. Only what the intake store has not
seen (by UIDVALIDITY and UID) is fetched, in one connection per mailbox (opened again only after
a message broke it), within one deadline for the whole intake of a run."""

from __future__ import annotations

import contextlib
import imaplib
import json
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

import imapclient.exceptions as imap_errors
from imapclient import IMAPClient
from imapclient.imap4 import IMAP4WithTimeout
from imapclient.tls import IMAP4_TLS, wrap_socket
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from tasks.errors import IntakeProblem
from tasks.mail_parse import parse_headers
from tasks.watchdog import Deadline, Watchdog

if TYPE_CHECKING:
    from tasks.settings import Settings

FETCH_BATCH = 200  # messages per FETCH of headers; bodies go by size
BODY_BATCH_BYTES = 20 * 1024 * 1024


class MailboxError(IntakeProblem):
    """A mailbox cannot be read: the message says which, why and what to do."""


class MailboxSpec(BaseModel):
    """One mailbox to read (the Head's, a Deputy's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(min_length=1)
    port: int | None = None
    user: str = Field(min_length=1)
    password: SecretStr | None = None
    password_block: str | None = None  # a Prefect Secret block holding the password
    security: Literal["ssl", "starttls", "none"] = "ssl"
    ca_file: Path | None = None
    folder: str = "INBOX"

    @property
    def label(self) -> str:
        """How the mailbox is named to people and in the intake store (never the password)."""
        return f"{self.user}@{self.host}/{self.folder}"

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "ssl" else 143)


def mailbox_specs(settings: Settings) -> tuple[list[MailboxSpec], list[str]]:
    """The mailboxes THIDUA_IMAP_* (and THIDUA_IMAP_MORE, a JSON list of the same keys in
    lower case: host, port, user, password, password_block, security, ca_file, folder) name, and
    why THIDUA_IMAP_MORE could not be used: a malformed list of the Deputies' mailboxes must not
    also keep the Head's own from being read."""
    specs = []
    problems = []
    if settings.imap_host:
        specs.append(
            MailboxSpec(
                host=settings.imap_host,
                port=settings.imap_port,
                user=settings.imap_user,
                password=settings.imap_password,
                password_block=settings.imap_password_block,
                security=settings.imap_security,
                ca_file=settings.imap_ca_file,
                folder=settings.imap_folder,
            )
        )
    if settings.imap_more:
        try:
            more = json.loads(settings.imap_more)
            specs += [MailboxSpec.model_validate(m) for m in more]
        except (json.JSONDecodeError, TypeError, ValidationError):
            problems.append(
                "THIDUA_IMAP_MORE không đọc được, các hộp thư trong đó bị bỏ qua: viết danh sách JSON, ví dụ "
                '[{"host": "mail.example.gov.vn", "user": "pho-truong", "password_block": "imap-pho-truong"}]'
            )
    return specs, problems


def _password(spec: MailboxSpec) -> str:
    if spec.password_block:
        from prefect.blocks.system import Secret

        try:
            value = Secret.load(spec.password_block).get()  # type: ignore[union-attr]  # sync: no coroutine
        except Exception as exc:  # Prefect raises several kinds for a missing block
            raise MailboxError(
                f"{spec.label}: không đọc được Secret block '{spec.password_block}' của Prefect "
                f"({type(exc).__name__}); tạo block Secret chứa mật khẩu hộp thư."
            ) from None
        return str(value)
    return spec.password.get_secret_value() if spec.password else ""


@dataclass(frozen=True)
class Fetched:
    """One message as the server holds it: its bytes unless larger than the cap, or why it could
    not be fetched at all."""

    uid: int
    size: int
    raw: bytes | None  # None: over the size cap (not downloaded), or not fetchable (`problem`)
    sender: str
    subject: str
    date: str
    message_id: str  # "" when the message has none
    problem: str = ""  # why the server would not give this message; the rest were still read


class _PlainIMAP(IMAP4WithTimeout):
    def __init__(self, host: str, port: int, timeout: float | None, watchdog: Watchdog):
        self._watchdog = watchdog
        super().__init__(host, port, timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return self._watchdog.watch(super()._create_socket(timeout))


class _TlsIMAP(IMAP4_TLS):
    def __init__(
        self, host: str, port: int, context: ssl.SSLContext, timeout: float | None, watchdog: Watchdog
    ):
        self._watchdog = watchdog
        super().__init__(host, port, context, timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        # watched before the TLS handshake, which a slow server can trickle too
        sock = self._watchdog.watch(socket.create_connection((self.host, self.port), timeout=self._timeout))
        return cast(socket.socket, wrap_socket(sock, self.ssl_context, self.host))


class _Client(IMAPClient):
    """IMAPClient whose sockets the watchdog can shut, from the first byte of the greeting."""

    def __init__(self, *args: object, watchdog: Watchdog, **kwargs: object):
        self._watchdog = watchdog
        super().__init__(*args, **kwargs)

    def _create_IMAP4(self) -> imaplib.IMAP4:  # noqa: N802 - IMAPClient's name
        timeout = self._timeout.connect
        if self.ssl:
            return _TlsIMAP(self.host, self.port, self.ssl_context, timeout, self._watchdog)
        return _PlainIMAP(self.host, self.port, timeout, self._watchdog)


# the headers the intake needs, cut at 16 KB: IMAP's ENVELOPE sends a header as one line, and a
# header of a megabyte made imaplib refuse the whole FETCH ("got more than 1000000 bytes")
HEADERS = "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)]<0.16384>"
OP_TIMEOUT = 30.0  # one read from the server, within the deadline
# the connection could not be made (or was shut by the watchdog)
_CONNECTION_LOST = (OSError, TimeoutError, imaplib.IMAP4.abort)


class _Session:
    """One mailbox's connection, opened again after a message broke it."""

    def __init__(self, spec: MailboxSpec, deadline: Deadline):
        self.spec = spec
        self.deadline = deadline
        self.watchdog = Watchdog(deadline)
        self.client: IMAPClient | None = None
        self.broken = False  # a FETCH failed: the connection may be mid-answer
        self.validity = 0

    def open(self) -> IMAPClient:
        self.close()
        spec = self.spec
        context = ssl.create_default_context(cafile=str(spec.ca_file) if spec.ca_file else None)
        timeout = min(OP_TIMEOUT, max(1.0, self.deadline.left()))
        client = _Client(
            spec.host,
            port=spec.effective_port,
            ssl=spec.security == "ssl",
            ssl_context=context if spec.security == "ssl" else None,
            timeout=timeout,
            watchdog=self.watchdog,
        )
        self.client = client
        if spec.security == "starttls":
            client.starttls(context)
        client.login(spec.user, _password(spec))
        info = client.select_folder(spec.folder, readonly=True)  # EXAMINE: read-only
        validity = int(info[b"UIDVALIDITY"])
        if self.validity and validity != self.validity:
            raise MailboxError(f"{spec.label}: UIDVALIDITY đổi giữa chừng; lần chạy sau đọc lại thư mục.")
        self.validity = validity
        return client

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):  # the connection may already be gone
                self.client.logout()
            self.client = None

    def fetch(self, batch: list[int], max_bytes: int) -> list[Fetched]:
        """The batch's messages. When one of them breaks the FETCH (the server fails it, or hangs
        up on it), each is fetched alone, and one that fails twice is kept with why: it is listed
        to the coordinators, and never again stops the mailbox from being read."""
        try:
            return _fetch(self._healthy(), batch, max_bytes)
        except Exception:  # noqa: BLE001 - a message the server or the parser chokes on
            if self.watchdog.fired:
                raise
            self.broken = True
        return [got for uid in batch for got in self._alone(uid, max_bytes)]

    def _alone(self, uid: int, max_bytes: int) -> list[Fetched]:
        problem = ""
        for _attempt in range(2):  # once more on a fresh connection: a drop is not the message's fault
            client = self._healthy()  # a server that is gone fails here, for the whole mailbox
            try:
                return _fetch(client, [uid], max_bytes)
            except Exception as exc:  # noqa: BLE001
                if self.watchdog.fired:
                    raise
                self.broken, problem = True, _short(exc)
        return [Fetched(uid, 0, None, "", "", "", "", problem=problem)]

    def _healthy(self) -> IMAPClient:
        if self.client is None or self.broken:
            self.broken = False
            return self.open()
        return self.client


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _fetch(client: IMAPClient, batch: list[int], max_bytes: int) -> list[Fetched]:
    heads = client.fetch(batch, ["RFC822.SIZE", HEADERS])
    present = [u for u in batch if u in heads]  # a message expunged meanwhile is no longer there
    sizes = {u: int(heads[u][b"RFC822.SIZE"]) for u in present}
    small = [u for u in present if sizes[u] <= max_bytes]
    bodies: dict[int, bytes] = {}
    for chunk in _by_size(small, sizes):
        got = client.fetch(chunk, ["BODY.PEEK[]"])  # PEEK: the \Seen flag is never set
        bodies.update({u: got[u][b"BODY[]"] for u in chunk if u in got})
    fetched = []
    for uid in present:
        block = next((v for k, v in heads[uid].items() if k.startswith(b"BODY[HEADER.FIELDS")), b"")
        head = parse_headers(block or b"")
        addresses = getaddresses([str(head["From"] or "")])
        fetched.append(
            Fetched(
                uid=uid,
                size=sizes[uid],
                raw=bodies.get(uid),
                sender=addresses[0][1] if addresses else "",
                subject=str(head["Subject"] or ""),
                date=_iso_date(str(head["Date"] or "")),
                message_id=str(head["Message-ID"] or "").strip(),
            )
        )
    return fetched


def _iso_date(value: str) -> str:
    try:
        return parsedate_to_datetime(value).isoformat() if value else ""
    except (TypeError, ValueError, IndexError):
        return ""


def _by_size(uids: list[int], sizes: dict[int, int]) -> list[list[int]]:
    """UIDs in runs of at most BODY_BATCH_BYTES (one message per run if larger)."""
    runs: list[list[int]] = []
    run: list[int] = []
    total = 0
    for uid in uids:
        if run and total + sizes[uid] > BODY_BATCH_BYTES:
            runs.append(run)
            run, total = [], 0
        run.append(uid)
        total += sizes[uid]
    return [*runs, run] if run else runs


def read_new(
    spec: MailboxSpec,
    last_uid: Callable[[int], int],
    keep: Callable[[int, list[Fetched]], None],
    max_bytes: int,
    deadline: Deadline,
) -> int:
    """Reads the messages after `last_uid(uidvalidity)`, handing each batch to `keep(uidvalidity,
    batch)` as soon as it is read: a read cut short (deadline, dropped connection) keeps what it
    got, and the next run goes on from there. Returns how many messages were read."""
    where = f"{spec.label} ({spec.host}:{spec.effective_port}, {spec.security})"
    if deadline.left() <= 0:
        raise MailboxError(
            f"{where}: không đọc, đã hết {deadline.seconds:.0f} giây dành cho việc đọc hộp thư "
            "(THIDUA_INTAKE_DEADLINE); lần chạy sau đọc."
        )
    session = _Session(spec, deadline)
    read = 0
    try:
        try:
            client = session.open()
        except imap_errors.LoginError:
            raise MailboxError(
                f"{where}: máy chủ từ chối đăng nhập của '{spec.user}' (sai tên hoặc mật khẩu); kiểm tra "
                "THIDUA_IMAP_USER và THIDUA_IMAP_PASSWORD (hoặc Secret block)."
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise MailboxError(
                f"{where}: chứng chỉ TLS của máy chủ thư không hợp lệ ({exc.verify_message}); nếu máy chủ "
                "dùng CA nội bộ, đặt THIDUA_IMAP_CA_FILE."
            ) from None
        except _CONNECTION_LOST as exc:
            if session.watchdog.fired:
                raise
            raise MailboxError(
                f"{where}: không kết nối được ({_short(exc)}); kiểm tra THIDUA_IMAP_HOST, "
                "THIDUA_IMAP_PORT, THIDUA_IMAP_SECURITY và mạng."
            ) from None
        except imap_errors.IMAPClientError as exc:
            raise MailboxError(
                f"{where}: không mở được thư mục '{spec.folder}' ({exc}); kiểm tra THIDUA_IMAP_FOLDER."
            ) from None
        after = last_uid(session.validity)
        # "UID n:*" always answers the last message, even below n: keep only the new ones
        uids = [u for u in client.search(["UID", f"{after + 1}:*"]) if u > after]
        for start in range(0, len(uids), FETCH_BATCH):
            batch = session.fetch(uids[start : start + FETCH_BATCH], max_bytes)
            keep(session.validity, batch)
            read += len(batch)
        return read
    except MailboxError:
        raise
    except Exception as exc:  # noqa: BLE001 - the connection broke: what was read is kept
        if session.watchdog.fired:
            raise MailboxError(
                f"{where}: quá {deadline.seconds:.0f} giây (THIDUA_INTAKE_DEADLINE) mà máy chủ chưa trả lời "
                f"xong; đã giữ {read} thư đọc được, lần chạy sau đọc tiếp. Đợt này không chờ thêm."
            ) from None
        raise MailboxError(
            f"{where}: lỗi khi đọc thư ({_short(exc)}); đã giữ {read} thư đọc được, lần chạy sau đọc tiếp."
        ) from None
    finally:
        session.watchdog.stop()
        session.close()
