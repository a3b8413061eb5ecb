"""Gathering what entities show: members and remote actors as Accounts, posts and comments as Statuses.

Everything is looked up in batches (one statement per kind of thing for a whole page), so a
page of 40 statuses costs a handful of statements, not hundreds.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from ..activitypub.build import HashtagRef, post_content
from ..content import sanitise_remote_html
from ..models import DELETED, Comment, Member, Post
from ..runtime import Runtime
from ..store import account_stats, comments, media, members, posts, relationships, remote_account_ids, tags
from ..store import actors as actor_store
from ..store.actors import ActorRecord
from ..store.remote_posts import TimelinePost
from . import entities
from .entities import AccountView, MediaView, RelationshipView, StatusView
from .ids import (
    REMOTE_BASE,
    AccountRef,
    StatusKind,
    member_account_id,
    parse_account_id,
    remote_account_id,
    status_id,
)

__all__ = ["Account", "Presenter"]

Account = Member | ActorRecord  # what an account id names


class Presenter:
    """Turns stored things into entities for one request's viewer."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.urls = rt.urls
        self.default_avatar = f"{rt.urls.base}/static/avatar.png"
        self.default_header = f"{rt.urls.base}/static/header.png"

    # -- accounts ---------------------------------------------------------------------------

    async def resolve(self, account_id: str) -> Account | None:
        """The member or remote actor an account id names (None: no such account)."""
        ref = parse_account_id(account_id)
        if ref is None:
            return None
        return await self.resolve_ref(ref)

    async def resolve_ref(self, ref: AccountRef) -> Account | None:
        """The member or remote actor behind a parsed id."""
        if ref.member_id is not None:
            member = await members.by_id(self.rt.db, ref.member_id)
            return member if member is not None and member.state not in ("pending", DELETED) else None
        assert ref.remote_id is not None
        uri = await remote_account_ids.uri_of(self.rt.db, ref.remote_id)
        return await actor_store.by_uri(self.rt.db, uri) if uri is not None else None

    async def by_uri(self, uri: str) -> Account | None:
        """The account of an actor URI, ours or cached."""
        username = self.urls.username(uri) if self.urls.is_local(uri) else None
        if username is not None:
            return await members.by_username(self.rt.db, username)
        return await actor_store.by_uri(self.rt.db, uri)

    def uri_of(self, account: Account) -> str:
        """The actor URI of an account."""
        return self.urls.actor(account.username) if isinstance(account, Member) else account.uri

    async def account_ids(self, uris: Sequence[str]) -> dict[str, str]:
        """The account id of each actor URI (members' from their username, remote ones from the id table)."""
        out: dict[str, str] = {}
        remote: list[str] = []
        local: dict[str, str] = {}
        for uri in uris:
            username = self.urls.username(uri) if self.urls.is_local(uri) else None
            if username is not None:
                local[username] = uri
            else:
                remote.append(uri)
        for username, uri in local.items():
            member = await members.by_username(self.rt.db, username)
            if member is not None:
                out[uri] = member_account_id(member.id)
        for uri, number in (await remote_account_ids.ids_for(self.rt.db, remote)).items():
            out[uri] = remote_account_id(number)
        return out

    def _member_view(self, member: Member, stats: account_stats.AccountStats | None) -> AccountView:
        avatar = self.urls.media(member.avatar) if member.avatar else self.default_avatar
        return AccountView(
            id=member_account_id(member.id), username=member.username, acct=member.username,
            url=self.urls.actor(member.username), uri=self.urls.actor(member.username),
            display_name=member.name, note=entities.plain_to_html(member.summary), avatar=avatar,
            header=self.default_header, locked=member.locked, group=False,
            fields=tuple((html.escape(k), html.escape(v)) for k, v in member.fields),
            created_at=member.created_at,
            statuses_count=stats.statuses if stats else 0, followers_count=stats.followers if stats else 0,
            following_count=stats.following if stats else 0, last_status_at=stats.last_status_at if stats else None,
        )  # fmt: skip

    def _actor_view(self, actor: ActorRecord, account_id: str) -> AccountView:
        username = actor.username or actor.handle.lstrip("@").split("@")[0]
        return AccountView(
            id=account_id, username=username, acct=actor.handle.lstrip("@"), url=actor.url or actor.uri,
            uri=actor.uri, display_name=actor.name or username,
            note=sanitise_remote_html(actor.summary) if actor.summary else "",
            avatar=actor.icon or self.default_avatar, header=self.default_header,
            bot=actor.type in ("Service", "Application"), group=actor.type == "Group", created_at=actor.fetched_at,
        )  # fmt: skip

    async def member_views(self, people: Sequence[Member]) -> dict[int, AccountView]:
        """Accounts of members, with their counts (one statement for all)."""
        stats = await account_stats.for_members(self.rt.db, [m.id for m in people])
        return {m.id: self._member_view(m, stats.get(m.id)) for m in people}

    async def accounts(self, found: Sequence[Account]) -> list[dict[str, Any]]:
        """Accounts of members and remote actors, in the order given."""
        people = await self.member_views([a for a in found if isinstance(a, Member)])
        remote = await remote_account_ids.ids_for(self.rt.db, [a.uri for a in found if isinstance(a, ActorRecord)])
        out = []
        for item in found:
            if isinstance(item, Member):
                out.append(entities.account(people[item.id]))
            else:
                out.append(entities.account(self._actor_view(item, remote_account_id(remote[item.uri]))))
        return out

    async def account(self, item: Account) -> dict[str, Any]:
        """One Account."""
        return (await self.accounts([item]))[0]

    async def actors_by_uri(self, uris: Sequence[str]) -> list[ActorRecord]:
        """Cached remote actors, in the order given (unknown ones left out)."""
        found = []
        for uri in dict.fromkeys(uris):
            actor = await actor_store.by_uri(self.rt.db, uri)
            if actor is not None:
                found.append(actor)
        return found

    async def relationships(self, viewer: Member, targets: Sequence[tuple[str, Account]]) -> list[dict[str, Any]]:
        """Relationships of the viewer to (account id, account) pairs; with members there is none to have."""
        uris = [t.uri for _, t in targets if isinstance(t, ActorRecord)]
        standing = await relationships.standings(self.rt.db, viewer.id, uris)
        blocked = self.rt.policy
        out = []
        for account_id, target in targets:
            if isinstance(target, Member):
                out.append(entities.relationship(RelationshipView(account_id)))
                continue
            s = standing[target.uri]
            view = RelationshipView(
                account_id, following=s.following == "accepted", requested=s.following == "pending",
                followed_by=s.followed_by, requested_by=s.requested_by,
                domain_blocking=blocked.is_blocked(target.domain),
            )  # fmt: skip
            out.append(entities.relationship(view))
        return out

    # -- statuses ---------------------------------------------------------------------------

    def _media_view(self, item: media.Media) -> MediaView:
        return MediaView(str(item.id), self.urls.media(item.file_name), item.alt or None, item.width, item.height,
                         item.media_type)  # fmt: skip

    async def post_statuses(self, found: Sequence[Post]) -> list[tuple[int, dict[str, Any]]]:
        """Statuses of local posts, each with its numeric id (for paging): the title as a bold first line."""
        if not found:
            return []
        ids = [p.id for p in found]
        images = await media.for_posts(self.rt.db, ids)
        tag_map = await tags.for_posts(self.rt.db, ids)
        replies = await comments.counts_for_posts(self.rt.db, ids)
        authors = await self.member_views(
            [m for m in [await members.by_id(self.rt.db, i) for i in {p.member_id for p in found}] if m is not None]
        )
        language = self.rt.config.instance.language
        out = []
        for post in found:
            refs = [HashtagRef(name, self.urls.tag(norm)) for name, norm in tag_map.get(post.id, [])]
            sid = status_id(StatusKind.POST, post.id, post.published)
            view = StatusView(
                id=sid, uri=self.urls.post(post.id), url=self.urls.post(post.id),
                account=entities.account(authors[post.member_id]),
                content=post_content(post.title, post.content_html, refs) if post.title else post.content_html,
                created_at=post.published, edited_at=post.updated, spoiler_text=post.summary or "",
                language=post.language or language, media=tuple(self._media_view(m) for m in images.get(post.id, [])),
                tags=tuple((r.name.lstrip("#"), r.href) for r in refs), replies_count=replies.get(post.id, 0),
                reblogs_count=post.boosts, favourites_count=post.likes,
            )  # fmt: skip
            out.append((int(sid), entities.status(view)))
        return out

    async def comment_statuses(self, found: Sequence[Comment]) -> list[tuple[int, dict[str, Any]]]:
        """Statuses of comments: replies to their post, or to the comment they answer."""
        if not found:
            return []
        db = self.rt.db
        parents = await comments.by_ids(db, [c.parent_id for c in found if c.parent_id is not None], self.urls)
        post_map = {p.id: p for p in await posts.by_ids(db, list({c.post_id for c in found}))}
        author_uris = [c.author.uri for c in found]
        author_uris += [p.author.uri for p in parents.values()]
        author_uris += [self.urls.actor(p.username) for p in post_map.values()]
        account_ids = await self.account_ids(author_uris)
        people: dict[str, dict[str, Any]] = {}
        for uri in dict.fromkeys(c.author.uri for c in found):
            account = await self.by_uri(uri)
            if account is not None:
                people[uri] = await self.account(account)
        language = self.rt.config.instance.language
        out = []
        for comment in found:
            if comment.author.uri not in people:
                continue
            parent = parents.get(comment.parent_id) if comment.parent_id is not None else None
            post = post_map.get(comment.post_id)
            reply_to: str | None
            reply_account: str | None
            if parent is not None:
                reply_to = status_id(StatusKind.COMMENT, parent.id, parent.published)
                reply_account = account_ids.get(parent.author.uri)
            elif post is not None:
                reply_to = status_id(StatusKind.POST, post.id, post.published)
                reply_account = account_ids.get(self.urls.actor(post.username))
            else:
                reply_to, reply_account = None, None
            sid = status_id(StatusKind.COMMENT, comment.id, comment.published)
            view = StatusView(
                id=sid, uri=comment.ap_id, url=comment.url or comment.ap_id, account=people[comment.author.uri],
                content=comment.content_html, created_at=comment.published, edited_at=comment.updated,
                in_reply_to_id=reply_to, in_reply_to_account_id=reply_account,
                spoiler_text=comment.summary or "", language=comment.language or language,
            )  # fmt: skip
            out.append((int(sid), entities.status(view)))
        return out

    async def remote_statuses(self, found: Sequence[TimelinePost]) -> list[tuple[int, dict[str, Any]]]:
        """Statuses of stored remote posts (their images as attachments)."""
        if not found:
            return []
        people: dict[str, dict[str, Any]] = {}
        for actor in await self.actors_by_uri([p.actor_uri for p in found]):
            people[actor.uri] = await self.account(actor)
        out = []
        for post in found:
            if post.actor_uri not in people:
                continue
            images = tuple(
                MediaView(str(REMOTE_BASE + post.id * 8 + i), str(image.get("url")), image.get("name") or None,
                          image.get("width"), image.get("height"), str(image.get("mediaType") or "image/jpeg"))
                for i, image in enumerate(post.images[:4]) if image.get("url")
            )  # fmt: skip
            sid = status_id(StatusKind.REMOTE, post.id, post.published)
            view = StatusView(
                id=sid, uri=post.ap_id, url=post.url or post.ap_id, account=people[post.actor_uri],
                content=post.content_html, created_at=post.published, edited_at=post.updated,
                spoiler_text=post.summary or "", visibility="public" if post.public else "private", media=images,
            )  # fmt: skip
            out.append((int(sid), entities.status(view)))
        return out
