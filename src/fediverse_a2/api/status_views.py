"""Statuses as apps see them: posts, comments, remote posts and members' notes, for one viewer.

A blog post is a status whose content starts with its title as a bold first line (as its Note
is federated) and whose `url` is the post page; a short post (no title) is its text alone. A
comment is a status in reply to its post, or to the comment it answers. A remote post is one
received from an account a member follows (or brought by a relay). A member's note is a reply
to something on another server, or a followers-only status.

Everything is read in batches for a whole page: accounts, images, tags, counts, what each
status answers, and the viewer's own likes and boosts.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..activitypub.build import HashtagRef, post_content
from ..activitypub.visibility import DIRECT, FOLLOWERS, PUBLIC, UNLISTED
from ..models import Comment, Member, Post
from ..notices import Notification
from ..runtime import Runtime
from ..services.media_proxy import ProxyLinks
from ..store import comments, media, member_notes, member_reactions, members, posts, remote_posts, tags
from ..store.member_notes import MemberNote
from ..store.remote_posts import TimelinePost
from . import entities
from .entities import MediaView, StatusView
from .ids import REMOTE_BASE, StatusKind, status_id
from .present import Presenter

__all__ = ["API_VISIBILITY", "Item", "StatusViews", "is_reply", "item_status_id", "last_change", "object_id_of"]

# What a status id names; a Notification: a note known only from the notification that told of it
# (a direct message, a mention in a post nobody here follows), with the text it carried.
Item = Post | Comment | TimelinePost | MemberNote | Notification
# Visibility as stored (activitypub/visibility.py) -> as Mastodon's API names it.
API_VISIBILITY = {PUBLIC: "public", UNLISTED: "unlisted", FOLLOWERS: "private", DIRECT: "direct"}


def item_status_id(item: Item) -> str:
    """The status id of a post, comment, remote post or note."""
    if isinstance(item, Post):
        return status_id(StatusKind.POST, item.id, item.published)
    if isinstance(item, Comment):
        return status_id(StatusKind.COMMENT, item.id, item.published)
    if isinstance(item, TimelinePost):
        return status_id(StatusKind.REMOTE, item.id, item.published)
    if isinstance(item, Notification):
        return status_id(StatusKind.NOTICE, item.id, item.created_at)
    return status_id(StatusKind.NOTE, item.id, item.published)


def object_id_of(rt: Runtime, item: Item) -> str:
    """The ActivityPub id of what a status shows (what likes and boosts name, what a reply answers)."""
    if isinstance(item, Post):
        return rt.urls.object_of(item)  # a blog post's, or an event's
    if isinstance(item, Notification):
        return item.activity_id or item.object_url
    return item.ap_id


def last_change(item: Item) -> float:
    """When a status last changed: its last edit, else its publication."""
    if isinstance(item, Notification):
        return item.created_at
    return item.updated or item.published


def is_reply(item: Item) -> bool:
    """Whether a status answers another (every comment does)."""
    if isinstance(item, Comment):
        return True
    if isinstance(item, TimelinePost | MemberNote):
        return item.in_reply_to is not None
    return False


@dataclass(frozen=True)
class _Answer:
    """What a status answers: its status id and its author's account id (None when not known here)."""

    status_id: str | None
    account_id: str | None


