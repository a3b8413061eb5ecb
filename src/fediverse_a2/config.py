"""Typed configuration, read once from config.toml and passed down.

Every key has a type and a default; an unknown key or a value of the wrong type stops the
program with one line that names the key. Nothing here is read at import time.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .hosts import HostError, normalise_domain, parse_origin

__all__ = [
    "Config",
    "ConfigError",
    "DeliveryConfig",
    "FederationConfig",
    "InstanceConfig",
    "ServerConfig",
    "StorageConfig",
    "load_config",
    "parse_config",
]

DEFAULT_PATH = "config.toml"
ENV_VAR = "FEDIVERSE_A2_CONFIG"


class ConfigError(Exception):
    """A config file that cannot be used; the message names the key."""


@dataclass(frozen=True)
class InstanceConfig:
    base_url: str = "http://127.0.0.1:8000"
    name: str = "Ambtenaar 2.0"
    language: str = "nl"
    description: str = ""
    timezone: str = "Europe/Amsterdam"

    @property
    def host(self) -> str:
        """The authority part of base_url (host, plus the port when it has one)."""
        return urlsplit(self.base_url).netloc

    @property
    def hostname(self) -> str:
        """The host name of base_url, without the port."""
        return urlsplit(self.base_url).hostname or ""


@dataclass(frozen=True)
class StorageConfig:
    database: str = "data/fediverse_a2.sqlite3"
    keys_dir: str = "keys"
    media_dir: str = "media"

    @property
    def is_postgres(self) -> bool:
        """True when `database` names a PostgreSQL server rather than an SQLite file."""
        return self.database.startswith(("postgresql://", "postgres://"))


@dataclass(frozen=True)
class FederationConfig:
    mode: str = "open"
    allow: tuple[str, ...] = ()
    block: tuple[str, ...] = ()
    allow_private_network: bool = False
    authorized_fetch: bool = False
    inbox_rate_limit: int = 3000
    max_inbox_bytes: int = 1_000_000
    subscriptions: tuple[str, ...] = ()
    subscription_interval: int = 86_400


@dataclass(frozen=True)
class DeliveryConfig:
    concurrency: int = 64
    per_host: int = 8
    lease_seconds: int = 60
    max_attempts: int = 16
    signing_processes: int = 0


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0: the port of instance.base_url, or 8000 when it names none
    poll_interval: float = 0.5


@dataclass(frozen=True)
class Config:
    instance: InstanceConfig = field(default_factory=InstanceConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    root: Path = Path(".")
    source: Path | None = None

    @property
    def database_path(self) -> Path:
        """Absolute path of the SQLite database (relative paths are taken from the config folder)."""
        return self._resolve(self.storage.database)

    @property
    def media_path(self) -> Path:
        """Absolute path of the folder holding uploaded (re-encoded) images."""
        return self._resolve(self.storage.media_dir)

    @property
    def keys_path(self) -> Path:
        """Absolute path of the folder holding private keys."""
        return self._resolve(self.storage.keys_dir)

    def _resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.root / path).resolve()


_SECTIONS: dict[str, type] = {
    "instance": InstanceConfig,
    "storage": StorageConfig,
    "federation": FederationConfig,
    "delivery": DeliveryConfig,
    "server": ServerConfig,
}


def _coerce(key: str, value: Any, hint: Any) -> Any:
    """Check one value against its declared type; lists of strings become tuples."""
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config key {key} must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config key {key} must be a whole number")
        if value < 0:
            raise ConfigError(f"config key {key} must not be negative")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"config key {key} must be a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"config key {key} must be a string")
        return value
    if hint == tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"config key {key} must be a list of strings")
        return tuple(value)
    raise ConfigError(f"config key {key} has an unsupported type")  # pragma: no cover


def _validate(config: Config) -> None:
    """Cross-field checks that a type alone cannot express."""
    base_url = config.instance.base_url
    try:
        parse_origin(base_url)
        parts = urlsplit(base_url)
    except (HostError, ValueError) as exc:
        reason = str(exc).removeprefix("invalid host: ")
        raise ConfigError(
            f"config key instance.base_url must be an http(s) origin like https://example.org ({reason})"
        ) from None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError("config key instance.base_url must be an origin without a path")
    if config.instance.language not in ("nl", "en"):
        raise ConfigError('config key instance.language must be "nl" or "en"')
    try:
        ZoneInfo(config.instance.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"config key instance.timezone is not a known time zone: {config.instance.timezone!r}"
        ) from None
    if config.federation.mode not in ("open", "allowlist"):
        raise ConfigError('config key federation.mode must be "open" or "allowlist"')
    if not config.storage.database:
        raise ConfigError("config key storage.database must not be empty")
    if config.federation.max_inbox_bytes < 1024:
        raise ConfigError("config key federation.max_inbox_bytes must be at least 1024")
    for entry in config.federation.subscriptions:
        url = entry.split(":", 1)[1] if entry.startswith(("allow:", "block:")) else entry
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ConfigError(f"config key federation.subscriptions has a non-http(s) URL: {url}")
    if config.delivery.concurrency < 1 or config.delivery.per_host < 1:
        raise ConfigError("config keys delivery.concurrency and delivery.per_host must be at least 1")
    if not 0 <= config.server.port <= 65535:
        raise ConfigError("config key server.port must be between 0 and 65535")
    # Domain lists are checked here too, so a typo stops start-up instead of silently
    # federating with the wrong servers.
    for name in ("allow", "block"):
        for value in getattr(config.federation, name):
            try:
                normalise_domain(value)
            except HostError:
                raise ConfigError(f"config key federation.{name} has an invalid domain: {value!r}") from None


def parse_config(data: dict[str, Any], root: Path) -> Config:
    """Build a Config from parsed TOML, refusing unknown keys and wrong types."""
    sections: dict[str, Any] = {}
    for section, body in data.items():
        cls = _SECTIONS.get(section)
        if cls is None:
            raise ConfigError(f"unknown config section [{section}]")
        if not isinstance(body, dict):
            raise ConfigError(f"config key {section} must be a table")
        hints = get_type_hints(cls)
        known = {f.name for f in dataclasses.fields(cls)}
        values = {}
        for key, value in body.items():
            if key not in known:
                raise ConfigError(f"unknown config key {section}.{key}")
            values[key] = _coerce(f"{section}.{key}", value, hints[key])
        sections[section] = cls(**values)
    config = Config(**sections, root=root)
    if config.instance.base_url.endswith("/"):
        config = dataclasses.replace(
            config,
            instance=dataclasses.replace(config.instance, base_url=config.instance.base_url.rstrip("/")),
        )
    _validate(config)
    return config


def config_path(explicit: str | None) -> Path:
    """The config file to use: --config, then $FEDIVERSE_A2_CONFIG, then ./config.toml."""
    return Path(explicit or os.environ.get(ENV_VAR) or DEFAULT_PATH)


def load_config(path: Path) -> Config:
    """Read and check a config file; a missing file is an error, not a silent default."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return dataclasses.replace(parse_config(data, path.resolve().parent), source=path.resolve())
