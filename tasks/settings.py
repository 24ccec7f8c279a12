"""Operator settings: environment variables with prefix THIDUA_, or a .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import EmailStr, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="THIDUA_", env_file=".env", extra="ignore")

    plan: Path = REPO / "config" / "plan-2021.yaml"
    source: str = str(REPO / "config" / "sample-2021.xlsx")
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
    smtp_timeout: float = 30.0

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def ledger(self) -> str:
        return self.ledger_url or f"sqlite:///{(self.data_dir / 'ledger.sqlite').resolve()}"
