"""Remote interaction: a visitor with a fediverse account follows a member or answers a post
from their own server, in two clicks, as with Mastodon's and WordPress's "interact" buttons.

The visitor gives their handle; WebFinger on their server (through the guarded client) names
its `http://ostatus.org/schema/1.0/subscribe` template (Mastodon: `/authorize_interaction?uri=
{uri}`), and the visitor is sent there with the URL of our actor or post. Only URLs of this
instance's own members and posts are ever passed on, and only to the template the visitor's own
server published: this is never an open redirect.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx

from ..errors import UserError
from ..federation import webfinger
from ..hosts import origin_of
from ..httpclient import FetchError
from ..runtime import Runtime
from ..store import members, posts

__all__ = ["Target", "interaction_url", "local_target"]

MAX_TEMPLATE = 2000


@dataclass(frozen=True, slots=True)
class Target:
    """What a visitor is about to follow or answer: its URL, and how a page names it."""

    url: str  # a member's actor URL, or a post's Note (an event's Event)
    name: str  # the member's name, or the post's title
    author: str  # the member's, or the post's author's, name
    handle: str  # the member's, or the post's author's, @user@host


async def local_target(rt: Runtime, uri: str) -> Target | None:
    """The member (actor URL) or live post `uri` names on this instance, else None."""
    urls = rt.urls
    username = urls.username(uri)
    if username is not None:
        member = await members.by_username(rt.db, username)
        if member is None or member.disabled:
            return None
        return Target(urls.actor(member.username), member.name, member.name, urls.handle(member.username))
    event_id = urls.event_id(uri)
    post_id = urls.post_id(uri) if event_id is None else event_id
    if post_id is not None:
        post = await posts.by_id(rt.db, post_id)
        live = post is not None and post.deleted_at is None and post.state == "published"
        if post is not None and live and post.is_event == (event_id is not None):
            # a post's Note or an event's Event
            return Target(urls.object_of(post), post.title, post.author_name, urls.handle(post.username))
    return None


async def interaction_url(rt: Runtime, handle_text: str, target: str) -> str:
    """Where to send the visitor: their server's subscribe template filled with `target`.

    UserError (with a message for the visitor) when the handle is not one, its server cannot be
    reached or does not publish a usable template.
    """
    try:
        handle = webfinger.parse_handle(handle_text)
    except UserError as exc:
        raise UserError(str(exc), key="interact_bad_handle") from None
    try:
        answer = await webfinger.lookup(rt, handle)
    except (FetchError, httpx.HTTPError):
        raise UserError(f"{handle} could not be looked up on its server", key="interact_unknown") from None
    template = answer.subscribe_template
    if not template or "{uri}" not in template or len(template) > MAX_TEMPLATE:
        raise UserError(f"the server of {handle} does not offer remote interaction", key="interact_no_template")
    url = template.replace("{uri}", quote(target, safe=""))
    origin = origin_of(url)
    schemes = ("https", "http") if rt.config.federation.allow_private_network else ("https",)
    if origin is None or origin.scheme not in schemes or rt.urls.is_local(url):
        raise UserError(f"the server of {handle} gave an unusable address", key="interact_no_template")
    return url
