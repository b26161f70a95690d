"""Live streams through the real pages and callbacks: keys for the teacher of an allowed
item, publishes decided by the current key, signed links only for the item's audience."""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.access.queries import find_course
from lti_tool.access.roster import sync_course
from lti_tool.audit.models import AuditEvent
from lti_tool.streams import signing
from lti_tool.streams.models import Stream, StreamState
from tests.support.browser import Browser
from tests.support.items import TODAY, User, count, launch, text
from tests.support.streams import (
    STUDENTS,
    callback,
    create_item,
    issue_key,
    provider,
    section_a_stream,
)

HLS = "http://127.0.0.1:18088/hls"


@pytest.fixture
def tool_settings(tool_settings: dict[str, Any]) -> dict[str, Any]:
    return {
        **tool_settings,
        "today": TODAY,
        "rtmp_url": "rtmp://127.0.0.1:19350/live",
        "hls_url": HLS,
    }


@pytest.fixture
def tess(browser: Browser, new_browser: Any) -> User:
    """The teacher, after every student of course-1 launched once (sections, groups, roster)."""
    for student in STUDENTS:
        launch(new_browser(), student)
    return launch(browser, "t-tess")


@pytest.fixture
def item_id(app: Flask, tess: User) -> int:
    return section_a_stream(app, tess)


def _events(app: Flask, kind: str) -> list[dict[str, Any]]:
    with app.extensions["lti_tool"].db.transaction() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.kind == kind))
        return [{"subject": e.subject, **e.data} for e in rows]


def _stream(app: Flask) -> Stream:
    with app.extensions["lti_tool"].db.transaction() as session:
        stream = session.scalar(select(Stream))
        assert stream is not None
        session.expunge(stream)
        return stream


# --- keys ---------------------------------------------------------------------------------


def test_teacher_gets_a_key_shown_once_with_obs_and_ffmpeg_instructions(
    app: Flask, tess: User, item_id: int
) -> None:
    assert "Make a stream key" in text(tess.get(f"items/{item_id}/stream"))
    page = tess.post(f"items/{item_id}/stream", {})
    body = text(page)
    assert page.status_code == 200
    assert "rtmp://127.0.0.1:19350/live" in body and "OBS" in body and "ffmpeg -re" in body
    stream = _stream(app)
    assert stream.name in body and stream.key_hash and stream.key_hash not in body
    again = text(tess.get(f"items/{item_id}/stream"))
    assert stream.name in again and "?key=" not in again  # shown once
    issued = _events(app, "stream.key_issued")
    assert issued == [{"subject": f"item:{item_id}", "stream": stream.name, "key_version": 1}]


def test_the_key_page_says_when_the_streaming_server_is_down(
    app: Flask, tess: User, item_id: int
) -> None:
    """Nothing listens on the configured RTMP and HLS ports here: the teacher is told, at once
    (1 s probes), instead of pushing into nothing."""
    started = time.monotonic()
    page = tess.get(f"items/{item_id}/stream")
    assert page.status_code == 200 and time.monotonic() - started < 5
    body = text(page)
    assert "cannot be reached" in body and "will not be able to connect" in body
    assert "will not be able to watch" in body
    tess.get("?lang=nl")
    assert "niet bereikbaar" in text(tess.get(f"items/{item_id}/stream"))


def test_the_key_page_says_ready_when_both_ends_answer(
    app: Flask, browser: Browser, new_browser: Any
) -> None:
    """An RTMP port that accepts connections and an HTTP server that answers (even 404)."""
    with socket.socket() as rtmp, socket.socket() as hls:
        for sock in (rtmp, hls):
            sock.bind(("127.0.0.1", 0))
            sock.listen(8)
        rt = app.extensions["lti_tool"]
        rt.settings = dataclasses.replace(
            rt.settings,
            rtmp_url=f"rtmp://127.0.0.1:{rtmp.getsockname()[1]}/live",
            hls_url=f"http://127.0.0.1:{hls.getsockname()[1]}/hls",
        )
        answering = threading.Thread(target=_answer_http_once, args=(hls,), daemon=True)
        answering.start()
        for student in STUDENTS:
            launch(new_browser(), student)
        tess = launch(browser, "t-tess")
        body = text(tess.get(f"items/{section_a_stream(app, tess)}/stream"))
        answering.join(5)
    assert "streaming server is ready" in body and "cannot be reached" not in body


def _answer_http_once(server: socket.socket) -> None:
    conn, _addr = server.accept()
    with conn:
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def test_the_public_stream_name_is_not_the_key_and_not_guessable(
    app: Flask, tess: User, item_id: int
) -> None:
    name, key = issue_key(tess, item_id)
    assert name != key and len(name) >= 24 and len(key) >= 32
    other = create_item(tess, title="Another")
    other_name, _key = issue_key(tess, other)
    assert other_name != name


