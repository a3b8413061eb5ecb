"""Gathering what entities show: members and remote actors as Accounts (statuses: status_views.py).

Everything is looked up in batches (one statement per kind of thing for a whole page), so a
page of 40 statuses costs a handful of statements, not hundreds.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from typing import Any

from ..content import sanitise_remote_html
from ..models import DELETED, Member
from ..runtime import Runtime
from ..services.media_proxy import ProxyLinks
from ..store import account_stats, members, relationships, remote_account_ids
from ..store import actors as actor_store
from ..store.actors import ActorRecord
from . import entities
from .entities import AccountView, RelationshipView
from .ids import AccountRef, member_account_id, parse_account_id, remote_account_id

__all__ = ["Account", "Presenter"]

Account = Member | ActorRecord  # what an account id names
STATS_SECONDS = 60.0  # how old the counts of a status's author may be
STATS_KEPT = 10_000


class Presenter:
    """Turns stored things into entities for one request's viewer."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.urls = rt.urls
        self.default_avatar = f"{rt.urls.base}/static/avatar.png"
        self.default_header = f"{rt.urls.base}/static/header.png"
        self.proxy = ProxyLinks(rt)  # remote avatars are served from here, as on the pages
        self._stats_cache: dict[int, tuple[float, account_stats.AccountStats]] = {}

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
        for username, member in (await members.by_usernames(self.rt.db, list(local))).items():
            out[local[username]] = member_account_id(member.id)
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
            avatar=self.proxy.avatar(actor.icon) or self.default_avatar, header=self.default_header,
            bot=actor.type in ("Service", "Application"), group=actor.type == "Group", created_at=actor.fetched_at,
        )  # fmt: skip

    async def member_views(self, people: Sequence[Member], *, recent: bool = False) -> dict[int, AccountView]:
        """Accounts of members, with their counts (one statement for all).

        `recent`: counts up to STATS_SECONDS old will do (the authors of a page of statuses): counting
        what forty members wrote costs more than the rest of a timeline."""
        stats = await (self._recent_stats if recent else self._stats)([m.id for m in people])
        return {m.id: self._member_view(m, stats.get(m.id)) for m in people}

    async def _stats(self, member_ids: Sequence[int]) -> dict[int, account_stats.AccountStats]:
        found = await account_stats.for_members(self.rt.db, member_ids)
        now = time.monotonic()
        if len(self._stats_cache) > STATS_KEPT:
            self._stats_cache.clear()
        self._stats_cache.update((i, (now + STATS_SECONDS, s)) for i, s in found.items())
        return found

    async def _recent_stats(self, member_ids: Sequence[int]) -> dict[int, account_stats.AccountStats]:
        now = time.monotonic()
        out: dict[int, account_stats.AccountStats] = {}
        missing = []
        for member_id in member_ids:
            cached = self._stats_cache.get(member_id)
            if cached is not None and cached[0] > now:
                out[member_id] = cached[1]
            else:
                missing.append(member_id)
        if missing:
            out.update(await self._stats(missing))
        return out

    async def accounts(self, found: Sequence[Account], *, recent: bool = False) -> list[dict[str, Any]]:
        """Accounts of members and remote actors, in the order given (`recent`: see member_views)."""
        people = await self.member_views([a for a in found if isinstance(a, Member)], recent=recent)
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
        found = await actor_store.by_uris(self.rt.db, uris)
        return [found[uri] for uri in dict.fromkeys(uris) if uri in found]

    async def accounts_by_uri(self, uris: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The Account of each actor URI, members' and cached remote ones (unknown ones left out), in batches;
        the authors of statuses and notifications, whose counts may be a minute old."""
        local: dict[str, str] = {}
        remote: list[str] = []
        for uri in dict.fromkeys(uris):
            username = self.urls.username(uri) if self.urls.is_local(uri) else None
            if username is not None:
                local[username] = uri
            else:
                remote.append(uri)
        people = await members.by_usernames(self.rt.db, list(local))
        found: list[Account] = [m for m in people.values() if m.state != "pending"]
        found += await self.actors_by_uri(remote)
        shown = await self.accounts(found, recent=True)
        return {self.uri_of(item): account for item, account in zip(found, shown, strict=True)}

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
