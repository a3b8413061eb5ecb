"""Writing on the web: /posts/new, /posts/{id}/edit and /posts/{id}/delete.

One form for new posts and edits: title, body (Markdown), a content warning, a language, tags,
and up to four images with their descriptions. Its buttons preview, save a draft (not
federated) or publish (which redirects to the post). Uploaded images are stored at once, so a
preview keeps them; the form then carries their ids, and each is checked to be the member's.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import UserError
from ..models import Member, Post
from ..runtime import Runtime
from ..services.posts import LANGUAGES, MAX_IMAGES, Draft, delete_post, post_html, save_post, typed_tags
from ..services.uploads import store_image
from ..store import groups, media, posts, tags
from ..store.media import Media
from .confirm import Ask, ask
from .forms import text_field
from .gate import member_of
from .ids import parse_id
from .pages import Pages
from .render import Renderer
from .security import FORM_LIMIT, WebSecurity

__all__ = ["Editor"]

UPLOAD_LIMIT = MAX_IMAGES * 10_000_000 + FORM_LIMIT


class Editor:
    """The post editor and the author's edit and delete actions."""

    def __init__(self, rt: Runtime, render: Renderer, security: WebSecurity, pages: Pages) -> None:
        self.rt = rt
        self.render = render
        self.security = security
        self.pages = pages

    async def _own_post(self, request: Request, member: Member) -> Post | Response:
        post = await posts.by_id(self.rt.db, request.path_params["post_id"])
        if post is None or post.deleted_at is not None or post.is_event:  # events: /events/ID/edit
            return await self.pages.error(request, 404)
        if post.member_id != member.id:
            return await self.pages.error(request, 403)
        return post

    async def new(self, request: Request) -> Response:
        """GET: an empty editor; POST: preview, save a draft, or publish."""
        member = member_of(request)
        if request.method == "GET":
            return await self._form(request, Draft("", ""), [])
        return await self._submit(request, member, None)

    async def edit(self, request: Request) -> Response:
        """GET: the editor filled in with the post; POST: as for a new post (an edit sends Update)."""
        member = member_of(request)
        post = await self._own_post(request, member)
        if isinstance(post, Response):
            return post
        if request.method == "GET":
            images = await media.for_post(self.rt.db, post.id)
            current = typed_tags(post.body_md, await tags.for_post(self.rt.db, post.id))
            group = await groups.group_of_post(self.rt.db, post.id)
            draft = Draft(post.title, post.body_md, post.summary or "", post.language or "", current,
                          group=group.username if group else "", short=not post.title)  # fmt: skip
            return await self._form(request, draft, images, post=post)
        return await self._submit(request, member, post)

    async def delete(self, request: Request) -> Response:
        """GET: asks first; POST: deletes one's own post (a Delete goes to everyone who received it)."""
        member = member_of(request)
        if request.method == "POST":
            await self.security.form(request)
        post = await self._own_post(request, member)
        if isinstance(post, Response):
            return post
        if request.method == "GET":
            t = functools.partial(self.render.text, request)
            question = Ask(
                t("delete_post_title", title=post.title), t("delete_post_explain"), t("confirm_delete"),
                self.rt.urls.post(post.id),
            )  # fmt: skip
            return await ask(self.render, request, question)
        await delete_post(self.rt, self.rt.urls.post(post.id))
        return RedirectResponse(self.rt.urls.actor(member.username), status_code=303)

    async def _form(
        self,
        request: Request,
        draft: Draft,
        images: list[Media],
        *,
        post: Post | None = None,
        status: int = 200,
        error: str | None = None,
        preview: dict[str, Any] | None = None,
        new_alts: list[str] | None = None,
    ) -> Response:
        return await self.render.page(
            request, "editor.html", status=status, draft=draft, images=images, post=post, error=error,
            preview=preview, languages=LANGUAGES, max_images=MAX_IMAGES, new_alts=new_alts or [], topic_groups=[
                g for g in await groups.list_all(self.rt.db) if g.username != self.rt.config.network.username],
            action=f"/posts/{post.id}/edit" if post else "/posts/new",
        )  # fmt: skip

    async def _submit(self, request: Request, member: Member, post: Post | None) -> Response:
        form = await self.security.form(request, limit=UPLOAD_LIMIT, max_files=MAX_IMAGES)
        try:
            return await self._handle(request, member, post, form)
        finally:
            await form.close()  # uploads are spooled to temporary files

    async def _handle(self, request: Request, member: Member, post: Post | None, form: FormData) -> Response:
        action = text_field(form, "action", 20)
        kept: list[Media] = []
        error: str | None = None
        refused_alts: list[str] = []  # descriptions typed for uploads that were refused: kept in the form
        # Images already attached (in a preview, or to the post being edited), then new uploads.
        for raw in form.getlist("media")[:MAX_IMAGES]:
            media_id = parse_id(raw)
            found = await media.by_id(self.rt.db, media_id) if media_id is not None else None
            if found is None or found.member_id != member.id or form.get(f"remove_{found.id}") == "1":
                continue
            alt = text_field(form, f"alt_{found.id}", 1500)
            if alt != found.alt:
                await media.set_alt(self.rt.db, found.id, alt)
                found = replace(found, alt=alt)
            kept.append(found)
        for slot in range(1, MAX_IMAGES + 1):
            upload = form.get(f"image_{slot}")
            if not isinstance(upload, UploadFile) or not upload.filename:
                continue
            data = await upload.read()
            if not data:
                continue
            alt = text_field(form, f"alt_new_{slot}", 1500)
            try:
                kept.append(await store_image(self.rt, member, data, alt, original_name=upload.filename))
            except UserError as exc:
                error = self.render.error_text(request, exc)
                refused_alts.append(alt)
        draft = Draft(
            text_field(form, "title", 400),
            text_field(form, "body", 210_000),
            text_field(form, "summary", 600),
            text_field(form, "language", 10),
            text_field(form, "tags", 1000),
            [m.id for m in kept][:MAX_IMAGES],
            text_field(form, "group", 40) if "group" in form else None,
            short=post is not None and not post.title,  # a short post (from an app) may stay without a title
        )
        if action == "preview" or error is not None:
            preview = None
            if error is None:
                try:
                    html, tag_list = post_html(self.rt, draft.body, draft.tags)
                    preview = {"html": html, "tags": tag_list}
                except UserError as exc:
                    error = self.render.error_text(request, exc)
            return await self._form(
                request, draft, kept[:MAX_IMAGES], post=post, status=400 if error else 200, error=error,
                preview=preview, new_alts=refused_alts,
            )  # fmt: skip
        try:
            saved = await save_post(self.rt, member, draft, publish=action == "publish", post=post)
        except UserError as exc:
            return await self._form(
                request, draft, kept, post=post, status=400, error=self.render.error_text(request, exc)
            )
        return RedirectResponse(self.rt.urls.post(saved.id), status_code=303)
