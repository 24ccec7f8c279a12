"""Operator settings: environment variables with prefix THIDUA_, or a .env file."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

from pydantic import EmailStr, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tasks.addresses import InvalidAddress, smtp_address
from tasks.errors import UsageError

REPO = Path(__file__).resolve().parents[1]
SAMPLE_WORKBOOK = REPO / "config" / "sample-2021.xlsx"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="THIDUA_", env_file=".env", extra="ignore")

    plan: Path = REPO / "config" / "plan-2021.yaml"
    # a .xlsx path, or a Google Sheet key or URL; unset: the plan's `spreadsheet`, else the sample
    source: str | None = None
    google_credentials: Path | None = None  # service-account JSON file
    google_credentials_block: str | None = None  # or a Prefect Secret block holding that JSON
    sheets_api_url: str = "https://sheets.googleapis.com"
    sheets_max_wait: float = Field(60.0, ge=0)  # total back-off on 429/5xx/timeouts before giving up
    sheets_deadline: float = Field(180.0, gt=0)  # a whole read of the sheet, however slow the answer
    count_pages_online: bool = False  # reports: download http(s) links to count their pages
    data_dir: Path = Path("var")
    ledger_url: str | None = None  # SQLAlchemy URL; default: SQLite file in the data directory

    mail_transport: Literal["file", "smtp"] = "file"
    mail_from: EmailStr | None = None  # unset: the plan's sender (the Head unit's address)
    mail_redirect: EmailStr | None = None
    smtp_host: str = ""
    smtp_port: int | None = Field(None, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: SecretStr | None = None
    smtp_security: Literal["ssl", "starttls", "none"] = "starttls"
    smtp_timeout: float = Field(30.0, gt=0)  # one read from the server
    smtp_deadline: float = Field(60.0, gt=0)  # greeting + login, or one message, as a whole
    # connections a round sends on at once (docs/performance.md); fewer if the server refuses more
    smtp_connections: int = Field(4, ge=1, le=16)
    round_deadline: float = Field(1800.0, gt=0)  # one round's sending; then it gives up and alerts
    claim_lease: float = Field(120.0, gt=0, le=120)  # seconds a dead run's claim blocks the next run
    smtp_allow_plaintext: bool = False  # a password over an unencrypted connection to another host
    ui_url: str | None = None  # the Prefect UI's address as coordinators reach it, for alert links
    smtp_ca_file: Path | None = None  # a private CA that signed the server's certificate

    # the intake: documents units e-mail to the Head and Deputies (tasks/intake.py)
    imap_host: str = ""  # unset: no intake
    imap_port: int | None = Field(None, ge=1, le=65535)  # 993 for ssl, 143 otherwise
    imap_user: str = ""
    imap_password: SecretStr | None = None
    imap_password_block: str | None = None  # or a Prefect Secret block holding the password
    imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    imap_ca_file: Path | None = None
    imap_folder: str = "INBOX"
    imap_more: str | None = None  # more mailboxes: a JSON list of {host, user, password_block, …}
    intake_max_bytes: int = Field(20 * 1024 * 1024, gt=0)  # a larger message is listed, not downloaded
    # seconds for the whole intake of one run (every mailbox, greeting to last fetch); then the
    # round goes on with what was read, and the next run reads on
    intake_deadline: float = Field(90.0, gt=0)

    @field_validator("ui_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError(f"'{value}' không phải địa chỉ web (viết https://… hoặc http://…)")
        return value

    @model_validator(mode="after")
    def _mailbox_has_a_login(self) -> Settings:
        if self.imap_host and not self.imap_user:
            raise ValueError(
                "THIDUA_IMAP_HOST đã đặt nhưng thiếu THIDUA_IMAP_USER (tên đăng nhập hộp thư); "
                "đặt cả hai, hoặc bỏ THIDUA_IMAP_HOST nếu không đọc hộp thư"
            )
        return self

    @field_validator("mail_from", "mail_redirect")
    @classmethod
    def _sendable(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                smtp_address(value)
            except InvalidAddress as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("ledger_url")
    @classmethod
    def _usable_ledger(cls, value: str | None) -> str | None:
        if value is not None:
            from sqlalchemy import create_engine

            from tasks.ledger import database_url

            try:
                create_engine(database_url(value)).dispose()  # parses and loads the driver; no connection
            except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises several kinds
                raise ValueError(
                    f"không dùng được làm sổ gửi thư ({type(exc).__name__}: {exc}); ví dụ đúng: "
                    "sqlite:////var/lib/thidua/ledger.sqlite hoặc postgresql://user:pass@host:5432/db"
                ) from None
        return value

    @model_validator(mode="after")
    def _no_cleartext_password(self) -> Settings:
        if (
            self.mail_transport == "smtp"
            and self.smtp_security == "none"
            and self.smtp_password is not None
            and not self.smtp_allow_plaintext
            and not _loopback(self.smtp_host)
        ):
            raise ValueError(
                "THIDUA_SMTP_SECURITY=none gửi mật khẩu SMTP không mã hoá tới "
                f"{self.smtp_host}: dùng ssl hoặc starttls, hoặc đặt THIDUA_SMTP_ALLOW_PLAINTEXT=1 nếu "
                "máy chủ thư nằm trong mạng nội bộ tin cậy"
            )
        return self

    def source_spec(self, plan_spreadsheet: str | None) -> str:
        """THIDUA_SOURCE, else the plan's `spreadsheet` (a workbook path there is relative to
        the plan file), else the 2021 sample."""
        if self.source:
            return self.source
        if plan_spreadsheet and plan_spreadsheet.lower().endswith((".xlsx", ".xlsm")):
            return str(Path(self.plan).parent / plan_spreadsheet)
        return plan_spreadsheet or str(SAMPLE_WORKBOOK)

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    def reports_dir(self, plan_id: str) -> Path:
        """Each plan's reports and minutes in a folder of their own: two plans of one year in one
        data directory never overwrite each other's `bao-cao-so-ket-2027.docx`."""
        return self.data_dir / "reports" / plan_id

    @property
    def intake_configured(self) -> bool:
        """A mailbox to read for documents units e-mail (THIDUA_IMAP_HOST or THIDUA_IMAP_MORE)."""
        return bool(self.imap_host or self.imap_more)

    @property
    def ledger(self) -> str:
        return self.ledger_url or f"sqlite:///{(self.data_dir / 'ledger.sqlite').resolve()}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DataDirError(UsageError, ValueError):
    """THIDUA_DATA_DIR cannot hold the ledger, outbox and reports."""


def private_data_dir(settings: Settings) -> Path:
    """The data directory, created 0700, and every file this process writes from now on 0600
    (umask 077): the ledger, the outbox, the reports and Prefect's database hold personal data."""
    os.umask(0o077)
    path = settings.data_dir
    if path.exists() and not path.is_dir():
        raise DataDirError(
            f"THIDUA_DATA_DIR={path} là một tệp, không phải thư mục: đặt THIDUA_DATA_DIR là một thư mục"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)
    except OSError as exc:
        raise DataDirError(f"THIDUA_DATA_DIR={path}: không tạo được thư mục ({exc.strerror})") from None
    return path