def test_students_cannot_get_keys(app: Flask, tess: User, item_id: int, new_browser: Any) -> None:
    anna = launch(new_browser(), "s-anna")
    assert anna.post(f"items/{item_id}/stream", {}).status_code == 403
    assert anna.get(f"items/{item_id}/stream").status_code == 403
    assert count(app, Stream) == 0


def test_no_key_without_csrf(app: Flask, tess: User, item_id: int) -> None:
    assert tess.post(f"items/{item_id}/stream", {}, csrf=False).status_code == 403
    assert count(app, Stream) == 0


G3_STREAM = {
    "title": "Open day live",
    "made": "stream",
    "recognisable": ["students"],
    "purpose": "wider-audience",
    "audience": "institution",
    "teacher_location": "school",
    "scope": "course",
    "confirm": ["G3.1", "G3.2", "G3.3"],
}


def test_a_consent_item_awaiting_consent_gets_no_key(app: Flask, tess: User) -> None:
    consent_item = create_item(tess, **G3_STREAM)
    response = tess.post(f"items/{consent_item}/stream", {})
    assert response.status_code == 409 and "consent" in text(response)
    assert count(app, Stream) == 0


def test_a_recording_gets_no_key(app: Flask, tess: User) -> None:
    recording = create_item(
        tess,
        title="Photosynthesis",
        made="recording",
        recognisable=["teacher"],
        purpose="instruction",
        audience="cohort",
        teacher_location="private",
        confirm=["G4.1", "G4.2", "G4.3"],
    )
    assert tess.post(f"items/{recording}/stream", {}).status_code == 409


# --- publishing ---------------------------------------------------------------------------


def test_the_current_key_publishes_and_publish_done_ends(
    app: Flask, tess: User, item_id: int
) -> None:
    name, key = issue_key(tess, item_id)
    assert callback(app, "on_publish", name, key).status_code == 200
    assert _stream(app).state is StreamState.LIVE
    assert [e["stream"] for e in _events(app, "stream.published")] == [name]
    assert callback(app, "on_publish_done", name).status_code == 200
    assert _stream(app).state is StreamState.ENDED
    assert len(_events(app, "stream.ended")) == 1


@pytest.mark.parametrize("case", ["no-key", "wrong-key", "other-key", "rotated", "unknown"])
def test_bad_keys_cannot_publish_and_are_audited(
    app: Flask, tess: User, item_id: int, case: str
) -> None:
    name, key = issue_key(tess, item_id)
    other_name, other_key = issue_key(tess, create_item(tess, title="Other"))
    if case == "rotated":
        _same, new_key = issue_key(tess, item_id)
        assert _same == name and new_key != key
    sent = {
        "no-key": (name, None),
        "wrong-key": (name, key[:-2] + "xx"),
        "other-key": (name, other_key),
        "rotated": (name, key),
        "unknown": ("no-such-stream", key),
    }[case]
    response = callback(app, "on_publish", *sent)
    assert response.status_code == 403
    refused = _events(app, "stream.publish_refused")
    reason = {"no-key": "no-key", "unknown": "unknown-stream"}.get(case, "wrong-key")
    assert len(refused) == 1 and refused[0]["reason"] == reason
    assert all(key not in str(e) for e in refused)  # the key is never audited
    assert _stream(app).state is StreamState.IDLE
    assert other_name != name


def test_an_item_no_longer_allowed_cannot_publish(app: Flask, tess: User, item_id: int) -> None:
    name, key = issue_key(tess, item_id)
    assert tess.post(f"items/{item_id}/cancel", {}).status_code == 303
    assert callback(app, "on_publish", name, key).status_code == 403
    assert _events(app, "stream.publish_refused")[0]["reason"] == "item-not-allowed"


@pytest.mark.parametrize("change", ["new-key", "cancelled", "other-stream-key"])
def test_a_live_publish_is_cut_off_once_it_is_no_longer_allowed(
    app: Flask, tess: User, item_id: int, change: str
) -> None:
    """nginx's on_update asks every few seconds while live: the tool answers 403 once the key
    was replaced or the item is no longer allowed, and nginx drops the encoder."""
    name, key = issue_key(tess, item_id)
    assert callback(app, "on_publish", name, key).status_code == 200
    assert callback(app, "on_update", name, key).status_code == 200
    sent = key
    if change == "new-key":
        issue_key(tess, item_id)
    elif change == "cancelled":
        assert tess.post(f"items/{item_id}/cancel", {}).status_code == 303
    else:
        sent = issue_key(tess, create_item(tess, title="Other"))[1]
    assert callback(app, "on_update", name, sent).status_code == 403
    cut = _events(app, "stream.cut_off")
    reason = "item-not-allowed" if change == "cancelled" else "wrong-key"
    assert [(e["stream"], e["reason"]) for e in cut] == [(name, reason)]
    assert all(key not in str(e) for e in cut)
    assert callback(app, "on_update", name, key, token="x" * 40).status_code == 404


