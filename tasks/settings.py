"""Operator settings: environment variables with prefix THIDUA_, or a .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import EmailStr, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    sheets_max_wait: float = 60.0  # total back-off on 429/5xx/timeouts before giving up
    count_pages_online: bool = False  # reports: download http(s) links to count their pages
    data_dir: Path = Path("var")
    ledger_url: str | None = None  # SQLAlchemy URL; default: SQLite file in the data directory

    mail_transport: Literal["file", "smtp"] = "file"
    mail_from: EmailStr = "thidua@kvtd-tuphap.example"
    mail_redirect: EmailStr | None = None
    smtp_host: str = ""
    smtp_port: int | None = None
    smtp_user: str = ""
    smtp_password: SecretStr | None = None
    smtp_security: Literal["ssl", "starttls", "none"] = "starttls"
    smtp_timeout: float = 30.0  # one read from the server
    smtp_deadline: float = 60.0  # the whole greeting + login, or one message: a trickling server
    round_deadline: float = 1800.0  # one round's sending; then it gives up, fails and alerts
    smtp_ca_file: Path | None = None  # a private CA that signed the server's certificate

    def source_spec(self, plan_spreadsheet: str | None) -> str:
        return self.source or plan_spreadsheet or str(SAMPLE_WORKBOOK)

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def ledger(self) -> str:
        return self.ledger_url or f"sqlite:///{(self.data_dir / 'ledger.sqlite').resolve()}"
