"""Event pages: /events (upcoming and past), /events/new, each event's page (or its AS2 Event), its
answers (RSVP), comments, edit and cancel, and the iCalendar feeds /events.ics and /events/ID.ics.

Times are typed and shown in the instance's time zone (`datetime-local` fields: wall-clock time
there); services/events.py turns them into UTC. Cancelling asks first, on a page of its own.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..activitypub import build
from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..i18n import local_input, translate
from ..models import RSVP_STATUSES, Event, Member
from ..runtime import Runtime
from ..services.events import EventDraft, answer, cancel_event, event_document, save_event
from ..services.social import comment
from ..store import comments, events, groups
from .forms import field, text_field
from .gate import member_of, viewer_of
from .ical import calendar, calendar_response
from .negotiation import activity_response, wants_activity_json
from .pages import Pages
from .paging import Paging
from .render import Renderer
from .security import FORM_LIMIT, WebSecurity
from .threads import comment_texts, fill_texts, thread_order

__all__ = ["EventPages"]

FetchGuard = Callable[[Request], Awaitable[Response | None]]
MAX_COMMENT = 20_000
UPCOMING_LIMIT = 200  # upcoming events on /events and in /events.ics
_FORM_LIMITS = {"title": 400, "start": 40, "end": 40, "location": 300, "address": 600, "link": 2100}


def _draft(form: FormData) -> EventDraft:
    values = {name: field(form, name, limit) for name, limit in _FORM_LIMITS.items()}
    return EventDraft(
        values["title"], values["start"], values["end"], text_field(form, "body", 110_000), values["location"],
        values["address"], values["link"], field(form, "group", 40) if "group" in form else None,
    )  # fmt: skip


class EventPages:
    """Everything under /events."""

    def __init__(
        self,
        rt: Runtime,
        render: Renderer,
        security: WebSecurity,
        pages: Pages,
        guard: FetchGuard,
        directory: ActorDirectory,
    ) -> None:
        self.rt = rt
        self.render = render
        self.security = security
        self.pages = pages
        self.guard = guard
        self.directory = directory

    # -- reading -------------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        """/events: upcoming events soonest first, then past events (paged), most recent first."""
        paging = Paging.of(request, self.render.links)
        now = time.time()
        coming = await events.upcoming(self.rt.db, now, UPCOMING_LIMIT) if paging.number == 1 else []
        past = paging.cut(await events.past(self.rt.db, now, paging.limit, paging.offset))
        return await self.render.page(
            request, "events.html", upcoming=coming, past=past, first=paging.number == 1, tz=self.rt.tz.key
        )

    async def _event(self, request: Request) -> Event | None:
        return await events.by_id(self.rt.db, request.path_params["event_id"])

    async def show(self, request: Request) -> Response:
        """An event: its page, or its AS2 Event for ActivityPub clients; 410 with a Tombstone once cancelled."""
        event = await self._event(request)
        as_json = wants_activity_json(request)
        if event is None:
            if as_json:
                return activity_response({"error": "not found"}, 404)
            return await self.pages.error(request, 404)
        url = self.rt.urls.object_of(event.post)
        if event.post.deleted_at is not None:
            if as_json:
                return activity_response(build.tombstone(url, event.post.deleted_at), 410)
            return await self.pages.error(request, 410, "event_gone_text")
        if as_json:
            if (refusal := await self.guard(request)) is not None:
                return refusal
            return activity_response(await event_document(self.rt, self.rt.db, event))
        return await self._page(request, event)

    async def _page(
        self, request: Request, event: Event, status: int = 200, error: str | None = None, *,
        comment_error: str = "", comment_body: str = "",
    ) -> Response:  # fmt: skip
        db = self.rt.db
        me = viewer_of(request)
        lang = self.render.language(request)
        items = await comments.list_for_post(db, event.id, self.rt.policy, self.rt.urls)
        thread = thread_order(items)
        fill_texts(thread, lang, self.rt.tz)
        comment_text = comment_texts(lang)
        answers = await events.rsvps(db, event.id, self.rt.urls)
        by_status = {status: [a for a in answers if a.status == status] for status in RSVP_STATUSES}
        mine = None
        if me is not None:
            mine = next((a.status for a in answers if a.member_id == me.id), None)
        return await self.render.page(
            request, "event.html", status=status, event=event, post=event.post,
            event_url=self.rt.urls.object_of(event.post), answers=by_status, my_answer=mine,
            statuses=RSVP_STATUSES, thread=thread, comment_count=len(items), comment_text=comment_text,
            group=await groups.group_of_post(db, event.id), error=error, tz=self.rt.tz.key,
            comment_error=comment_error, comment_body=comment_body,
            organiser=me is not None and me.id == event.post.member_id, over=event.is_over(time.time()),
        )  # fmt: skip

    async def calendar_all(self, request: Request) -> Response:
        """/events.ics: every upcoming event, to subscribe to."""
        found = await events.upcoming(self.rt.db, time.time(), UPCOMING_LIMIT)
        name = f"{translate(self.rt.config.instance.language, 'events')} - {self.rt.config.instance.name}"
        return calendar_response(calendar(found, self.rt.urls, name, self.rt.tz), "events.ics")

    async def calendar_one(self, request: Request) -> Response:
        """/events/ID.ics: one event, to add to a calendar."""
        event = await self._event(request)
        if event is None or event.post.deleted_at is not None:
            status = 410 if event is not None else 404
            return Response("gone" if status == 410 else "not found", status, media_type="text/plain; charset=utf-8")
        body = calendar([event], self.rt.urls, event.post.title, self.rt.tz)
        return calendar_response(body, f"event-{event.id}.ics")

    # -- writing -------------------------------------------------------------------------------

    async def _own(self, request: Request) -> tuple[Member, Event] | Response:
        """The signed-in organiser and their live event (other members get 403)."""
        member = member_of(request)
        event = await self._event(request)
        if event is None or event.post.deleted_at is not None:
            return await self.pages.error(request, 404)
        if event.post.member_id != member.id:
            return await self.pages.error(request, 403)
        return member, event

    async def _form(
        self, request: Request, draft: EventDraft, *, event: Event | None = None, status: int = 200,
        error: str | None = None,
    ) -> Response:  # fmt: skip
        topic_groups = [g for g in await groups.list_all(self.rt.db) if g.username != self.rt.config.network.username]
        return await self.render.page(
            request, "event_form.html", status=status, draft=draft, event=event, error=error,
            topic_groups=topic_groups, tz=self.rt.tz.key,
            action=f"/events/{event.id}/edit" if event else "/events/new",
        )  # fmt: skip

    async def new(self, request: Request) -> Response:
        """GET: an empty event form; POST: store the event and send it to the organiser's followers."""
        member = member_of(request)
        if request.method == "GET":
            return await self._form(request, EventDraft("", "", ""))
        return await self._save(request, member, None)

    async def edit(self, request: Request) -> Response:
        """GET: the form filled in with the event; POST: change it (an Update goes out)."""
        own = await self._own(request)
        if isinstance(own, Response):
            return own
        member, event = own
        if request.method == "GET":
            group = await groups.group_of_post(self.rt.db, event.id)
            tz = self.rt.tz
            draft = EventDraft(
                event.post.title, local_input(event.starts_at, tz),
                local_input(event.ends_at if event.ends_at is not None else event.starts_at, tz),
                event.post.body_md, event.location_name, event.location_address, event.online_url or "",
                group.username if group else "",
            )  # fmt: skip
            return await self._form(request, draft, event=event)
        return await self._save(request, member, event)

    async def _save(self, request: Request, member: Member, event: Event | None) -> Response:
        form = await self.security.form(request)
        draft = _draft(form)
        try:
            saved = await save_event(self.rt, member, draft, event=event)
        except UserError as exc:
            return await self._form(request, draft, event=event, status=400, error=self.render.error_text(request, exc))
        return RedirectResponse(self.rt.urls.object_of(saved.post), status_code=303)

    async def cancel(self, request: Request) -> Response:
        """GET: asks whether to cancel; POST: cancels (the event's URL answers 410, a Delete goes out)."""
        own = await self._own(request)
        if isinstance(own, Response):
            return own
        member, event = own
        if request.method == "GET":
            return await self.render.page(request, "event_cancel.html", event=event, post=event.post)
        await self.security.form(request)
        await cancel_event(self.rt, member, event)
        return RedirectResponse(f"{self.rt.urls.base}/events", status_code=303)

    async def _posted(self, request: Request) -> tuple[Member, FormData, Event] | Response:
        """A member's form sent to a live event."""
        member = member_of(request)
        form = await self.security.form(request)
        event = await self._event(request)
        if event is None or event.post.deleted_at is not None:
            return await self.pages.error(request, 404)
        return member, form, event

    async def rsvp(self, request: Request) -> Response:
        """POST: a member answers going, maybe or not going (`status`), or takes the answer back (`none`)."""
        posted = await self._posted(request)
        if isinstance(posted, Response):
            return posted
        member, form, event = posted
        status = field(form, "status", 20)
        if status not in (*RSVP_STATUSES, "none"):
            return await self._page(request, event, 400, self.render.text(request, "event_answer_invalid"))
        try:
            await answer(self.rt, member, event, None if status == "none" else status)
        except UserError as exc:
            return await self._page(request, event, 400, self.render.error_text(request, exc))
        return RedirectResponse(f"{self.rt.urls.object_of(event.post)}#answers", status_code=303)

    async def comment(self, request: Request) -> Response:
        """POST: a member's comment under an event (sent to the organiser's followers, as under a post)."""
        posted = await self._posted(request)
        if isinstance(posted, Response):
            return posted
        member, form, event = posted
        url = self.rt.urls.object_of(event.post)
        text = text_field(form, "body", FORM_LIMIT)
        try:
            made = await comment(self.rt, self.directory, member.username, url, text[: MAX_COMMENT + 1])
        except UserError as exc:  # the event again, the comment still in its form, and why
            error = self.render.error_text(request, exc)
            return await self._page(request, event, 400, comment_error=error, comment_body=text)
        return RedirectResponse(f"{url}#comment-{self.rt.urls.comment_id(made)}", status_code=303)
