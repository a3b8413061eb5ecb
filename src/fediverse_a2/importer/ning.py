"""`import ning DIR`: the Ning archiver's export, streamed and written in batches keyed by legacy id.

Steps: the members (all read first: usernames are assigned over the whole list), then the blog
posts with their comments, the groups (public and members-only: each a topic group with its
members) and the forum discussions, the events, the photos (gathered by album), the videos, the
music, and the network's pages and notes. Records that cannot be read are reported by their number
and skipped. Memory holds the member list, the groups, the photos (their albums must be gathered)
and one batch of posts, never the whole archive.

Every kind of content is counted in the report (`report.Summary.tally`): found, imported, already
there, skipped with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from ..archive.ning_events import NingEvent, parse_event
from ..archive.ning_fields import NingRecordError
from ..archive.ning_files import KINDS, find_export, iter_export, resolve_media
from ..archive.ning_gallery import NingAlbum, NingPhoto, parse_album, parse_photo, parse_track, parse_video
from ..archive.ning_groups import NingGroup, parse_discussion, parse_group
from ..archive.ning_model import NingMember, parse_member, parse_post
from ..archive.ning_pages import NingPage, parse_page
from ..archive.usernames import assign_usernames
from ..content import inert_text
from ..errors import UserError
from ..runtime import Runtime
from ..store import group_members, legacy, media, members
from ..store import groups as group_store
from ..store.db import Executor
from .events import event_post
from .gallery import album_post, group_albums, track_post, video_post
from .mapping import discussion_post, group_post, member_row, post_of
from .media import ALREADY, COPIED, MediaCopier
from .model import ImportPost
from .progress import Progress
from .report import Summary
from .session import Session
from .site import write_site_pages
from .writer import AuthorBook, Writer

__all__ = ["DEFAULT_BATCH", "MEMBER_BATCH", "estimate_records", "import_ning"]

DEFAULT_BATCH = 100  # posts (with all their comments) per transaction
MEMBER_BATCH = 500
# A key every top-level record of a kind has once and its nested records lack: counting it gives
# the progress bar its total without parsing the file twice.
_COUNTED_KEY = {
    "members": b'"fullName"', "blogs": b'"title"', "groups": b'"title"', "discussions": b'"title"',
    "events": b'"startDate"', "photos": b'"photoUrl"', "videos": b'"embedCode"', "music": b'"title"',
}  # fmt: skip
_T = TypeVar("_T")


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
        self.groups: dict[str, NingGroup] = {}

    def _records(self, kind: str) -> Iterator[dict[str, Any]]:
        for result in iter_export(self.folder, kind):
            if result.data is None:
                self.summary.skip(kind, result.index, result.error or "unreadable")
                continue
            if result.note:
                _warn(self.summary, [result.note])
            yield result.data

    def _parsed(self, kind: str, parse: Callable[[dict[str, Any]], _T], report_kind: str) -> Iterator[_T]:
        """The records of a file, parsed; one that is no such thing (NingRecordError) is reported and skipped."""
        for number, data in enumerate(self._records(kind), start=1):
            try:
                yield parse(data)
            except NingRecordError as exc:
                self.summary.found(report_kind)
                self.summary.skipped(report_kind, f"record {number} of ning-{kind}.json: {exc}")

    def _read_members(self) -> list[NingMember]:
        found: dict[str, NingMember] = {}
        for member in self._parsed("members", parse_member, "members"):
            _warn(self.summary, member.warnings)
            self.summary.found("members")
            if member.contributor_name in found:  # listed twice: the first counts
                self.summary.skipped("members", "listed twice in the export")
                continue
            found[member.contributor_name] = member
        return list(found.values())

    # -- members -----------------------------------------------------------------------------

    async def members(self) -> None:
        members_ = self._read_members()
        self.names = {m.contributor_name: m.full_name for m in members_}
        for member in members_:
            for question in member.profile.left_out:
                self.summary.warnings[f"profile answer not imported (not needed): {question[:40]}"] += 1
        async with self.session.batch() as tx:
            known = await legacy.legacy_members(tx)
            local = await legacy.usernames(tx, local_only=True)
            used = await legacy.usernames(tx)
        taken = local | {username for key, (_, username, _) in known.items() if key not in self.names}
        assigned = assign_usernames([(m.contributor_name, m.full_name) for m in members_], taken=taken)
        authors = AuthorBook(known, used, self.summary)
        self.writer = Writer(self.rt, self.copier, authors, self.summary)
        new = [m for m in members_ if m.contributor_name not in known]
        self.summary.existing["members"] += len(members_) - len(new)
        self.summary.already("members", len(members_) - len(new))
        self.progress.phase("members", len(new))
        for chunk in _chunks(new, MEMBER_BATCH):
            self.copier.prefetch((m.profile_photo, True) for m in chunk if m.profile_photo)
            async with self.session.batch() as tx:
                await self._write_members(tx, chunk, assigned, authors)
            self.progress.advance(len(chunk))

    async def _write_members(
        self, tx: Executor, chunk: Sequence[NingMember], assigned: dict[str, str], authors: AuthorBook
    ) -> None:
        rows = [member_row(m, assigned[m.contributor_name]) for m in chunk]
        ids = await members.add_many(tx, rows)
        redirects = []
        for member, row, member_id in zip(chunk, rows, ids, strict=True):
            if member_id is None:
                self.summary.existing["members"] += 1
                self.summary.already("members")
                continue
            self.summary.created["members"] += 1
            self.summary.imported("members")
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

    # -- posts of every kind -------------------------------------------------------------------

    async def _prefetch(self, batch: list[ImportPost]) -> None:
        """Have the images of a batch's new posts re-encoded in the background (threads)."""
        assert self.writer is not None
        async with self.session.batch() as tx:
            existing = await legacy.post_ids(tx, [p.legacy_id for p in batch])
        self.copier.prefetch(self.writer.media_of([p for p in batch if p.legacy_id not in existing]))

    async def _flush(self, batch: list[ImportPost]) -> None:
        if not batch:
            return
        assert self.writer is not None
        async with self.session.batch() as tx:
            await self.writer.write(tx, batch)
        self.progress.advance(len(batch), self.summary.created["comments"])

    async def posts(self, kind: str, posts: Iterable[ImportPost], total: int | None = None) -> None:
        """Write posts in batches; while one batch is written, the next one's images are being re-encoded."""
        self.progress.phase(kind, total if total is not None else estimate_records(self.folder, kind))
        batch: list[ImportPost] = []
        ready: list[ImportPost] = []  # read, its images on their way: written once the next is read
        for post in posts:
            _warn(self.summary, post.warnings)
            batch.append(post)
            if len(batch) >= self.batch_size:
                await self._prefetch(batch)
                await self._flush(ready)
                ready, batch = batch, []
        if batch:
            await self._prefetch(batch)
        await self._flush(ready)
        await self._flush(batch)

    def blogs(self) -> Iterator[ImportPost]:
        for data in self._records("blogs"):
            yield post_of(parse_post(data), self.names)

    def read_groups(self) -> dict[str, NingGroup]:
        self.groups = {g.id: g for g in (parse_group(d) for d in self._records("groups"))}
        return self.groups

    async def topic_groups(self) -> None:
        """Each group of the old network becomes a topic group (a Group actor) here, a private one
        members-only; its members join it, its creator and admins moderate it.

        Found again by its old id on a second run; its username comes from its title, made unique
        as members' are. Its posts are listed on its page but never announced (nothing of an
        import is pushed; a members-only group's never leave it).
        """
        found = self.groups
        assert self.writer is not None
        async with self.session.batch() as tx:
            known = await legacy.archive_groups(tx)
            used = await legacy.usernames(tx)
            new = [g for g in found.values() if g.id not in known]
            assigned = assign_usernames(
                [(g.id, g.title or "groep") for g in new], taken=used | {self.rt.config.network.username}
            )
            for group in new:
                made = await group_store.create(
                    tx, assigned[group.id], inert_text(group.title, 100) or assigned[group.id],
                    inert_text(group.description, 500), "followers",
                    group_store.MEMBERS_ONLY if group.is_private else group_store.PUBLIC,
                )  # fmt: skip
                if made is None:
                    continue
                await members.set_legacy_id(tx, made.id, legacy.GROUP_PREFIX + group.id)
                known[group.id] = (made.id, made.username)
                self.summary.created["topic groups"] += 1
                await self._group_members(tx, group, made.id)
        self.summary.existing["topic groups"] += len(found) - len(new)
        self.writer.topic_groups = known

    async def _group_members(self, tx: Executor, group: NingGroup, group_id: int) -> None:
        """The old group's members join the topic group; its creator and admins moderate it."""
        assert self.writer is not None
        book = self.writer.authors
        joined: list[int] = []
        for entry in group.members:
            if not entry.is_member:
                self.summary.warnings[f"group member with status {entry.status[:20]!r}: not a member"] += 1
                continue
            found = book.known.get(entry.contributor_name)
            if found is None:
                self.summary.warnings["group member missing from the member list: left out"] += 1
                continue
            joined.append(found[0])
            if entry.is_admin:
                await group_store.add_moderator(tx, group_id, found[0])
        creator = book.known.get(group.contributor_name)
        if creator is not None:
            joined.append(creator[0])
            await group_store.add_moderator(tx, group_id, creator[0])
        await group_members.add_many(tx, group_id, sorted(set(joined)), group.created)

    def discussions(self) -> Iterator[ImportPost]:
        for data in self._records("discussions"):
            yield discussion_post(parse_discussion(data), self.names, self.groups)

    def albums(self) -> list[ImportPost]:
        albums: dict[str, NingAlbum] = {}
        for album in self._parsed("albums", parse_album, "albums"):
            albums.setdefault(album.id, album)
        photos: list[NingPhoto] = []
        for photo in self._parsed("photos", parse_photo, "photos"):
            photos.append(photo)
        grouped = group_albums(photos, albums)

        def archived(address: str) -> bool:
            return resolve_media(self.folder, address) is not None

        return [album_post(a, self.names, self.groups, archived) for a in grouped]

    def videos(self) -> Iterator[ImportPost]:
        for video in self._parsed("videos", parse_video, "videos"):
            yield video_post(video, self.names, self.groups)

    def music(self) -> Iterator[ImportPost]:
        for track in self._parsed("music", parse_track, "music"):
            yield track_post(track, self.names)

    def events(self) -> Iterator[NingEvent]:
        yield from self._parsed("events", parse_event, "events")

    def pages(self) -> list[NingPage]:
        out: list[NingPage] = []
        for kind in ("pages", "notes"):
            out += self._parsed(kind, partial(parse_page, kind=kind), "pages")
        return out

    def files_report(self) -> None:
        """Every file the archive named: copied, or why not."""
        for outcome in self.copier.outcomes.values():
            self.summary.found("files")
            if outcome == COPIED:
                self.summary.imported("files")
            elif outcome == ALREADY:
                self.summary.already("files")
            else:
                self.summary.skipped("files", outcome)

    def unknown_kinds(self) -> None:
        """A file of the export this importer does not read is said so, not passed over in silence."""
        for kind in sorted(set(find_export(self.folder)) - set(KINDS)):
            self.summary.found(kind)
            self.summary.skipped(kind, f"ning-{kind}.json is not a kind this importer reads")