def test_a_scheduled_stream_publishes_only_in_its_window(
    app: Flask, tess: User, item_id: int
) -> None:
    """Tomorrow 12:00-13:00 in Amsterdam: at least 11 hours from now, whatever the time."""
    name, key = issue_key(tess, item_id)
    tomorrow = (dt.datetime.now(ZoneInfo("Europe/Amsterdam")) + dt.timedelta(days=1)).date()
    form = {"day": tomorrow.isoformat(), "start": "12:00", "end": "13:00"}
    assert tess.post(f"items/{item_id}/stream/schedule", form).status_code == 303
    page = text(tess.get(f"items/{item_id}/stream"))
    assert f"Scheduled on {tomorrow.isoformat()} from 12:00 to 13:00 (Europe/Amsterdam)" in page
    assert callback(app, "on_publish", name, key).status_code == 403
    assert _events(app, "stream.publish_refused")[-1]["reason"] == "outside-window"
    assert tess.post(f"items/{item_id}/stream/schedule", {"clear": "1"}).status_code == 303
    assert "Not scheduled" in text(tess.get(f"items/{item_id}/stream"))
    assert callback(app, "on_publish", name, key).status_code == 200
    assert [e["stream"] for e in _events(app, "stream.scheduled")] == [name]
    assert len(_events(app, "stream.unscheduled")) == 1


def test_a_publish_still_live_when_the_window_ends_is_cut_off(
    app: Flask, tess: User, item_id: int
) -> None:
    name, key = issue_key(tess, item_id)
    with app.extensions["lti_tool"].db.transaction() as session:
        stream = session.scalars(select(Stream).where(Stream.name == name)).one()
        now = dt.datetime.now(dt.UTC)
        stream.window_start = now - dt.timedelta(hours=1)
        stream.window_end = now + dt.timedelta(seconds=2)
    assert callback(app, "on_publish", name, key).status_code == 200
    assert callback(app, "on_update", name, key).status_code == 200
    time.sleep(2.5)
    assert callback(app, "on_update", name, key).status_code == 403
    assert _events(app, "stream.cut_off")[-1]["reason"] == "outside-window"


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"day": "tomorrow", "start": "09:00", "end": "10:00"}, "like 2027-03-15"),
        ({"day": "2099-01-01", "start": "10:00", "end": "09:00"}, "after the start"),
        ({"day": "2020-01-01", "start": "09:00", "end": "10:00"}, "already passed"),
        ({"day": "2099-01-01", "start": "06:00", "end": "23:00"}, "at most 12 hours"),
        ({}, "like 2027-03-15"),
    ],
)
def test_bad_schedules_are_refused_with_a_reason(
    app: Flask, tess: User, item_id: int, form: dict[str, str], reason: str
) -> None:
    response = tess.post(f"items/{item_id}/stream/schedule", form)
    assert response.status_code == 400 and reason in text(response)
    assert _events(app, "stream.scheduled") == []


def test_only_the_courses_teachers_schedule(
    app: Flask, tess: User, item_id: int, new_browser: Any
) -> None:
    anna = launch(new_browser(), "s-anna")
    form = {"day": "2099-01-01", "start": "09:00", "end": "10:00"}
    assert anna.post(f"items/{item_id}/stream/schedule", form).status_code == 403
    assert tess.post(f"items/{item_id}/stream/schedule", form, csrf=False).status_code == 403
    assert _events(app, "stream.scheduled") == []


def test_callbacks_need_the_configured_token(app: Flask, tess: User, item_id: int) -> None:
    name, key = issue_key(tess, item_id)
    assert callback(app, "on_publish", name, key, token="x" * 40).status_code == 404
    assert callback(app, "on_publish_done", name, token="x" * 40).status_code == 404
    assert _stream(app).state is StreamState.IDLE


# --- watching -----------------------------------------------------------------------------


def _link(user: User, item_id: int) -> Any:
    return user.get(f"items/{item_id}/watch/link", headers={"Accept": "application/json"})


def _live(app: Flask, tess: User, item_id: int) -> str:
    name, key = issue_key(tess, item_id)
    assert callback(app, "on_publish", name, key).status_code == 200
    return name


