"""The shared store on the database and on Redis: single use under concurrency, expiry."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from lti_tool.db import make_engine
from lti_tool.store import DatabaseStore, RedisStore, Store


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest, database_url: str) -> Iterator[Store]:
    if request.param == "redis":
        yield RedisStore("redis://127.0.0.1:6379/0", prefix=f"test:{uuid.uuid4().hex}:")
        return
    engine = make_engine(database_url)
    yield DatabaseStore(engine)
    engine.dispose()


def test_put_get_take(store: Store) -> None:
    store.put("k", "v", 60)
    assert store.get("k") == "v"
    assert store.take("k") == "v"
    assert store.take("k") is None and store.get("k") is None


def test_take_is_single_use_across_threads(store: Store) -> None:
    store.put("once", "value", 60)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: store.take("once"), range(16)))
    assert results.count("value") == 1


def test_add_only_if_absent_across_threads(store: Store) -> None:
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: store.add("nonce", "1", 60), range(16)))
    assert results.count(True) == 1


def test_entries_expire(store: Store) -> None:
    store.put("short", "v", 1)
    assert store.add("short", "w", 1) is False
    time.sleep(1.1)
    assert store.get("short") is None and store.take("short") is None
    assert store.add("short", "w", 60) is True


def test_launches_work_with_redis(tool_settings: dict, lms) -> None:
    """Login on one app instance, launch on another (two 'workers' sharing only Redis)."""
    from lti_tool import create_app
    from tests.support.browser import Browser
    from tests.support.fixtures import register

    settings = {**tool_settings, "redis_url": "redis://127.0.0.1:6379/0"}
    first, second = create_app(settings, environ={}), create_app(settings, environ={})
    register(first, lms)
    one = Browser(first.test_client(), lms)
    fields = one.authorize(one.login("t-tess"))
    other_worker = second.test_client()
    other_worker._cookies = one.client._cookies  # same browser, request lands on another worker
    response = other_worker.post("/lti/launch", data=fields)
    assert response.status_code == 303
    assert other_worker.post("/lti/launch", data=fields).status_code == 401  # replay refused
    assert first.test_client().get("/healthz").json["checks"]["redis"] == "ok"
