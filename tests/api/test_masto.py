"""masto (npm; the library Elk and Phanpy are built on), on its own Node 22, as an app: it registers,
the member authorises it in the browser (the sign-in and consent forms driven over HTTP, the
authorisation address built as Elk builds it), it exchanges the code for a token, posts a status
with an image and its description (twice with one Idempotency-Key), reads the home and public
timelines, answers carol's comment, likes carol's post and reads the notifications; carol's
Mastodon-shaped server receives the Create with the image, the answer and the Like. A token
without `write` is refused.

Needs `bash tests/masto/install.sh`; without it the tests skip, unless CI=true or
FEDIVERSE_A2_MASTO=1, in which case they fail.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest

from api_client import REDIRECT, authorize_code, code_from
from app_scene import PASSWORD, Scene, scene_world
from fake_mastodon import FakeMastodon, received_about
from fediverse_a2.store import members, posts
from helpers import REPO, LiveServer
from media_samples import photo
from webclient import WebUser

FOLDER = REPO / "tests" / "masto"
NODE = FOLDER / "node_modules" / ".bin" / "node"


def _required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("FEDIVERSE_A2_MASTO") == "1"


@pytest.fixture(autouse=True)
def _masto_installed() -> None:
    if not (FOLDER / "node_modules" / "masto").is_dir() or not NODE.exists():
        reason = "masto is not installed (bash tests/masto/install.sh)"
        if _required():
            pytest.fail(f"{reason} (required: CI=true or FEDIVERSE_A2_MASTO=1)", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, FakeMastodon, Scene]]:
    async with scene_world(tmp_path) as world:
        yield world


async def masto(*args: str) -> Any:
    """One command of tests/masto/client.mjs; its JSON answer."""
    proc = await asyncio.create_subprocess_exec(
        str(NODE), str(FOLDER / "client.mjs"), *args, cwd=FOLDER,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 90)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, (args[0], err.decode(), out.decode())
    return orjson.loads(out.splitlines()[-1])


async def sign_in(a2: LiveServer, scopes: str) -> str:
    """Register masto, authorise it as alice in the browser, exchange the code: its access token."""
    app = await masto("register", a2.base_url, REDIRECT, scopes)
    query = urlencode({"client_id": app["clientId"], "scope": scopes, "redirect_uri": REDIRECT,
                       "response_type": "code"})  # fmt: skip
    async with WebUser(a2.base_url) as web:
        consent = await authorize_code(web, f"/oauth/authorize?{query}", "alice", PASSWORD)
    assert "masto" in consent.page and "https://masto.invalid" in consent.page
    code = code_from(consent.location)
    token = await masto("token", a2.base_url, app["clientId"], app["clientSecret"], REDIRECT, code, scopes)
    return str(token["accessToken"])


async def test_masto_posts_reads_answers_likes_and_is_told(
    world: tuple[LiveServer, FakeMastodon, Scene], tmp_path: Path
) -> None:
    a2, fake, scene = world
    token = await sign_in(a2, "read write follow")
    picture = tmp_path / "molen.jpg"
    picture.write_bytes(photo())
    scene_json = orjson.dumps({"blogUrl": scene.blog_url, "remarkUri": scene.remark["id"],
                               "carolsPostUri": scene.carols_post["id"]}).decode()  # fmt: skip
    done = await masto("act", a2.base_url, token, scene_json, str(picture))
    assert done["me"] == "alice" and done["version"].startswith("4.3.0 (compatible; fediverse-a2 ")
    status = done["status"]
    assert done["replay"] == status["id"]  # the same Idempotency-Key: one status
    alice = await members.by_username(a2.rt.db, "alice")
    assert alice is not None and await posts.count_live(a2.rt.db, alice.id) == 2  # the blog post and this one
    assert done["image"]["description"] == "Een molen in de polder"
    assert status["mediaAttachments"][0]["description"] == "Een molen in de polder"
    assert done["home"][0] == status["id"] and status["id"] in done["public"]
    assert done["answer"]["inReplyToId"] == done["remark"] and done["liked"] is True
    assert {"type": "mention", "acct": scene.carol_handle, "status": done["remark"]} in done["notifications"]
    assert {"type": "follow", "acct": scene.carol_handle, "status": None} in done["notifications"]

    note = (await received_about(fake, "Create", status["uri"]))["object"]
    assert note["attachment"][0]["name"] == "Een molen in de polder"
    assert (await received_about(fake, "Create", done["answer"]["uri"]))["object"]["inReplyTo"] == scene.remark["id"]
    assert (await received_about(fake, "Like", scene.carols_post["id"]))["actor"] == a2.rt.urls.actor("alice")


async def test_masto_with_a_read_only_token(world: tuple[LiveServer, FakeMastodon, Scene]) -> None:
    a2, _, _ = world
    token = await sign_in(a2, "read")
    assert (await masto("refused", a2.base_url, token))["statusCode"] == 403
    alice = await members.by_username(a2.rt.db, "alice")
    assert alice is not None and await posts.count_live(a2.rt.db, alice.id) == 1
