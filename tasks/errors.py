"""One family for every failure the project foresees. A `ThiduaError` carries the sentence a
person reads (Vietnamese: what went wrong, where, what to do) and the exit code of the command
that met it; the CLI (flows/cli_base.py) and a flow's failed state (flows/common.py, then the
alert letter) render it in one place each. Anything else raised is a bug and keeps its traceback.

The kinds say whose problem it is; each module's own class (SourceError, LedgerError, …) is one
of them, so `except SourceProblem` and `except SourceError` both read naturally."""

from __future__ import annotations

from typing import ClassVar


class ThiduaError(Exception):
    exit_code: ClassVar[int] = 1
    label: ClassVar[str] = "Lỗi: "  # how the CLI opens each line

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:  # a KeyError subclass would otherwise print its message in quotes
        return self.message

    def lines(self) -> list[str]:
        """What the CLI prints, one line each (a plan's problems are many)."""
        return [self.message]


class UsageError(ThiduaError):
    """A setting, an option or a path given to a command that cannot be used."""


class PlanProblem(ThiduaError):
    """The plan file, or something looked up in it."""

    label = "Lỗi kế hoạch "


class SourceProblem(ThiduaError):
    """The shared sheet or the workbook: unreadable, unreachable, of another year."""


class LedgerProblem(ThiduaError):
    """The send ledger's database."""


class MailProblem(ThiduaError):
    """The mail server, or letters it did not accept."""


class IntakeProblem(ThiduaError):
    """The coordinators' mailboxes, or the store of what was read from them."""