class StatusViews:
    """Turns stored posts, comments, remote posts and notes into Status entities."""

    def __init__(self, rt: Runtime, accounts: Presenter) -> None:
        self.rt = rt
        self.urls = rt.urls
        self.accounts = accounts

    def author_uri(self, item: Item, usernames: dict[int, str]) -> str:
        """The actor URI of who wrote it (`usernames`: member id -> username, for notes)."""
        if isinstance(item, Post):
            return self.urls.actor(item.username)
        if isinstance(item, Comment):
            return item.author.uri
        if isinstance(item, TimelinePost):
            return item.actor_uri
        if isinstance(item, Notification):
            return item.actor_uri
        return self.urls.actor(usernames.get(item.member_id, ""))

    async def render(
        self, items: Sequence[Item], viewer: Member | None, *, with_source: bool = False
    ) -> list[dict[str, Any]]:
        """The Statuses of these items, in the order given (one whose author is unknown here is left out).

        `with_source`: each also carries `text`, what its author typed (as a deleted status is answered).
        """
        return [status for _, status in await self.pairs(items, viewer, with_source=with_source)]

    async def pairs(
        self, items: Sequence[Item], viewer: Member | None, *, with_source: bool = False
    ) -> list[tuple[Item, dict[str, Any]]]:
        """As `render`, each Status with its item."""
        if not items:
            return []
        db = self.rt.db
        the_posts = [i for i in items if isinstance(i, Post)]
        the_comments = [i for i in items if isinstance(i, Comment)]
        the_notes = [i for i in items if isinstance(i, MemberNote)]
        usernames = {m.id: m.username for m in (await _members_of(self.rt, the_notes)).values()}
        uris = [self.author_uri(i, usernames) for i in items]
        people = await self.accounts.accounts_by_uri(uris)
        object_ids = [object_id_of(self.rt, i) for i in items]
        mine = await member_reactions.of_objects(db, viewer.id, object_ids) if viewer is not None else set()
        counted = await member_reactions.counts(db, [o for i, o in zip(items, object_ids, strict=True)
                                                     if not isinstance(i, Post)])  # fmt: skip
        post_ids = [p.id for p in the_posts]
        images = await media.for_posts(db, post_ids)
        tag_map = await tags.for_posts(db, post_ids)
        post_replies = await comments.counts_for_posts(db, post_ids, self.rt.policy)
        comment_replies = await comments.reply_counts(db, [c.id for c in the_comments])
        answers = await self._answers(items)
        language = self.rt.config.instance.language
        out = []
        for item, uri, object_id in zip(items, uris, object_ids, strict=True):
            account = people.get(uri)
            if account is None:
                continue
            answer = answers.get(_reply_key(self.rt, item), _Answer(None, None))
            common: dict[str, Any] = {
                "account": account, "favourited": ("Like", object_id) in mine,
                "reblogged": ("Announce", object_id) in mine, "in_reply_to_id": answer.status_id,
                "in_reply_to_account_id": answer.account_id,
            }  # fmt: skip
            if not isinstance(item, Post):
                common["favourites_count"] = counted.get(("Like", object_id), 0)
                common["reblogs_count"] = counted.get(("Announce", object_id), 0)
            if isinstance(item, Post):
                refs = [HashtagRef(name, self.urls.tag(norm)) for name, norm in tag_map.get(item.id, [])]
                view = StatusView(
                    id=item_status_id(item), uri=object_id, url=object_id,
                    content=post_content(item.title, item.content_html, refs), created_at=item.published,
                    edited_at=item.updated, spoiler_text=item.summary or "", language=item.language or language,
                    media=tuple(self.media_view(m) for m in images.get(item.id, [])),
                    tags=tuple((r.name, r.href) for r in refs), replies_count=post_replies.get(item.id, 0),
                    reblogs_count=item.boosts, favourites_count=item.likes, **common,
                )  # fmt: skip
                source = item.body_md
            elif isinstance(item, Comment):
                view = StatusView(
                    id=item_status_id(item), uri=item.ap_id, url=item.url or item.ap_id, content=item.content_html,
                    created_at=item.published, edited_at=item.updated, spoiler_text=item.summary or "",
                    visibility=API_VISIBILITY.get(item.visibility, "public"), language=item.language or language,
                    replies_count=comment_replies.get(item.id, 0), media=_comment_media(item, self.accounts.proxy),
                    sensitive=item.sensitive, **common,
                )  # fmt: skip
                source = item.source or ""
            elif isinstance(item, TimelinePost):
                view = StatusView(
                    id=item_status_id(item), uri=item.ap_id, url=item.url or item.ap_id, content=item.content_html,
                    created_at=item.published, edited_at=item.updated, spoiler_text=item.summary or "",
                    visibility="public" if item.public else "private",
                    media=_remote_media(item, self.accounts.proxy), **common,
                )  # fmt: skip
                source = ""
            elif isinstance(item, MemberNote):
                view = StatusView(
                    id=item_status_id(item), uri=item.ap_id, url=item.ap_id, content=item.content_html,
                    created_at=item.published, edited_at=item.updated, spoiler_text=item.summary or "",
                    visibility=API_VISIBILITY.get(item.visibility, "direct"), language=item.language or language,
                    **common,
                )  # fmt: skip
                source = item.source
            else:
                link = html.escape(item.object_url)
                # A private note's text came with it; of a public one only where it is.
                content = item.content_html or f'<p><a href="{link}" rel="nofollow noopener noreferrer">{link}</a></p>'
                view = StatusView(
                    id=item_status_id(item), uri=object_id, url=item.object_url, content=content,
                    created_at=item.created_at, visibility="direct" if item.content_html else "public", **common,
                )  # fmt: skip
                source = ""
            status = entities.status(view)
            if with_source:
                status["text"] = source
            out.append((item, status))
        return out

    async def one(self, item: Item, viewer: Member | None, *, with_source: bool = False) -> dict[str, Any]:
        """The Status of one item."""
        found = await self.render([item], viewer, with_source=with_source)
        if not found:
            raise LookupError("the author of this status is not known here")
        return found[0]

    def media_view(self, item: media.Media) -> MediaView:
        """An uploaded image as a MediaAttachment shows it."""
        return MediaView(str(item.id), self.urls.media(item.file_name), item.alt or None, item.width, item.height,
                         item.media_type)  # fmt: skip

    async def _answers(self, items: Sequence[Item]) -> dict[str, _Answer]:
        """What each reply answers, by the key `_reply_key` gives it."""
        db, urls = self.rt.db, self.urls
        out: dict[str, _Answer] = {}
        found_comments = [i for i in items if isinstance(i, Comment)]
        parents = await comments.by_ids(db, [c.parent_id for c in found_comments if c.parent_id is not None], urls)
        under = {p.id: p for p in await posts.by_ids(db, list({c.post_id for c in found_comments}))}
        targets: dict[str, tuple[str, str]] = {}  # key -> (status id, author URI)
        for c in found_comments:
            parent = parents.get(c.parent_id) if c.parent_id is not None else None
            post = under.get(c.post_id)
            if parent is not None:
                targets[_reply_key(self.rt, c)] = (item_status_id(parent), parent.author.uri)
            elif post is not None:
                targets[_reply_key(self.rt, c)] = (item_status_id(post), urls.actor(post.username))
        # Remote posts and notes name what they answer by its ActivityPub id.
        for ap_id in {i.in_reply_to for i in items if isinstance(i, TimelinePost | MemberNote) and i.in_reply_to}:
            target = await self._by_ap_id(ap_id)
            if target is not None:
                targets[ap_id] = target
        account_ids = await self.accounts.account_ids([uri for _, uri in targets.values()])
        for key, (sid, uri) in targets.items():
            out[key] = _Answer(sid, account_ids.get(uri))
        return out

    async def _by_ap_id(self, ap_id: str) -> tuple[str, str] | None:
        """(status id, author URI) of a stored status by its ActivityPub id."""
        db, urls = self.rt.db, self.urls
        post_id = urls.any_post_id(ap_id)
        if post_id is not None:
            found = await posts.by_ids(db, [post_id])
            return (item_status_id(found[0]), urls.actor(found[0].username)) if found else None
        ref = await comments.by_ap_id(db, ap_id)
        if ref is not None:
            comment = await comments.by_id(db, ref.id, urls)
            return (item_status_id(comment), comment.author.uri) if comment is not None else None
        remote = await remote_posts.by_ap_id(db, ap_id)
        if remote is not None:
            return item_status_id(remote), remote.actor_uri
        note = await member_notes.by_ap_id(db, ap_id)
        if note is not None:
            usernames = await _members_of(self.rt, [note])
            member = usernames.get(note.member_id)
            return (item_status_id(note), urls.actor(member.username)) if member is not None else None
        return None


