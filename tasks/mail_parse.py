"""Parsing mail a stranger wrote, in bounded memory. The standard library's modern header parser
(policy.default) is quadratic in a header's length: a Subject of 5,000 folded encoded-words (215
KB) takes over 500 MB to read. Every header value is therefore cut to HEADER_MAX characters
before it is parsed; no real Subject, address list or attachment name comes near it."""

from __future__ import annotations

from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import EmailPolicy
from typing import cast

HEADER_MAX = 8_000  # characters of one header's value that are parsed (an RFC 2231 name: ~2,300)


class _BoundedPolicy(EmailPolicy):
    def header_fetch_parse(self, name: str, value: str) -> str:
        return cast(str, super().header_fetch_parse(name, value[:HEADER_MAX]))  # a str subclass


BOUNDED = _BoundedPolicy()


def parse_message(raw: bytes) -> EmailMessage:
    """A whole message; each header read later is parsed from at most HEADER_MAX characters."""
    msg = BytesParser(policy=BOUNDED).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


def parse_headers(raw: bytes) -> EmailMessage:
    """A message's header block only (what an IMAP HEADER.FIELDS fetch returns)."""
    msg = BytesParser(policy=BOUNDED).parsebytes(raw, headersonly=True)
    assert isinstance(msg, EmailMessage)
    return msg
