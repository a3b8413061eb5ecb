"""The command line speaks the language gettext finds (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), from the catalogs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import write_config


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
