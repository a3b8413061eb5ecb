"""PURE: build the ActivityStreams documents this instance serves and sends.

No I/O: every function takes plain records and a Urls, and returns a dict ready for JSON.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..models import Member, Post
from .urls import Urls

__all__ = [
    "ACTIVITY_JSON",
    "AS_CONTEXT",
    "CONTEXT",
    "EXTENSIONS",
    "PUBLIC",
    "HashtagRef",
    "Image",
    "accept",
    "actor_tombstone",
    "addressing",
    "announce",
    "collection",
    "collection_page",
    "comment_note",
    "create",
    "delete",
    "delete_actor",
    "follow",
    "group_actor",
    "instance_actor",
    "iso",
    "move",
    "person",
    "post_content",
    "post_note",
    "tombstone",
    "undo",
    "update",
]

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
# Mastodon's own extension terms for what we send: profile fields, the locked flag, hashtags.
EXTENSIONS: dict[str, Any] = {
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    # Moving house (FEP-7628, as Mastodon writes them): both name other actors by id.
    "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
    "movedTo": {"@id": "as:movedTo", "@type": "@id"},
}
CONTEXT: list[Any] = [AS_CONTEXT, SECURITY_CONTEXT, EXTENSIONS]


@dataclass(frozen=True)
class Image:
    """An image attached to a post, as served from this instance."""

    url: str
    media_type: str
    width: int
    height: int
    alt: str


@dataclass(frozen=True)
class HashtagRef:
    """A tag of a post: its display name and the URL of its tag page."""

    name: str
    href: str


PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
ACTIVITY_JSON = "application/activity+json"


def iso(ts: float) -> str:
    """An epoch timestamp as the ISO 8601 UTC form ActivityPub peers expect."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def person(member: Member, urls: Urls) -> dict[str, Any]:
    """A member as a Person actor."""
    actor = urls.actor(member.username)
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "id": actor,
        "type": "Person",
        "preferredUsername": member.username,
        "name": member.name,
        "summary": html.escape(member.summary) and f"<p>{html.escape(member.summary)}</p>",
        "url": actor,
        "inbox": urls.inbox(member.username),
        "outbox": urls.outbox(member.username),
        "followers": urls.followers(member.username),
        "following": urls.following(member.username),
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": member.locked,
        "discoverable": True,
        "published": iso(member.created_at),
        "publicKey": {
            "id": urls.key(member.username),
            "owner": actor,
            "publicKeyPem": member.public_key_pem,
        },
        # Profile fields as Mastodon shows them: the value is HTML, so it is escaped here.
        "attachment": [
            {"type": "PropertyValue", "name": name, "value": html.escape(value)} for name, value in member.fields
        ],
    }
    if member.avatar:
        kind = "image/png" if member.avatar.endswith(".png") else "image/jpeg"
        doc["icon"] = {"type": "Image", "mediaType": kind, "url": urls.media(member.avatar)}
    if member.also_known_as:
        doc["alsoKnownAs"] = list(member.also_known_as)
    if member.moved_to:
        doc["movedTo"] = member.moved_to
    return doc


def actor_tombstone(actor: str, deleted: float | None) -> dict[str, Any]:
    """What an erased member's actor URL answers (with HTTP 410)."""
    doc = tombstone(actor, deleted)
    doc["formerType"] = "Person"
    return doc


def delete_actor(actor: str) -> dict[str, Any]:
    """Delete of an actor by itself (an erased account), addressed to the public as Mastodon sends it."""
    return _activity("Delete", f"{actor}#delete", actor, actor, to=[PUBLIC])


def move(activity_id: str, actor: str, target: str, followers: str) -> dict[str, Any]:
    """Move{actor -> target} to the actor's followers (FEP-7628: actor and object are the old account)."""
    return _activity("Move", activity_id, actor, actor, target=target, to=[followers])


def group_actor(group: Member, urls: Urls, page_url: str) -> dict[str, Any]:
    """A local group (the network, a topic group) as a FEP-1b12 Group actor: it announces what is posted to it."""
    doc = person(group, urls)
    for key in ("following", "attachment"):
        doc.pop(key, None)
    doc.update(type="Group", url=page_url, manuallyApprovesFollowers=False)
    return doc


