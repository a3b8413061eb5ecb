"""The mail worker: decides per notification what to mail, sends the daily digest, and empties the queue.

One step (`run_once`) does three things, each safe with several processes at once:
1. triage: each new notification becomes a mail now, waits for the digest, or needs none
   (the member's choice, or no address); the state moves by compare-and-set, so once only;
2. the digest, when due (the meta key below, swapped by one process only);
3. sending what is queued in outgoing_mail over SMTP in a thread: mails are leased to this
   process by the one leased-queue runner (work/leased.py), like deliveries and inbox items:
   renewed while being sent, handed back when the worker stops, and taken back at once from a
   dead predecessor on this host.
"""

from __future__ import annotations

import logging
import smtplib
import time

from ..leases import LeaseOwner, current_owner
from ..notices import MailSettings, Notification
from ..runtime import Runtime
from ..store import members, meta, outgoing_mail
from ..store import notifications as store
from ..work.leased import LeasedWork
from .compose import digest_mail, notification_mail
from .message import build_message
from .schedule import next_digest
from .smtp import MailRefused, SmtpSender, SmtpSettings

__all__ = ["DIGEST_KEY", "MailWorker", "backoff"]

log = logging.getLogger(__name__)

DIGEST_KEY = "mail_digest_last"
MAX_ATTEMPTS = 8
# A notification older than this when first looked at (mail was off, or the worker was
# down) is not mailed at once any more; it stays on the notifications page.
STALE_SECONDS = 2 * 86400
BATCH = 50
SEND_BATCH = 10
DIGEST_ITEMS = 200


def backoff(attempt: int) -> float:
    """Seconds before the next try of a mail that failed `attempt` times (1 min doubling, at most 6 h)."""
    return float(min(60 * 2 ** max(attempt - 1, 0), 6 * 3600))


class MailWorker:
    """Turns notifications into mail and sends the queue; `run_once` is what tests step."""

    def __init__(self, rt: Runtime, sender: SmtpSender | None = None, owner: LeaseOwner | None = None) -> None:
        self.rt = rt
        self.mail = rt.config.mail
        self.sender = sender or SmtpSender(SmtpSettings.from_config(rt.config))
        # A lease covers one mail's SMTP exchange (and is renewed while a batch is sent).
        lease = self.mail.timeout * 2 + 30
        self.leases = LeasedWork(rt.db, outgoing_mail.QUEUE, owner or current_owner(), lease)

    @property
    def enabled(self) -> bool:
        """True when [mail] names a server."""
        return self.mail.enabled

    async def run_once(self) -> int:
        """One step: triage, the digest when due, then sending; returns how much was done."""
        if not self.enabled:
            return 0
        done = await self.triage()
        done += await self.digest_if_due()
        done += await self.send_due()
        return done

    def _language(self, settings: MailSettings) -> str:
        return settings.language or self.rt.config.instance.language

    async def triage(self) -> int:
        """Look at new notifications once: mail now, wait for the digest, or nothing."""
        rows = await store.to_triage(self.rt.db, BATCH)
        now = time.time()
        instance = self.rt.config.instance
        for notification, email, settings in rows:
            mode = settings.mode(notification.kind)
            if not email or mode == "never" or now - notification.created_at > STALE_SECONDS:
                await store.claim_mail(self.rt.db, notification.id, "new", "done")
            elif mode == "digest":
                await store.claim_mail(self.rt.db, notification.id, "new", "digest")
            else:
                composed = notification_mail(self._language(settings), instance.name, instance.base_url, notification)
                async with self.rt.db.transaction() as tx:
                    if await store.claim_mail(tx, notification.id, "new", "done"):
                        await outgoing_mail.queue(
                            tx, notification.member_id, email, composed.subject, composed.text, composed.html
                        )
        return len(rows)

    async def digest_if_due(self, now: float | None = None) -> int:
        """Send each member one mail with their waiting digest notifications, once per period."""
        now = time.time() if now is None else now
        last = await meta.get(self.rt.db, DIGEST_KEY)
        if last is None:
            # The first period starts now; a fresh install sends no digest at its first start.
            await meta.put_new(self.rt.db, DIGEST_KEY, repr(now))
            return 0
        due = next_digest(float(last), self.mail.digest_hour, self.mail.digest_interval, self.rt.tz)
        if now < due or not await meta.swap(self.rt.db, DIGEST_KEY, last, repr(now)):
            return 0
        sent = 0
        for member_id in await store.digest_members(self.rt.db):
            sent += await self._digest_for(member_id)
        return sent

    async def _digest_for(self, member_id: int) -> int:
        member = await members.by_id(self.rt.db, member_id)
        settings = await store.get_settings(self.rt.db, member_id)
        instance = self.rt.config.instance
        mails = 0
        while items := await store.digest_items(self.rt.db, member_id, DIGEST_ITEMS):
            async with self.rt.db.transaction() as tx:
                taken: list[Notification] = [n for n in items if await store.claim_mail(tx, n.id, "digest", "done")]
                if taken and member is not None and member.email:
                    composed = digest_mail(self._language(settings), instance.name, instance.base_url, taken)
                    await outgoing_mail.queue(tx, member_id, member.email, composed.subject, composed.text,
                                              composed.html)  # fmt: skip
                    mails += 1
        return mails

    async def send_due(self) -> int:
        """Send what is queued and due; failures are retried later, refusals fail for good."""
        mails = await self.leases.claim(SEND_BATCH)
        async with self.leases.held(mails) as pending:
            for mail in mails:
                await self._send(mail)
                pending.discard(mail.id)
        return len(mails)

    async def _send(self, mail: outgoing_mail.OutgoingMail) -> None:
        instance = self.rt.config.instance
        msg = build_message(
            sender=self.mail.sender, sender_name=instance.name, to=mail.to_addr, subject=mail.subject,
            text=mail.body_text, html=mail.body_html, domain=instance.hostname,
        )  # fmt: skip
        try:
            await self.sender.send(msg)
        except MailRefused as exc:
            log.warning("mail %s to %s refused: %s", mail.id, mail.to_addr, exc)
            await outgoing_mail.mark_failed(self.rt.db, mail, str(exc))
            return
        except (OSError, smtplib.SMTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
            if mail.attempts + 1 >= MAX_ATTEMPTS:
                log.warning("mail %s to %s failed for good: %s", mail.id, mail.to_addr, error)
                await outgoing_mail.mark_failed(self.rt.db, mail, error)
            else:
                log.info("mail %s to %s failed, retrying: %s", mail.id, mail.to_addr, error)
                await outgoing_mail.mark_retry(self.rt.db, mail, time.time() + backoff(mail.attempts + 1), error)
            return
        await outgoing_mail.mark_sent(self.rt.db, mail)
