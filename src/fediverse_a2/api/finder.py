"""What a status id names, for whoever asks: the one place that decides who may see a status.

* a post: when published and not deleted (its page is public);
* a comment: a public or unlisted one (shown under its post) for anyone; a followers-only or
  direct one for its author and the members it answers, as they were told of it;
* a remote post: a public one for anyone; another for the members following its author;
* a member's note: a public or unlisted one for anyone; another for its author alone;
* a note known only from a notification: the notified member alone.

An id must also carry its status's own publication second (ids.py), so each status has
exactly one id.
"""

from __future__ import annotations

from ..activitypub.visibility import SHOWN
from ..models import Comment, Member, Post
from ..runtime import Runtime
from ..store import comments, member_notes, notifications, posts, remote_posts
from .frame import ApiError
from .ids import StatusKind, StatusRef, parse_status_id
from .status_views import Item, item_status_id

__all__ = ["NOTE_KINDS", "StatusFinder"]

NOTE_KINDS = ("reply", "mention")  # notifications that tell of a note (the others of a like, a boost, a follow)


class StatusFinder:
    """Finds statuses by id for a viewer (a member, or None for anyone)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def find(self, value: str, viewer: Member | None) -> Item | None:
        """The status an id names, when the viewer may see it."""
        ref = parse_status_id(value)
        if ref is None:
            return None
        item = await self._load(ref, viewer)
        return item if item is not None and int(item_status_id(item)) == int(value) else None

    async def get(self, value: str, viewer: Member | None) -> Item:
        """As `find`, or 404."""
        item = await self.find(value, viewer)
        if item is None:
            raise ApiError(404, "Record not found")
        return item

    async def own(self, value: str, member: Member) -> Item:
        """A status the member wrote (to change or delete it), or 404 (another's is not theirs to touch)."""
        item = await self.get(value, member)
        if not self.is_own(item, member):
            raise ApiError(404, "Record not found")
        return item

    def is_own(self, item: Item, member: Member) -> bool:
        """Whether the member wrote it."""
        if isinstance(item, Post):
            return item.member_id == member.id
        if isinstance(item, Comment):
            return item.local and item.author.uri == self.rt.urls.actor(member.username)
        if isinstance(item, member_notes.MemberNote):
            return item.member_id == member.id
        return False

    async def _load(self, ref: StatusRef, viewer: Member | None) -> Item | None:
        db = self.rt.db
        viewer_id = viewer.id if viewer is not None else None
        if ref.kind == StatusKind.POST:
            found = await posts.by_ids(db, [ref.row_id])  # live and published only
            return found[0] if found else None
        if ref.kind == StatusKind.COMMENT:
            shown = await comments.viewable(db, [ref.row_id], self.rt.policy, self.rt.urls, viewer_id)
            return shown.get(ref.row_id)
        if ref.kind == StatusKind.REMOTE:
            post = (await remote_posts.by_ids(db, [ref.row_id])).get(ref.row_id)
            if post is None or post.public:
                return post
            return await remote_posts.visible_to(db, viewer_id, post.ap_id) if viewer_id is not None else None
        if ref.kind == StatusKind.NOTE:
            note = await member_notes.by_id(db, ref.row_id)
            if note is None or note.visibility in SHOWN or note.member_id == viewer_id:
                return note
        if ref.kind == StatusKind.NOTICE and viewer_id is not None:
            # A note known only from a notification: the notified member's alone.
            told = await notifications.by_id(db, viewer_id, ref.row_id)
            return told if told is not None and told.kind in NOTE_KINDS else None
        return None
