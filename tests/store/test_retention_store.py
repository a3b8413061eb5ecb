"""Data minimisation in the store, on both backends: sent or failed mail and rejected membership
requests are forgotten after their window (retention.py); mail still to send and requests not
rejected stay."""

from __future__ import annotations

import time

from fediverse_a2 import retention
from fediverse_a2.store import membership_requests, outgoing_mail
from fediverse_a2.store.db import Database


async def test_sent_and_failed_mail_is_forgotten_after_its_window(db: Database) -> None:
    for to in ("sent@example.org", "failed@example.org", "waiting@example.org"):
        await outgoing_mail.queue(db, None, to, "Onderwerp", "Tekst", None)
    sent, failed, _waiting = await outgoing_mail.claim(db, time.time() + 1, 60, 10, "test")
    await outgoing_mail.mark_sent(db, sent)
    await outgoing_mail.mark_failed(db, failed, "550 no such user")

    # Within the window nothing goes.
    assert await outgoing_mail.prune(db, time.time() - retention.MAIL_DAYS * 86400) == 0
    assert await outgoing_mail.states(db) == {"sent": 1, "failed": 1, "pending": 1}
    # Once past it (a boundary after they were made), the sent and failed mail go; the one to send stays.
    assert await outgoing_mail.prune(db, time.time() + 1) == 2
    assert await outgoing_mail.states(db) == {"pending": 1}


async def test_rejected_membership_requests_are_forgotten_after_their_window(db: Database) -> None:
    rejected = await membership_requests.add(db, "Rita", "rita@example.org", "Gemeente", "Graag")
    approved = await membership_requests.add(db, "Anna", "anna@example.org", "Provincie", "Graag")
    waiting = await membership_requests.add(db, "Wim", "wim@example.org", "Rijk", "Graag")
    assert await membership_requests.decide(db, rejected, "rejected", None, None)
    assert await membership_requests.decide(db, approved, "approved", None, None)

    assert await membership_requests.prune_rejected(db, time.time() - retention.REJECTED_REQUEST_DAYS * 86400) == 0
    assert await membership_requests.by_id(db, rejected) is not None
    assert await membership_requests.prune_rejected(db, time.time() + 1) == 1
    assert await membership_requests.by_id(db, rejected) is None
    assert await membership_requests.by_id(db, approved) is not None
    assert await membership_requests.by_id(db, waiting) is not None
