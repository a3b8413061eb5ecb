"""Config: defaults, relative paths, and a clear one-line error for every bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from fediverse_a2.config import ConfigError, config_path, load_config, parse_config
from helpers import cli, write_config

REPO = Path(__file__).resolve().parent.parent


def test_repo_config_is_a_working_default() -> None:
    config = load_config(REPO / "config.toml")
    assert config.instance.base_url == "http://127.0.0.1:8000"
    assert config.instance.language == "nl"
    assert config.federation.mode == "open"
    assert config.federation.allow_private_network is False
    assert config.database_path == REPO / "data" / "fediverse_a2.sqlite3"
    assert config.keys_path == REPO / "keys"


def test_relative_paths_are_taken_from_the_config_folder(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "inst", "https://a2.example"))
    assert config.database_path == tmp_path / "inst" / "data" / "db.sqlite3"
    assert config.keys_path == tmp_path / "inst" / "keys"


def test_environment_variable_and_flag_choose_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDIVERSE_A2_CONFIG", "/etc/a2.toml")
    assert config_path(None) == Path("/etc/a2.toml")
    assert config_path("other.toml") == Path("other.toml")
    monkeypatch.delenv("FEDIVERSE_A2_CONFIG")
    assert config_path(None) == Path("config.toml")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"instance": {"colour": "blue"}}, "unknown config key instance.colour"),
        ({"bogus": {}}, "unknown config section [bogus]"),
        ({"instance": {"base_url": 5}}, "instance.base_url must be a string"),
        ({"instance": {"base_url": "ftp://x"}}, "instance.base_url must be an http(s) origin"),
        ({"instance": {"base_url": "https://x.org/sub"}}, "instance.base_url must be an origin"),
        ({"instance": {"language": "de"}}, "instance.language"),
        ({"instance": {"timezone": "Mars/Olympus"}}, "instance.timezone"),
        ({"federation": {"mode": "closed"}}, "federation.mode"),
        ({"federation": {"allow_private_network": "yes"}}, "federation.allow_private_network must be true or false"),
        ({"federation": {"block": "example.org"}}, "federation.block must be a list of strings"),
        ({"federation": {"block": ["../etc/passwd"]}}, "federation.block has an invalid domain"),
        ({"federation": {"inbox_rate_limit": -1}}, "federation.inbox_rate_limit must not be negative"),
        ({"federation": {"inbox_rate_limit": True}}, "federation.inbox_rate_limit must be a whole number"),
        ({"federation": {"subscriptions": ["file:///etc/passwd"]}}, "federation.subscriptions"),
        ({"server": {"port": 70000}}, "server.port"),
        ({"storage": {"database": ""}}, "storage.database"),
    ],
)
def test_bad_values_name_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(data, Path("/tmp"))
    assert message in str(info.value)


def test_trailing_slash_on_base_url_is_dropped() -> None:
    config = parse_config({"instance": {"base_url": "https://a2.example/"}}, Path("/tmp"))
    assert config.instance.base_url == "https://a2.example"
    assert config.instance.host == "a2.example"


def test_cli_reports_bad_config_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[instance]\nbase_url = "http://127.0.0.1:8000"\nflavour = 1\n')
    proc = cli(path, "member", "list", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "fediverse-a2: unknown config key instance.flavour"


def test_cli_reports_missing_and_invalid_files(tmp_path: Path) -> None:
    proc = cli(tmp_path / "nope.toml", "member", "list", check=False)
    assert proc.returncode == 2
    assert "config file not found" in proc.stderr and proc.stderr.count("\n") == 1
    bad = tmp_path / "bad.toml"
    bad.write_text("[instance\n")
    proc = cli(bad, "member", "list", check=False)
    assert proc.returncode == 2 and "not valid TOML" in proc.stderr and "Traceback" not in proc.stderr


def test_media_proxy_limits_are_checked(tmp_path: Path) -> None:
    """media.proxy_max_bytes stays within what the image decoder accepts; the cache keeps copies a day at least."""
    for section, message in (
        ("proxy_max_bytes = 100", "media.proxy_max_bytes"),
        ("proxy_max_bytes = 20000000", "media.proxy_max_bytes"),
        ("proxy_cache_days = 0", "media.proxy_cache_days"),
    ):
        path = tmp_path / "config.toml"
        path.write_text(f'[instance]\nbase_url = "https://a2.example"\n[media]\n{section}\n')
        with pytest.raises(ConfigError, match=message):
            load_config(path)
