"""Accounts in the client API: the member's own (verify, update), any account by id or handle, its
statuses, followers and following, relationships, follow and unfollow, search, follow requests.

Members follow remote accounts only (as on the web): following a member of this instance is
refused with 422. What is done here is what the web pages do, through the same services.
"""

from __future__ import annotations

from starlette.responses import Response

from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..hosts import HostError, canonical_authority
from ..httpclient import FetchError
from ..models import DELETED, Member
from ..runtime import Runtime
from ..services.followers import approve_request, reject_request
from ..services.profile import MAX_FIELDS, update_profile
from ..services.social import follow, unfollow
from ..services.uploads import store_image
from ..store import actors as actor_store
from ..store import follow_requests, members, relationships
from ..store.actors import ActorRecord
from ..store.remote_posts import TimelinePost
from . import entities
from .frame import ApiCall, ApiError, json
from .paging import Page, Source, gather, paged
from .present import Account, Presenter
from .sources import StatusSources
from .status_views import Item, StatusViews, is_reply, item_status_id

__all__ = ["AVATAR_LIMIT", "AccountPages"]

AVATAR_LIMIT = 12_000_000  # a 10 MB image in a multipart form, with room for the other fields


class AccountPages:
    """Handlers of /api/v1/accounts/… and /api/v1/follow_requests/…."""

    def __init__(self, rt: Runtime, directory: ActorDirectory, present: Presenter, views: StatusViews) -> None:
        self.rt = rt
        self.directory = directory
        self.present = present
        self.views = views
        self.sources = StatusSources(rt)

    async def _target(self, call: ApiCall) -> Account:
        found = await self.present.resolve(str(call.path["id"]))
        if found is None:
            raise ApiError(404, "Record not found")
        return found

    async def _credential(self, member: Member) -> Response:
        view = (await self.present.member_views([member]))[member.id]
        waiting = await follow_requests.count(self.rt.db, member.id)
        return json(entities.credential_account(
            view, note_source=member.summary, fields_source=member.fields,
            language=self.rt.config.instance.language, follow_requests_count=waiting,
            is_admin=member.is_admin, is_moderator=member.is_moderator,
        ))  # fmt: skip

    async def verify_credentials(self, call: ApiCall) -> Response:
        """GET /api/v1/accounts/verify_credentials: the member's own account, with `source`."""
        return await self._credential(call.member)

    async def update_credentials(self, call: ApiCall) -> Response:
        """PATCH /api/v1/accounts/update_credentials: display name, note, avatar, fields, locked.

        The same service as /settings/profile: checked the same way, and sent as Update{Person}.
        """
        member, params = call.member, call.params
        fields = list(member.fields)
        given = params.indexed("fields_attributes")
        if given:
            if len(given) > MAX_FIELDS:
                raise ApiError(422, f"at most {MAX_FIELDS} profile fields")
            fields = [(f.get("name", ""), f.get("value", "")) for f in given]
        avatar_id = None
        upload = params.file("avatar")
        if upload is not None:
            data = await upload.read()
            if data:
                avatar_id = (await store_image(self.rt, member, data, member.name, avatar=True)).id
        locked = params.get("locked")
        updated = await update_profile(
            self.rt, member, name=params.text("display_name", 200) or member.name,
            summary=params.text("note", 600) or "" if params.get("note") is not None else member.summary,
            fields=fields, avatar_id=avatar_id, locked=params.flag("locked") if locked is not None else None,
        )  # fmt: skip
        return await self._credential(updated)

    async def account(self, call: ApiCall) -> Response:
        """GET /api/v1/accounts/:id."""
        return json(await self.present.account(await self._target(call)))

    async def lookup(self, call: ApiCall) -> Response:
        """GET /api/v1/accounts/lookup?acct=name or name@host (known accounts only; nothing is fetched)."""
        acct = (call.params.text("acct", 300) or "").strip().lstrip("@")
        found = await self._by_acct(acct)
        if found is None:
            raise ApiError(404, "Record not found")
        return json(await self.present.account(found))

    async def _by_acct(self, acct: str) -> Account | None:
        user, _, host = acct.partition("@")
        if not user:
            return None
        if not host or self._is_ours(host):
            member = await members.by_username(self.rt.db, user.lower())
            return member if member is not None and member.state not in ("pending", DELETED) else None
        uri = await actor_store.uri_by_handle(self.rt.db, f"@{acct}")
        return await actor_store.by_uri(self.rt.db, uri) if uri is not None else None

    def _is_ours(self, host: str) -> bool:
        scheme = self.rt.urls.origin.scheme
        try:
            return canonical_authority(host, scheme) == canonical_authority(self.rt.urls.host, scheme)
        except HostError:
            return False

    async def statuses(self, call: ApiCall) -> Response:
        """GET /api/v1/accounts/:id/statuses (exclude_replies, only_media, pinned): posts, and comments as replies.

        A member's followers-only and direct statuses are listed to themself only."""
        target = await self._target(call)
        params = call.params
        if params.flag("pinned"):
            return paged(call, [], [])  # nothing is pinned here
        only_media, no_replies = params.flag("only_media"), params.flag("exclude_replies")
        sources: list[Source[Item]]
        if not isinstance(target, Member):
            # What is stored of a remote account: its public posts that reached a member here.
            sources = [self.sources.remote_by(target.uri)]
        else:
            shown_only = call.viewer is None or call.viewer.id != target.id
            sources = [self.sources.posts(member_id=target.id, only_media=only_media)]
            if not only_media:
                sources.append(self.sources.notes_of(target.id, shown_only=shown_only))
            if not only_media and not no_replies:
                sources.append(self.sources.comments_of(target.id, shown_only=shown_only))

        def keep(item: Item) -> bool:
            if only_media and isinstance(item, TimelinePost) and not item.images:
                return False
            return not (no_replies and is_reply(item))

        chosen = await gather(Page.of(params), sources, lambda i: int(item_status_id(i)), keep)
        statuses = await self.views.render(chosen, call.viewer)
        return paged(call, statuses, [int(s["id"]) for s in statuses])

    async def _follow_list(self, call: ApiCall, which: str) -> Response:
        target = await self._target(call)
        page = Page.of(call.params, default=40, maximum=80)
        if not isinstance(target, Member):
            return paged(call, [], [])  # we do not know a remote account's lists
        read = relationships.followers if which == "followers" else relationships.following
        rows = await read(self.rt.db, target.id, page.max_id, page.lower, page.limit, page.ascending)
        rows.sort(key=lambda r: r.row_id, reverse=True)
        found = {a.uri: a for a in await self.present.actors_by_uri([r.actor_uri for r in rows])}
        kept = [r for r in rows if r.actor_uri in found]
        return paged(call, await self.present.accounts([found[r.actor_uri] for r in kept]), [r.row_id for r in kept])

    async def followers(self, call: ApiCall) -> Response:
        """GET /api/v1/accounts/:id/followers."""
        return await self._follow_list(call, "followers")

    async def following(self, call: ApiCall) -> Response:
        """GET /api/v1/accounts/:id/following."""
        return await self._follow_list(call, "following")

    async def relationships(self, call: ApiCall) -> Response:
        """GET /api/v1/accounts/relationships?id[]=…: unknown ids are left out, as on Mastodon."""
        pairs: list[tuple[str, Account]] = []
        for account_id in call.params.strings("id")[:100]:
            found = await self.present.resolve(account_id)
            if found is not None:
                pairs.append((account_id, found))
        return json(await self.present.relationships(call.member, pairs))

    async def _relationship(self, call: ApiCall, target: Account) -> Response:
        return json((await self.present.relationships(call.member, [(str(call.path["id"]), target)]))[0])

    async def _remote(self, call: ApiCall) -> ActorRecord:
        target = await self._target(call)
        if isinstance(target, Member):
            raise ApiError(422, "Members of this instance follow accounts on other servers only")
        return target

    async def follow(self, call: ApiCall) -> Response:
        """POST /api/v1/accounts/:id/follow: sends Follow, as /following does."""
        target = await self._remote(call)
        try:
            await follow(self.rt, self.directory, call.member.username, target.uri)
        except FetchError as exc:
            raise ApiError(503, f"the account's server did not answer: {exc.reason}") from None
        return await self._relationship(call, target)

    async def unfollow(self, call: ApiCall) -> Response:
        """POST /api/v1/accounts/:id/unfollow: sends Undo{Follow}; not following is no error."""
        target = await self._remote(call)
        try:
            await unfollow(self.rt, self.directory, call.member.username, target.uri)
        except UserError:
            pass  # not following: Mastodon answers the relationship all the same
        except FetchError as exc:
            raise ApiError(503, f"the account's server did not answer: {exc.reason}") from None
        return await self._relationship(call, target)

    async def search(self, call: ApiCall) -> Response:
        """GET /api/v1/accounts/search?q=…: members and known accounts; `resolve=true` looks a handle up."""
        query = (call.params.text("q", 300) or "").strip()
        limit = min(max(call.params.integer("limit", 40) or 40, 1), 80)
        found = await self.find(query, limit, resolve=call.params.flag("resolve"))
        return json(await self.present.accounts(found))

    async def find(self, query: str, limit: int, *, resolve: bool = False, offset: int = 0) -> list[Account]:
        """Accounts matching a query: the exact handle first (looked up with WebFinger when `resolve`),
        then members and known accounts whose name or handle contains it."""
        if not query:
            return []
        found: list[Account] = []
        handle = query.lstrip("@")
        wanted = offset + limit
        if "@" in handle:
            exact = await self._by_acct(handle)
            if exact is None and resolve:
                try:
                    exact = await self.directory.resolve(f"@{handle}")
                except (FetchError, UserError, ValueError):
                    exact = None
            if exact is not None:
                found.append(exact)
        needle = handle.split("@")[0].lower()
        for member in await members.list_all(self.rt.db):
            if len(found) >= wanted:
                break
            if member.state == "active" and (needle in member.username or needle in member.name.lower()):
                found.append(member)
        for actor in await actor_store.search(self.rt.db, needle, wanted):
            if len(found) >= wanted:
                break
            if all(not (isinstance(f, ActorRecord) and f.uri == actor.uri) for f in found):
                found.append(actor)
        return found[offset:wanted]

    async def follow_requests(self, call: ApiCall) -> Response:
        """GET /api/v1/follow_requests: accounts waiting for the member's approval."""
        page = Page.of(call.params, default=40, maximum=80)
        waiting = await follow_requests.for_member(self.rt.db, call.member.id)
        chosen = page.select(waiting, key=lambda r: r.id)
        found = {a.uri: a for a in await self.present.actors_by_uri([r.actor_uri for r in chosen])}
        kept = [r for r in chosen if r.actor_uri in found]
        return paged(call, await self.present.accounts([found[r.actor_uri] for r in kept]), [r.id for r in kept])

    async def _decide(self, call: ApiCall, approve: bool) -> Response:
        target = await self._remote(call)
        waiting = await follow_requests.for_member(self.rt.db, call.member.id)
        request = next((r for r in waiting if r.actor_uri == target.uri), None)
        if request is None:
            raise ApiError(404, "Record not found")
        await (approve_request if approve else reject_request)(self.rt, call.member, request.id)
        return await self._relationship(call, target)

    async def authorize_request(self, call: ApiCall) -> Response:
        """POST /api/v1/follow_requests/:id/authorize: Accept, as /followers does."""
        return await self._decide(call, approve=True)

    async def reject_request(self, call: ApiCall) -> Response:
        """POST /api/v1/follow_requests/:id/reject: Reject."""
        return await self._decide(call, approve=False)
