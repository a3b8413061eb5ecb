"""A remote post addressed to one of our groups (in to/cc, or by a Mention): announced per the group's rule.

The domain policy and blocks were applied before a handler runs (federation/processing.py and
the inbox); here only the group's rule decides: `members` (local members only: never a remote
post), `followers` (authors who follow the group) or `anyone`.
"""

from __future__ import annotations

from ...activitypub.notes import RemoteNote
from ...activitypub.values import is_public
from ...store import follows, groups
from ...store.groups import Group
from ..groups import announce_activity, announce_object
from .context import Context

__all__ = ["on_addressed", "on_changed"]

MAX_GROUPS = 5  # a note naming many of our groups is announced by the first few only


async def _addressed(ctx: Context, note: RemoteNote) -> list[Group]:
    named = [*note.to, *note.cc, *(t.href for t in note.tags if t.type == "Mention" and t.href)]
    found: dict[int, Group] = {}
    for uri in named[:200]:
        username = ctx.rt.urls.username(uri) if isinstance(uri, str) else None
        group = await groups.by_username(ctx.tx, username) if username else None
        if group is not None:
            found.setdefault(group.id, group)
    return list(found.values())[:MAX_GROUPS]


async def _allowed(ctx: Context, group: Group) -> bool:
    if group.members_only:
        return False  # a members-only group announces nothing
    if group.rule == "anyone":
        return True
    if group.rule == "followers":
        return await follows.is_follower(ctx.tx, group.id, ctx.actor.uri)
    return False  # "members": only local members' posts, which never arrive in the inbox


async def on_addressed(ctx: Context, note: RemoteNote, content_html: str) -> None:
    """Announce a public remote note to the followers of each group it is addressed to that lets it in."""
    if not is_public(note.to, note.cc):
        return
    for group in await _addressed(ctx, note):
        if not await _allowed(ctx, group):
            ctx.notes.append(f"not announced by group {group.username}: its rule is {group.rule}")
            continue
        await announce_object(
            ctx.tx, ctx.rt.urls, group, note.id, ctx.actor.uri, content_html=content_html, url=note.url or note.id
        )


async def on_changed(ctx: Context, object_id: str, *, deleted: bool = False) -> None:
    """An Update or Delete of a remote note a group announced: the group passes the activity on (FEP-1b12)."""
    for shown in await groups.shown_in(ctx.tx, object_id):
        if shown.removed_at is not None or shown.post_id is not None or shown.author_uri != ctx.actor.uri:
            continue
        group = await groups.by_id(ctx.tx, shown.group_id)
        if group is None:
            continue
        await announce_activity(ctx.tx, ctx.rt.urls, group, ctx.activity.raw)
        if deleted:
            await groups.mark_removed(ctx.tx, shown.id)
