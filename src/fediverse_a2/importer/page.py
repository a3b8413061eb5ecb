"""`import page FILE... --author USERNAME`: pages saved from the old site, each a post with its comments.

The page is read by `archive.saved_page` (title, body, view count, comments with their UTC dates).
Its commenters are matched to members by full name; a name no member has becomes an archive
author of that name (the same one for every page that names them). A page imported again is
found by its legacy id (the old address when the page shows it, else a digest of its content),
so nothing changes. The images of its body saved beside it (`NAME_files/`) become media of the
author (`page_images`); the ones left out are reported, page by page.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..archive.saved_page import NotASavedPage, SavedPage, read_saved_page
from ..errors import UserError
from ..runtime import Runtime
from ..store import legacy, media, members
from ..store.db import Executor
from .mapping import name_key, old_path, page_post
from .media import MediaCopier
from .model import AuthorRef
from .page_images import LeftOut, localise_images
from .progress import Progress
from .report import Summary
from .session import Session
from .writer import AuthorBook, Writer

__all__ = ["ImageWarning", "import_pages", "page_legacy_id"]


@dataclass(frozen=True, slots=True)
class ImageWarning:
    """An image of a page that was left out (see page_images.LeftOut), and the page's file."""

    page: Path
    image: LeftOut


def page_legacy_id(page: SavedPage) -> str:
    """The legacy id of a saved page: its old address, else a digest of its title and body."""
    path = old_path(page.old_url)
    if path:
        return "page:" + path
    digest = hashlib.sha256(f"{page.title}\n{page.body_html}".encode()).hexdigest()[:32]
    return f"page:{digest}"


def _read(path: Path) -> SavedPage:
    try:
        return read_saved_page(path)
    except FileNotFoundError:
        raise UserError(f"page not found: {path}") from None
    except NotASavedPage as exc:
        raise UserError(str(exc)) from None
    except IsADirectoryError:
        raise UserError(f"not a file: {path}") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None


async def _commenters(tx: Executor, page: SavedPage, book: AuthorBook) -> list[AuthorRef]:
    """Who wrote each comment: a member of that full name, else an archive author by that name."""
    refs: list[AuthorRef] = []
    for comment in page.comments:
        name = " ".join(comment.author_name.split()) or "Oud lid"
        key = name_key(name)
        if key not in book.known:
            ids = await legacy.member_ids_by_name(tx, name)
            found = await members.by_id(tx, ids[0]) if ids else None
            if found is not None:
                book.add(key, found.id, found.username)
        refs.append(AuthorRef(key, name))
    return refs


async def import_pages(
    rt: Runtime, files: Sequence[Path], username: str, progress: Progress, *, dry_run: bool = False
) -> tuple[Summary, list[str], list[ImageWarning]]:
    """Import saved pages as posts by `username`; the summary, each page's post URL, the images left out."""
    author = await members.by_username(rt.db, username)
    if author is None:
        raise UserError(f"no member named {username!r} (give --author an existing username)")
    pages = [(path, _read(path)) for path in files]  # every file is checked before anything is written
    for path, page in pages:
        if not page.title and not page.body_html:
            raise UserError(f"{path} does not look like a saved page of the old site (no title, no text)")
    started = time.monotonic()
    summary = Summary(dry_run=dry_run)
    session = Session(rt.db, dry_run=dry_run)
    copier = MediaCopier(None, rt.config.media_path, rt.urls, write=not dry_run)
    urls: list[str] = []
    warnings: list[ImageWarning] = []
    progress.phase("pages", len(pages))
    try:
        async with session.run():
            async with session.batch() as tx:
                book = AuthorBook(await legacy.legacy_members(tx), await legacy.usernames(tx), summary)
            writer = Writer(rt, copier, book, summary)
            author_ref = AuthorRef(f"member:{author.id}", author.name)
            book.add(author_ref.key, author.id, author.username)
            for path, page in pages:
                legacy_id = page_legacy_id(page)
                async with session.batch() as tx:
                    commenters = await _commenters(tx, page, book)
                    post = page_post(page, legacy_id, author_ref, commenters)
                    fresh = not await legacy.post_ids(tx, [legacy_id])  # imported before: no images again
                    if fresh:
                        found = localise_images(
                            path, post.html, page.image_sources, rt.config.media_path, rt.urls, write=not dry_run
                        )
                        warnings += [ImageWarning(path, left) for left in found.left_out]
                        post = dataclasses.replace(post, html=found.html)
                    await writer.write(tx, [post])
                    if fresh:
                        for s in found.stored:
                            i = s.image
                            await media.add(
                                tx, author.id, i.file_name, i.media_type, i.width, i.height, i.size, s.alt,
                                s.original_name,
                            )  # fmt: skip
                    post_id = (await legacy.post_ids(tx, [legacy_id]))[legacy_id]
                urls.append(rt.urls.post(post_id))
                progress.advance(1, summary.created["comments"])
    finally:
        progress.close()
    summary.seconds = time.monotonic() - started
    return summary, urls, warnings