def _reply_key(rt: Runtime, item: Item) -> str:
    """How `_answers` files what an item answers: a comment by its own id, others by what they answer."""
    if isinstance(item, Comment):
        return f"comment:{item.id}"
    if isinstance(item, TimelinePost | MemberNote):
        return item.in_reply_to or ""
    return ""


async def _members_of(rt: Runtime, notes: Sequence[MemberNote]) -> dict[int, Member]:
    return await members.by_ids(rt.db, [n.member_id for n in notes])


# Remote images have no media row: their ids are made from their status's row, far above any upload's.
_COMMENT_MEDIA_BASE = 10**15


def _comment_media(comment: Comment, proxy: ProxyLinks) -> tuple[MediaView, ...]:
    """The images of a remote comment, served through the media proxy (ids above the remote posts')."""
    return tuple(
        MediaView(str(_COMMENT_MEDIA_BASE + comment.id * 8 + i), proxy.link(image.url), image.description,
                  image.width, image.height)
        for i, image in enumerate(comment.images[:4])
    )  # fmt: skip


def _remote_media(post: TimelinePost, proxy: ProxyLinks) -> tuple[MediaView, ...]:
    """The images of a remote post (what was stored of its attachments), served through the media proxy."""
    return tuple(
        MediaView(str(REMOTE_BASE + post.id * 8 + i), proxy.link(str(image.get("url"))), image.get("name") or None,
                  image.get("width"), image.get("height"), str(image.get("mediaType") or "image/jpeg"))
        for i, image in enumerate(post.images[:4]) if image.get("url")
    )  # fmt: skip
