"""E-mail addresses as an SMTP server takes them: an ASCII local part, the domain in IDNA.

Python's smtplib cannot send a non-ASCII local part without SMTPUTF8, and a domain that mixes
scripts (a Cyrillic "а" among Latin letters) is how a look-alike address is made: both are
refused up front, by `check` and before any claim, never in the middle of a batch.
"""

from __future__ import annotations

import unicodedata

import idna

FALLBACK_SENDER = "thidua@localhost"  # a letter whose plan names no sender, THIDUA_MAIL_FROM unset


class InvalidAddress(ValueError):
    """The address cannot be sent to; the message says why, in Vietnamese."""


def _scripts(text: str) -> set[str]:
    return {unicodedata.name(ch, "?").split(" ")[0] for ch in text if ch.isalpha()}


def smtp_address(address: str) -> str:
    """The address as it goes on the wire (domain in IDNA), or InvalidAddress."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        raise InvalidAddress(f"'{address}' không phải địa chỉ thư điện tử")
    if not local.isascii():
        raise InvalidAddress(
            f"'{address}': phần trước @ có ký tự ngoài ASCII (có dấu tiếng Việt?), máy chủ thư không "
            "nhận được; dùng địa chỉ không dấu"
        )
    if domain.isascii():
        return f"{local}@{domain}"
    for label in domain.split("."):
        if len(_scripts(label)) > 1:
            raise InvalidAddress(
                f"'{address}': tên miền trộn nhiều bảng chữ cái ({', '.join(sorted(_scripts(label)))}), "
                "dấu hiệu địa chỉ giả mạo; gõ lại tên miền"
            )
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError as exc:
        raise InvalidAddress(f"'{address}': tên miền không hợp lệ ({exc})") from None
