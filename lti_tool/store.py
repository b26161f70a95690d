"""A small key-value store shared by all workers: Redis when configured, else the database.

Holds short-lived launch state: OIDC state/nonce pairs, used nonces, launch sessions and rate
limits. Never a per-process cache, so any worker can finish what another began.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy import String, Text, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, UTCDateTime, utcnow


class KvEntry(Base):
    """A value with an expiry, for the database-backed store."""

    __tablename__ = "kv_entries"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class Store(Protocol):
    """What the tool needs from a shared store; every operation is atomic."""

    def put(self, key: str, value: str, ttl: int) -> None:
        """Set ``key`` to ``value`` for ``ttl`` seconds."""

    def add(self, key: str, value: str, ttl: int) -> bool:
        """Set ``key`` only if it is absent (or expired); True when this call set it."""

    def get(self, key: str) -> str | None:
        """The unexpired value of ``key``, or None."""

    def take(self, key: str) -> str | None:
        """Return and delete ``key`` in one step: of concurrent callers, one gets the value."""

    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""

    def ping(self) -> None:
        """Raise if the store cannot be reached."""


class DatabaseStore:
    """The store in the ``kv_entries`` table; each call is its own short transaction."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def put(self, key: str, value: str, ttl: int) -> None:
        dialect_insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        statement = dialect_insert(KvEntry).values(key=key, value=value, expires_at=_expiry(ttl))
        statement = statement.on_conflict_do_update(
            index_elements=[KvEntry.key],
            set_={"value": statement.excluded.value, "expires_at": statement.excluded.expires_at},
        )
        with self.engine.begin() as conn:
            conn.execute(statement)

    def add(self, key: str, value: str, ttl: int) -> bool:
        with self.engine.begin() as conn:
            conn.execute(delete(KvEntry).where(KvEntry.key == key, KvEntry.expires_at <= utcnow()))
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(KvEntry).values(key=key, value=value, expires_at=_expiry(ttl)))
        except IntegrityError:
            return False
        return True

    def get(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(KvEntry.value).where(KvEntry.key == key, KvEntry.expires_at > utcnow())
            ).scalar_one_or_none()

    def take(self, key: str) -> str | None:
        with self.engine.begin() as conn:
            row = conn.execute(
                delete(KvEntry)
                .where(KvEntry.key == key)
                .returning(KvEntry.value, KvEntry.expires_at)
            ).first()
        if row is None or row.expires_at <= utcnow():
            return None
        return str(row.value)

    def delete(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(KvEntry).where(KvEntry.key == key))

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(select(1))

    def purge_expired(self) -> int:
        """Delete expired entries; returns how many went."""
        with self.engine.begin() as conn:
            return conn.execute(delete(KvEntry).where(KvEntry.expires_at <= utcnow())).rowcount


class RedisStore:
    """The store in Redis, keys under a prefix."""

    def __init__(self, url: str, prefix: str = "lti_tool:"):
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=5, decode_responses=True)
        self.prefix = prefix

    def put(self, key: str, value: str, ttl: int) -> None:
        self.redis.set(self.prefix + key, value, ex=ttl)

    def add(self, key: str, value: str, ttl: int) -> bool:
        return bool(self.redis.set(self.prefix + key, value, ex=ttl, nx=True))

    def get(self, key: str) -> str | None:
        value = self.redis.get(self.prefix + key)
        return None if value is None else str(value)

    def take(self, key: str) -> str | None:
        value = self.redis.getdel(self.prefix + key)
        return None if value is None else str(value)

    def delete(self, key: str) -> None:
        self.redis.delete(self.prefix + key)

    def ping(self) -> None:
        self.redis.ping()


def _expiry(ttl: int) -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=ttl)