async def import_ning(
    rt: Runtime, folder: Path, progress: Progress, *, dry_run: bool = False, batch_size: int = DEFAULT_BATCH
) -> Summary:
    """Import a Ning export folder (see the module docstring); the summary of what was done."""
    if not folder.is_dir():
        raise UserError(f"not a folder: {folder}")
    kinds = find_export(folder)
    if not set(KINDS) & kinds.keys():
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
            if job.read_groups():
                await job.topic_groups()
                await job.posts("groups", (group_post(g, job.names) for g in job.groups.values()), len(job.groups))
            await job.posts("discussions", job.discussions())
            await job.posts("events", (event_post(e, job.names, job.groups) for e in job.events()))
            albums = job.albums()
            await job.posts("photos", albums, len(albums))
            await job.posts("videos", job.videos())
            await job.posts("music", job.music())
            pages = job.pages()
            assert job.writer is not None
            if pages:
                progress.phase("pages", len(pages))
                async with session.batch() as tx:
                    await write_site_pages(tx, rt, job.writer, pages, job.names)
                progress.advance(len(pages))
    finally:
        progress.close()
        job.copier.close()
    job.files_report()
    job.unknown_kinds()
    job.summary.created["images"] = job.copier.images
    job.summary.created["files"] = job.copier.files
    job.summary.seconds = time.monotonic() - started
    return job.summary
