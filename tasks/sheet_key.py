"""A Google Sheet named by a coordinator: its URL or its bare key (no network, no gspread)."""

from __future__ import annotations

import re

_KEY_IN_URL = re.compile(r"/spreadsheets/d/([a-zA-Z0-9_-]+)")
_BARE_KEY = re.compile(r"^[a-zA-Z0-9_-]{25,}$")


def spreadsheet_key(spec: str) -> str | None:
    """The key from a Google Sheets URL or a bare key; None when `spec` is neither."""
    if m := _KEY_IN_URL.search(spec):
        return m.group(1)
    return spec if _BARE_KEY.match(spec) else None


def sheet_url(key: str) -> str:
    """Where a person opens the sheet in a browser."""
    return f"https://docs.google.com/spreadsheets/d/{key}/edit"
