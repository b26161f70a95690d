"""SQLAlchemy base, UTC datetimes and the per-request session.

Models live in their area's ``models.py``; operations flush and never commit; the web layer
commits once per request (see ``lti_tool.web.lifecycle``).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Enum, MetaData, create_engine, event, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import DateTime, TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


class Database:
    """The engine and session factory of one app."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error (CLI and background work)."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def str_enum(enum_cls: type[enum.StrEnum]) -> Enum:
    """A portable (VARCHAR + CHECK) column type storing the enum's values, not its names."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=32,
        validate_strings=True,
        create_constraint=True,
        values_callable=lambda cls: [member.value for member in cls],
    )


def is_sqlite_busy(exc: BaseException) -> bool:
    """True for SQLite's "database is locked": a read-then-write transaction lost a race to
    another writer (WAL snapshots cannot wait it out); the transaction may simply be retried."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


T = TypeVar("T")


def get_or_create(session: Session, model: type[T], defaults: dict[str, Any], **keys: Any) -> T:
    """The row of ``model`` with ``keys``, added with ``defaults`` if absent; safe when another
    transaction adds the same row at the same moment (a savepoint absorbs the conflict)."""
    query = select(model).filter_by(**keys)
    row = session.scalar(query)
    if row is not None:
        return row
    if session.get_bind().dialect.name == "sqlite":
        # pysqlite begins no transaction before a SAVEPOINT, so releasing one that comes first
        # would commit it for good; an INSERT that skips a conflicting row stays inside the
        # caller's transaction (and is rolled back with it)
        session.execute(sqlite_insert(model).values(**keys, **defaults).on_conflict_do_nothing())
        return session.scalars(query).one()
    try:
        with session.begin_nested():
            row = model(**keys, **defaults)
            session.add(row)
    except IntegrityError:
        row = session.scalar(query)
        if row is None:
            raise
    return row
