"""Writing imported posts and comments, a batch per transaction, keyed by their legacy ids.

A batch is written whole or not at all: its posts, their comments, tags, images, the Creates in
the authors' outboxes, the old addresses and the search index. What an earlier run wrote (same
legacy id) is left as it is, so running again changes nothing and a killed run resumes. Nothing
here queues a delivery: the archive is never pushed to anyone.
"""

from __future__ import annotations

import html as html_lib
from collections.abc import Sequence
from dataclasses import dataclass

from ..activitypub import build
from ..archive.ning_html import sanitise_archive_html
from ..archive.usernames import assign_usernames
from ..models import Post
from ..runtime import Runtime
from ..store import activities, comments, legacy, media, members, posts, search, tags
from ..store import groups as group_store
from ..store.activities import NewActivity
from ..store.comments import NewComment
from ..store.db import Executor
from ..store.groups import ARCHIVED
from ..store.members import NewMember
from ..store.posts import NewPost
from .mapping import tag_of
from .media import Copied, MediaCopier
from .model import AuthorRef, ImportPost
from .notes import comment_create, post_create
from .report import Summary

__all__ = ["AuthorBook", "Writer"]

FIRST_REPLIES = 50  # comment ids inlined in a Note's replies collection, as objects.post serves it


class AuthorBook:
    """Members by legacy key; an author the member list lacks becomes an archive author on first use."""

    def __init__(self, known: dict[str, tuple[int, str, str]], used: set[str], summary: Summary) -> None:
        self.known = {key: (mid, username) for key, (mid, username, _) in known.items()}
        self.used = used
        self.summary = summary

    def add(self, key: str, member_id: int, username: str) -> None:
        """Remember a member under a key (a member matched by name, a member just inserted)."""
        self.known[key] = (member_id, username)
        self.used.add(username)

    async def resolve(self, tx: Executor, ref: AuthorRef, when: float) -> tuple[int, str]:
        """(member id, username) of an author, creating an archive author (state left) when unknown."""
        found = self.known.get(ref.key)
        if found is not None:
            return found
        username = assign_usernames([(ref.key, ref.name)], taken=self.used)[ref.key]
        row = NewMember(ref.key, username, ref.name[:100] or ref.key, None, "member", "left", True, when)
        [member_id] = await members.add_many(tx, [row])
        if member_id is None:  # another import brought this author in meanwhile
            raise RuntimeError(f"archive author {ref.key!r} appeared during the import; run it again")
        self.summary.created["authors"] += 1
        self.add(ref.key, member_id, username)
        return member_id, username


@dataclass
class _Content:
    html: str
    images: list[Copied]  # attached images


