"""Typed configuration, read once from config.toml and passed down.

Every key has a type and a default; an unknown key or a value of the wrong type stops the
program with one line that names the key. Nothing here is read at import time.
"""

from __future__ import annotations

import dataclasses
import os
import re
import ssl
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .client_address import parse_networks
from .hosts import HostError, normalise_domain, origin_of, parse_origin

__all__ = [
    "Config",
    "ConfigError",
    "DeliveryConfig",
    "FederationConfig",
    "InboxConfig",
    "InstanceConfig",
    "MailConfig",
    "MetricsConfig",
    "NetworkConfig",
    "PrivacyConfig",
    "ServerConfig",
    "StorageConfig",
    "load_config",
    "parse_config",
]

DEFAULT_PATH = "config.toml"
BACKGROUND_MODES = ("auto", "process", "inline", "none")
_ADDRESS = re.compile(r"[^@\s<>,;\"]{1,64}@[^@\s<>,;\"]{1,255}")
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
        """The authority part of base_url (host, plus the port when it has one), canonical."""
        return parse_origin(self.base_url).authority

    @property
    def hostname(self) -> str:
        """The canonical host of base_url, without the port."""
        return parse_origin(self.base_url).host


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
class MediaConfig:
    # The media proxy (GET /media/proxy/...): remote images and avatars fetched by the server,
    # re-encoded and served from here. The largest answer it reads, and how long a copy is kept.
    proxy_max_bytes: int = 8_000_000
    proxy_cache_days: int = 7


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
    # Extra CA certificates (PEM) trusted beside the default bundle, for private PKI roots;
    # relative to the config file; made absolute when the config is loaded.
    ca_file: str = ""


@dataclass(frozen=True)
class DeliveryConfig:
    concurrency: int = 64
    per_host: int = 8
    lease_seconds: int = 60
    max_attempts: int = 16
    # Processes that sign deliveries while the delivering process sends them: -1 = auto (one
    # per spare core, at most 2, none on a one-core machine; started by the first fan-out of
    # 64+ deliveries, stopped after 10 idle minutes), 0 = sign in the delivering process, N = N.
    signing_processes: int = -1

    def signing_processes_here(self, cores: int | None) -> int:
        """`signing_processes` with -1 decided for a machine of `cores` cores."""
        if self.signing_processes >= 0:
            return self.signing_processes
        return max(0, min(2, (cores or 1) - 1))


@dataclass(frozen=True)
class InboxConfig:
    # Raw (and normalised) bodies of processed inbox items are emptied after this many days;
    # the row stays, so dedupe by activity id still works. 0 keeps them forever.
    keep_raw_days: int = 30


@dataclass(frozen=True)
class MailConfig:
    # Mail is off while host is empty. The TOML key of `sender` is `from`.
    host: str = ""
    port: int = 587
    starttls: bool = True
    user: str = ""
    password_file: str = ""  # relative to the config file; read once at start
    sender: str = field(default="", metadata={"key": "from"})
    ca_file: str = ""  # a CA bundle for STARTTLS to a server with a private CA; "" = the system's
    timeout: float = 30.0
    digest_hour: int = 8  # the daily digest goes out at this hour, instance.timezone
    digest_interval: int = 0  # seconds between digests instead of daily (for tests); 0 = daily

    @property
    def enabled(self) -> bool:
        """True when mail is configured (a host is set)."""
        return bool(self.host)


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0: the port of instance.base_url, or 8000 when it names none
    poll_interval: float = 0.5
    # Where `serve` runs the background work (inbox processing, delivery, housekeeping, mail):
    # "process" = one `worker` child process beside the web process, which then only verifies
    # and stores; "inline" = inside the web process; "none" = not at all (run `fediverse-a2
    # worker` yourself); "auto" = "process" on a machine with more than one core, else "inline".
    background: str = "auto"
    # Reverse proxies (addresses or networks) whose X-Forwarded-For names the client; empty:
    # the direct peer is the client, and the header is ignored.
    trusted_proxies: tuple[str, ...] = ()
    # One line per request on the console (with the client's address). Off by default: data
    # minimisation (the reverse proxy in front keeps its own log, under its own retention).
    access_log: bool = False

    def background_here(self, cores: int | None) -> str:
        """`background` with "auto" decided for a machine of `cores` cores."""
        if self.background != "auto":
            return self.background
        return "process" if (cores or 1) > 1 else "inline"


@dataclass(frozen=True)
class PrivacyConfig:
    # Who is responsible for the personal data (the AVG's "verwerkingsverantwoordelijke"), and
    # how members reach them: shown on /privacy. Empty: the page says the instance's name and
    # that no contact was configured.
    controller: str = ""
    contact: str = ""  # an e-mail address, a web address or a postal address
    # The data protection officer ("functionaris gegevensbescherming"), where there is one.
    officer: str = ""


@dataclass(frozen=True)
class NetworkConfig:
    # The Group actor for the whole network (@netwerk@HOST): follow it to see every public post.
    username: str = "netwerk"


@dataclass(frozen=True)
class MetricsConfig:
    # /metrics answers only loopback peers while this is empty; with a token it answers anyone
    # who sends `Authorization: Bearer TOKEN`, and no one else.
    token: str = field(default="", repr=False)


