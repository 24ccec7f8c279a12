"""Text from the sheet or the plan inside Markdown the project publishes (Prefect artifacts):
inert, so a cell can neither break a table nor inject HTML or a link."""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def md(value: object) -> str:
    """One line of inert Markdown: table pipes and Markdown marks escaped, HTML disarmed, line
    breaks folded."""
    text = " ".join(str(value).splitlines())
    text = _SPECIAL.sub(r"\\\1", text)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def md_row(*cells: object) -> str:
    """A Markdown table row of inert cells."""
    return "| " + " | ".join(md(c) for c in cells) + " |"
