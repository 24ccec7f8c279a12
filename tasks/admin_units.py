"""Vietnam's administrative units as they are now, so a plan rolled forward from an old year says
where it names bodies that no longer exist.

- Provinces: the 2025 merger (Nghị quyết 202/2025/QH15, in force 01/07/2025: 63 provinces became
  34) comes from the `vietnamadminunits` package, which knows both the legacy units and what each
  became; we never keep our own list of provinces.
- Civil judgment enforcement (THADS): the 2025 reorganisation renamed the bodies themselves, which
  no package tracks, so it is the small table `THADS_RENAMED` below: Tổng cục THADS became Cục
  Quản lý thi hành án dân sự; the provincial Cục THADS became Thi hành án dân sự tỉnh/thành phố;
  the district Chi cục THADS were replaced by Phòng Thi hành án dân sự khu vực.

The program warns and explains; the plan's author decides (a unit's name is the author's to edit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from tasks.plan import Plan
from tasks.text import clean, match_key

MERGER = "01/07/2025"

# (pattern, what the body is now). Tổng cục and Chi cục first: "Cục THADS" must not match inside them.
THADS_RENAMED: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"\btổng cục (?:thads|thi hành án dân sự)", re.IGNORECASE),
        "Tổng cục THADS nay là Cục Quản lý thi hành án dân sự (Bộ Tư pháp) từ năm 2025",
    ),
    (
        re.compile(r"\bchi cục (?:thads|thi hành án dân sự)", re.IGNORECASE),
        "Chi cục THADS cấp huyện nay được thay bằng Phòng Thi hành án dân sự khu vực từ năm 2025",
    ),
    (
        re.compile(r"(?<!tổng )(?<!chi )\bcục (?:thads|thi hành án dân sự)", re.IGNORECASE),
        "Cục THADS tỉnh nay là Thi hành án dân sự tỉnh, thành phố từ năm 2025",
    ),
]

# a province named in running text: the words after "tỉnh" / "thành phố" (any case)
_AFTER_PROVINCE_WORD = re.compile(
    r"\b(?:tỉnh|thành phố|tp\.?)\s+((?:[^\W\d_][^\s,;.:()\-–/]*\s*){1,3})", re.IGNORECASE
)


@dataclass(frozen=True)
class Renamed:
    """A province that no longer exists, and the one it merged into."""

    old: str  # "Yên Bái"
    new: str  # "Lào Cai"

    @property
    def words(self) -> str:
        return f"tỉnh {self.old} đã hợp nhất vào tỉnh {self.new} từ {MERGER}"


@cache
def merged_into(name: str) -> Renamed | None:
    """What the legacy province `name` (short, any case) became, if it merged into another."""
    from vietnamadminunits import ParseMode, convert_address, parse_address  # 0.3 s: only when used

    name = clean(name).strip(" -–,;.")
    if not name:
        return None
    try:
        old = parse_address(name, mode=ParseMode.LEGACY, level=1)
        if not old.short_province or match_key(old.short_province) != match_key(name):
            return None  # the words are not a province's name (or only look like part of one)
        new = convert_address(old.short_province)
    except Exception:  # noqa: BLE001 - the package raises bare errors for text it cannot place
        return None
    if not new.short_province or match_key(new.short_province) == match_key(old.short_province):
        return None
    return Renamed(old.short_province, new.short_province)


def provinces_named(text: str) -> list[str]:
    """Candidate province names in a text: after "tỉnh"/"thành phố", or the whole text when it is
    a bare place name (letterhead.place: "Yên Bái")."""
    text = clean(text)
    found = []
    for match in _AFTER_PROVINCE_WORD.finditer(text):
        words = match.group(1).split()
        # the longest run of words that names a province: "Lào Cai - Phó trưởng" -> "Lào Cai"
        found += [" ".join(words[:n]) for n in range(len(words), 0, -1)]
    if len(text.split()) <= 3:
        found.append(text)
    return found


def _texts(plan: Plan) -> list[tuple[str, str]]:
    """(key, text) of every name, title and place a plan writes in its letters and documents."""
    out = [("title", plan.title), ("area_name", plan.area_name)]
    for u in plan.units:
        out += [(f"units[{u.code}]", u.name), (f"units[{u.code}]", u.province)]
    out += [(f"contacts[{i}].title", c.title) for i, c in enumerate(plan.contacts)]
    out += [(f"blocks[{b.id}].name", b.name) for b in plan.blocks]
    head = plan.letterhead
    out += [("letterhead.place", head.place or ""), ("letterhead.issuer", head.issuer_name)]
    out += [(f"letterhead.recipients[{i}]", r) for i, r in enumerate(head.recipients)]
    out += [
        (f"reports[{r.kind}].recipients[{i}]", x) for r in plan.reports for i, x in enumerate(r.recipients)
    ]
    out += [
        ("leadership.signer_title", plan.leadership.signer_title),
        ("identity.superior", plan.identity.superior),
    ]
    out += [
        ("identity.sender_name", plan.identity.sender_name or ""),
        ("voting.place", plan.voting.place or ""),
    ]
    return [(key, text) for key, text in out if text]


def outdated_names(plan: Plan) -> list[str]:
    """One line per body or province that no longer exists, naming every key that still names
    it: "tỉnh Yên Bái đã hợp nhất vào tỉnh Lào Cai từ 01/07/2025: units[STP-YBA], …"."""
    where: dict[str, list[str]] = {}
    for key, text in _texts(plan):
        reasons = [words for pattern, words in THADS_RENAMED if pattern.search(text)][:1]
        for candidate in provinces_named(text):
            renamed = merged_into(candidate)
            if renamed:
                reasons.append(renamed.words)
                break
        for reason in reasons:
            keys = where.setdefault(reason, [])
            if key not in keys:
                keys.append(key)
    return [f"{reason}: {', '.join(keys)}" for reason, keys in where.items()]
