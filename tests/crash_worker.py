"""Run as a separate process by test_reliability.py: delivers the sample's so-ket before-1 round
and kills itself with SIGKILL at the point named on the command line (no cleanup runs)."""

from __future__ import annotations

import os
import signal
import sys

from tasks.delivery import deliver
from tasks.inputs import load_inputs
from tasks.ledger import Ledger
from tasks.settings import Settings
from tasks.transport import FileOutbox
from tests.conftest import round_mails


def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def main(point: str) -> None:
    settings = Settings()
    inputs = load_inputs(settings)
    mails, instant = round_mails(inputs, inputs.plan)
    ledger = Ledger(settings.ledger)
    outbox = FileOutbox(settings.outbox_dir)
    if point == "after-claim":
        outbox.send_batch = die  # claims are written, nothing is handed to the transport
    else:
        ledger.mark_sent = die  # the first message is written, its confirmation never lands
    deliver(mails, settings, ledger, outbox, instant)


if __name__ == "__main__":
    main(sys.argv[1])
