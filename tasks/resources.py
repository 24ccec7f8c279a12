"""What a run talks to, opened once at its edge (a CLI command or a flow's entry) and passed down:
the ledger's database (one engine per run, shared by the send ledger and the intake's store, where
a reminder round used to create three or four), the mail transport and the source of the sheet.
Each is opened when first used, so a dry run or a round with nothing to send never touches the
database or the mail server; `close` releases the engine's connections."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import TYPE_CHECKING

from tasks.settings import Settings

# the database and mail stacks are imported when first used: `check` and `status` answer in a
# second without them (tests/test_performance.py)
if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from tasks.contract import Source
    from tasks.intake_store import IntakeStore
    from tasks.ledger import Ledger
    from tasks.plan import Plan
    from tasks.transport import Transport


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
    def engine(self) -> Engine:
        from tasks.ledger import database_url, open_engine

        return open_engine(database_url(self.settings.ledger))

    @cached_property
    def ledger(self) -> Ledger:
        from tasks.ledger import Ledger

        lease = dt.timedelta(seconds=self.settings.claim_lease)
        return Ledger(self.settings.ledger, lease=lease, engine=self.engine)

    @cached_property
    def intake_store(self) -> IntakeStore:
        from tasks.intake_store import IntakeStore

        return IntakeStore(self.settings.ledger, engine=self.engine)

    def source(self, plan: Plan) -> Source:
        """The sheet this run reads (a workbook or a Google Sheet), as the settings and plan name it."""
        from tasks.source import open_source

        return open_source(self.settings, plan)

    @cached_property
    def transport(self) -> Transport:
        from tasks.transport import open_transport

        return open_transport(self.settings)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()

    def __enter__(self) -> Resources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
