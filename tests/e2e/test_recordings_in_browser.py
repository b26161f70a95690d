"""Recordings in Debian Chromium with a fake camera: the teacher records 5 s in the tool's
page and saves it, the tool converts it, an allowed student's browser decodes its frames
through nginx's signed link; an interrupted upload resumes; others are refused."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser as PwBrowser
from playwright.sync_api import Frame, Page, Route

from lti_tool.devlms.platform import DevLms
from lti_tool.recordings.models import Recording, RecordingState
from tests.conftest import free_port
from tests.e2e.conftest import ARGS, CHROMIUM, screenshot
from tests.support.browser import Browser
from tests.support.items import TODAY, User, launch
from tests.support.recordings import (
    make_media,
    run_jobs,
    section_a_recording,
    serve_media,
    wait,
)
from tests.support.streams import STUDENTS

VENDOR = Path(__file__).resolve().parents[2] / "lti_tool" / "static" / "vendor" / "tus.min.js"
pytestmark = pytest.mark.skipif(
    not (shutil.which("nginx") and shutil.which("ffmpeg")), reason="nginx and ffmpeg needed"
)
FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture(scope="module")
def camera_chromium(chromium: PwBrowser) -> Iterator[PwBrowser]:
    """Chromium with a fake camera and microphone, and no permission prompt (started by the
    session's Playwright: one Playwright per process)."""
    browser = chromium.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*ARGS, *FAKE_MEDIA, "--autoplay-policy=no-user-gesture-required"],
    )
    yield browser
    browser.close()


