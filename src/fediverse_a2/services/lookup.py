"""Looking a post on another server up by its address (an app's search with `resolve=true`).

The post is fetched through the guarded client (signed, SSRF-safe, policy-checked) and, when it
is public, stored as the posts of followed accounts are, so a member can read, like, boost and
answer it. A followers-only or direct post is never fetched into view.
"""

from __future__ import annotations

import time

from ..activitypub.note_images import images_of
from ..activitypub.parse import ParseError, parse_note
from ..activitypub.visibility import SHOWN, visibility_of
from ..content import inert_text, sanitise_remote_html
from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..federation.handlers.context import parse_time
from ..hosts import same_origin
from ..httpclient import FetchError
from ..runtime import Runtime
from ..store import remote_posts, tombstones
from ..store.remote_posts import TimelinePost

__all__ = ["look_up_post"]


async def look_up_post(rt: Runtime, directory: ActorDirectory, url: str) -> TimelinePost | None:
    """The public post at `url` on another server, stored here; None when it is not one (an actor, say)."""
    stored = await remote_posts.by_ap_id(rt.db, url)
    if stored is not None or rt.urls.is_local(url):
        return stored
    try:
        doc = await directory.fetch_document(url)
        note = parse_note(doc)
    except (FetchError, ParseError):
        return None
    if not same_origin(note.id, note.attributed_to) or note.type in ("Person", "Service", "Group"):
        return None
    try:
        author = await directory.get(note.attributed_to)
    except FetchError as exc:
        raise UserError(f"cannot fetch the author of {url}: {exc.reason}") from None
    if visibility_of(note.to, note.cc, author.followers_url) not in SHOWN:
        return None
    if await tombstones.exists(rt.db, note.id, author.uri):
        return None
    await remote_posts.add(
        rt.db, ap_id=note.id, actor_uri=author.uri, content_html=sanitise_remote_html(note.content),
        summary=inert_text(note.summary, 500) or None, url=note.url, in_reply_to=note.in_reply_to,
        published=parse_time(note.published, time.time()), attachments=images_of(doc), public=True,
    )  # fmt: skip
    return await remote_posts.by_ap_id(rt.db, note.id)
