"""Like and Announce of our posts (counted), and Flag (a report for the admin)."""

from __future__ import annotations

import uuid

import orjson

from ...content import inert_text
from ...store import posts, reactions, reports
from . import notify
from .context import Context

__all__ = ["on_announce", "on_flag", "on_like"]


async def _react(ctx: Context, kind: str) -> None:
    target = ctx.activity.object_id
    post_id = ctx.rt.urls.post_id(target) if target else None
    if post_id is None or ctx.activity.id is None:
        return
    post = await posts.by_id(ctx.tx, post_id)
    if post is None or post.deleted_at is not None:
        return
    await reactions.add(ctx.tx, ctx.activity.id, kind, ctx.actor.uri, post_id)
    await notify.on_reaction(ctx, "boost" if kind == "announce" else kind, post_id, post.member_id, post.title)


async def on_like(ctx: Context) -> None:
    """Like of a post: count it."""
    await _react(ctx, "like")


async def on_announce(ctx: Context) -> None:
    """Announce (boost) of a post: count it. (An announced activity was unwrapped by the worker.)"""
    await _react(ctx, "announce")


async def on_flag(ctx: Context) -> None:
    """Flag: a report from another server, stored for the admin (`fediverse-a2 reports`)."""
    raw = ctx.activity.raw
    objects = raw.get("object")
    items = objects if isinstance(objects, list) else [objects]
    ids = [o.get("id") if isinstance(o, dict) else o for o in items[:100]]
    content = raw.get("content") if isinstance(raw.get("content"), str) else ""
    await reports.add(
        ctx.tx,
        ctx.activity.id or f"urn:uuid:{uuid.uuid4()}",
        ctx.actor.uri,
        inert_text(content, 5000),
        orjson.dumps([i for i in ids if isinstance(i, str)]).decode(),
    )