def announce(activity_id: str, group_uri: str, obj: Any, followers: str, published: float) -> dict[str, Any]:
    """Announce{obj} from a group to its followers: a Note's id (a boost) or a whole activity (FEP-1b12)."""
    inner = _strip_context(obj) if isinstance(obj, dict) else obj
    return _activity("Announce", activity_id, group_uri, inner, to=[PUBLIC], cc=[followers], published=iso(published))


def instance_actor(urls: Urls, name: str, public_key_pem: str) -> dict[str, Any]:
    """The instance's own Application actor, which signs our fetches."""
    actor = urls.instance_actor
    return {
        "@context": CONTEXT,
        "id": actor,
        "type": "Application",
        "preferredUsername": urls.hostname,
        "name": name,
        "url": urls.base + "/",
        "inbox": urls.shared_inbox,
        "outbox": f"{actor}/outbox",
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": True,
        "publicKey": {"id": urls.instance_key, "owner": actor, "publicKeyPem": public_key_pem},
    }


def post_content(title: str, body_html: str, tags: Sequence[HashtagRef] = ()) -> str:
    """Note content for a blog post: the title as a bold first paragraph, then the body, then its tags.

    Mastodon flattens headings and drops the body of an Article, so a bold line it is. The tags
    are linked at the end as Mastodon writes them, so every client shows them, except those the
    text already links (a #tag typed in it). A short post (one without a title, as apps write
    them) is its text alone.
    """
    content = f"<p><strong>{html.escape(title)}</strong></p>{body_html}" if title.strip() else body_html
    rest = [t for t in tags if f'href="{html.escape(t.href)}"' not in body_html]
    if rest:
        links = " ".join(
            f'<a href="{html.escape(t.href)}" class="mention hashtag" rel="tag">#<span>{html.escape(t.name)}</span></a>'
            for t in rest
        )
        content += f"<p>{links}</p>"
    return content


def post_note(
    post: Post,
    urls: Urls,
    language: str,
    replies_total: int = 0,
    first_replies: Sequence[str] | None = None,
    tags: Sequence[HashtagRef] = (),
    images: Sequence[Image] = (),
    group: str | None = None,
) -> dict[str, Any]:
    """A blog post as a public Note addressed to the author's followers (and its topic group's actor)."""
    note_id = urls.post(post.id)
    content = post_content(post.title, post.content_html, tags)
    language = post.language or language
    replies: dict[str, Any] = {
        "id": urls.replies(post.id),
        "type": "OrderedCollection",
        "totalItems": replies_total,
        "first": collection_page(
            urls.replies(post.id), 1, list(first_replies or []), has_next=replies_total > len(first_replies or [])
        ),
    }
    note: dict[str, Any] = {
        "@context": CONTEXT,
        "id": note_id,
        "type": "Note",
        "attributedTo": urls.actor(post.username),
        "to": [PUBLIC],
        "cc": [urls.followers(post.username)],
        "content": content,
        "contentMap": {language: content},
        "url": note_id,
        "published": iso(post.published),
        "replies": replies,
        "sensitive": bool(post.summary),
        "tag": [{"type": "Hashtag", "href": t.href, "name": f"#{t.name}"} for t in tags],
        "attachment": [
            {
                "type": "Image",
                "mediaType": i.media_type,
                "url": i.url,
                "width": i.width,
                "height": i.height,
                "name": i.alt,
            }
            for i in images
        ],
    }
    if group:
        # FEP-1b12: the group is addressed, and `audience` names it (as Lemmy does).
        note["cc"].append(group)
        note["audience"] = group
    if post.summary:
        note["summary"] = post.summary
    if post.updated:
        note["updated"] = iso(post.updated)
    return note


def addressing(visibility: str, followers: str, named: Sequence[str]) -> tuple[list[str], list[str]]:
    """(to, cc) of a note we send with a visibility (activitypub/visibility.py), as Mastodon addresses them.

    `followers` is the followers collection it reaches; `named` the actors it answers or mentions.
    """
    if visibility == "public":
        return [PUBLIC], [followers, *named]
    if visibility == "unlisted":
        return [followers], [PUBLIC, *named]
    if visibility == "followers":
        return [followers], list(named)
    if visibility == "direct":
        return list(named), []
    raise ValueError(f"unknown visibility {visibility!r}")


