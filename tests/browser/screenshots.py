"""Screenshots of the main pages for the README, made with the browser tests' own tools.

    python tests/browser/screenshots.py [FOLDER]      (default: docs/screenshots)

Starts an instance on 127.0.0.1 in a temporary folder, fills it with the browser tests' demo
community (tests/demo_site.py), and photographs pages in Debian's Chromium (tests/browser.py):
the home page, a post, the editor and the member directory at 1280 px, and the home page, a
post and the open menu at phone width (390 px), in light mode; one home page in dark mode.
Nothing leaves the machine: the browser reaches only loopback.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from browser import launch_chromium, open_page  # noqa: E402
from demo_site import PASSWORD, Demo, populate  # noqa: E402
from helpers import LiveServer, live_server  # noqa: E402

__all__ = ["SHOTS", "main", "take"]

WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# (file name, viewport, signed in, path or a demo post name, what to do before the picture)
SHOTS: list[tuple[str, dict[str, int], bool, str, str]] = [
    ("home.png", WIDE, False, "/", ""),
    ("post.png", WIDE, False, "post:open_data", ""),
    ("editor.png", WIDE, True, "/posts/new", "editor"),
    ("members.png", WIDE, True, "/members", ""),
    ("home-signed-in.png", WIDE, True, "/", "account"),
    ("phone-home.png", PHONE, False, "/", ""),
    ("phone-post.png", PHONE, False, "post:long", ""),
    ("phone-menu.png", PHONE, True, "/", "menu"),
]


async def _sign_in(page: Any, base_url: str) -> None:
    await page.goto(f"{base_url}/login")
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("main form button[type=submit]")
    await page.wait_for_load_state()


async def _load_images(page: Any) -> None:
    """Lazy images load when scrolled to; a full-page picture wants them all."""
    await page.evaluate(
        "() => Promise.all([...document.images].map((img) => { img.loading = 'eager';"
        " return img.complete ? null : img.decode().catch(() => null); }))"
    )


async def take(server: LiveServer, demo: Demo, folder: Path, *, dark: bool = False) -> list[Path]:
    """Photograph SHOTS (plus a dark home page) into `folder`; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    async with launch_chromium() as browser:
        for name, viewport, signed_in, target, before in SHOTS:
            options = {"viewport": viewport, "locale": "nl-NL", "color_scheme": "light", "device_scale_factor": 1}
            async with open_page(browser, server.base_url, **options) as bp:
                page = bp.page
                if signed_in:
                    await _sign_in(page, server.base_url)
                url = demo.posts[target[5:]] if target.startswith("post:") else server.base_url + target
                await page.goto(url)
                if before == "menu":
                    await page.click(".site-menu > summary")
                elif before == "account":
                    await page.click(".account-menu > summary")
                elif before == "editor":
                    await page.fill("#title", "Wat we leerden van een jaar open data")
                    await page.fill("#body", "Een jaar geleden begonnen we met **open data**.\n\n- Eén plek")
                    await page.fill("#tags", "OpenData")
                await _load_images(page)
                target_file = folder / name
                await page.screenshot(path=str(target_file), full_page=viewport is WIDE and before != "account")
                written.append(target_file)
        if dark:
            options = {"viewport": WIDE, "locale": "nl-NL", "color_scheme": "dark", "device_scale_factor": 1}
            async with open_page(browser, server.base_url, **options) as bp:
                await bp.page.goto(server.base_url + "/")
                await _load_images(bp.page)
                target_file = folder / "home-dark.png"
                await bp.page.screenshot(path=str(target_file))
                written.append(target_file)
    return written


async def main(folder: Path) -> None:
    """Start an instance, fill it, photograph it, stop it."""
    with tempfile.TemporaryDirectory() as tmp:
        async with live_server(Path(tmp) / "a2", run_workers=True, instance={"name": "Ambtenaar 2.0"}) as server:
            demo = await populate(server)
            for path in await take(server, demo, folder, dark=True):
                print(path)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots")))
