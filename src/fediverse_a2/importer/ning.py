"""`import ning DIR`: the Ning archiver's export, streamed and written in batches keyed by legacy id.

Steps: the members (all read first: usernames are assigned over the whole list), then the blog
posts with their comments, then the groups and the forum discussions. Records that cannot be read
are reported by their number and skipped. Memory holds the member list and one batch of posts,
never the whole archive.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..archive.ning_fields import NingRecordError
from ..archive.ning_files import find_export, iter_export
from ..archive.ning_groups import NingGroup, parse_discussion, parse_group
from ..archive.ning_model import NingMember, parse_member, parse_post
from ..archive.usernames import assign_usernames
from ..content import inert_text
from ..errors import UserError
from ..runtime import Runtime
from ..store import groups as group_store
from ..store import legacy, media, members
from .mapping import discussion_post, group_post, member_row, post_of
from .media import MediaCopier
from .model import ImportPost
from .progress import Progress
from .report import Summary
from .session import Session
from .writer import AuthorBook, Writer

__all__ = ["DEFAULT_BATCH", "MEMBER_BATCH", "estimate_records", "import_ning"]

DEFAULT_BATCH = 100  # posts (with all their comments) per transaction
MEMBER_BATCH = 500
# A key every top-level record of a kind has once and its nested records lack: counting it gives
# the progress bar its total without parsing the file twice.
_COUNTED_KEY = {"members": b'"fullName"', "blogs": b'"title"', "groups": b'"title"', "discussions": b'"title"'}


def estimate_records(folder: Path, kind: str) -> int | None:
    """About how many records a file of the export holds (for the progress bar), None if absent."""
    files = find_export(folder).get(kind)
    path = files and (files.main or files.local)
    if not path:
        return None
    key, count, tail = _COUNTED_KEY.get(kind, b'"id"'), 0, b""
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            data = tail + block
            count += data.count(key)
            tail = data[-(len(key) - 1) :]  # too short to hold the key: nothing is counted twice
    return count


def _warn(summary: Summary, warnings: Iterable[str]) -> None:
    for warning in warnings:
        summary.warnings[warning.split(" '")[0].split(' "')[0][:80]] += 1


def _records(folder: Path, kind: str, summary: Summary) -> Iterator[dict[str, Any]]:
    for result in iter_export(folder, kind):
        if result.data is None:
            summary.skip(kind, result.index, result.error or "unreadable")
            continue
        if result.note:
            _warn(summary, [result.note])
        yield result.data


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _NingImport:
    def __init__(self, rt: Runtime, folder: Path, session: Session, progress: Progress, batch_size: int) -> None:
        self.rt, self.folder, self.session, self.progress = rt, folder, session, progress
        self.batch_size = batch_size
        self.summary = Summary(dry_run=session.dry_run)
        self.copier = MediaCopier(folder, rt.config.media_path, rt.urls, write=not session.dry_run)
        self.names: dict[str, str] = {}
        self.writer: Writer | None = None

    def _read_members(self) -> list[NingMember]:
        found: dict[str, NingMember] = {}
        number = 0
        for data in _records(self.folder, "members", self.summary):
            number += 1
            try:
                member = parse_member(data)
            except NingRecordError as exc:
                self.summary.skip("members", number, str(exc))
                continue
            _warn(self.summary, member.warnings)
            found.setdefault(member.contributor_name, member)  # listed twice: the first counts
        return list(found.values())

    async def members(self) -> None:
        members = self._read_members()
        self.names = {m.contributor_name: m.full_name for m in members}
        async with self.session.batch() as tx:
            known = await legacy.legacy_members(tx)
            local = await legacy.usernames(tx, local_only=True)
            used = await legacy.usernames(tx)
        taken = local | {username for key, (_, username, _) in known.items() if key not in self.names}
        assigned = assign_usernames([(m.contributor_name, m.full_name) for m in members], taken=taken)
        authors = AuthorBook(known, used, self.summary)
        self.writer = Writer(self.rt, self.copier, authors, self.summary)
        new = [m for m in members if m.contributor_name not in known]
        self.summary.existing["members"] += len(members) - len(new)
        self.progress.phase("members", len(new))
        for chunk in _chunks(new, MEMBER_BATCH):
            async with self.session.batch() as tx:
                await self._write_members(tx, chunk, assigned, authors)
            self.progress.advance(len(chunk))

    async def _write_members(
        self, tx: Any, chunk: Sequence[NingMember], assigned: dict[str, str], authors: AuthorBook
    ) -> None:
        rows = [member_row(m, assigned[m.contributor_name]) for m in chunk]
        ids = await members.add_many(tx, rows)
        redirects = []
        for member, row, member_id in zip(chunk, rows, ids, strict=True):
            if member_id is None:
                self.summary.existing["members"] += 1
                continue
            self.summary.created["members"] += 1
            authors.add(member.contributor_name, member_id, row.username)
            redirects.append((member.contributor_name, self.rt.urls.actor(row.username), "member"))
            copied = self.copier.copy(member.profile_photo, avatar=True) if member.profile_photo else None
            if copied is not None and copied.image is not None:
                meta = copied.image
                record = await media.add(
                    tx, member_id, meta.file_name, meta.media_type, meta.width, meta.height, meta.size, ""
                )
                await members.set_avatar(tx, member_id, record.id)
        await legacy.add_redirects(tx, redirects)
        self.summary.created["redirects"] += len(redirects)

    async def _flush(self, batch: list[ImportPost]) -> None:
        if not batch:
            return
        assert self.writer is not None
        async with self.session.batch() as tx:
            await self.writer.write(tx, batch)
        self.progress.advance(len(batch), f"{self.summary.created['comments']} comments")
        batch.clear()

    async def posts(self, kind: str, posts: Iterable[ImportPost]) -> None:
        self.progress.phase(kind, estimate_records(self.folder, kind))
        batch: list[ImportPost] = []
        for post in posts:
            _warn(self.summary, post.warnings)
            batch.append(post)
            if len(batch) >= self.batch_size:
                await self._flush(batch)
        await self._flush(batch)

    def blogs(self) -> Iterator[ImportPost]:
        for data in _records(self.folder, "blogs", self.summary):
            yield post_of(parse_post(data), self.names)

    def groups(self) -> dict[str, NingGroup]:
        return {g.id: g for g in (parse_group(d) for d in _records(self.folder, "groups", self.summary))}

    async def topic_groups(self, found: dict[str, NingGroup]) -> None:
        """Each public group of the old network becomes a topic group (a Group actor) here.

        Found again by its old id on a second run; its username comes from its title, made unique
        as members' are. Its posts are listed on its page but never announced (nothing of an
        import is pushed). A private group's content stays drafts: there are no members-only groups.
        """
        public = {g.id: g for g in found.values() if not g.is_private}
        async with self.session.batch() as tx:
            known = await legacy.archive_groups(tx)
            used = await legacy.usernames(tx)
            new = [g for g in public.values() if g.id not in known]
            assigned = assign_usernames(
                [(g.id, g.title or "groep") for g in new], taken=used | {self.rt.config.network.username}
            )
            for group in new:
                made = await group_store.create(
                    tx, assigned[group.id], inert_text(group.title, 100) or assigned[group.id],
                    inert_text(group.description, 500), "followers",
                )  # fmt: skip
                if made is None:
                    continue
                await members.set_legacy_id(tx, made.id, legacy.GROUP_PREFIX + group.id)
                known[group.id] = (made.id, made.username)
                self.summary.created["topic groups"] += 1
        self.summary.existing["topic groups"] += len(public) - len(new)
        assert self.writer is not None
        self.writer.topic_groups = known

    def discussions(self, groups: dict[str, NingGroup]) -> Iterator[ImportPost]:
        for data in _records(self.folder, "discussions", self.summary):
            yield discussion_post(parse_discussion(data), self.names, groups)


async def import_ning(
    rt: Runtime, folder: Path, progress: Progress, *, dry_run: bool = False, batch_size: int = DEFAULT_BATCH
) -> Summary:
    """Import a Ning export folder (see the module docstring); the summary of what was done."""
    if not folder.is_dir():
        raise UserError(f"not a folder: {folder}")
    kinds = find_export(folder)
    if not {"members", "blogs", "groups", "discussions"} & kinds.keys():
        raise UserError(f"no Ning export in {folder} (expected ning-members.json, ning-blogs.json, ...)")
    if batch_size < 1:
        raise UserError("--batch-size must be at least 1")
    started = time.monotonic()
    session = Session(rt.db, dry_run=dry_run)
    job = _NingImport(rt, folder, session, progress, batch_size)
    try:
        async with session.run():
            await job.members()
            await job.posts("blogs", job.blogs())
            groups = job.groups()
            if groups:
                await job.topic_groups(groups)
                await job.posts("groups", (group_post(g, job.names) for g in groups.values()))
            await job.posts("discussions", job.discussions(groups))
    finally:
        progress.close()
    job.summary.created["images"] = job.copier.images
    job.summary.created["files"] = job.copier.files
    job.summary.seconds = time.monotonic() - started
    return job.summary
