"""A member's data as one zip (AVG art. 15 and 20): at /settings/export, or `member export`.

The archive holds what Mastodon's own archive holds, in its shapes, so other software reads it:
`actor.json` (the Person, its avatar beside it), `outbox.json` (an OrderedCollection of the
Creates and boosts, each object as it is now), `likes.json`, `bookmarks.json` (empty: there are
no bookmarks here) and `media_attachments/`; the accounts followed as `following_accounts.csv`
in the format of Mastodon's import (`Account address,Show boosts,Notify on new posts,Languages`).
Beside those: `profile.json` (what the account says about the member, e-mail and mail choices
included), every post (drafts too) as Markdown with its details and as HTML under `posts/`,
`comments.json`, `event_answers.json` (their answers to events), `followers.csv`,
`notifications.json` and `media.json` (the uploads' details).

Everything is read a page at a time and written into the zip entry by entry (JSON lists item
by item), so an account with years of posts never sits in memory whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import html
import io
import os
import time
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

import orjson

from ..activitypub import build
from ..errors import UserError
from ..models import Member, Post
from ..runtime import Runtime
from ..store import activities, comments, events, follows, media, member_reactions, notifications, posts, tags

__all__ = ["FOLLOWING_HEADER", "export_archive", "export_to_file"]

PAGE = 200
CHUNK = 64 * 1024
FOLLOWING_HEADER = ["Account address", "Show boosts", "Notify on new posts", "Languages"]
_T = TypeVar("_T")

_README = """\
Dit archief bevat je gegevens van {instance} ({base}), gemaakt op {when} (UTC).
This archive holds your data from {instance} ({base}), made on {when} (UTC).

profile.json             je profiel en accountgegevens / your profile and account details
actor.json, outbox.json  je account en berichten zoals Mastodon ze exporteert / your account and posts as
                         Mastodon exports them (likes.json, bookmarks.json, media_attachments/)