def test_a_student_of_the_audience_gets_a_short_signed_link(
    app: Flask, tess: User, item_id: int, new_browser: Any
) -> None:
    anna = launch(new_browser(), "s-anna")
    before = _link(anna, item_id)
    assert before.status_code == 200 and before.json == {"state": "idle", "renew_in": 120}
    name = _live(app, tess, item_id)
    body = _link(anna, item_id).json
    assert body["state"] == "live" and body["url"].startswith(HLS + "/")
    path = body["url"][len(HLS) :]
    assert path.endswith(f"/{name}/index.m3u8")
    now = int(time.time())
    assert now < body["expires"] <= now + 300
    secret = provider(app).secret
    assert signing.verify(secret, path, now)
    assert not signing.verify(secret, path, body["expires"])  # expired later
    viewer = path.split("/")[3]
    assert viewer.startswith("p") and not signing.verify(
        secret, path.replace(f"/{viewer}/", "/p999/"), now
    )  # bound to the viewer
    page = anna.get(f"items/{item_id}/watch")
    html = text(page)
    assert page.status_code == 200
    assert "This stream is not recorded." in html and "Only:" in html
    assert "vendor/hls.min.js" in html and "js/stream-player.js" in html
    assert "<script>" not in html  # no inline scripts (CSP)
    assert urlsplit(HLS).netloc in page.headers["Content-Security-Policy"]
    assert tess.get(f"items/{item_id}/watch").status_code == 200  # teachers can always watch


@pytest.mark.parametrize("who", ["s-eva", "s-finn", "p-petra"])
def test_others_in_the_course_get_nothing(
    app: Flask, tess: User, item_id: int, new_browser: Any, who: str
) -> None:
    _live(app, tess, item_id)
    other = launch(new_browser(), who)
    assert _link(other, item_id).status_code == 404
    assert other.get(f"items/{item_id}/watch").status_code == 404


def test_a_student_of_another_course_gets_nothing(
    app: Flask, tess: User, item_id: int, new_browser: Any
) -> None:
    _live(app, tess, item_id)
    gijs = launch(new_browser(), "s-gijs", "course-2")
    assert _link(gijs, item_id).status_code == 404
    assert gijs.get(f"items/{item_id}/watch").status_code == 404


def test_a_removed_student_loses_access_at_the_next_renewal(
    app: Flask, tess: User, item_id: int, new_browser: Any, browser: Browser
) -> None:
    _live(app, tess, item_id)
    sam = launch(new_browser(), "s-sam")
    assert _link(sam, item_id).status_code == 200
    browser.lms.remove_member("course-1", "s-sam")
    rt = app.extensions["lti_tool"]
    with app.app_context(), rt.db.transaction() as session:
        course = find_course(session, 1, "course-1")
        assert course is not None
        sync_course(session, rt, course)
    assert _link(sam, item_id).status_code == 404


def test_a_stale_roster_is_refreshed_before_the_next_renewal(
    app: Flask, tess: User, item_id: int, new_browser: Any, browser: Browser
) -> None:
    """Nobody syncs by hand: once the roster is older than the freshness setting, the next
    link renewal fetches it from the platform, and the student who left gets nothing."""
    import datetime as dt

    from lti_tool.access.models import Course

    _live(app, tess, item_id)
    sam = launch(new_browser(), "s-sam")
    assert _link(sam, item_id).status_code == 200
    browser.lms.remove_member("course-1", "s-sam")
    assert _link(sam, item_id).status_code == 200  # roster still fresh: no platform call yet
    with app.extensions["lti_tool"].db.transaction() as session:
        course = session.scalar(select(Course).where(Course.context_id == "course-1"))
        assert course is not None
        course.roster_synced_at = course.roster_synced_at - dt.timedelta(hours=2)
    assert _link(sam, item_id).status_code == 404
    kinds = count(app, AuditEvent, AuditEvent.kind == "roster.synced")
    assert kinds >= 2


def test_links_need_the_launch_session_of_this_browser(
    app: Flask, tess: User, item_id: int, new_browser: Any
) -> None:
    _live(app, tess, item_id)
    anna = launch(new_browser(), "s-anna")
    stranger = new_browser()
    copied = stranger.client.get(anna.url(f"items/{item_id}/watch/link"))
    assert copied.status_code in (401, 403)


def test_ended_stream_gives_no_link(app: Flask, tess: User, item_id: int, new_browser: Any) -> None:
    name = _live(app, tess, item_id)
    callback(app, "on_publish_done", name)
    anna = launch(new_browser(), "s-anna")
    assert _link(anna, item_id).json == {"state": "ended", "renew_in": 120}


def test_item_page_leads_the_teacher_to_the_key_and_the_student_to_the_player(
    app: Flask, browser: Browser, new_browser
) -> None:
    launch(new_browser(), "s-anna")  # known to the tool before the teacher picks section A
    tess = launch(browser, "t-tess")
    item_id = section_a_stream(app, tess)
    assert tess.url(f"items/{item_id}/stream") in text(tess.get(f"items/{item_id}"))
    anna = launch(new_browser(), "s-anna")
    assert anna.url(f"items/{item_id}/watch") in text(anna.get(f"items/{item_id}"))
