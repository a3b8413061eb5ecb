"""A new user's first steps on the command line, as real processes: the README's quick start as written,
and the small things that tripped a newcomer up (one line and a non-zero code, or a quiet success)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fediverse_a2.config import load_config
from fediverse_a2.runtime import Runtime
from fediverse_a2.services.members import add_member
from fediverse_a2.store import posts
from helpers import REPO, ServiceProcess, cli, last_line, write_config
from hostile import one_line_error
from media_samples import png_bytes
from webclient import BROWSER, csrf_of


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "a2", "http://127.0.0.1:8999")


def _quick_start_commands() -> list[list[str]]:
    """The `fediverse-a2 ...` lines of the README's quick start, split as the shell would."""
    readme = (REPO / "README.md").read_text()
    block = readme.split("there are no members, the console and the home page say how to add one.", 1)[1]
    code = block.split("```sh", 1)[1].split("```", 1)[0]
    return [shlex.split(line) for line in code.splitlines() if line.startswith("fediverse-a2 ")]


async def test_the_readme_quick_start_works_as_written_and_leads_to_signing_in(tmp_path: Path) -> None:
    commands = _quick_start_commands()
    assert [c[1] for c in commands] == ["member", "post", "member"], commands
    server = ServiceProcess(tmp_path / "a2")
    outputs = [server.cli(*command[1:]) for command in commands]  # in the order written, each must succeed
    post_url, invite = last_line(outputs[1]), last_line(outputs[2])
    assert re.fullmatch(rf"{re.escape(server.base_url)}/posts/\d+", post_url), post_url
    assert invite.startswith(f"{server.base_url}/invite/")
    try:
        await server.start()
        async with httpx.AsyncClient(timeout=20, headers=BROWSER) as web:
            page = await web.get(post_url)
            assert page.status_code == 200 and "Programma stopt, netwerk gaat door" in page.text
            assert "<strong>gewoon</strong>" in page.text  # the body is Markdown
            # The README's way in: the invite link, a password chosen there, and signed in.
            form = await web.get(invite)
            assert form.status_code == 200
            password = "een lang wachtwoord"
            fields = {"csrf": csrf_of(form.text), "password": password, "password_again": password}
            chosen = await web.post(invite, headers={"Origin": server.base_url}, data=fields)
            assert chosen.status_code == 303
            assert "/posts/new" in (await web.get(f"{server.base_url}/")).text  # the header of a member
    finally:
        server.stop()
    # And the other way the README names: a password set in the terminal.
    proc = subprocess.run(
        [sys.executable, "-m", "fediverse_a2", "--config", str(server.config_path), "member", "password", "alice"],
        input="nog een wachtwoord\n", capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_import_page_refuses_a_file_that_is_not_text_or_html(config: Path, tmp_path: Path) -> None:
    cli(config, "member", "add", "alice", "--name", "Alice")
    image = tmp_path / "foto.png"
    image.write_bytes(png_bytes())
    pdf = tmp_path / "stuk.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\x00\x00\x01stream\x00\x02\x03")
    for path in (image, pdf):
        line = one_line_error(cli(config, "import", "page", str(path), "--author", "alice", check=False))
        assert str(path) in line and "not text or HTML" in line, line
    assert cli(config, "import", "map").stdout.strip() == "old,new,kind"  # nothing was imported


async def test_a_markdown_title_loses_its_markup_and_a_paragraph_is_never_a_title(config: Path, tmp_path: Path) -> None:
    cli(config, "member", "add", "alice", "--name", "Alice")
    titled = tmp_path / "titel.md"
    titled.write_text("**Programma stopt, netwerk gaat door**\n\nHet netwerk gaat door.\n")
    heading = tmp_path / "kop.md"
    heading.write_text("# Een *nieuwe* start\n\nTekst.\n")
    untitled = tmp_path / "tekst.md"
    untitled.write_text("Dit is een **gewone** alinea van tekst\nover twee regels, geen titel.\n\nEn nog een.\n")
    urls = [last_line(cli(config, "import", "page", str(p), "--author", "alice")) for p in (titled, heading, untitled)]
    rt = await Runtime.open(load_config(config))
    try:
        found = [await posts.by_id(rt.db, int(u.rsplit("/", 1)[1])) for u in urls]
    finally:
        await rt.close()
    assert [p.title if p else None for p in found] == [
        "Programma stopt, netwerk gaat door",
        "Een *nieuwe* start",
        "(zonder titel)",
    ]


async def test_a_closed_pipe_ends_quietly_with_zero(config: Path) -> None:
    # Enough rows that the output does not fit the pipe's buffer before `head` has gone. The
    # members beyond the first are added in this process, as `member add` adds them: forty
    # processes of their own took minutes on a loaded machine.
    cli(config, "member", "add", "alice", "--name", "Alice")
    rt = await Runtime.open(load_config(config))
    try:
        for n in range(40):
            await add_member(rt, f"lid{n}", f"Lid met een vrij lange naam nummer {n} " * 40)
    finally:
        await rt.close()
    proc = subprocess.run(
        f"{shlex.quote(sys.executable)} -m fediverse_a2 --config {shlex.quote(str(config))} member list | head -1; "
        'exit "${PIPESTATUS[0]}"',
        shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert len(proc.stdout.splitlines()) == 1


def test_relay_list_says_there_are_none(config: Path) -> None:
    assert last_line(cli(config, "relay", "list")).startswith("no relays")


@pytest.mark.parametrize(
    "args",
    [
        ("timeline", "alice", "--limit", "-3"),
        ("timeline", "alice", "--limit", "0"),
        ("import", "ning", ".", "--batch-size", "-1"),
        ("member", "approve", "-2"),
        ("member", "reject", "0"),
        ("serve", "--workers", "-1"),
    ],
)
def test_negative_counts_are_refused(config: Path, args: tuple[str, ...]) -> None:
    line = one_line_error(cli(config, *args, check=False))
    assert "at least 1" in line, line


def test_comment_on_a_post_that_never_existed_says_so(config: Path) -> None:
    cli(config, "member", "add", "alice", "--name", "Alice")
    url = last_line(cli(config, "post", "alice", "--title", "Er was eens", "--body", "Tekst"))
    cli(config, "delete", url)
    never = url.rsplit("/", 1)[0] + "/999"
    line = one_line_error(cli(config, "comment", "alice", never, "--body", "Hallo", check=False))
    assert "there is no post at" in line and "deleted" not in line, line
    line = one_line_error(cli(config, "comment", "alice", url, "--body", "Hallo", check=False))
    assert "was deleted" in line, line  # the one that did exist says that
    line = one_line_error(
        cli(config, "comment", "alice", url.rsplit("/", 2)[0] + "/comments/999", "--body", "Hallo", check=False)
    )
    assert "there is no post or comment at" in line, line


async def test_serve_names_its_address_once(tmp_path: Path) -> None:
    server = ServiceProcess(tmp_path / "a2", server={"background": "inline"})
    try:
        await server.start()
    finally:
        server.stop()
    log = server.log.read_text()
    assert log.count(server.base_url) == 1, log
    assert f"serving {server.base_url} (background work: in this process)" in log