def comment_note(
    note_id: str,
    actor: str,
    in_reply_to: str | None,
    content_html: str,
    published: float,
    language: str,
    to: Iterable[str],
    cc: Iterable[str],
    mentions: Iterable[tuple[str, str]] = (),
    summary: str | None = None,
) -> dict[str, Any]:
    """A local member's comment as a Note replying to `in_reply_to` (or a note of their own, with None).

    `mentions` are (actor URI, @user@host) pairs; a Mention tag is what makes the
    remote server notify that person. `summary` is a content warning.
    """
    note = {
        "@context": CONTEXT,
        "id": note_id,
        "type": "Note",
        "attributedTo": actor,
        "inReplyTo": in_reply_to,
        "to": list(to),
        "cc": list(cc),
        "content": content_html,
        "contentMap": {language: content_html},
        "url": note_id,
        "published": iso(published),
        "sensitive": bool(summary),
        "tag": [{"type": "Mention", "href": href, "name": name} for href, name in mentions],
    }
    if summary:
        note["summary"] = summary
    return note


def _activity(kind: str, activity_id: str, actor: str, obj: Any, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": CONTEXT, "id": activity_id, "type": kind, "actor": actor, "object": obj}
    doc.update(extra)
    return doc


def _strip_context(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "@context"}


def create(obj: dict[str, Any]) -> dict[str, Any]:
    """Create{obj}, addressed like the object itself."""
    return _activity(
        "Create",
        f"{obj['id']}/activity",
        obj["attributedTo"],
        _strip_context(obj),
        to=obj.get("to", []),
        cc=obj.get("cc", []),
        published=obj.get("published"),
    )


def update(obj: dict[str, Any], updated: float) -> dict[str, Any]:
    """Update{obj}; Mastodon applies it only when `updated` is set on the object."""
    return _activity(
        "Update",
        f"{obj['id']}#updates/{int(updated * 1000)}",
        obj["attributedTo"],
        _strip_context(obj),
        to=obj.get("to", []),
        cc=obj.get("cc", []),
    )


def tombstone(object_id: str, deleted: float | None = None) -> dict[str, Any]:
    """What a deleted object's URL answers (with HTTP 410)."""
    doc: dict[str, Any] = {"@context": AS_CONTEXT, "id": object_id, "type": "Tombstone"}
    if deleted is not None:
        doc["deleted"] = iso(deleted)
    return doc


def delete(actor: str, object_id: str, to: Iterable[str], cc: Iterable[str]) -> dict[str, Any]:
    """Delete{Tombstone} of one of our objects."""
    obj = {"id": object_id, "type": "Tombstone"}
    return _activity("Delete", f"{object_id}#delete", actor, obj, to=list(to), cc=list(cc))


def follow(activity_id: str, actor: str, target: str) -> dict[str, Any]:
    """Follow{target}."""
    return _activity("Follow", activity_id, actor, target)


def _answer_follow(kind: str, activity_id: str, actor: str, follow_activity: dict[str, Any]) -> dict[str, Any]:
    obj = {k: follow_activity[k] for k in ("id", "type", "actor", "object") if k in follow_activity}
    return _activity(kind, activity_id, actor, obj, to=[follow_activity.get("actor")])


def accept(activity_id: str, actor: str, follow_activity: dict[str, Any]) -> dict[str, Any]:
    """Accept{Follow}, echoing the Follow so the follower can match it."""
    return _answer_follow("Accept", activity_id, actor, follow_activity)


def reject(activity_id: str, actor: str, follow_activity: dict[str, Any]) -> dict[str, Any]:
    """Reject{Follow}: a follow request refused, or a follower removed (as Mastodon does)."""
    return _answer_follow("Reject", activity_id, actor, follow_activity)


def undo(activity_id: str, actor: str, inner: dict[str, Any]) -> dict[str, Any]:
    """Undo{inner}."""
    return _activity("Undo", activity_id, actor, _strip_context(inner))


def collection(collection_id: str, total: int, ordered: bool = True) -> dict[str, Any]:
    """An (Ordered)Collection head that points at its first page."""
    return {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection" if ordered else "Collection",
        "totalItems": total,
        "first": f"{collection_id}?page=1",
    }


def collection_page(
    collection_id: str, page: int, items: list[Any], has_next: bool, ordered: bool = True
) -> dict[str, Any]:
    """One page of a collection, with `next` when there is more."""
    doc: dict[str, Any] = {
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage" if ordered else "CollectionPage",
        "partOf": collection_id,
        "orderedItems" if ordered else "items": items,
    }
    if has_next:
        doc["next"] = f"{collection_id}?page={page + 1}"
    if page > 1:
        doc["prev"] = f"{collection_id}?page={page - 1}"
    return doc
