"""The command line speaks the language gettext finds (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), from the catalogs."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import write_config

CLI = Path(__file__).parents[2] / "src" / "fediverse_a2" / "cli"


def run(config: Path, lang: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env.update(LANG=lang, PYTHONWARNINGS="ignore")
    return subprocess.run(
        [sys.executable, "-m", "fediverse_a2", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, "http://127.0.0.1:8999")


def test_errors_and_messages_in_dutch_under_a_dutch_locale(config: Path) -> None:
    proc = run(config, "nl_NL.UTF-8", "post", "nobody", "--title", "T", "--body", "x")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "fediverse-a2: Dat lid bestaat niet."
    listing = run(config, "nl_NL.UTF-8", "block", "list")
    assert listing.returncode == 0 and listing.stdout.strip() == "geen geblokkeerde accounts"
    assert run(config, "nl_NL.UTF-8", "member", "add", "bob", "--name", "Bob").returncode == 0
    assert run(config, "nl_NL.UTF-8", "member", "disable", "bob").stdout.strip() == "bob uitgeschakeld"
    blocklist = config.parent / "blocks.csv"
    blocklist.write_text("#domain,#severity\nspam.example,suspend\n")
    imported = run(config, "nl_NL.UTF-8", "domain", "import", str(blocklist))
    assert imported.stdout.strip() == "1 domeinblokkade geïmporteerd"  # the singular form of a plural entry


def test_english_under_the_c_locale_with_the_services_own_words(config: Path) -> None:
    proc = run(config, "C.UTF-8", "post", "nobody", "--title", "T", "--body", "x")
    assert proc.returncode == 1 and proc.stderr.strip() == "fediverse-a2: no member named 'nobody'"
    assert run(config, "en_GB.UTF-8", "block", "list").stdout.strip() == "no blocked actors"
    assert run(config, "C", "member", "add", "bob", "--name", "Bob").returncode == 0
    assert run(config, "C", "member", "disable", "bob").stdout.strip() == "bob disabled"


def test_help_and_usage_errors_in_dutch(config: Path) -> None:
    shown = run(config, "nl_NL.UTF-8", "member", "add", "--help")
    assert shown.returncode == 0
    assert shown.stdout.startswith("gebruik: fediverse-a2 member add")
    assert "maak een lid aan, met een sleutelpaar" in shown.stdout and "--name NAME        weergavenaam" in shown.stdout
    assert "toon deze hulptekst en stop" in shown.stdout and "usage" not in shown.stdout
    top = run(config, "nl_NL.UTF-8", "--help").stdout
    assert "beheer leden en hun accounts" in top and "manage members" not in top

    missing = run(config, "nl_NL.UTF-8", "member", "add")
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr == "fediverse-a2 member add: deze argumenten ontbreken: username, --name (zie --help)\n"
    wrong = run(config, "nl_NL.UTF-8", "group", "add", "x", "--name", "X", "--rule", "everyone")
    assert wrong.returncode == 2 and len(wrong.stderr.splitlines()) == 1
    assert "argument --rule: ongeldige keuze: 'everyone' (kies uit" in wrong.stderr and "(zie --help)" in wrong.stderr
    negative = run(config, "nl_NL.UTF-8", "timeline", "alice", "--limit", "-3")
    assert negative.returncode == 2
    assert negative.stderr == "fediverse-a2 timeline: argument --limit: moet ten minste 1 zijn, niet -3 (zie --help)\n"


def test_usage_errors_stay_english_under_the_c_locale(config: Path) -> None:
    missing = run(config, "C.UTF-8", "member", "add")
    assert missing.returncode == 2
    assert (
        missing.stderr
        == "fediverse-a2 member add: the following arguments are required: username, --name (see --help)\n"
    )
    assert "create a member and its key pair" in run(config, "C", "member", "add", "--help").stdout


def test_files_backups_and_refusals_in_dutch(config: Path, tmp_path: Path) -> None:
    absent = run(config, "nl_NL.UTF-8", "domain", "import", str(tmp_path / "nergens.csv"))
    assert absent.returncode == 1
    assert absent.stderr == f"fediverse-a2: bestand niet gevonden: {tmp_path / 'nergens.csv'}\n"
    binary = tmp_path / "blob.csv"
    binary.write_bytes(b"\xff\xfe\x00domain")
    unreadable = run(config, "nl_NL.UTF-8", "domain", "import", str(binary))
    assert unreadable.stderr == f"fediverse-a2: kan bestand {binary} niet lezen: geen UTF-8-tekst\n"

    assert run(config, "C", "member", "add", "alice", "--name", "Alice").returncode == 0
    archive = tmp_path / "backup.tar.gz"
    made = run(config, "nl_NL.UTF-8", "backup", "create", str(archive))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"back-up gemaakt in {archive}: sqlite-database (schema ")
    verified = run(config, "nl_NL.UTF-8", "backup", "verify", str(archive))
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith(f"in orde: {archive}: alle controlesommen kloppen; sqlite-database")
    assert "sleutels" in verified.stdout and "mediabestanden" in verified.stdout and "keys" not in verified.stdout
    english = run(config, "C", "backup", "verify", str(archive))
    assert english.stdout.startswith(f"ok: {archive}: every checksum matches; sqlite database (schema ")

    broken = config.parent / "broken.toml"
    broken.write_text('[instance]\nbase_url = "http://127.0.0.1:8999"\nname = 3\n')
    bad_config = run(broken, "nl_NL.UTF-8", "member", "list")
    assert bad_config.returncode == 2 and bad_config.stderr.startswith("fediverse-a2: fout in de configuratie: ")


# The calls that show a text: print, and what the commands print through (a failure, a note).
_SHOWING = {"print", "_fail", "_note", "write"}
_WORDS = re.compile(r"[A-Za-z]{2,}")


def _called(node: ast.Call) -> str:
    return node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")


def _literal_texts(node: ast.AST) -> list[str]:
    """The string literals in node that are shown as they are (a call's arguments are not: keys, options)."""
    if isinstance(node, ast.Call):
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    return [text for child in ast.iter_child_nodes(node) for text in _literal_texts(child)]


def _shown_literals(tree: ast.AST) -> list[tuple[int, str]]:
    """The literal texts with words in them that a print (or a failure, a note) in tree shows as they are."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called(node) in _SHOWING:
            for arg in [*node.args, *(k.value for k in node.keywords if k.arg != "file")]:
                found += [(node.lineno, text) for text in _literal_texts(arg) if _WORDS.search(text)]
    return found


def test_the_command_line_prints_no_literal_text() -> None:
    """Every text a command shows comes from the catalogs: no print of an English literal is left."""
    found = []
    for module in sorted(CLI.glob("*.py")):
        tree = ast.parse(module.read_text(), str(module))
        found += [f"{module.name}:{line}: {text!r}" for line, text in _shown_literals(tree)]
    assert found == []
    # the scan sees what it looks for: a line written as one, or a note, would be reported
    sample = (
        'print(f"backed up to {name}")\n_note(language, "not backed up")\nsay(args, "cli_done")\nprint(x, file="y")'
    )
    assert _shown_literals(ast.parse(sample)) == [(1, "backed up to "), (2, "not backed up")]
