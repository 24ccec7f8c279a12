"""The intake as a round runs it: read every configured mailbox (new messages only), recognise
what all messages read so far carry, and put the documents beside the sheet's rows."""

from __future__ import annotations

import logging
from functools import partial

import pandas as pd

from tasks.intake import IntakeResult, recognise
from tasks.intake_store import IntakeStoreError
from tasks.mailbox import MailboxError, mailbox_specs, read_new
from tasks.normalise import MAIL_ROW, SUBMISSION_COLUMNS, Normalised
from tasks.plan import Plan
from tasks.resources import Resources
from tasks.watchdog import Deadline

log = logging.getLogger("thidua.intake")


def read_mailboxes(resources: Resources, plan: Plan) -> IntakeResult:
    """Fetches what is new in each mailbox and recognises every message read so far. A mailbox
    that cannot be read is named in `skipped` with why; the others are still read."""
    settings = resources.settings
    result = IntakeResult()
    specs, result.skipped = mailbox_specs(settings)
    try:
        store = resources.intake_store
    except IntakeStoreError as exc:
        result.skipped.append(str(exc))
        return result
    deadline = Deadline(settings.intake_deadline)  # one for all the mailboxes of this run
    for spec in specs:
        try:
            result.fetched += read_new(
                spec,
                partial(store.last_uid, spec.label),
                partial(store.remember, spec.label),
                settings.intake_max_bytes,
                deadline,
            )
        except MailboxError as exc:
            log.warning("%s", exc)
            result.skipped.append(str(exc))
            continue
        result.mailboxes.append(spec.label)
    folder = settings.data_dir / "intake"
    found = recognise(
        plan, store.messages(), store.raw, folder / "files", settings.intake_max_bytes, folder / "recognised"
    )
    found.skipped, found.mailboxes, found.fetched = result.skipped, result.mailboxes, result.fetched
    return found


def with_mail(data: Normalised, result: IntakeResult, plan: Plan) -> Normalised:
    """The sheet's submissions and the documents found in mail, side by side; an unrecognised
    message a sheet row names by its Message-ID (in Ghi chú or Đường dẫn) is settled."""
    named = (
        " ".join(data.submissions["note"].astype(str)) + " " + " ".join(data.submissions["link"].astype(str))
    )
    kept = [u for u in result.unrecognised if not (u.message_id and u.message_id in named)]
    result.settled = len(result.unrecognised) - len(kept)
    result.unrecognised = kept
    if not result.documents:
        return data
    mail = pd.DataFrame(
        [
            {
                "row": MAIL_ROW,
                "submitted_at": pd.Timestamp(d.submitted_at),
                "unit": d.unit,
                "milestone": d.milestone,
                "kind": d.kind,
                "pages": d.pages,
                "link": f"{d.file_name} ({d.sha256[:12]})",
                "note": "",
                "inspected": d.inspected,
                "origin": d.origin,
            }
            for d in result.documents
        ],
        columns=SUBMISSION_COLUMNS,
    )
    mail["pages"] = mail["pages"].astype("Int64")
    mail["submitted_at"] = pd.to_datetime(mail["submitted_at"], utc=True).dt.tz_convert(plan.tz)
    frames = [f for f in (data.submissions, mail) if len(f)]
    data.submissions = pd.concat(frames, ignore_index=True) if len(frames) > 1 else mail
    return data
