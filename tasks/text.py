"""Vietnamese text as people type it: match keys that ignore case, spacing, Unicode form and
old/new tone-mark placement (Hoà/Hòa, Thuỷ/Thủy)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# The five Vietnamese tone marks as combining characters (huyền, sắc, hỏi, ngã, nặng).
_TONE_MARKS = {"\u0300", "\u0301", "\u0309", "\u0303", "\u0323"}
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def clean(value: object) -> str:
    """Text as stored: NFC, control characters removed, runs of white space folded, trimmed."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub(" ", nfc(text).replace("\r", " ").replace("\n", " "))
    return _SPACES.sub(" ", text).strip()


def _syllable_key(word: str) -> str:
    """The tone mark moves to the end of the syllable, so 'hoà' and 'hòa' give the same key."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in _TONE_MARKS]
    base = "".join(c for c in decomposed if c not in _TONE_MARKS)
    return unicodedata.normalize("NFC", base) + "".join(tones)


@lru_cache(maxsize=65536)  # sheets repeat the same unit, milestone and kind names on every row
def match_key(value: object) -> str:
    """A key for comparing names typed by people; punctuation around words is kept."""
    return " ".join(_syllable_key(w) for w in clean(value).casefold().split(" ") if w)


def one_line(value: object) -> str:
    """A header value built from data: CR and LF removed so no header can be injected."""
    return clean(value)
