"""Vietnamese text as people type it: match keys that ignore case, spacing, Unicode form and
old/new tone-mark placement (Hoà/Hòa, Thuỷ/Thủy)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

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


# The Vietnamese alphabet's order of base letters with their marks (a ă â … đ after d … ư after
# u); tone marks only break ties, as dictionaries sort.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_TONE_ORDER = {"": 0, "\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


@lru_cache(maxsize=65536)
def vn_sort_key(value: object) -> tuple[Any, ...]:
    """A key that sorts names as a Vietnamese reader expects: Đ after D, Ư after U, case and
    tone marks ignored but for ties ("Điện Biên" after "Cao Bằng", before "Hà Giang")."""
    letters, tones = [], []
    for char in clean(value).casefold():
        parts = unicodedata.normalize("NFD", char)
        base, marks = parts[0], parts[1:]
        tone = next((m for m in marks if m in _TONE_MARKS), "")
        shape = next((m for m in marks if m not in _TONE_MARKS), "")
        if base == "đ" or (base == "d" and shape == "\u0335"):
            letter = "đ"
        elif shape == "\u0302":
            letter = {"a": "â", "e": "ê", "o": "ô"}.get(base, base)
        elif shape == "\u0306":
            letter = "ă" if base == "a" else base
        elif shape == "\u031b":
            letter = {"o": "ơ", "u": "ư"}.get(base, base)
        else:
            letter = base
        if letter in _ALPHABET:
            rank = 20 + _ALPHABET.index(letter)
        elif letter.isdigit():
            rank = 1 + int(letter) if letter.isascii() else 100 + ord(letter)
        else:  # a space first ("An Giang" before "Anh"), other signs after the letters
            rank = 0 if letter == " " else 100 + ord(letter)
        letters.append(rank)
        tones.append(_TONE_ORDER.get(tone, 0))
    return tuple(letters), tuple(tones)


def in_sentence(name: str) -> str:
    """A milestone's name inside a sentence: "hồ sơ sơ kết 6 tháng", not "hồ sơ Sơ kết 6
    tháng". Only the first letter is lowered, and not when the second one is a capital too
    (an abbreviation such as "KVTĐ")."""
    if len(name) > 1 and name[1].isupper():
        return name
    return name[:1].lower() + name[1:]


def as_sentence(words: str) -> str:
    """Words starting a sentence or a title: only the first letter raised (str.capitalize()
    would lower "Sơ kết" and "KVTĐ" inside)."""
    return words[:1].upper() + words[1:]


# Short forms clerks use in file names ("BC so ket 6 thang.pdf")
_ABBREVIATIONS = {"bc": "bao cao", "bb": "bien ban", "kh": "ke hoach", "tdkt": "thi dua khen thuong"}


@lru_cache(maxsize=65536)
def plain_words(value: object) -> str:
    """Words without marks, case or punctuation, usual abbreviations spelled out: how a file
    name typed without Vietnamese letters ("bang tu cham diem 2021.xlsx") is compared with a
    document's name ("Bảng tự chấm điểm")."""
    text = unicodedata.normalize("NFD", clean(value).casefold().replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    words = re.sub(r"[^0-9a-z]+", " ", text).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


def contains_words(text: str, words: str) -> bool:
    """Whether `words` appear in `text` as whole words, in order and together (both already
    as plain_words or match_key give them)."""
    return bool(words) and f" {words} " in f" {text} "
