"""Alembic migrations, applied by ``lti-tool db upgrade`` (and by ``serve`` before it starts).

Upgrades run under a lock so several instances starting together migrate once: a PostgreSQL
advisory lock, or a file lock next to the SQLite database.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from lti_tool.lti.keys import signing_key

HERE = Path(__file__).parent
ADVISORY_LOCK_ID = 0x4C544954  # "LTIT"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": ADVISORY_LOCK_ID})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": ADVISORY_LOCK_ID})
                conn.commit()
        return
    database = make_url(str(engine.url)).database
    lock_path = Path(database + ".migrate.lock") if database and database != ":memory:" else None
    if lock_path is None:
        yield
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database at ``engine`` to ``revision`` under the migration lock, and make sure
    the tool has a signing key (so no request ever has to create one mid-transaction)."""
    url = engine.url.render_as_string(hide_password=False)
    database = make_url(url).database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    with _migration_lock(engine), engine.begin() as conn:
        config = alembic_config(url)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    if revision == "head":
        with Session(engine) as session, session.begin():
            signing_key(session)
