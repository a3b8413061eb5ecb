"""PURE: events of the archive (`ning-events.json`) as events here: posts of kind `event` with their
times, place and answers (see the package docstring for the mapping).

An event keeps its title, its description (sanitised by the writer, its image from the `-local`
files copied and re-encoded), who organised it, its start and end in UTC (read in the event's own
time zone: `archive.ning_events`), its location and address, its type as a tag, its group (a
members-only group's event is for its members only), its comments, and every answer (attending:
going, might attend: maybe, not attending: not going) by a member. It is never announced or
delivered; its `Create{Event}` is stored in its organiser's outbox, dated when it was created.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from ..archive.ning_events import NingEvent
from ..archive.ning_groups import NingGroup
from .mapping import author_ref, comments_of, first_date, later_update, tag_of
from .model import ImportEvent, ImportPost

__all__ = ["event_post"]


def _details(event: NingEvent) -> str:
    """The event's image and who organised it, above its description."""
    out = ""
    if event.photo:
        out += f'<p><img src="{html.escape(event.photo)}" alt="{html.escape(event.title)}"></p>'
    if event.organized_by:
        out += f"<p>Georganiseerd door {html.escape(event.organized_by)}</p>"
    return out


def event_post(event: NingEvent, names: dict[str, str], groups: Mapping[str, NingGroup]) -> ImportPost:
    """An event of the archive as an event post (kind event) with its answers and comments."""
    published = first_date(event.created, event.updated, event.starts_at)
    group = groups.get(event.group_id or "")
    tag = tag_of(event.event_type)
    answers = tuple((author_ref(a.contributor_name, names), a.answer) for a in event.attendees if a.answer)
    return ImportPost(
        legacy_id=event.id,
        author=author_ref(event.contributor_name, names),
        title=event.title or "(evenement)",
        html=_details(event) + event.description,
        published=published,
        updated=later_update(event.updated, published),
        draft=False,
        source="ning",
        tags=(tag[0],) if tag else (),
        attachments=event.file_attachments,
        comments=comments_of(event.comments, names),
        old=((event.id, "event"),),
        warnings=event.warnings,
        group=group.id if group is not None else None,
        members_only=group is not None and group.is_private,
        kind="events",
        event=ImportEvent(
            event.starts_at,
            event.ends_at,
            event.location[:200],
            event.address[:500],
            answers,
            unanswered=sum(1 for a in event.attendees if not a.answer),
        ),
    )
