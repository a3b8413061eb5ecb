"""The texts of the mails, in the member's language: plain text, and HTML with every value escaped."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from zoneinfo import ZoneInfo

from ..i18n import format_date, translate
from ..notices import Notification, describe
from .message import header_text

__all__ = ["Composed", "digest_mail", "invitation_mail", "notification_mail", "password_reset_mail"]


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str


def _html(intro: list[str], items: list[tuple[str, str]], outro: list[str], footer: str = "") -> str:
    """A small HTML body; every piece of text is escaped here, links are (text, url) pairs."""
    parts = ['<!doctype html><html><body style="font-family: sans-serif">']
    parts += [f"<p>{escape(p)}</p>" for p in intro]
    if items:
        parts.append("<ul>")
        parts += [f'<li><a href="{escape(url)}">{escape(text)}</a></li>' for text, url in items]
        parts.append("</ul>")
    parts += [f"<p>{escape(p)}</p>" for p in outro]
    if footer:
        parts.append(f'<p style="color: #555">{escape(footer)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


def _footer(language: str, base_url: str) -> str:
    return translate(language, "mail_footer", url=f"{base_url}/settings/notifications")


def notification_mail(language: str, instance: str, base_url: str, notification: Notification) -> Composed:
    """One notification, mailed at once."""
    line = describe(language, notification)
    subject = header_text(f"{instance}: {line}")
    footer = _footer(language, base_url)
    seen = translate(language, "mail_see_all", url=f"{base_url}/notifications")
    quoted = [f"“{notification.excerpt}”"] if notification.excerpt else []
    said = f"\n{quoted[0]}\n" if quoted else ""
    text = f"{line}\n{said}{notification.object_url}\n\n{seen}\n\n-- \n{footer}\n"
    return Composed(subject, text, _html([], [(line, notification.object_url)], [*quoted, seen], footer))


def digest_mail(language: str, instance: str, base_url: str, items: list[Notification]) -> Composed:
    """The day's notifications in one mail."""
    subject = header_text(translate(language, "mail_digest_subject", instance=instance, count=len(items)))
    intro = translate(language, "mail_digest_intro", count=len(items))
    footer = _footer(language, base_url)
    seen = translate(language, "mail_see_all", url=f"{base_url}/notifications")
    lines = [f"- {describe(language, n)}\n  {n.object_url}" for n in items]
    text = f"{intro}\n\n" + "\n".join(lines) + f"\n\n{seen}\n\n-- \n{footer}\n"
    links = [(describe(language, n), n.object_url) for n in items]
    return Composed(subject, text, _html([intro], links, [seen], footer))


def invitation_mail(language: str, instance: str, name: str, link: str, expires: float, tz: ZoneInfo) -> Composed:
    """The invitation link of a new (or approved) member."""
    until = format_date(expires, language, tz)
    subject = header_text(translate(language, "mail_invite_subject", instance=instance))
    hello = translate(language, "mail_hello", name=header_text(name, 100))
    body = translate(language, "mail_invite_body", instance=instance, until=until)
    text = f"{hello}\n\n{body}\n\n{link}\n"
    return Composed(subject, text, _html([hello, body], [(link, link)], []))


def password_reset_mail(
    language: str, instance: str, name: str, handle: str, link: str, expires: float, tz: ZoneInfo
) -> Composed:
    """The link of a forgotten password (/password/forgot), for one account."""
    until = format_date(expires, language, tz)
    subject = header_text(translate(language, "mail_reset_subject", instance=instance))
    hello = translate(language, "mail_hello", name=header_text(name, 100))
    body = translate(language, "mail_reset_body", instance=instance, handle=handle, until=until)
    ignore = translate(language, "mail_reset_ignore")
    text = f"{hello}\n\n{body}\n\n{link}\n\n{ignore}\n"
    return Composed(subject, text, _html([hello, body], [(link, link)], [ignore]))
