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
from ..store.remote_posts import TimelinePost
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

    async def by_ap_id(self, ap_id: str, viewer: Member | None) -> Item | None:
        """The stored status an ActivityPub id (or a post's address) names, when the viewer may see it."""
        db, urls = self.rt.db, self.rt.urls
        post_id = urls.any_post_id(ap_id)
        if post_id is not None:
            found = await posts.by_ids(db, [post_id])
            return found[0] if found else None
        ref = await comments.by_ap_id(db, ap_id)
        if ref is not None:
            shown = await comments.viewable(db, [ref.id], self.rt.policy, urls, viewer.id if viewer else None)
            return shown.get(ref.id)
        remote = await remote_posts.by_ap_id(db, ap_id)
        if remote is not None:
            return remote if await self.may_see_remote(remote, viewer) else None
        note = await member_notes.by_ap_id(db, ap_id)
        if note is not None and (note.visibility in SHOWN or (viewer is not None and note.member_id == viewer.id)):
            return note
        return None

    async def may_see_remote(self, post: TimelinePost, viewer: Member | None) -> bool:
        """A public remote post anyone; another the members following its author."""
        if post.public:
            return True
        return viewer is not None and await remote_posts.visible_to(self.rt.db, viewer.id, post.ap_id) is not None

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
            return post if post is not None and await self.may_see_remote(post, viewer) else None
        if ref.kind == StatusKind.NOTE:
            note = await member_notes.by_id(db, ref.row_id)
            if note is None or note.visibility in SHOWN or note.member_id == viewer_id:
                return note
        if ref.kind == StatusKind.NOTICE and viewer_id is not None:
            # A note known only from a notification: the notified member's alone.
            told = await notifications.by_id(db, viewer_id, ref.row_id)
            return told if told is not None and told.kind in NOTE_KINDS else None
        return None
