"""`fediverse-a2 follow|unfollow|timeline|queue`: members and the fediverse."""

from __future__ import annotations

import argparse

from ..content import plain_text
from ..federation.actors import ActorDirectory
from ..i18n import format_span, translate
from ..runtime import Runtime
from ..services.social import follow, timeline, unfollow
from ..store import deliveries
from .common import say, when
from .registry import Registry, count

__all__ = ["register"]


async def _follow(rt: Runtime, args: argparse.Namespace) -> None:
    uri = await follow(rt, ActorDirectory(rt), args.username, args.target)
    say(args, "cli_follow_sent", uri=uri)


async def _unfollow(rt: Runtime, args: argparse.Namespace) -> None:
    uri = await unfollow(rt, ActorDirectory(rt), args.username, args.target)
    say(args, "cli_unfollowed", uri=uri)


async def _timeline(rt: Runtime, args: argparse.Namespace) -> None:
    found = await timeline(rt, args.username, max(1, min(args.limit, 1000)))
    if not found:
        say(args, "cli_no_posts")
    for post in found:
        text = plain_text(post.content_html)
        text = text if len(text) <= 200 else text[:200] + "…"
        print(f"{when(post.published)}  {post.author_handle or ''}  {post.url or post.ap_id}")
        if post.event is not None:
            span = format_span(post.event.starts_at, post.event.ends_at, args.language, rt.tz)
            place = f" · {post.event.location}" if post.event.location else ""
            print(f"    {translate(args.language, 'cli_event')}: {post.event.name} · {span} ({rt.tz.key}){place}")
        print(f"    {text}")


async def _queue(rt: Runtime, args: argparse.Namespace) -> None:
    counts = await deliveries.summary(rt.db)
    say(args, "cli_deliveries_by_state")
    if not counts:
        print("  " + translate(args.language, "cli_none"))
    for state, n in counts.items():
        print(f"  {state:<8} {n}")
    failed = await deliveries.failures(rt.db)
    if failed:
        say(args, "cli_recent_failures")
    for d in failed:
        status = d.last_status if d.last_status is not None else "-"
        retry = translate(args.language, "cli_queue_next", when=when(d.next_attempt_at)) if d.state == "pending" else ""
        say(
            args, "cli_queue_failure", id=str(d.id), type=d.type, to=d.inbox, state=d.state,
            n=str(d.attempts), code=str(status), next=retry, err=d.last_error or "",
        )  # fmt: skip


def register(cli: Registry) -> None:
    """Add follow, unfollow, timeline and queue."""
    for name, text, handler in (
        ("follow", "cli_help_follow", _follow),
        ("unfollow", "cli_help_unfollow", _unfollow),
    ):
        p = cli.command(name, text, handler)
        p.add_argument("username")
        p.add_argument("target", metavar="HANDLE_OR_URL")
    t = cli.command("timeline", "cli_help_timeline", _timeline)
    t.add_argument("username")
    t.add_argument("--limit", type=count, default=50, metavar="N", help=cli.text("cli_help_timeline_limit"))
    cli.command("queue", "cli_help_queue", _queue)
