"""Writing statuses from an app: post, show, edit (with its history and source), delete.

What a status becomes is what the web would make of it, through the same services:
* a top-level public or unlisted status is a post without a title (a short post: its page and
  its Note carry the text alone), with its images and the hashtags of its text as tags;
* a top-level followers-only status is a note to the member's followers (a post's page is public);
* a reply is a comment on a local post (or answer to a comment), or a reply to a remote object,
  with the same mentions and deliveries as from the web; a followers-only or direct reply stays
  for its addressees.

The `Idempotency-Key` header is honoured: the same key twice from one member gives one status.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response

from ..activitypub.visibility import DIRECT, FOLLOWERS, PUBLIC, UNLISTED
from ..content import plain_text
from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..models import Comment, Member, Post
from ..runtime import Runtime
from ..services.notes import edit_reply, send_note
from ..services.posts import LANGUAGES, MAX_IMAGES, MAX_TAGS, Draft, delete_post, save_post
from ..services.social import MAX_COMMENT, MAX_SUMMARY, Reply, comment, delete_comment
from ..services.uploads import MAX_ALT
from ..store import comments, idempotency, media, member_notes, posts, status_edits, tags
from ..store.member_notes import MemberNote
from ..web.ids import parse_id
from . import entities
from .finder import StatusFinder
from .frame import ApiCall, ApiError, json
from .status_views import Item, StatusViews, item_status_id, last_change, object_id_of

__all__ = ["StatusPages", "hashtags_of"]

# Mastodon's visibilities -> as stored (activitypub/visibility.py).
VISIBILITY = {"public": PUBLIC, "unlisted": UNLISTED, "private": FOLLOWERS, "direct": DIRECT}
_HASHTAG = re.compile(r"(?<![\w/#&])#([^\W_]\w{0,49})")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
MAX_KEY = 255


def hashtags_of(text: str) -> str:
    """The hashtags of a status's text, space-separated, at most MAX_TAGS (what a short post is tagged with)."""
    found = dict.fromkeys(m.group(1) for m in _HASHTAG.finditer(text))
    return " ".join(list(found)[:MAX_TAGS])


def _kind(item: Post | Comment | MemberNote) -> str:
    """How the edit history names a status's table."""
    return "post" if isinstance(item, Post) else "comment" if isinstance(item, Comment) else "note"


