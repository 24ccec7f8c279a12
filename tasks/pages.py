"""Counting the pages of a submitted document, when its link can be read (PDF or DOCX)."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx

MAX_BYTES = 30 * 1024 * 1024
_PAGES = re.compile(rb"<Pages>(\d+)</Pages>")


MAX_PART_BYTES = 1024 * 1024  # a docProps part larger than this is not read (a zip bomb's trick)


def office_part(data: bytes, part: str, pattern: re.Pattern[bytes]) -> bytes | None:
    """The first group of `pattern` in one small part of an Office file (a zip), or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if z.getinfo(part).file_size > MAX_PART_BYTES:
                return None
            found = pattern.search(z.read(part))
            return found.group(1) if found else None
    except (KeyError, zipfile.BadZipFile):
        return None


def pages_in(data: bytes) -> int | None:
    """Pages of a PDF, or of a Word file as Word last counted them; None for anything else."""
    if data.startswith(b"%PDF"):
        from pypdf import PdfReader

        try:
            return len(PdfReader(io.BytesIO(data)).pages)
        except Exception:  # a damaged PDF: fall back to the declared count
            return None
    if data.startswith(b"PK"):
        found = office_part(data, "docProps/app.xml", _PAGES)  # Word stores its page count here
        return int(found) if found else None
    return None


def count_pages(
    link: str, base_dir: Path | None = None, timeout: float = 10.0, total: float = 30.0
) -> int | None:
    """Pages of the document at `link` (a local path, file:// or http(s) URL), or None when it
    cannot be read: the caller then uses the page count the unit declared. A download gets
    `timeout` seconds per read and `total` seconds in all: a server trickling bytes is given up."""
    if not link:
        return None
    url = urlparse(link)
    try:
        if url.scheme in ("http", "https"):
            deadline = time.monotonic() + total
            with httpx.stream("GET", link, timeout=min(timeout, total), follow_redirects=True) as response:
                if response.status_code != 200:
                    return None
                data = b""
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > MAX_BYTES or time.monotonic() > deadline:
                        return None
            return pages_in(data)
        path = Path(unquote(url.path)) if url.scheme == "file" else Path(link)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if path.is_file() and path.stat().st_size <= MAX_BYTES:
            return pages_in(path.read_bytes())
    except (httpx.HTTPError, OSError):
        return None
    return None