posts/                   elke blogpost in Markdown (.md) en HTML (.html) / every blog post as Markdown and HTML
comments.json            je reacties / your comments
event_answers.json       je antwoorden op evenementen / your answers to events
following_accounts.csv   wie je volgt, in te lezen in Mastodon / whom you follow, for Mastodon's import
followers.csv            wie jou volgt / who follows you
notifications.json       je meldingen / your notifications
media.json               je afbeeldingen (beschrijvingen) / your images (descriptions)
"""


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2)


async def _pages(
    fetch: Callable[[Any], Awaitable[list[_T]]], cursor: Callable[[_T], Any], start: Any
) -> AsyncIterator[_T]:
    """Every item of a keyset-paged query: `fetch(after)` returns the page after `after`."""
    after = start
    while True:
        page = await fetch(after)
        for item in page:
            yield item
        if len(page) < PAGE:
            return
        after = cursor(page[-1])


class _Archive:
    """Writes one member's archive into an open zip file."""

    def __init__(self, rt: Runtime, member: Member, zf: zipfile.ZipFile) -> None:
        self.rt = rt
        self.member = member
        self.zf = zf
        self.media_prefix = rt.urls.media("")

    def text(self, name: str, data: str | bytes) -> None:
        self.zf.writestr(name, data)

    @contextlib.contextmanager
    def entry(self, name: str) -> Iterator[IO[bytes]]:
        """An entry written piece by piece, through a buffer (the compressor gets large writes)."""
        with self.zf.open(name, "w") as raw, io.BufferedWriter(raw, CHUNK) as out:
            yield out

    async def write(self) -> None:
        rt = self.rt
        when = build.iso(time.time())
        self.text("README.txt", _README.format(instance=rt.config.instance.name, base=rt.urls.base, when=when))
        await self.profile()
        await self.uploads()
        await self.outbox()
        await self.likes()
        self.text("bookmarks.json", _json(_collection("bookmarks.json", [])))
        await self.accounts("following", "following_accounts.csv")
        await self.accounts("followers", "followers.csv")
        await self.posts()
        await self.comments()
        await self.answers()
        await self.notifications()

    async def profile(self) -> None:
        rt, member = self.rt, self.member
        settings = await notifications.get_settings(rt.db, member.id)
        avatar = f"avatar{Path(member.avatar).suffix}" if member.avatar else None
        self.text(
            "profile.json",
            _json(
                {
                    "username": member.username,
                    "handle": rt.urls.handle(member.username),
                    "actor": rt.urls.actor(member.username),
                    "name": member.name,
                    "summary": member.summary,
                    "fields": [{"name": k, "value": v} for k, v in member.fields],
                    "avatar": avatar,
                    "email": member.email,
                    "role": member.role,
                    "created": build.iso(member.created_at),
                    "locked": member.locked,
                    "also_known_as": list(member.also_known_as),
                    "moved_to": member.moved_to,
                    "mail": {"language": settings.language, "modes": settings.modes},
                }
            ),
        )
        actor = build.person(member, rt.urls)
        if member.avatar and avatar:
            actor["icon"] = {**actor["icon"], "url": avatar}
            await self.copy(member.avatar, avatar)
        self.text("actor.json", _json(actor))

    async def copy(self, file_name: str, arcname: str) -> None:
        """A stored image into the archive (read from disk in a thread, in chunks)."""
        path = self.rt.config.media_path / file_name
        if "/" in file_name or not path.is_file():
            return
        # Images are compressed already: stored as they are.
        await asyncio.to_thread(self.zf.write, path, arcname, zipfile.ZIP_STORED)

    async def uploads(self) -> None:
        db, member = self.rt.db, self.member

        def uploads() -> AsyncIterator[media.Media]:
            return _pages(lambda after: media.page_of_member(db, member.id, after, PAGE), lambda m: m.id, 0)

        # Two passes: a zip takes no other entry while one is open for writing.
        copied: set[str] = set()
        async for m in uploads():
            if m.file_name not in copied:  # two uploads of the same bytes share one file
                copied.add(m.file_name)
                await self.copy(m.file_name, f"media_attachments/{m.file_name}")
        with self.entry("media.json") as out:
            items = _JsonList(out, b"[")
            async for m in uploads():
                items.add(
                    {
                        "file": f"media_attachments/{m.file_name}",
                        "url": self.rt.urls.media(m.file_name),
                        "mediaType": m.media_type,
                        "width": m.width,
                        "height": m.height,
                        "description": m.alt,
                    }
                )
            out.write(b"\n]\n")

    def _local_media(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Attachments of ours point into media_attachments/, as in Mastodon's archive."""
        attachments = obj.get("attachment")
        if isinstance(attachments, list):
            for item in attachments:
                url = item.get("url") if isinstance(item, dict) else None
                if isinstance(url, str) and url.startswith(self.media_prefix):
                    item["url"] = "media_attachments/" + url.removeprefix(self.media_prefix)
        return obj

    async def outbox(self) -> None:
        db, member = self.rt.db, self.member
        total = 0
        with self.entry("outbox.json") as out:
            out.write(b'{\n"@context": ' + orjson.dumps(build.CONTEXT) + b',\n"id": "outbox.json",\n')
            out.write(b'"type": "OrderedCollection",\n"orderedItems": [')
            items = _JsonList(out)
            sent = _pages(
                lambda after: activities.page_of_member(db, member.id, ("Create", "Announce"), after, PAGE),
                lambda a: a.id,
                0,
            )
            async for activity in sent:
                item = await self._current(activity)
                if item is not None:
                    items.add(item)
                    total += 1
            out.write(b'\n],\n"totalItems": ' + str(total).encode() + b"\n}\n")

    async def _current(self, activity: activities.OwnActivity) -> dict[str, Any] | None:
        """A Create with its object as it is now (None once deleted), or a boost not undone."""
        body = orjson.loads(activity.body)
        body.pop("@context", None)
        if activity.type == "Announce":
            kept = await member_reactions.get(self.rt.db, self.member.id, "Announce", activity.object_id or "")
            return body if kept is not None and kept.activity_id == body.get("id") else None
        if activity.object_id is None:
            return None
        latest = await activities.latest_version(self.rt.db, activity.object_id)
        if latest is None or latest.type == "Delete":
            return None
        obj = orjson.loads(latest.body).get("object")
        if isinstance(obj, dict):
            body["object"] = self._local_media(obj)
        return body

    async def likes(self) -> None:
        db, member = self.rt.db, self.member
        with self.entry("likes.json") as out:
            out.write(b'{\n"@context": "' + build.AS_CONTEXT.encode() + b'",\n"id": "likes.json",\n')
            out.write(b'"type": "OrderedCollection",\n"orderedItems": [')
            items = _JsonList(out)
            total = 0
            while True:
                page = await member_reactions.page_of_member(db, member.id, "Like", total, PAGE)
                for reaction in page:
                    items.add(reaction.object_id)
                total += len(page)
                if len(page) < PAGE:
                    break
            out.write(b'\n],\n"totalItems": ' + str(total).encode() + b"\n}\n")

    async def accounts(self, table: str, name: str) -> None:
        db, member = self.rt.db, self.member
        with self.entry(name) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(FOLLOWING_HEADER if table == "following" else ["Account address", "Actor URL"])
            rows = _pages(lambda after: follows.accounts_page(db, table, member.id, after, PAGE), lambda a: a.id, 0)
            async for account in rows:
                address = (account.handle or "").lstrip("@") or account.actor_uri
                if table == "following":
                    # Mastodon writes its own follows so: boosts shown, no notifications, all languages.
                    writer.writerow([address, "true", "false", ""])
                else:
                    writer.writerow([address, account.actor_uri])
            out.flush()
            out.detach()

    async def posts(self) -> None:
        db, member = self.rt.db, self.member
        mine = _pages(
            lambda after: posts.page_of_member(db, member.id, after, PAGE), lambda p: (p.published, p.id), (-1e18, 0)
        )
        async for post in mine:
            names = [name for name, _ in await tags.for_post(db, post.id)]
            images = [f"media_attachments/{m.file_name}" for m in await media.for_post(db, post.id)]
            details = self._details(post, names, images)
            if post.is_event and (event := await events.by_id(db, post.id)) is not None:
                details["event"] = {
                    "starts": build.iso(event.starts_at),
                    "ends": build.iso(event.ends_at) if event.ends_at else None,
                    "place": event.location_name,
                    "address": event.location_address,
                    "online": event.online_url,
                }
            self.text(f"posts/{post.id}.md", self._markdown(post, details))
            self.text(f"posts/{post.id}.html", self._html(post))

    def _details(self, post: Post, names: list[str], images: list[str]) -> dict[str, Any]:
        return {
            "title": post.title,
            "url": self.rt.urls.object_of(post),
            "state": post.state,
            "published": build.iso(post.published),
            "updated": build.iso(post.updated) if post.updated else None,
            "language": post.language or self.rt.config.instance.language,
            "content_warning": post.summary,
            "tags": names,
            "images": images,
            "views": post.views,
        }

    def _markdown(self, post: Post, details: dict[str, Any]) -> str:
        # Front matter as YAML, each value written as JSON (a JSON scalar, list or object is valid YAML).
        lines = ["---"]
        lines += [f"{k}: {orjson.dumps(v).decode()}" for k, v in details.items()]
        return "\n".join([*lines, "---", "", post.body_md.rstrip(), ""])

    def _html(self, post: Post) -> str:
        lang = html.escape(post.language or self.rt.config.instance.language)
        title = html.escape(post.title)
        return (
            f'<!DOCTYPE html>\n<html lang="{lang}">\n<head><meta charset="utf-8"><title>{title}</title></head>\n'
            f"<body>\n<article>\n<h1>{title}</h1>\n<p><time>{build.iso(post.published)}</time></p>\n"
            f"{post.content_html}\n</article>\n</body>\n</html>\n"
        )

    async def comments(self) -> None:
        db, member = self.rt.db, self.member
        with self.entry("comments.json") as out:
            items = _JsonList(out, b"[")
            for state in comments.STATES:  # an erased comment is no longer anyone's data

                async def page(after: tuple[float, int], state: str = state) -> list[comments.OwnComment]:
                    return await comments.page_of_member(db, member.id, state, after, PAGE)

                async for c in _pages(page, lambda c: (c.published, c.id), (-1e18, 0)):
                    items.add(
                        {
                            "id": c.ap_id,
                            "post": self.rt.urls.post(c.post_id),
                            "published": build.iso(c.published),
                            "updated": build.iso(c.updated) if c.updated else None,
                            "content": c.content_html,
                            "visibility": c.visibility,
                            "state": c.state,
                        }
                    )
            out.write(b"\n]\n")

    async def answers(self) -> None:
        db, member = self.rt.db, self.member
        with self.entry("event_answers.json") as out:
            items = _JsonList(out, b"[")
            given = _pages(lambda after: events.answers_of_member(db, member.id, after, PAGE), lambda a: a.id, 0)
            async for a in given:
                items.add(
                    {
                        "event": self.rt.urls.event(a.post_id),
                        "title": a.title,
                        "starts": build.iso(a.starts_at),
                        "answer": a.status,
                        "updated": build.iso(a.updated_at),
                    }
                )
            out.write(b"\n]\n")

    async def notifications(self) -> None:
        db, member = self.rt.db, self.member
        with self.entry("notifications.json") as out:
            items = _JsonList(out, b"[")
            offset = 0
            while True:
                page = await notifications.page(db, member.id, PAGE, offset)
                for n in page:
                    items.add(
                        {
                            "kind": n.kind,
                            "from": n.actor_uri,
                            "from_name": n.actor_name,
                            "object": n.object_url,
                            "created": build.iso(n.created_at),
                            "read": build.iso(n.read_at) if n.read_at else None,
                            "content": n.content_html,
                        }
                    )
                if len(page) < PAGE:
                    break
                offset += PAGE
            out.write(b"\n]\n")


class _JsonList:
    """Writes the items of a JSON list one at a time (the caller writes the brackets around them)."""

    def __init__(self, out: IO[bytes], opening: bytes = b"") -> None:
        self.out = out
        self.first = True
        out.write(opening)

    def add(self, item: Any) -> None:
        self.out.write((b"\n" if self.first else b",\n") + orjson.dumps(item))
        self.first = False


def _collection(name: str, items: list[Any]) -> dict[str, Any]:
    return {"@context": build.AS_CONTEXT, "id": name, "type": "OrderedCollection", "totalItems": len(items),
            "orderedItems": items}  # fmt: skip


async def export_archive(rt: Runtime, member: Member, out: IO[bytes]) -> None:
    """Write a member's archive as a zip into `out` (a seekable binary file)."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        await _Archive(rt, member, zf).write()


async def export_to_file(rt: Runtime, member: Member, path: Path) -> None:
    """`member export USERNAME FILE`: the archive written to a new file (never over an existing one)."""
    if path.exists():
        raise UserError(f"{path} exists already; choose another file name")
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("xb") as out:
            await export_archive(rt, member, out)
        os.replace(partial, path)
    except FileNotFoundError:
        raise UserError(f"cannot write {path}: its folder does not exist") from None
    finally:
        partial.unlink(missing_ok=True)
