"""Helpers for recording tests: media made with ffmpeg at test time (no binary fixtures), tus
uploads through the tool's own endpoints, the job runner, and nginx serving signed media."""

from __future__ import annotations

import base64
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

from lti_tool.jobs.queue import run_pending
from lti_tool.recordings.storage import media_root
from lti_tool.streams import nginx
from lti_tool.streams.local import local_layout, run_nginx
from lti_tool.streams.operations import provider_for
from tests.support.items import User, text
from tests.support.streams import create_item, ids

G4_RECORDING = {
    "title": "Photosynthesis explained",
    "made": "recording",
    "recognisable": ["teacher"],
    "purpose": "instruction",
    "audience": "class",
    "teacher_location": "school",
    "confirm": ["G4.1", "G4.2"],
}
G1_HAND_IN = {
    "title": "Presentation skills",
    "made": "recording",
    "recognisable": ["students"],
    "purpose": "assessment",
    "audience": "assessed",
    "teacher_location": "school",
    "scope": "course",
    "confirm": ["G1.1", "G1.2", "G1.3"],
}
G3_RECORDING = {
    "title": "Open day film",
    "made": "recording",
    "recognisable": ["students"],
    "purpose": "wider-audience",
    "audience": "institution",
    "teacher_location": "school",
    "scope": "course",
    "confirm": ["G3.1", "G3.2", "G3.3"],
}


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
        check=True,
        timeout=120,
    )


def make_media(folder: Path) -> dict[str, Path]:
    """Small test files: MP4 (H.264/AAC), browser-like WebM (VP8/Opus), not-media, a truncated
    MP4, a long low-rate clip (over a 10 s limit)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "mp4": folder / "lesson.mp4",
        "webm": folder / "browser.webm",
        "text": folder / "notes.mp4",
        "truncated": folder / "truncated.mp4",
        "long": folder / "long.mp4",
    }
    src = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine"]
    ffmpeg(*src, "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
           str(files["mp4"]))  # fmt: skip
    ffmpeg(*src, "-t", "2", "-c:v", "libvpx", "-b:v", "300k", "-c:a", "libopus",
           str(files["webm"]))  # fmt: skip
    files["text"].write_text("This is not a video, whatever its name says.\n" * 100)
    whole = files["mp4"].read_bytes()
    files["truncated"].write_bytes(whole[: len(whole) // 2])
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=2", "-t", "12", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(files["long"]))  # fmt: skip
    return files


def recording_item(tess: User, **change: Any) -> int:
    return create_item(tess, **{**G4_RECORDING, **change})


def section_a_recording(app: Flask, tess: User) -> int:
    """A G4 recording for section A (s-anna, s-bram, s-chloe, s-sam)."""
    return recording_item(tess, scope="sections", sections=[str(ids(app)["sec-A"])])


def _headers(user: User, **extra: str) -> dict[str, str]:
    return {"Tus-Resumable": "1.0.0", "X-CSRF-Token": user.csrf(), **extra}


def tus_create(user: User, item_id: int, length: int, name: str = "lesson.mp4") -> TestResponse:
    meta = "filename " + base64.b64encode(name.encode()).decode()
    return user.browser.client.post(
        user.url(f"items/{item_id}/uploads"),
        headers=_headers(user, **{"Upload-Length": str(length), "Upload-Metadata": meta}),
    )


def tus_patch(user: User, location: str, offset: int, body: bytes, **extra: str) -> TestResponse:
    return user.browser.client.patch(
        location,
        data=body,
        headers=_headers(
            user,
            **{"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
            **extra,
        ),
    )


def tus_head(user: User, location: str) -> TestResponse:
    return user.browser.client.head(location, headers=_headers(user))


def upload(user: User, item_id: int, path: Path, chunk: int = 256 * 1024) -> TestResponse:
    """A whole tus upload in chunks; returns the last response."""
    body = path.read_bytes()
    created = tus_create(user, item_id, len(body), path.name)
    assert created.status_code == 201, text(created)
    location = created.headers["Location"]
    offset = 0
    response = created
    while offset < len(body):
        response = tus_patch(user, location, offset, body[offset : offset + chunk])
        if response.status_code != 204:
            return response
        offset = int(response.headers["Upload-Offset"])
    return response


def recording_id(response: TestResponse) -> int:
    return int(response.headers["X-Recording-Id"])


def run_jobs(app: Flask) -> int:
    rt = app.extensions["lti_tool"]
    return run_pending(rt.db.sessions, 50, settings=rt.settings)


def wait(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def serve_media(app: Flask, work: Path, rtmp_port: int, http_port: int) -> Iterator[Path]:
    """nginx with the tool's generated configuration serving signed recordings."""
    settings = app.extensions["lti_tool"].settings
    store = media_root(settings) / "store"
    store.mkdir(parents=True, exist_ok=True)
    for folder in (media_root(settings), store, *media_root(settings).parents):
        if str(folder).startswith("/tmp/"):
            folder.chmod(folder.stat().st_mode | 0o755)
    from dataclasses import replace

    layout = replace(local_layout(work, rtmp_port, http_port), media_path=str(store))
    with app.app_context():
        configured = provider_for(settings, app.config["SECRET_KEY"])
    config = nginx.config_for(
        configured, layout, tool_url=settings.base_url, origin=settings.base_url
    )
    with (work / "stderr.log").open("wb") as err:
        proc = run_nginx(work, config, stderr=err)
    try:
        wait(lambda: listening(http_port), 10, "nginx to listen")
        yield store
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def link_of(user: User, rec_id: int) -> dict[str, Any]:
    response = user.get(f"recordings/{rec_id}/link", headers={"Accept": "application/json"})
    assert response.status_code == 200, text(response)
    return dict(response.get_json())


def signed_parts(url: str) -> list[str]:
    found = re.search(r"/media/(.+)$", url)
    assert found, url
    return found.group(1).split("/")
