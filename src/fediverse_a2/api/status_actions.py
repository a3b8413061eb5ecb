"""Around a status: its thread (`/context`), liking and boosting it, and who did.

A blog post's comments, local and remote, are its thread: `/context` of a post lists them all as
descendants, each after the one it answers; of a comment, the post and the comments above it
are its ancestors. Likes and boosts are the web's (services/reactions_out.py).
"""

from __future__ import annotations

from starlette.responses import Response

from ..activitypub.visibility import SHOWN
from ..comment_threads import walk
from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..models import Comment, Member, Post
from ..runtime import Runtime
from ..services.reactions_out import react, unreact
from ..store import comments, member_notes, member_reactions, members, posts, reactions, remote_posts
from ..store.member_notes import MemberNote
from ..store.remote_posts import TimelinePost
from .finder import StatusFinder
from .frame import ApiCall, ApiError, json
from .present import Presenter
from .status_views import Item, StatusViews, object_id_of

__all__ = ["StatusActions"]

MAX_ANCESTORS = 40
MAX_DESCENDANTS = 4000
WHO_LIMIT = 80


class StatusActions:
    """Handlers of /api/v1/statuses/:id/context, /favourite, /reblog (and their undo), /favourited_by, /reblogged_by."""

    def __init__(
        self, rt: Runtime, directory: ActorDirectory, finder: StatusFinder, views: StatusViews, accounts: Presenter
    ) -> None:
        self.rt = rt
        self.directory = directory
        self.finder = finder
        self.views = views
        self.accounts = accounts

    # -- the thread --------------------------------------------------------------------------

    async def context(self, call: ApiCall) -> Response:
        """GET /api/v1/statuses/:id/context: {ancestors, descendants}, as the viewer may see them."""
        viewer = call.viewer
        item = await self.finder.get(str(call.path["id"]), viewer)
        ancestors: list[Item] = []
        descendants: list[Item] = []
        if isinstance(item, Post | Comment):
            post_id = item.id if isinstance(item, Post) else item.post_id
            found = await comments.thread(
                self.rt.db, post_id, self.rt.policy, self.rt.urls, viewer.id if viewer else None, MAX_DESCENDANTS
            )
            thread = [c for c, _depth in walk(found)]
            if isinstance(item, Post):
                descendants = list(thread)
            else:
                ancestors, descendants = await self._around_comment(item, thread)
        else:
            ancestors = await self._ancestors(item, viewer)
            descendants = await self._answers(object_id_of(self.rt, item), viewer)
        return json({
            "ancestors": await self.views.render(ancestors, viewer),
            "descendants": await self.views.render(descendants, viewer),
        })  # fmt: skip

    async def _around_comment(self, item: Comment, thread: list[Comment]) -> tuple[list[Item], list[Item]]:
        by_id = {c.id: c for c in thread}
        chain: list[Item] = []
        parent_id = item.parent_id
        while parent_id is not None and parent_id in by_id and len(chain) < MAX_ANCESTORS:
            parent = by_id[parent_id]
            chain.append(parent)
            parent_id = parent.parent_id
        post = await posts.by_ids(self.rt.db, [item.post_id])
        ancestors: list[Item] = [*post, *reversed(chain)]
        # Its answers: what follows it in thread order while deeper than it.
        below: set[int] = {item.id}
        descendants: list[Item] = []
        start = next((i for i, c in enumerate(thread) if c.id == item.id), len(thread))
        for c in thread[start + 1 :]:
            if c.parent_id not in below:
                break
            below.add(c.id)
            descendants.append(c)
        return ancestors, descendants

    async def _visible(self, item: TimelinePost | MemberNote, viewer: Member | None) -> bool:
        if isinstance(item, TimelinePost):
            return await self.finder.may_see_remote(item, viewer)
        return item.visibility in SHOWN or (viewer is not None and viewer.id == item.member_id)

    async def _ancestors(self, item: Item, viewer: Member | None) -> list[Item]:
        """What a remote post or note answers, and what that answers, as far as it is stored here."""
        chain: list[Item] = []
        reply_to = item.in_reply_to if isinstance(item, TimelinePost | MemberNote) else None
        while reply_to and len(chain) < MAX_ANCESTORS:
            found = await self.finder.by_ap_id(reply_to, viewer)
            if found is None:
                break
            chain.append(found)
            reply_to = found.in_reply_to if isinstance(found, TimelinePost | MemberNote) else None
        return list(reversed(chain))

    async def _answers(self, ap_id: str, viewer: Member | None) -> list[Item]:
        """Remote posts and members' notes answering an object, and their answers, each after what it answers."""
        out: list[Item] = []
        stack: list[str] = [ap_id]
        seen = {ap_id}
        while stack and len(out) < MAX_DESCENDANTS:
            current = stack.pop()
            found: list[TimelinePost | MemberNote] = [*await remote_posts.replies_to(self.rt.db, current),
                                                      *await member_notes.replies_to(self.rt.db, current)]  # fmt: skip
            found.sort(key=lambda i: (i.published, i.id))
            for answer in found:
                if answer.ap_id in seen or not await self._visible(answer, viewer):
                    continue
                seen.add(answer.ap_id)
                out.append(answer)
                stack.append(answer.ap_id)
        return out

    # -- likes and boosts --------------------------------------------------------------------

    async def _react(self, call: ApiCall, kind: str, undo: bool) -> Response:
        member = call.member
        item = await self.finder.get(str(call.path["id"]), member)
        try:
            await (unreact if undo else react)(self.rt, self.directory, member.username, kind,
                                               object_id_of(self.rt, item))  # fmt: skip
        except UserError as exc:
            raise ApiError(422, str(exc)) from None
        return json(await self.views.one(await self.finder.get(str(call.path["id"]), member), member))

    async def favourite(self, call: ApiCall) -> Response:
        """POST /api/v1/statuses/:id/favourite: a Like, as the web's."""
        return await self._react(call, "Like", undo=False)

    async def unfavourite(self, call: ApiCall) -> Response:
        """POST /api/v1/statuses/:id/unfavourite: Undo{Like}."""
        return await self._react(call, "Like", undo=True)

    async def reblog(self, call: ApiCall) -> Response:
        """POST /api/v1/statuses/:id/reblog: a boost (Announce), as the web's; answers the status boosted."""
        return await self._react(call, "Announce", undo=False)

    async def unreblog(self, call: ApiCall) -> Response:
        """POST /api/v1/statuses/:id/unreblog: Undo{Announce}."""
        return await self._react(call, "Announce", undo=True)

    async def _who(self, call: ApiCall, kind: str) -> Response:
        item = await self.finder.get(str(call.path["id"]), call.viewer)
        limit = min(max(call.params.integer("limit", 40) or 40, 1), WHO_LIMIT)
        if isinstance(item, Post):
            # Remote actors' and members' alike: the post's own counters.
            uris = await reactions.actors(self.rt.db, item.id, "like" if kind == "Like" else "announce", limit)
        else:
            people = await member_reactions.members_of(self.rt.db, kind, object_id_of(self.rt, item), limit)
            found = await members.by_ids(self.rt.db, people)
            uris = [self.rt.urls.actor(found[i].username) for i in people if i in found]
        accounts = await self.accounts.accounts_by_uri(uris)
        return json([accounts[uri] for uri in uris if uri in accounts])

    async def favourited_by(self, call: ApiCall) -> Response:
        """GET /api/v1/statuses/:id/favourited_by."""
        return await self._who(call, "Like")

    async def reblogged_by(self, call: ApiCall) -> Response:
        """GET /api/v1/statuses/:id/reblogged_by."""
        return await self._who(call, "Announce")
