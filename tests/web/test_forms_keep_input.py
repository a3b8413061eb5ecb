"""A form that is refused comes back with everything typed still there and says why, on the same page
(never a dead end): through real HTTP, one refusal per form."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fediverse_a2.services.events import add_event
from fediverse_a2.services.membership import request_membership
from fediverse_a2.services.posts import publish_post
from fediverse_a2.store import comments, members
from helpers import LiveServer, live_server
from html_check import check_html
from media_samples import photo
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"


@pytest.fixture
async def a2(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2") as a2:
        await member_with_password(a2, "alice", "Alice de Vries", PASSWORD, role="admin")
        await member_with_password(a2, "taken", "Bezet", PASSWORD)
        yield a2


async def signed_in(a2: LiveServer) -> WebUser:
    web = WebUser(a2.base_url)
    assert (await web.login("alice", PASSWORD)).status_code == 303
    return web


def refused_with(r: object, *texts: str) -> str:
    """The page of a refused form: 400, an alert, well-formed, and each text still in it (escaped as HTML)."""
    status, page = getattr(r, "status_code", 0), getattr(r, "text", "")
    assert status == 400, (status, page[:300])
    assert 'role="alert"' in page
    check_html(page)
    for text in texts:
        assert html.escape(text, quote=False) in page, f"not on the page: {text[:80]!r}"
    return page


async def test_a_comment_of_only_spaces_comes_back_on_the_post_with_its_text(a2: LiveServer) -> None:
    url = await publish_post(a2.rt, "alice", "Open data in de gemeente", "Wie doet mee?")
    path = url.removeprefix(a2.base_url)
    async with await signed_in(a2) as web:
        r = await web.submit(path, f"{path}/comments", {"body": "   \n  "})
        page = refused_with(r, "Open data in de gemeente", "Schrijf eerst een reactie.")
        assert '<textarea id="comment-body" name="body" rows="5" required aria-invalid="true"' in page
        assert ">   \n  </textarea>" in page  # what was typed, spaces and all
        long = "Lang verhaal. " * 1500
        r = await web.submit(path, f"{path}/comments", {"body": long})
        refused_with(r, "De reactie is te lang.", long.strip())
    assert await comments.count_visible(a2.rt.db, int(path.rsplit("/", 1)[1]), a2.rt.policy) == 0


async def test_a_comment_under_an_event_comes_back_too(a2: LiveServer) -> None:
    url = await add_event(a2.rt, "alice", "Dag van de Ambtenaar", "2031-06-14T10:00", "2031-06-14T17:00")
    path = url.removeprefix(a2.base_url)
    async with await signed_in(a2) as web:
        r = await web.submit(path, f"{path}/comments", {"body": "  "})
        page = refused_with(r, "Dag van de Ambtenaar", "Schrijf eerst een reactie.")
        assert page.count('role="alert"') == 1  # said once, at the form


async def test_the_profile_keeps_what_was_typed(a2: LiveServer) -> None:
    async with await signed_in(a2) as web:
        fields = {"name": "", "summary": "Ik werk aan open data", "field_name_0": "Organisatie",
                  "field_value_0": "Gemeente Utrecht", "locked": "1"}  # fmt: skip
        r = await web.submit("/settings/profile", "/settings/profile", fields)
        page = refused_with(r, "Vul een naam in.", "Ik werk aan open data", "Gemeente Utrecht")
        assert 'id="locked" name="locked" value="1" checked' in page
    alice = await members.by_username(a2.rt.db, "alice")
    assert alice is not None and alice.name == "Alice de Vries" and not alice.locked


async def test_the_editor_keeps_the_description_of_a_refused_image(a2: LiveServer) -> None:
    async with await signed_in(a2) as web:
        files = {"image_1": ("kapot.jpg", b"not an image at all", "image/jpeg")}
        fields = {"title": "Met foto", "body": "Tekst", "alt_new_1": "Het stadhuis bij nacht", "action": "preview"}
        r = await web.submit("/posts/new", "/posts/new", fields, files=files)
        refused_with(r, "Met foto", "Het stadhuis bij nacht")


async def test_the_editor_labels_each_description_with_the_file_name_and_a_thumbnail(a2: LiveServer) -> None:
    async with await signed_in(a2) as web:
        files = {"image_1": ("stadhuis-utrecht.jpg", photo(), "image/jpeg")}
        fields = {"title": "Met foto", "body": "Tekst", "alt_new_1": "", "action": "preview"}
        r = await web.submit("/posts/new", "/posts/new", fields, files=files)
        assert r.status_code == 200
        check_html(r.text)
        preview = r.text.split('<section class="preview"', 1)[1].split("</section>", 1)[0]
        assert '<img src="' in preview and "/media/" in preview  # the preview shows the image
        label = r.text.split('<label class="with-thumbnail"', 1)[1].split("</label>", 1)[0]
        assert "<img" in label and 'alt=""' in label and "Beschrijving van stadhuis-utrecht.jpg" in label


async def test_a_report_reason_a_resolution_note_and_a_username_are_kept(a2: LiveServer) -> None:
    await request_membership(a2.rt, name="Eva", email="eva@example.org", organisation="", motivation="")
    async with await signed_in(a2) as web:
        page = (await web.get("/admin/requests")).text
        request_id = page.split('name="request" value="', 1)[1].split('"', 1)[0]
        r = await web.submit(
            "/admin/requests", "/admin/requests", {"request": request_id, "decision": "approve", "username": "taken"}
        )
        refused_with(r, "Die gebruikersnaam is al in gebruik.", 'value="taken"')
        r = await web.submit("/admin/federation", "/admin/federation", {"action": "allow", "domain": "geen domein!"})
        refused_with(r, "geen geldige domeinnaam", 'value="geen domein!"')
        r = await web.submit("/moderation/reports", "/moderation/reports",
                             {"report": "12345", "resolution": "resolved", "note": "Afgehandeld per mail"})  # fmt: skip
        refused_with(r, "Die rapportage bestaat niet.")
