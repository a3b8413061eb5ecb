"""Sending one message over SMTP with smtplib, in a thread so the event loop never waits on it."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from ..config import Config

__all__ = ["MailRefused", "SmtpSender", "SmtpSettings"]


class MailRefused(Exception):
    """The server refused the recipient or the message for good (a 5xx answer)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    starttls: bool
    user: str
    password: str = field(repr=False)
    timeout: float
    ca_file: Path | None

    @classmethod
    def from_config(cls, config: Config) -> SmtpSettings:
        """The settings of [mail], with paths resolved against the config folder."""
        mail = config.mail
        ca = None
        if mail.ca_file:
            path = Path(mail.ca_file).expanduser()
            ca = path if path.is_absolute() else config.root / path
        return cls(mail.host, mail.port, mail.starttls, mail.user, config.mail_password, mail.timeout, ca)


class SmtpSender:
    """Sends messages with the configured server; one connection per message (mail is rare)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._context: ssl.SSLContext | None = None

    def _tls(self) -> ssl.SSLContext:
        if self._context is None:
            ca = self.settings.ca_file
            self._context = ssl.create_default_context(cafile=str(ca) if ca else None)
        return self._context

    def _send(self, msg: EmailMessage) -> None:
        s = self.settings
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
                smtp.ehlo()
                if s.starttls:
                    # No silent fallback to plain text: a server without STARTTLS is an error.
                    smtp.starttls(context=self._tls())
                    smtp.ehlo()
                if s.user:
                    smtp.login(s.user, s.password)
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailRefused(f"recipient refused: {exc.recipients}") from None
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise MailRefused(f"{exc.smtp_code} {exc.smtp_error!r}") from None
            raise

    async def send(self, msg: EmailMessage) -> None:
        """Send a message; MailRefused for a permanent refusal, OSError/SMTPException to retry."""
        await asyncio.to_thread(self._send, msg)
