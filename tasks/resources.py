"""What a run talks to, opened once at its edge (a CLI command or a flow's entry) and passed down:
the send ledger (one database engine per run, where a reminder round used to create three) and
the mail transport. Each is opened when first used, so a dry run or a round with nothing to send
never touches the database or the mail server; `close` releases the engine's connections."""

from __future__ import annotations

import datetime as dt
from functools import cached_property

from tasks.ledger import Ledger
from tasks.settings import Settings
from tasks.transport import Transport, open_transport


class Resources:
    def __init__(
        self, settings: Settings, *, ledger: Ledger | None = None, transport: Transport | None = None
    ):
        """`ledger`, `transport`: given ones (a test's outbox that dies mid-batch, a ledger with a
        short lease) instead of those the settings describe."""
        self.settings = settings
        if ledger is not None:
            self.__dict__["ledger"] = ledger
        if transport is not None:
            self.__dict__["transport"] = transport

    @cached_property
    def ledger(self) -> Ledger:
        return Ledger(self.settings.ledger, lease=dt.timedelta(seconds=self.settings.claim_lease))

    @cached_property
    def transport(self) -> Transport:
        return open_transport(self.settings)

    def close(self) -> None:
        if "ledger" in self.__dict__:
            self.ledger.engine.dispose()

    def __enter__(self) -> Resources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
