"""A live stream end to end on real parts: nginx with the generated configuration, ffmpeg
pushing a test pattern with the teacher's key, and an enrolled student's Chromium decoding
frames through the tool's player; a wrong key cannot publish and nginx refuses bad links."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Frame, Page
from sqlalchemy import select

from lti_tool.audit.models import AuditEvent
from lti_tool.devlms.platform import DevLms
from lti_tool.streams import nginx, signing
from lti_tool.streams.local import local_layout, run_nginx
from lti_tool.streams.operations import provider_for
from tests.conftest import free_port
from tests.e2e.conftest import screenshot
from tests.support.browser import Browser
from tests.support.items import TODAY, User, launch
from tests.support.streams import STUDENTS, issue_key, provider, section_a_stream

pytestmark = pytest.mark.skipif(
    not (shutil.which("nginx") and shutil.which("ffmpeg") and Path(nginx.RTMP_MODULE).exists()),
    reason="nginx, libnginx-mod-rtmp and ffmpeg are needed: run scripts/system-packages.sh",
)


PLAYER = Path(__file__).resolve().parents[2] / "lti_tool" / "static" / "vendor" / "hls.min.js"


@pytest.fixture
def media_ports() -> dict[str, int]:
    return {"rtmp": free_port(), "http": free_port()}


@pytest.fixture
def tool_settings(
    tool_settings: dict[str, Any], media_ports: dict[str, int], tmp_path: Path
) -> dict[str, Any]:
    return {
        **tool_settings,
        "stream_record_dir": str(tmp_path / "nginx" / "records"),  # local_layout's
        "today": TODAY,
        "rtmp_url": f"rtmp://127.0.0.1:{media_ports['rtmp']}/live",
        "hls_url": f"http://127.0.0.1:{media_ports['http']}/hls",
    }


def _wait(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def callbacks_to(app: Flask, request: pytest.FixtureRequest) -> str:
    """Where nginx calls the tool (parametrized "unreachable": a port nobody listens on)."""
    if getattr(request, "param", None) == "unreachable":
        return f"http://127.0.0.1:{free_port()}"
    return str(app.extensions["lti_tool"].settings.base_url)


@pytest.fixture
def media_server(
    app: Flask, media_ports: dict[str, int], tmp_path: Path, callbacks_to: str
) -> Iterator[Path]:
    """nginx with the tool's generated configuration, on free loopback ports."""
    work = tmp_path / "nginx"
    tmp_path.chmod(0o777)  # nginx's workers may run as another user
    layout = local_layout(work, media_ports["rtmp"], media_ports["http"])
    settings = app.extensions["lti_tool"].settings
    with app.app_context():
        configured = provider_for(settings, app.config["SECRET_KEY"])
    config = nginx.config_for(configured, layout, tool_url=callbacks_to, origin=settings.base_url)
    with (work / "stderr.log").open("wb") as err:
        proc = run_nginx(work, config, stderr=err)
    try:
        _wait(
            lambda: _listening(media_ports["http"]) and _listening(media_ports["rtmp"]),
            10,
            "nginx to listen",
        )
        yield work
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _push(rtmp_url: str, name: str, key: str, seconds: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
            "-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
            "-f", "lavfi", "-i", "sine", "-t", str(seconds),
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "25",
            "-pix_fmt", "yuv420p", "-c:a", "aac",
            "-f", "flv", f"{rtmp_url}/{name}?key={key}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip


@pytest.fixture
def tess(browser: Browser, new_browser: Any) -> User:
    for student in STUDENTS:
        launch(new_browser(), student)
    return launch(browser, "t-tess")


def _player(
    page: Page, lms: DevLms, base_url: str, user: str, item_id: int, view: str = "watch"
) -> Frame:
    """``user`` opens the course in the LMS, then the stream's ``view`` (the player, or the
    teacher's key page ``stream``) inside the tool's frame."""
    page.goto(lms.url(f"/course/course-1?user={user}"))

    def launched() -> Frame | None:  # the tool's frame, past the launch's own pages
        return next((f for f in page.frames if f.url.startswith(f"{base_url}/s/")), None)

    for _ in range(75):  # 15 s; Playwright's own wait lets it see the frames navigate
        frame = launched()
        if frame is not None:
            break
        page.wait_for_timeout(200)
    else:
        raise AssertionError(f"{user}'s launch did not reach the tool within 15 s")
    sid = frame.url.split("/s/", 1)[1].split("/", 1)[0]
    frame.goto(f"{base_url}/s/{sid}/items/{item_id}/{view}")
    return frame


def _frames(frame: Frame) -> int:
    return int(
        frame.evaluate(
            "document.getElementById('stream-video').getVideoPlaybackQuality().totalVideoFrames"
        )
    )


def test_an_enrolled_student_watches_and_a_wrong_key_cannot_publish(
    app: Flask, tess: User, media_server: Path, page: Page, registered: DevLms
) -> None:
    if not PLAYER.exists():
        pytest.fail(f"{PLAYER} is missing: run `make player` (npm ci, copies hls.js)")
    settings = app.extensions["lti_tool"].settings
    item_id = section_a_stream(app, tess)
    name, key = issue_key(tess, item_id)

    wrong = _push(settings.rtmp_url, name, key[:-3] + "abc", 5)
    assert wrong.wait(20) != 0  # nginx asked the tool, the tool said no
    assert not (media_server / "hls" / name / "index.m3u8").exists()
    with app.extensions["lti_tool"].db.transaction() as session:
        refused = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "stream.publish_refused")
        ).all()
        assert [e.data["reason"] for e in refused] == ["wrong-key"]

    pusher = _push(settings.rtmp_url, name, key, 60)
    try:
        playlist = media_server / "hls" / name / "index.m3u8"
        _wait(playlist.exists, 15, "nginx to write the HLS playlist")

        frame = _player(page, registered, settings.base_url, "s-anna", item_id)
        frame.wait_for_selector("#live-badge:not([hidden])", timeout=15_000)
        _wait(lambda: _frames(frame) > 0, 20, "the first decoded frame")
        first = _frames(frame)
        _wait(lambda: _frames(frame) > first + 10, 10, "more decoded frames")
        screenshot(page, "stream-playing")
        serious = [
            v["id"]
            for v in Axe().run(frame).response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == []

        # the media server itself refuses links that are not freshly signed for this viewer
        link = provider(app).playback(name, "p1")
        assert requests.get(link.url, timeout=5).status_code == 200
        sig = link.url.split("/hls/", 1)[1].split("/", 1)[0]
        tampered = link.url.replace(sig, ("A" if sig[0] != "A" else "B") + sig[1:])
        assert requests.get(tampered, timeout=5).status_code == 403
        other_viewer = link.url.replace("/p1/", "/p2/")
        assert requests.get(other_viewer, timeout=5).status_code == 403
        expired_path = signing.signed_path(provider(app).secret, name, "p1", int(time.time()) - 1)
        assert requests.get(settings.hls_url + expired_path, timeout=5).status_code == 410
        unsigned = f"{settings.hls_url}/{name}/index.m3u8"
        assert requests.get(unsigned, timeout=5).status_code in (403, 404)
        pusher.terminate()
        pusher.wait(10)  # the teacher stops: nginx reports it, the player says so
        frame.wait_for_selector("#stream-player[data-state=ended]", timeout=15_000)

        # a student of section B gets nothing, in the browser too
        refused = _player(page, registered, settings.base_url, "s-eva", item_id)
        assert refused.locator("#stream-player").count() == 0
        assert "404" in refused.inner_text("main") or "does not exist" in refused.content()
    finally:
        if pusher.poll() is None:
            pusher.kill()
            pusher.wait(5)


@pytest.mark.parametrize("callbacks_to", ["unreachable"], indirect=True)
def test_publishing_fails_closed_while_the_tool_is_unreachable(
    app: Flask, tess: User, media_server: Path
) -> None:
    item_id = section_a_stream(app, tess)
    name, key = issue_key(tess, item_id)
    pusher = _push(app.extensions["lti_tool"].settings.rtmp_url, name, key, 5)
    try:
        assert pusher.wait(20) != 0  # the right key, but nobody said yes
    finally:
        if pusher.poll() is None:
            pusher.kill()
            pusher.wait(5)
    assert not (media_server / "hls" / name).exists()


def test_a_new_key_cuts_off_the_encoder_that_is_live(
    app: Flask, tess: User, media_server: Path
) -> None:
    """The teacher makes a new key while the old one is streaming (it leaked, say): within
    nginx's update interval the old encoder is dropped, and it cannot come back."""
    item_id = section_a_stream(app, tess)
    name, key = issue_key(tess, item_id)
    rtmp_url = app.extensions["lti_tool"].settings.rtmp_url
    pusher = _push(rtmp_url, name, key, 120)
    try:
        _wait((media_server / "hls" / name / "index.m3u8").exists, 15, "the stream to go live")
        issue_key(tess, item_id)
        started = time.monotonic()
        assert pusher.wait(nginx.UPDATE_SECONDS * 2 + 10) is not None
        assert time.monotonic() - started < nginx.UPDATE_SECONDS * 2 + 5
        again = _push(rtmp_url, name, key, 5)
        assert again.wait(20) != 0
    finally:
        if pusher.poll() is None:
            pusher.kill()
            pusher.wait(5)
    with app.extensions["lti_tool"].db.transaction() as session:
        kinds = [
            (e.kind, e.data.get("reason"))
            for e in session.scalars(select(AuditEvent).where(AuditEvent.kind.like("stream.%")))
        ]
    assert ("stream.cut_off", "wrong-key") in kinds
    assert kinds[-1] == ("stream.publish_refused", "wrong-key")


MAKE_KEY = "Maak een nieuwe streamsleutel"  # the schedule made the stream


def test_the_teachers_key_page_is_accessible_and_schedules_by_keyboard(
    app: Flask, tess: User, media_server: Path, page: Page, registered: DevLms
) -> None:
    item_id = section_a_stream(app, tess)
    base_url = app.extensions["lti_tool"].settings.base_url
    frame = _player(page, registered, base_url, "t-tess", item_id, view="stream")
    # the development LMS launches Tess in Dutch
    assert "klaar" in frame.inner_text("#media-status")
    frame.get_by_label("Datum").fill("2099-06-01")
    frame.get_by_label("Van", exact=True).fill("09:00")
    frame.get_by_label("Tot", exact=True).fill("10:30")
    frame.get_by_label("Tot", exact=True).press("Enter")
    frame.wait_for_selector("text=Gepland op 2099-06-01 van 09:00 tot 10:30")
    frame.get_by_role("button", name=MAKE_KEY).click()
    frame.wait_for_selector("#ingest-key")
    screenshot(page, "stream-key-page")
    serious = [
        v["id"]
        for v in Axe().run(frame).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []


def test_nginx_records_a_recorded_stream_and_the_tool_keeps_it(
    app: Flask, tess: User, media_server: Path
) -> None:
    """The decision says recorded: the teacher's URL is the recording application; nginx
    records the publish, hands the file over when it ends, and a job makes the MP4."""
    from lti_tool.recordings.models import Recording, RecordingState, Source
    from tests.support.recordings import run_jobs
    from tests.support.streams import create_item

    item_id = create_item(tess, title="Lesson recorded", made="stream+recording")
    name, key = issue_key(tess, item_id)
    rtmp = app.extensions["lti_tool"].settings.rtmp_url.rsplit("/", 1)[0] + "/rec"
    pusher = _push(rtmp, name, key, 4)
    assert pusher.wait(30) == 0, pusher.stderr.read() if pusher.stderr else ""

    def handed_over() -> bool:
        with app.extensions["lti_tool"].db.transaction() as session:
            return session.scalar(select(Recording.id)) is not None

    _wait(handed_over, 15, "nginx to hand the recorded file to the tool")
    assert not list((media_server / "records").iterdir())
    assert run_jobs(app) >= 1
    with app.extensions["lti_tool"].db.transaction() as session:
        rec = session.scalars(select(Recording)).one()
        assert (rec.item_id, rec.source) == (item_id, Source.STREAM)
        assert rec.state is RecordingState.READY, rec.error
        assert rec.duration is not None and 3 < rec.duration < 5.5