class Writer:
    """Writes batches of ImportPosts inside the caller's transaction."""

    def __init__(
        self,
        rt: Runtime,
        copier: MediaCopier,
        authors: AuthorBook,
        summary: Summary,
    ) -> None:
        self.rt = rt
        self.urls = rt.urls
        self.language = rt.config.instance.language
        self.domain = rt.urls.hostname
        self.copier = copier
        self.authors = authors
        self.summary = summary
        # Old group id -> (actor row id, username) of its topic group (set by the Ning import).
        self.topic_groups: dict[str, tuple[int, str]] = {}
        # The Creates of the current batch's new posts, written once their comments are known.
        self._pending: list[tuple[Post, list[build.HashtagRef], list[build.Image]]] = []

    # -- content ---------------------------------------------------------------------------

    def _rewrite(self, tag: str, url: str) -> str | None:
        copied = self.copier.copy(url)
        if copied is None:
            if tag == "a" and url.startswith("/") and not url.startswith("//"):
                return self.urls.base + url  # a link within the old site: its old address answers here
            # Remote addresses stay (the sanitiser decides); a local file the export lacks goes.
            return None if _is_relative(url) else url
        if tag == "img" and copied.image is None:
            return None  # not an image we could re-encode: never shown as one
        return copied.url

    def _content(self, raw: str, attachments: Sequence[str], *, attach_images: bool) -> _Content:
        body = sanitise_archive_html(raw, rewrite_url=self._rewrite)
        images: list[Copied] = []
        links: list[Copied] = []
        for address in attachments:
            copied = self.copier.copy(address)
            if copied is None:
                self.summary.warnings["attachment not in the export (remote, unsafe or missing): left out"] += 1
            elif copied.image is not None and attach_images:
                images.append(copied)
            else:
                links.append(copied)
        if links:
            items = ", ".join(f'<a href="{html_lib.escape(c.url)}">{html_lib.escape(c.title)}</a>' for c in links)
            body += f"<p>Bijlagen: {items}</p>"
        return _Content(body, images)

    # -- batches ---------------------------------------------------------------------------

    async def write(self, tx: Executor, batch: Sequence[ImportPost]) -> int:
        """Write what is new of a batch; returns the number of comments written."""
        existing = await legacy.post_ids(tx, [p.legacy_id for p in batch])
        have = await legacy.comment_legacy_ids(tx, [c.legacy_id for p in batch for c in p.comments])
        fresh: list[ImportPost] = []
        seen: set[str] = set()
        for p in batch:
            if p.legacy_id in existing:
                self.summary.existing["drafts" if p.draft else "posts"] += 1
            elif p.legacy_id not in seen:  # a record the export holds twice counts once
                seen.add(p.legacy_id)
                fresh.append(p)
        post_ids = await self._posts(tx, fresh)
        ids = {**existing, **post_ids}
        comment_ids = await self._comments(tx, batch, ids, have, {p.legacy_id for p in fresh})
        await search.index_posts(tx, sorted(post_ids.values()))
        await search.index_comments(tx, comment_ids)
        return len(comment_ids)

    async def _posts(self, tx: Executor, fresh: list[ImportPost]) -> dict[str, int]:
        rows: list[NewPost] = []
        prepared: list[tuple[ImportPost, int, str, _Content]] = []
        for p in fresh:
            member_id, username = await self.authors.resolve(tx, p.author, p.published)
            content = self._content(p.html, p.attachments, attach_images=True)
            prepared.append((p, member_id, username, content))
            rows.append(
                NewPost(
                    p.legacy_id,
                    member_id,
                    p.title[:300],
                    content.html,
                    content.html,
                    p.published,
                    p.updated,
                    "draft" if p.draft else "published",
                    p.source,
                    p.views,
                )
            )
        new_ids = await posts.add_many(tx, rows)
        self._pending = []
        tag_rows: list[tuple[int, str, str]] = []
        media_rows: list[tuple[int, int, int]] = []
        redirects: list[tuple[str, str, str]] = []
        for (p, member_id, username, content), post_id in zip(prepared, new_ids, strict=True):
            post_tags = [t for t in (tag_of(name) for name in p.tags) if t]
            tag_rows += [(post_id, name, norm) for name, norm in dict(post_tags).items()]
            images: list[build.Image] = []
            for position, copied in enumerate(content.images):
                meta = copied.image
                assert meta is not None
                record = await media.add(
                    tx, member_id, meta.file_name, meta.media_type, meta.width, meta.height, meta.size, ""
                )
                media_rows.append((post_id, record.id, position))
                images.append(build.Image(copied.url, meta.media_type, meta.width, meta.height, ""))
            url = self.urls.post(post_id)
            redirects += [(old, url, kind) for old, kind in p.old]
            if p.group is not None and p.group in self.topic_groups and not p.draft:
                await self._into_group(tx, post_id, url, self.topic_groups[p.group], username, p.published)
            self.summary.created["drafts" if p.draft else "posts"] += 1
            if not p.draft:
                post = Post(
                    post_id, member_id, username, p.author.name, p.title[:300], content.html, content.html,
                    p.published, p.updated, None, p.views,
                )  # fmt: skip
                refs = [build.HashtagRef(name, self.urls.tag(norm)) for name, norm in dict(post_tags).items()]
                self._pending.append((post, refs, images))
        await tags.add_many(tx, tag_rows)
        await media.attach_many(tx, media_rows)
        await legacy.add_redirects(tx, redirects)
        self.summary.created["redirects"] += len(redirects)
        return {p.legacy_id: post_id for p, post_id in zip(fresh, new_ids, strict=True)}

    async def _into_group(
        self, tx: Executor, post_id: int, url: str, group: tuple[int, str], author: str, published: float
    ) -> None:
        """An imported post in its topic group: on the group's page, never announced (an import
        pushes nothing); its record's id says so, so removing it sends no Undo either."""
        group_id, username = group
        await group_store.set_post_group(tx, post_id, group_id)
        await group_store.record_post(
            tx, group_id, url, f"{self.urls.actor(username)}{ARCHIVED}{post_id}", self.urls.actor(author),
            post_id=post_id, created_at=published,
        )  # fmt: skip

    async def _post_of(self, tx: Executor, post_id: int, cache: dict[int, Post | None]) -> Post | None:
        if post_id not in cache:
            cache[post_id] = await posts.by_id(tx, post_id)
        return cache[post_id]

    async def _comments(
        self, tx: Executor, batch: Sequence[ImportPost], ids: dict[str, int], have: set[str], fresh: set[str]
    ) -> list[int]:
        rows: list[NewComment] = []
        owners: list[tuple[ImportPost, int, str]] = []
        seen: set[str] = set()
        for p in batch:
            last = p.published
            for c in p.comments:
                published = c.published if c.published is not None else last
                last = published
                if c.legacy_id in have or c.legacy_id in seen:
                    self.summary.existing["comments"] += 1
                    continue
                seen.add(c.legacy_id)
                member_id, username = await self.authors.resolve(tx, c.author, published)
                body = self._content(c.html, c.attachments, attach_images=False).html
                rows.append(
                    NewComment(
                        c.legacy_id,
                        ids[p.legacy_id],
                        member_id,
                        self.urls.actor(username),
                        self.domain,
                        body,
                        published,
                    )
                )
                owners.append((p, member_id, username))
        comment_ids = await comments.add_many(tx, rows)
        urls = [self.urls.comment(cid) for cid in comment_ids]
        await comments.set_ap_ids(tx, list(zip(comment_ids, urls, strict=True)))
        outbox: list[NewActivity] = []
        redirects: list[tuple[str, str, str]] = []
        replies: dict[int, list[str]] = {}
        cache: dict[int, Post | None] = {post.id: post for post, _, _ in self._pending}
        for row, (p, member_id, username), url, cid in zip(rows, owners, urls, comment_ids, strict=True):
            post_url = self.urls.post(row.post_id)
            redirects.append((row.legacy_id, self.urls.comment_on_page(row.post_id, cid), "comment"))
            replies.setdefault(row.post_id, []).append(url)
            if p.legacy_id in fresh:
                target = cache.get(row.post_id)  # None for a new draft
            else:
                target = await self._post_of(tx, row.post_id, cache)
            if target is None or target.is_draft:
                continue  # a draft's comments are not public either
            outbox.append(
                comment_create(
                    url,
                    member_id,
                    username,
                    post_url,
                    target.username,
                    row.content_html,
                    row.published,
                    self.language,
                    self.urls,
                )
            )
        for post, refs, images in self._pending:
            mine = replies.get(post.id, [])
            outbox.append(
                post_create(
                    post,
                    self.urls,
                    self.language,
                    replies_total=len(mine),
                    first_replies=mine[:FIRST_REPLIES],
                    tags=refs,
                    images=images,
                )
            )
        self._pending = []
        await activities.add_many(tx, outbox)
        await legacy.add_redirects(tx, redirects)
        self.summary.created["comments"] += len(rows)
        self.summary.created["redirects"] += len(redirects)
        return comment_ids


def _is_relative(url: str) -> bool:
    return "://" not in url and not url.startswith(("mailto:", "//"))