class StatusPages:
    """Handlers of /api/v1/statuses and /api/v1/statuses/:id (show, edit, history, source, delete)."""

    def __init__(self, rt: Runtime, directory: ActorDirectory, finder: StatusFinder, views: StatusViews) -> None:
        self.rt = rt
        self.directory = directory
        self.finder = finder
        self.views = views

    # -- posting -----------------------------------------------------------------------------

    async def create(self, call: ApiCall) -> Response:
        """POST /api/v1/statuses: a short post, a followers-only note, or a reply (see the module's docstring)."""
        member = call.member
        key = call.request.headers.get("idempotency-key")
        if key is None:
            item = await self._write(call)
            return json(await self.views.one(item, member))
        if not key.strip() or len(key) > MAX_KEY:
            raise ApiError(422, f"Idempotency-Key must be 1 to {MAX_KEY} characters")
        claim = await idempotency.claim(self.rt.db, member.id, key)
        if not claim.ours:
            if claim.status_id is None:
                raise ApiError(409, "A request with this Idempotency-Key is still being processed")
            return json(await self.views.one(await self.finder.get(claim.status_id, member), member))
        try:
            item = await self._write(call)
        except Exception:
            await idempotency.release(self.rt.db, member.id, key)  # it wrote nothing: the key may be used again
            raise
        await idempotency.complete(self.rt.db, member.id, key, item_status_id(item))
        return json(await self.views.one(item, member))

    async def _write(self, call: ApiCall) -> Item:
        member, params = call.member, call.params
        if params.strings("poll[options]"):
            raise ApiError(422, "Polls are not supported here")
        if params.get("scheduled_at"):
            raise ApiError(422, "Scheduled statuses are not supported here")
        text = params.text("status", MAX_COMMENT) or ""
        summary = params.text("spoiler_text", MAX_SUMMARY) or ""
        visibility = VISIBILITY.get((params.get("visibility") or "public").strip().lower())
        if visibility is None:
            raise ApiError(422, "visibility must be public, unlisted, private or direct")
        language = (params.get("language") or "").strip().lower()
        language = language if _LANGUAGE.fullmatch(language) else ""
        media_ids = self._media_ids(call)
        reply_to = params.get("in_reply_to_id")
        if reply_to:
            target = await self.finder.get(reply_to.strip(), member)
            if media_ids:
                raise ApiError(422, "Images go with posts: a reply is text only here")
            url = await comment(self.rt, self.directory, member.username, object_id_of(self.rt, target),
                                Reply(text, visibility, summary, language))  # fmt: skip
            return await self._written(url, member)
        if visibility in (PUBLIC, UNLISTED):
            draft = Draft("", text, summary, language if language in LANGUAGES else "", hashtags_of(text),
                          media_ids, short=True)  # fmt: skip
            return await save_post(self.rt, member, draft, publish=True)
        if visibility == FOLLOWERS:
            if media_ids:
                raise ApiError(422, "Images go with posts: a followers-only status is text only here")
            return await self._written(await send_note(self.rt, member, Reply(text, FOLLOWERS, summary, language)),
                                       member)  # fmt: skip
        raise ApiError(422, "Direct messages start as a reply here: answer a status with visibility direct")

    def _media_ids(self, call: ApiCall) -> list[int]:
        values = call.params.strings("media_ids")
        if len(values) > MAX_IMAGES:
            raise ApiError(422, f"at most {MAX_IMAGES} images")
        ids = [parse_id(v.strip()) for v in values]
        if None in ids:
            raise ApiError(422, "media_ids must be ids of uploads")
        return [i for i in dict.fromkeys(ids) if i is not None]

    async def _written(self, url: str, member: Member) -> Item:
        """The comment or note a service just wrote, by its URL."""
        comment_id = self.rt.urls.comment_id(url)
        if comment_id is not None:
            found = await comments.viewable(self.rt.db, [comment_id], self.rt.policy, self.rt.urls, member.id)
            if comment_id in found:
                return found[comment_id]
        note = await member_notes.by_ap_id(self.rt.db, url)
        if note is None:
            raise ApiError(500, "the status was written but cannot be read back")
        return note

    # -- reading -----------------------------------------------------------------------------

    async def show(self, call: ApiCall) -> Response:
        """GET /api/v1/statuses/:id."""
        return json(await self.views.one(await self.finder.get(str(call.path["id"]), call.viewer), call.viewer))

    async def source(self, call: ApiCall) -> Response:
        """GET /api/v1/statuses/:id/source: what its author typed (the member's own statuses)."""
        item = await self.finder.own(str(call.path["id"]), call.member)
        text, summary = self._source_of(item)
        return json({"id": item_status_id(item), "text": text, "spoiler_text": summary})

    @staticmethod
    def _source_of(item: Item) -> tuple[str, str]:
        if isinstance(item, Post):
            return item.body_md, item.summary or ""
        if isinstance(item, Comment):
            return item.source or plain_text(item.content_html), item.summary or ""
        if isinstance(item, MemberNote):
            return item.source, item.summary or ""
        return "", ""  # not a member's: no source here

    async def history(self, call: ApiCall) -> Response:
        """GET /api/v1/statuses/:id/history: every version, the first one first and the current one last."""
        viewer = call.viewer
        item = await self.finder.get(str(call.path["id"]), viewer)
        current = await self.views.one(item, viewer)
        account = current["account"]
        versions: list[dict[str, Any]] = []
        if isinstance(item, Post | Comment | MemberNote):
            for version in await status_edits.for_status(self.rt.db, _kind(item), item.id):
                images = [m for m in [await media.by_id(self.rt.db, i) for i in version.media_ids] if m is not None]
                attachments = [entities.media_attachment(self.views.media_view(m)) for m in images]
                versions.append(entities.status_edit(version.content_html, version.summary or "", version.created_at,
                                                     account, attachments))  # fmt: skip
        last_time = last_change(item)
        versions.append(entities.status_edit(current["content"], current["spoiler_text"], last_time, account,
                                             current["media_attachments"]))  # fmt: skip
        return json(versions)

    # -- changing ----------------------------------------------------------------------------

    async def edit(self, call: ApiCall) -> Response:
        """PUT /api/v1/statuses/:id: new text, content warning, images and their descriptions; sends Update."""
        member, params = call.member, call.params
        item = await self.finder.own(str(call.path["id"]), member)
        text = params.text("status", MAX_COMMENT)
        if text is None:
            raise ApiError(422, "status is missing")
        summary = params.text("spoiler_text", MAX_SUMMARY) or ""
        if isinstance(item, Post) and item.is_event:
            raise ApiError(422, "An event is changed on its own page")
        if isinstance(item, Post):
            await self._edit_post(call, item, text, summary)
        else:
            if self._media_ids(call):
                raise ApiError(422, "Images go with posts: a reply is text only here")
            await edit_reply(self.rt, member, object_id_of(self.rt, item), text, summary)
        return json(await self.views.one(await self.finder.get(str(call.path["id"]), member), member))

    async def _edit_post(self, call: ApiCall, item: Post, text: str, summary: str) -> None:
        params, db = call.params, self.rt.db
        post = await posts.by_id(db, item.id)
        assert post is not None
        images = (
            self._media_ids(call) if params.given("media_ids") else [m.id for m in await media.for_post(db, post.id)]
        )
        for attribute in params.indexed("media_attributes"):
            media_id = attribute.get("id", "")
            number = parse_id(media_id)
            found = await media.by_id(db, number) if number is not None else None
            if found is None or found.member_id != call.member.id or found.id not in images:
                raise ApiError(422, f"media_attributes names an image that is not this status's: {media_id}")
            description = attribute.get("description")
            if description is not None:
                if len(description) > MAX_ALT:
                    raise ApiError(422, f"description is too long (at most {MAX_ALT} characters)")
                await media.set_alt(db, found.id, description)
        language = (params.get("language") or post.language or "").strip().lower()
        current_tags = " ".join(name for name, _ in await tags.for_post(db, post.id))
        draft = Draft(post.title, text, summary, language if language in LANGUAGES else "",
                      current_tags if post.title else hashtags_of(text), images, short=not post.title)  # fmt: skip
        await save_post(self.rt, call.member, draft, publish=True, post=post)

    async def delete(self, call: ApiCall) -> Response:
        """DELETE /api/v1/statuses/:id: sends Delete; answers the status with its `text` (delete and redraft)."""
        member = call.member
        item = await self.finder.own(str(call.path["id"]), member)
        if isinstance(item, Post) and item.is_event:
            raise ApiError(422, "An event is cancelled on its own page")
        status = await self.views.one(item, member, with_source=True)
        try:
            if isinstance(item, Post):
                await delete_post(self.rt, self.rt.urls.post(item.id))
            else:
                await delete_comment(self.rt, object_id_of(self.rt, item))
        except UserError as exc:
            raise ApiError(404, str(exc)) from None
        return json(status)
