"""Every URL this instance mints, derived from base_url in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import quote, urlsplit

from ..hosts import Origin, is_authority_of, origin_of, parse_origin
from ..models import EVENT, Post

__all__ = ["Urls"]

_POST = re.compile(r"^/posts/(\d{1,18})$")
_EVENT = re.compile(r"^/events/(\d{1,18})$")
_COMMENT = re.compile(r"^/comments/(\d{1,18})$")
_ACTOR = re.compile(r"^/users/([a-z0-9_]{1,30})$")


@dataclass(frozen=True)
class Urls:
    base: str  # origin without trailing slash

    @cached_property
    def origin(self) -> Origin:
        """This instance's origin, canonical: what every "is this URL ours?" compares with."""
        return parse_origin(self.base)

    @property
    def host(self) -> str:
        """host[:port] as it appears in handles and the Host header (canonical, default port left out)."""
        return self.origin.authority

    @property
    def hostname(self) -> str:
        """The canonical host of base_url, without a port: what a domain rule or a `domain` column holds."""
        return self.origin.host

    @property
    def instance_actor(self) -> str:
        return f"{self.base}/actor"

    @property
    def instance_key(self) -> str:
        return f"{self.base}/actor#main-key"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    def actor(self, username: str) -> str:
        return f"{self.base}/users/{username}"

    def key(self, username: str) -> str:
        return f"{self.actor(username)}#main-key"

    def inbox(self, username: str) -> str:
        return f"{self.actor(username)}/inbox"

    def outbox(self, username: str) -> str:
        return f"{self.actor(username)}/outbox"

    def followers(self, username: str) -> str:
        return f"{self.actor(username)}/followers"

    def following(self, username: str) -> str:
        return f"{self.actor(username)}/following"

    def post(self, post_id: int) -> str:
        return f"{self.base}/posts/{post_id}"

    def event(self, event_id: int) -> str:
        return f"{self.base}/events/{event_id}"

    def event_ics(self, event_id: int) -> str:
        return f"{self.event(event_id)}.ics"

    def object_of(self, post: Post) -> str:
        """The id (and page) of a post's ActivityPub object: /posts/ID for a blog post, /events/ID for an event."""
        return self.event(post.id) if post.kind == EVENT else self.post(post.id)

    def replies(self, post_id: int) -> str:
        return f"{self.post(post_id)}/replies"

    def replies_of(self, post: Post) -> str:
        """The replies collection of a blog post or an event."""
        return f"{self.object_of(post)}/replies"

    def comment(self, comment_id: int) -> str:
        return f"{self.base}/comments/{comment_id}"

    def comment_on_page(self, post_id: int, comment_id: int) -> str:
        """Where a comment is shown: its place (#comment-ID) on its post's page."""
        return f"{self.post(post_id)}#comment-{comment_id}"

    def media(self, file_name: str) -> str:
        return f"{self.base}/media/{file_name}"

    def media_proxy(self, kind: str, signature: str, encoded: str) -> str:
        """A remote image served from here (media/proxy_links.py signs the parts)."""
        return f"{self.base}/media/proxy/{kind}/{signature}/{encoded}"

    def static(self, name: str) -> str:
        """A file of web/static (the stylesheet, the icons)."""
        return f"{self.base}/static/{name}"

    def tag(self, norm: str) -> str:
        return f"{self.base}/tags/{quote(norm, safe='')}"

    def site_page(self, slug: str) -> str:
        """A page of the site (about, house rules): /pages/SLUG."""
        return f"{self.base}/pages/{quote(slug, safe='')}"

    def group_page(self, username: str) -> str:
        """The HTML page of a group (its actor URL sends browsers there)."""
        return f"{self.base}/groups/{username}"

    def activity(self, kind: str, token: str) -> str:
        return f"{self.base}/activities/{kind}/{token}"

    @property
    def hostname_handle(self) -> str:
        """The instance actor's account name: its host, as Mastodon names its own."""
        return f"{self.hostname}@{self.host}"

    def handle(self, username: str) -> str:
        return f"@{username}@{self.host}"

    def _local_path(self, url: str) -> str | None:
        if not self.is_local(url):
            return None
        parts = urlsplit(url)
        return None if parts.query or parts.fragment else parts.path

    def post_id(self, url: str) -> int | None:
        """The local post id a URL names, or None."""
        match = _POST.match(self._local_path(url) or "")
        return int(match.group(1)) if match else None

    def event_id(self, url: str) -> int | None:
        """The local event id a URL names, or None."""
        match = _EVENT.match(self._local_path(url) or "")
        return int(match.group(1)) if match else None

    def any_post_id(self, url: str) -> int | None:
        """The post a URL of ours names, a blog post (/posts/ID) or an event (/events/ID), or None."""
        post_id = self.post_id(url)
        return post_id if post_id is not None else self.event_id(url)

    def comment_id(self, url: str) -> int | None:
        """The local comment id a URL names, or None."""
        match = _COMMENT.match(self._local_path(url) or "")
        return int(match.group(1)) if match else None

    def username(self, url: str) -> str | None:
        """The member a local actor URL names, or None."""
        match = _ACTOR.match(self._local_path(url) or "")
        return match.group(1) if match else None

    def is_own_authority(self, authority: str) -> bool:
        """Whether a handle's `host[:port]` names this instance, in any spelling of its address."""
        return is_authority_of(authority, self.origin)

    def is_local(self, url: str) -> bool:
        """Whether a URL lives on this instance, in any spelling of its address (case, IP forms, ports)."""
        return origin_of(url) == self.origin