@dataclass(frozen=True)
class Config:
    instance: InstanceConfig = field(default_factory=InstanceConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    inbox: InboxConfig = field(default_factory=InboxConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    mail: MailConfig = field(default_factory=MailConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    root: Path = Path(".")
    source: Path | None = None
    # Read from mail.password_file when the config is loaded; never in repr or logs.
    mail_password: str = field(default="", repr=False)

    @property
    def listen(self) -> tuple[str, int]:
        """Where `serve` listens: server.host, and server.port (0: base_url's port, else 8000)."""
        return self.server.host, self.server.port or urlsplit(self.instance.base_url).port or 8000

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
    "media": MediaConfig,
    "federation": FederationConfig,
    "delivery": DeliveryConfig,
    "inbox": InboxConfig,
    "server": ServerConfig,
    "mail": MailConfig,
    "network": NetworkConfig,
    "metrics": MetricsConfig,
    "privacy": PrivacyConfig,
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
    if not 1024 <= config.media.proxy_max_bytes <= 10_000_000:
        raise ConfigError("config key media.proxy_max_bytes must be between 1024 and 10000000")
    if config.media.proxy_cache_days < 1:
        raise ConfigError("config key media.proxy_cache_days must be at least 1")
    if config.federation.max_inbox_bytes < 1024:
        raise ConfigError("config key federation.max_inbox_bytes must be at least 1024")
    for entry in config.federation.subscriptions:
        url = entry.split(":", 1)[1] if entry.startswith(("allow:", "block:")) else entry
        if origin_of(url) is None:
            raise ConfigError(f"config key federation.subscriptions has a non-http(s) URL: {url}")
    if config.delivery.concurrency < 1 or config.delivery.per_host < 1 or config.delivery.signing_processes < -1:
        raise ConfigError("delivery.concurrency and per_host must be at least 1, signing_processes at least -1")
    if config.server.background not in BACKGROUND_MODES:
        raise ConfigError('config key server.background must be "auto", "process", "inline" or "none"')
    if not 0 <= config.server.port <= 65535:
        raise ConfigError("config key server.port must be between 0 and 65535")
    try:
        parse_networks(config.server.trusted_proxies)
    except ValueError as exc:
        raise ConfigError(f"config key server.trusted_proxies: {exc}") from None
    _validate_mail(config.mail)
    if config.metrics.token and not re.fullmatch(r"[\x21-\x7e]{16,}", config.metrics.token):
        raise ConfigError("config key metrics.token must be at least 16 characters, without spaces")
    if not re.fullmatch(r"[a-z0-9_]{1,30}", config.network.username):
        raise ConfigError("config key network.username must be 1-30 characters a-z, 0-9 or _")
    # Domain lists are checked here too, so a typo stops start-up instead of silently
    # federating with the wrong servers.
    for name in ("allow", "block"):
        for value in getattr(config.federation, name):
            try:
                normalise_domain(value)
            except HostError:
                raise ConfigError(f"config key federation.{name} has an invalid domain: {value!r}") from None


def _validate_mail(mail: MailConfig) -> None:
    if not mail.enabled:
        return
    if not 1 <= mail.port <= 65535:
        raise ConfigError("config key mail.port must be between 1 and 65535")
    if not _ADDRESS.fullmatch(mail.sender):
        raise ConfigError("config key mail.from must be an e-mail address like noreply@example.org")
    if mail.user and not mail.password_file:
        raise ConfigError("config key mail.password_file is needed with mail.user")
    if mail.user and not mail.starttls:
        raise ConfigError("config key mail.user needs mail.starttls = true (the password would travel in clear)")
    if mail.digest_hour > 23:
        raise ConfigError("config key mail.digest_hour must be between 0 and 23")
    if mail.timeout <= 0:
        raise ConfigError("config key mail.timeout must be above 0")


def _mail_password(mail: MailConfig, root: Path) -> str:
    """The SMTP password, read once from mail.password_file (relative to the config folder)."""
    if not (mail.enabled and mail.password_file):
        return ""
    path = Path(mail.password_file).expanduser()
    path = path if path.is_absolute() else root / path
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"config key mail.password_file: cannot read {path}: {reason}") from None


def _ca_file(fed: FederationConfig, root: Path) -> str:
    """federation.ca_file as an absolute path, checked to hold usable PEM certificates."""
    if not fed.ca_file:
        return ""
    path = Path(fed.ca_file).expanduser()
    path = path if path.is_absolute() else (root / path).resolve()
    try:
        ssl.create_default_context().load_verify_locations(cafile=str(path))
    except ssl.SSLError:  # an OSError too: checked first
        raise ConfigError(f"config key federation.ca_file: {path} holds no PEM certificate") from None
    except OSError as exc:
        reason = exc.strerror or "not readable"
        raise ConfigError(f"config key federation.ca_file: cannot read {path}: {reason}") from None
    return str(path)


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
        # A field's TOML key is its name, unless it declares another (mail.from: a Python keyword).
        known = {f.metadata.get("key", f.name): f.name for f in dataclasses.fields(cls)}
        values = {}
        for key, value in body.items():
            if key not in known:
                raise ConfigError(f"unknown config key {section}.{key}")
            values[known[key]] = _coerce(f"{section}.{key}", value, hints[known[key]])
        sections[section] = cls(**values)
    config = Config(**sections, root=root)
    if config.instance.base_url.endswith("/"):
        config = dataclasses.replace(
            config,
            instance=dataclasses.replace(config.instance, base_url=config.instance.base_url.rstrip("/")),
        )
    _validate(config)
    federation = dataclasses.replace(config.federation, ca_file=_ca_file(config.federation, root))
    return dataclasses.replace(config, federation=federation, mail_password=_mail_password(config.mail, root))


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
