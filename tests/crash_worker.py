"""Run as a separate process by test_reliability.py: delivers the sample's so-ket before-1 round
and kills itself with SIGKILL at the point named on the command line (no cleanup runs)."""

from __future__ import annotations

import os
import signal
import sys

from tasks.delivery import send
from tasks.inputs import load_inputs
from tasks.ledger import Ledger
from tasks.resources import Resources
from tasks.settings import Settings
from tasks.transport import FileOutbox
from tests.helpers import round_mails


def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def main(point: str) -> None:
    settings = Settings()
    inputs = load_inputs(Resources(settings))
    mails, instant = round_mails(inputs, inputs.plan)
    ledger = Ledger(settings.ledger)
    outbox = FileOutbox(settings.outbox_dir)
    if point == "smtp":  # the test kills this process in mid-batch, from outside
        send(mails, Resources(settings), instant)
        return
    if point == "after-claim":

        def claim_one_then_die(batch):
            next(iter(batch))  # the first message is claimed, then the process dies
            die()

        outbox.send_batch = claim_one_then_die
    else:
        ledger.mark_sent = die  # the first message is written, its confirmation never lands
    send(mails, Resources(settings, ledger=ledger, transport=outbox), instant)


if __name__ == "__main__":
    main(sys.argv[1])
