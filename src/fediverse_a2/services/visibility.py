"""Who may see a post or a group: the one place that decides, for pages, comments and commands.

- A published post outside a members-only group (`Post.is_public`): everyone, and it is federated.
- A draft: its author only.
- A post in a members-only group (state 'group'): its author and the group's members, signed in.
- A public group: everyone; a members-only group: its members, signed in.

Listings never ask: they read only public posts (`store.sql.LIVE_POST`), so a members-only group's
posts stay out of feeds, search, tags, the archive and timelines by construction. The group's own
page is the one listing that shows them, to its members.
"""

from __future__ import annotations

from ..models import Member, Post
from ..store import group_members, groups
from ..store.db import Executor
from ..store.groups import Group

__all__ = ["may_see_group", "may_see_post"]


async def may_see_group(db: Executor, group: Group, member: Member | None) -> bool:
    """Whether someone may see a group's page (a public group: everyone)."""
    if not group.members_only:
        return True
    if member is None or not member.can_sign_in:
        return False
    return await group_members.is_member(db, group.id, member.id)


async def may_see_post(db: Executor, post: Post, member: Member | None) -> bool:
    """Whether someone may see a post (deleted ones aside: the caller answers 410 for those)."""
    if post.is_public:
        return True
    if member is None or not member.can_sign_in:
        return False
    if post.member_id == member.id:
        return True
    if not post.in_private_group:
        return False  # a draft
    group = await groups.group_of_post(db, post.id)
    return group is not None and group.members_only and await group_members.is_member(db, group.id, member.id)
