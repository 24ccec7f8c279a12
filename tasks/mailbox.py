"""The coordinators' mailboxes over IMAP (IMAPClient), read-only: the folder is EXAMINEd, bodies
fetched with BODY.PEEK[], nothing flagged, moved or deleted. Only what the intake store has not
seen (by UIDVALIDITY and UID) is fetched, all in one connection per mailbox."""

from __future__ import annotations

import contextlib
import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

FETCH_BATCH = 200  # messages per FETCH of headers; bodies go by size
BODY_BATCH_BYTES = 20 * 1024 * 1024


class MailboxError(Exception):
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


def mailbox_specs(settings) -> tuple[list[MailboxSpec], list[str]]:
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
            value = Secret.load(spec.password_block).get()  # type: ignore[union-attr]
        except Exception as exc:  # Prefect raises several kinds for a missing block
            raise MailboxError(
                f"{spec.label}: không đọc được Secret block '{spec.password_block}' của Prefect "
                f"({type(exc).__name__}); tạo block Secret chứa mật khẩu hộp thư."
            ) from None
        return str(value)
    return spec.password.get_secret_value() if spec.password else ""


@dataclass(frozen=True)
class Fetched:
    """One message as the server holds it: its bytes unless larger than the cap."""

    uid: int
    size: int
    raw: bytes | None  # None: over the size cap, not downloaded
    sender: str
    subject: str
    date: str
    message_id: str  # from the server's envelope; "" when the message has none


def _envelope_text(value: bytes | None) -> str:
    if not value:
        return ""
    from email.header import decode_header, make_header

    try:
        return str(make_header(decode_header(value.decode("ascii", "replace"))))
    except (LookupError, ValueError):
        return value.decode("utf-8", "replace")


def _sender(envelope) -> str:
    if envelope is None or not envelope.from_:
        return ""
    first = envelope.from_[0]
    mailbox = (first.mailbox or b"").decode("utf-8", "replace")
    host = (first.host or b"").decode("utf-8", "replace")
    return f"{mailbox}@{host}" if host else mailbox


def _connect(spec: MailboxSpec, timeout: float):
    import imapclient

    context = ssl.create_default_context(cafile=str(spec.ca_file) if spec.ca_file else None)
    client = imapclient.IMAPClient(
        spec.host,
        port=spec.effective_port,
        ssl=spec.security == "ssl",
        ssl_context=context if spec.security == "ssl" else None,
        timeout=timeout,
    )
    client.normalise_times = False  # dates with their offset, not the machine's local time
    if spec.security == "starttls":
        client.starttls(context)
    return client


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


def fetch_new(
    spec: MailboxSpec,
    last_uid: Callable[[int], int],
    max_bytes: int,
    timeout: float = 30.0,
) -> tuple[int, list[Fetched]]:
    """(UIDVALIDITY, the messages after `last_uid(uidvalidity)`), read in one connection."""
    import imapclient.exceptions as imap_errors

    where = f"{spec.label} ({spec.host}:{spec.effective_port}, {spec.security})"
    try:
        client = _connect(spec, timeout)
    except ssl.SSLCertVerificationError as exc:
        raise MailboxError(
            f"{where}: chứng chỉ TLS của máy chủ thư không hợp lệ ({exc.verify_message}); nếu máy chủ "
            "dùng CA nội bộ, đặt THIDUA_IMAP_CA_FILE."
        ) from None
    except (TimeoutError, OSError, imap_errors.IMAPClientError) as exc:
        raise MailboxError(
            f"{where}: không kết nối được ({type(exc).__name__}: {exc}); kiểm tra THIDUA_IMAP_HOST, "
            "THIDUA_IMAP_PORT, THIDUA_IMAP_SECURITY và mạng."
        ) from None
    try:
        try:
            client.login(spec.user, _password(spec))
        except imap_errors.LoginError:
            raise MailboxError(
                f"{where}: máy chủ từ chối đăng nhập của '{spec.user}' (sai tên hoặc mật khẩu); kiểm tra "
                "THIDUA_IMAP_USER và THIDUA_IMAP_PASSWORD (hoặc Secret block)."
            ) from None
        try:
            info = client.select_folder(spec.folder, readonly=True)  # EXAMINE: read-only
        except imap_errors.IMAPClientError as exc:
            raise MailboxError(
                f"{where}: không mở được thư mục '{spec.folder}' ({exc}); kiểm tra THIDUA_IMAP_FOLDER."
            ) from None
        validity = int(info[b"UIDVALIDITY"])
        after = last_uid(validity)
        # "UID n:*" always answers the last message, even below n: keep only the new ones
        uids = [u for u in client.search(["UID", f"{after + 1}:*"]) if u > after]
        fetched: list[Fetched] = []
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            heads = client.fetch(batch, ["RFC822.SIZE", "ENVELOPE"])
            small = [u for u in batch if heads[u][b"RFC822.SIZE"] <= max_bytes]
            bodies: dict[int, bytes] = {}
            for chunk in _by_size(small, {u: int(heads[u][b"RFC822.SIZE"]) for u in small}):
                got = client.fetch(chunk, ["BODY.PEEK[]"])  # PEEK: the \Seen flag is never set
                bodies.update({u: got[u][b"BODY[]"] for u in chunk})
            for uid in batch:
                envelope = heads[uid].get(b"ENVELOPE")
                fetched.append(
                    Fetched(
                        uid=uid,
                        size=int(heads[uid][b"RFC822.SIZE"]),
                        raw=bodies.get(uid),
                        sender=_sender(envelope),
                        subject=_envelope_text(envelope.subject if envelope else None),
                        date=envelope.date.isoformat() if envelope and envelope.date else "",
                        message_id=(envelope.message_id or b"").decode("ascii", "replace").strip()
                        if envelope
                        else "",
                    )
                )
        return validity, fetched
    except MailboxError:
        raise
    except (TimeoutError, OSError, imap_errors.IMAPClientError) as exc:
        raise MailboxError(
            f"{where}: lỗi khi đọc thư ({type(exc).__name__}: {exc}); lần chạy sau đọc lại."
        ) from None
    finally:
        with contextlib.suppress(Exception):  # the connection may already be gone
            client.logout()
