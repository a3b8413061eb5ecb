"""Build one e-mail message with headers that cannot be forged from the text put into them.

Names and subjects may come from remote servers: they are made inert (no CR/LF, no control
characters) and the `email` package encodes what is not ASCII, so a display name can never
add a header or a recipient.
"""

from __future__ import annotations

import time
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate, make_msgid

from ..content import inert_text

__all__ = ["build_message", "header_text"]

# Headers are not folded below SMTP's own limit of 998: Python 3.11's folder loses the space between
# two words it encodes apart (‘Open data’ came out as ‘Opendata’), and a header of at most 200
# characters (header_text) fits on one line.
_POLICY = SMTP.clone(max_line_length=998)


def header_text(value: str, max_len: int = 200) -> str:
    """A header value from any text: one line, no control characters."""
    return inert_text(value.replace("\r", " ").replace("\n", " "), max_len)


def build_message(
    *,
    sender: str,
    sender_name: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    domain: str = "localhost",
    now: float | None = None,
) -> EmailMessage:
    """A plain-text message (with an HTML alternative when given), ready for smtplib."""
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = formataddr((header_text(sender_name, 100), header_text(sender, 320)))
    msg["To"] = header_text(to, 320)
    msg["Subject"] = header_text(subject)
    msg["Date"] = formatdate(now if now is not None else time.time(), localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=domain or "localhost")
    # An automatic message: vacation responders must not answer it (RFC 3834).
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg
