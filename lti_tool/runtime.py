"""The services one app instance holds: settings, database, shared store, platform access."""

from __future__ import annotations

from dataclasses import dataclass

from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.lti.http import PlatformHttp
from lti_tool.lti.platform_keys import PlatformKeys
from lti_tool.store import DatabaseStore, RedisStore, Store


@dataclass
class Runtime:
    settings: Settings
    db: Database
    store: Store
    http: PlatformHttp
    platform_keys: PlatformKeys

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        """Connect the services ``settings`` describe (nothing is contacted yet)."""
        db = Database(settings.database_url)
        store: Store = (
            RedisStore(settings.redis_url) if settings.redis_url else DatabaseStore(db.engine)
        )
        http = PlatformHttp(timeout=settings.http_timeout_seconds)
        keys = PlatformKeys(
            http, store, settings.jwks_cache_seconds, settings.jwks_refetch_interval_seconds
        )
        return cls(settings=settings, db=db, store=store, http=http, platform_keys=keys)

    @property
    def launch_url(self) -> str:
        return self.settings.base_url.rstrip("/") + "/lti/launch"

    @property
    def target_prefixes(self) -> tuple[str, ...]:
        """The URLs a platform may name as target_link_uri."""
        return (self.launch_url,)