@pytest.fixture
def cam_page(camera_chromium: PwBrowser) -> Iterator[Page]:
    context = camera_chromium.new_context(locale="en-GB", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_media(tmp_path_factory.mktemp("media"))


@pytest.fixture
def media_port() -> int:
    return free_port()


@pytest.fixture
def tool_settings(tool_settings: dict[str, Any], media_port: int) -> dict[str, Any]:
    return {**tool_settings, "today": TODAY, "media_url": f"http://127.0.0.1:{media_port}/media"}


@pytest.fixture
def media_server(app: Flask, tmp_path: Path, media_port: int) -> Iterator[Path]:
    tmp_path.chmod(0o777)
    yield from serve_media(app, tmp_path / "nginx", free_port(), media_port)


@pytest.fixture
def tess(browser: Browser, new_browser: Any) -> User:
    for student in STUDENTS:
        launch(new_browser(), student)
    return launch(browser, "t-tess")


def _open(page: Page, lms: DevLms, base_url: str, user: str, path: str) -> Frame:
    """``user`` opens the course in the LMS, then ``path`` inside the tool's frame."""
    page.goto(lms.url(f"/course/course-1?user={user}"))
    for _ in range(75):
        frame = next((f for f in page.frames if f.url.startswith(f"{base_url}/s/")), None)
        if frame is not None:
            break
        page.wait_for_timeout(200)
    else:
        raise AssertionError(f"{user}'s launch did not reach the tool within 15 s")
    sid = frame.url.split("/s/", 1)[1].split("/", 1)[0]
    frame.goto(f"{base_url}/s/{sid}/{path}")
    return frame


def _ready(app: Flask, seconds: float = 60) -> list[Recording]:
    """Run the job queue until every recording is ready (what the worker does)."""

    def done() -> bool:
        run_jobs(app)
        with app.extensions["lti_tool"].db.transaction() as session:
            states = [r.state for r in session.query(Recording)]
        assert RecordingState.FAILED not in states
        return bool(states) and all(s is RecordingState.READY for s in states)

    wait(done, seconds, "the recording to be converted")
    with app.extensions["lti_tool"].db.transaction() as session:
        found = list(session.query(Recording).order_by(Recording.id))
        session.expunge_all()
        return found


def _frames(frame: Frame) -> int:
    return int(
        frame.evaluate(
            "document.getElementById('recording-video').getVideoPlaybackQuality().totalVideoFrames"
        )
    )


def test_record_five_seconds_save_and_play_as_an_allowed_student(
    app: Flask,
    tess: User,
    registered: DevLms,
    media_server: Path,
    cam_page: Page,
    camera_chromium: PwBrowser,
) -> None:
    if not VENDOR.exists():
        pytest.fail(f"{VENDOR} is missing: run `make player` (npm ci, copies tus-js-client)")
    base = app.extensions["lti_tool"].settings.base_url
    item_id = section_a_recording(app, tess)
    frame = _open(cam_page, registered, base, "t-tess", f"items/{item_id}/recordings")
    serious = [
        v["id"]
        for v in Axe().run(frame).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
    frame.click("#rec-start")
    frame.wait_for_selector("#recorder[data-record-state=recording]", timeout=10_000)
    assert frame.is_visible("#rec-indicator")
    cam_page.wait_for_timeout(5_000)
    frame.click("#rec-stop")
    frame.wait_for_selector("#rec-review:not([hidden])", timeout=10_000)
    assert frame.evaluate("document.getElementById('rec-preview').src").startswith("blob:")
    screenshot(cam_page, "recording-review")
    frame.click("#rec-save")
    frame.wait_for_selector("#recorder[data-upload-state=done]", timeout=30_000)
    recordings = _ready(app)
    assert len(recordings) == 1 and recordings[0].source.value == "browser"
    assert 4.0 <= (recordings[0].duration or 0) <= 7.0
    frame.wait_for_selector("#recordings tr[data-state=ready]", timeout=15_000)
    screenshot(cam_page, "recording-ready")
    rec_id = recordings[0].id

    context = camera_chromium.new_context(locale="nl-NL")
    student = context.new_page()
    try:
        player = _open(student, registered, base, "s-anna", f"recordings/{rec_id}")
        state = "document.getElementById('recording-video').readyState"
        wait(lambda: int(player.evaluate(state)) >= 2, 20, "the video to load")
        assert (
            player.get_attribute("#recording-video", "controlslist")
            == "nodownload noremoteplayback"
        )
        player.evaluate(
            "(() => { const v = document.getElementById('recording-video');"
            " v.muted = true; return v.play(); })()"
        )
        wait(lambda: _frames(player) > 10, 15, "decoded frames")
        first = _frames(player)
        wait(lambda: _frames(player) > first + 10, 10, "more decoded frames")
        assert "G4" in player.inner_text("main")  # the rule notice beside the video
        violations = Axe().run(player).response["violations"]
        assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []
        screenshot(student, "recording-playing")
        link = player.evaluate("document.getElementById('recording-video').currentSrc")
        assert "/media/" in link and requests.get(link, timeout=5).status_code == 200
        sig = link.split("/media/", 1)[1].split("/", 1)[0]
        tampered = link.replace(sig, ("A" if sig[0] != "A" else "B") + sig[1:])
        assert requests.get(tampered, timeout=5).status_code == 403

        refused = _open(student, registered, base, "s-eva", f"recordings/{rec_id}")
        assert refused.locator("#recording-player").count() == 0
        assert "404" in refused.inner_text("main")
    finally:
        context.close()


def test_an_interrupted_upload_resumes_in_the_browser(
    app: Flask,
    tess: User,
    registered: DevLms,
    media_server: Path,
    cam_page: Page,
    media: dict[str, Path],
) -> None:
    base = app.extensions["lti_tool"].settings.base_url
    item_id = section_a_recording(app, tess)
    seen: list[tuple[str, str]] = []
    dropped: list[str] = []

    def cut_once(route: Route) -> None:
        request = route.request
        seen.append((request.method, request.headers.get("upload-offset", "")))
        patches = [m for m, _o in seen if m == "PATCH"]
        if request.method == "PATCH" and len(patches) == 3 and not dropped:
            dropped.append(request.headers.get("upload-offset", ""))
            route.abort("connectionreset")
            return
        route.continue_()

    cam_page.route("**/uploads/**", cut_once)
    frame = _open(cam_page, registered, base, "t-tess", f"items/{item_id}/recordings")
    frame.evaluate("document.getElementById('recorder').dataset.chunkSize = '4096'")
    frame.set_input_files("#file", str(media["mp4"]))
    frame.click("#upload-start")
    frame.wait_for_selector("#recorder[data-upload-state=done]", timeout=30_000)
    assert dropped and int(dropped[0]) > 0
    after = seen[seen.index(("PATCH", dropped[0])) + 1 :]
    assert after[0][0] == "HEAD"  # it asked the tool where to go on...
    resumed = [int(o) for m, o in after if m == "PATCH"]
    assert resumed and min(resumed) >= int(dropped[0])  # ...and did not start again
    recordings = _ready(app)
    assert recordings[0].size == media["mp4"].stat().st_size
    started = time.monotonic()
    frame.wait_for_selector("#recordings tr[data-state=ready]", timeout=15_000)
    assert time.monotonic() - started < 15
