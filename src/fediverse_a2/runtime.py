"""The composition root: config, database, keys, URLs and the shared HTTP client, opened once.

The web app, the workers and the CLI all receive a Runtime; nothing reads config or keys
at import time.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from .activitypub.urls import Urls
from .config import Config
from .httpclient import FetchSettings, OwnSockets, create_http_client, own_sockets
from .keys import INSTANCE_KEY, KeyStore, public_pem
from .metrics import Metrics
from .policy import DomainRule, Policy
from .store import domain_rules, meta
from .store.connect import open_database
from .store.db import Database

__all__ = ["Runtime"]

POLICY_VERSION = "policy_version"
WEB_SECRET = "web_secret"


@dataclass
class Runtime:
    config: Config
    db: Database
    keys: KeyStore
    urls: Urls
    instance_public_pem: str
    tz: ZoneInfo
    policy: Policy
    web_secret: bytes = b""
    policy_version: str | None = None
    # This instance's listening addresses (and this machine's, for a listener on every address):
    # the HTTP client refuses any name that resolves to them.
    own: OwnSockets = (frozenset(), frozenset())
    # Tests may swap these before the first request: a resolver they control, short timeouts.
    resolver: Any = None
    fetch_settings: Any = None
    metrics: Metrics = field(default_factory=Metrics)  # this process's counts (metrics.py)
    _http: httpx.AsyncClient | None = field(default=None, repr=False)

    @classmethod
    async def open(cls, config: Config) -> Runtime:
        """Open the database (migrating it), and create the instance key on first start."""
        db = await open_database(config.storage.database, config.root)
        keys = KeyStore(config.keys_path)
        instance_key = keys.ensure(INSTANCE_KEY)
        rt = cls(
            config=config,
            db=db,
            keys=keys,
            urls=Urls(config.instance.base_url),
            instance_public_pem=public_pem(instance_key),
            tz=ZoneInfo(config.instance.timezone),
            policy=Policy(config.federation.mode, ()),
        )
        await rt.refresh_policy(force=True)
        rt.web_secret = await _web_secret(db)
        rt.own = await own_sockets(*config.listen)
        return rt

    @property
    def http(self) -> httpx.AsyncClient:
        """The one pooled, SSRF-guarded client for every outbound request."""
        if self._http is None:
            fed = self.config.federation
            settings = self.fetch_settings or FetchSettings(
                allow_private_network=fed.allow_private_network, ca_file=fed.ca_file or None
            )
            # Whatever else is set, this instance never fetches itself: by the name in base_url,
            # nor by any name that resolves to where it listens.
            listeners, local = self.own
            settings = dataclasses.replace(
                settings,
                self_origins=settings.self_origins | {self.urls.origin},
                listeners=settings.listeners | listeners,
                local_addresses=settings.local_addresses | local,
            )
            self._http = create_http_client(settings, self.resolver)
        return self._http

    async def refresh_policy(self, force: bool = False) -> bool:
        """Reload the domain policy when another process changed it; True if reloaded."""
        version = await meta.get(self.db, POLICY_VERSION)
        if not force and version == self.policy_version:
            return False
        self.policy = Policy(self.config.federation.mode, await self.domain_rules())
        self.policy_version = version
        return True

    async def domain_rules(self) -> list[DomainRule]:
        """Every domain rule: config.toml's, then the admin's and subscribed lists' from the database."""
        fed = self.config.federation
        rules = [DomainRule(domain=d, kind="allow", source="config") for d in fed.allow]
        rules += [DomainRule(domain=d, kind="block", source="config") for d in fed.block]
        return rules + await domain_rules.all_rules(self.db)

    async def close(self) -> None:
        """Close the HTTP client and the database."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        await self.db.close()


async def _web_secret(db: Database) -> bytes:
    """The instance's secret for CSRF tokens: made once, kept in the database (shared by every process)."""
    value = await meta.get(db, WEB_SECRET)
    if value is None:
        await meta.put_new(db, WEB_SECRET, secrets.token_hex(32))
        value = await meta.get(db, WEB_SECRET)
    assert value is not None
    return bytes.fromhex(value)
