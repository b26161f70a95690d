"""Helpers for stream tests: items set up through the wizard, keys through the key page, and
nginx's callbacks as nginx sends them."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from lti_tool.access.models import CourseGroup, Person
from lti_tool.streams.operations import provider_for
from lti_tool.streams.providers import NginxProvider
from tests.support.items import G2_LIVE_LESSON, User, created_id, text

STUDENTS = ("s-anna", "s-bram", "s-chloe", "s-daan", "s-eva", "s-finn", "s-sam")


def ids(app: Flask) -> dict[str, int]:
    """Database ids of groups (by external id) and people (by sub)."""
    with app.extensions["lti_tool"].db.transaction() as session:
        groups = dict(session.execute(select(CourseGroup.external_id, CourseGroup.id)).all())
        people = dict(session.execute(select(Person.sub, Person.id)).all())
    return {**groups, **people}


def create_item(tess: User, **change: Any) -> int:
    """An item set up by the teacher through the wizard (a G2 live lesson unless changed)."""
    response = tess.post("items/new", {**G2_LIVE_LESSON, **change, "action": "create"})
    assert response.status_code == 303, text(response)
    return created_id(response)


def section_a_stream(app: Flask, tess: User) -> int:
    """A G2 live lesson for section A (s-anna, s-bram, s-chloe, s-sam)."""
    return create_item(
        tess, title="Section A live", scope="sections", sections=[str(ids(app)["sec-A"])]
    )


def issue_key(tess: User, item_id: int) -> tuple[str, str]:
    """The teacher makes a (new) stream key on the key page: (stream name, key)."""
    page = tess.post(f"items/{item_id}/stream", {})
    assert page.status_code == 200, text(page)
    found = re.search(r'id="ingest-key">([A-Za-z0-9_-]+)\?key=([A-Za-z0-9_-]+)<', text(page))
    assert found, text(page)
    return found.group(1), found.group(2)


def provider(app: Flask) -> NginxProvider:
    with app.app_context():
        found = provider_for(app.extensions["lti_tool"].settings, app.config["SECRET_KEY"])
    assert isinstance(found, NginxProvider)
    return found


def callback(
    app: Flask,
    call: str,
    name: str,
    key: str | None = None,
    *,
    rtmp_app: str = "live",
    **extra: str,
) -> TestResponse:
    """nginx-rtmp's callbacks (``on_publish``, ``on_update``, ``on_record_done``, …) from the
    RTMP application ``rtmp_app``: the publish URL's query as form fields."""
    form = {"call": call.removeprefix("on_"), "app": rtmp_app, "name": name, "addr": "127.0.0.1"}
    if key is not None:
        form["key"] = key
    token = extra.pop("token", None) or provider(app).callback_token()
    return app.test_client().post(f"/streams/nginx/{token}/{call}", data={**form, **extra})
