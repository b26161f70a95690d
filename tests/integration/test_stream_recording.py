"""Streams whose decision says "recorded": encoders push to the recording application, nginx
hands the recorded file to the tool (``on_record_done``), which keeps it as a recording of the
item (H.264/AAC copied into MP4) until the item's deletion date. Streams that are not recorded
cannot be pushed there, and a callback cannot make the tool take any other file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.audit.models import AuditEvent
from lti_tool.recordings.models import Recording, RecordingState, Source
from lti_tool.recordings.operations import limits
from lti_tool.recordings.processing import probe
from lti_tool.recordings.storage import media_root
from lti_tool.streams.models import Stream
from tests.support.browser import Browser
from tests.support.items import TODAY, User, launch, text
from tests.support.recordings import run_jobs
from tests.support.streams import STUDENTS, callback, create_item, issue_key

pytestmark = pytest.mark.skipif(not shutil.which("ffmpeg"), reason="ffmpeg is needed")


@pytest.fixture
def records(tmp_path: Path) -> Path:
    folder = tmp_path / "records"
    folder.mkdir()
    return folder


@pytest.fixture
def tool_settings(tool_settings: dict[str, Any], records: Path) -> dict[str, Any]:
    return {
        **tool_settings,
        "today": TODAY,
        "rtmp_url": "rtmp://127.0.0.1:19350/live",
        "stream_record_dir": str(records),
    }


@pytest.fixture
def tess(browser: Browser, new_browser: Any) -> User:
    for student in STUDENTS:
        launch(new_browser(), student)
    return launch(browser, "t-tess")


def _flv(folder: Path, name: str) -> Path:
    """What nginx-rtmp records: FLV with H.264 and AAC."""
    path = folder / f"{name}-1764000000.flv"
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=2",
            "-f", "lavfi", "-i", "sine=duration=2",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
            "-f", "flv", str(path),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path


def _recordings(app: Flask) -> list[Recording]:
    with app.extensions["lti_tool"].db.transaction() as session:
        found = list(session.scalars(select(Recording)))
        session.expunge_all()
        return found


def test_a_recorded_stream_goes_to_the_recording_application_and_is_kept(
    app: Flask, tess: User, records: Path
) -> None:
    item_id = create_item(tess, title="Lesson 4 recorded", made="stream+recording")
    name, key = issue_key(tess, item_id)
    page = text(tess.get(f"items/{item_id}/stream"))
    assert "rtmp://127.0.0.1:19350/rec" in page
    assert callback(app, "on_publish", name, key).status_code == 403  # the live application
    assert callback(app, "on_publish", name, key, rtmp_app="rec").status_code == 200

    recorded = _flv(records, name)
    done = callback(app, "on_record_done", name, key, rtmp_app="rec", path=str(recorded))
    assert done.status_code == 200
    assert not recorded.exists()  # taken out of nginx's folder
    [rec] = _recordings(app)
    assert (rec.item_id, rec.source, rec.state) == (
        item_id,
        Source.STREAM,
        RecordingState.PROCESSING,
    )
    assert run_jobs(app) >= 1
    [rec] = _recordings(app)
    assert rec.state is RecordingState.READY, rec.error
    stored = media_root(app.extensions["lti_tool"].settings) / "store" / rec.prefix / "media.mp4"
    found = probe(stored, limits(app.extensions["lti_tool"].settings))
    assert (found.video_codec, found.audio_codec) == ("h264", "aac")  # copied, not re-encoded
    assert 1.5 < found.duration < 2.5


def test_a_stream_that_is_not_recorded_cannot_use_the_recording_application(
    app: Flask, tess: User, records: Path
) -> None:
    item_id = create_item(tess, title="Lesson 5 live only")
    name, key = issue_key(tess, item_id)
    assert "rtmp://127.0.0.1:19350/live" in text(tess.get(f"items/{item_id}/stream"))
    assert callback(app, "on_publish", name, key, rtmp_app="rec").status_code == 403
    with app.extensions["lti_tool"].db.transaction() as session:
        refused = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "stream.publish_refused")
        ).one()
        assert refused.data["reason"] == "wrong-application"
    # a file recorded anyway (say nginx was misconfigured) is removed, not kept
    recorded = _flv(records, name)
    assert callback(app, "on_record_done", name, key, path=str(recorded)).status_code == 200
    assert not recorded.exists() and _recordings(app) == []


def test_the_callback_takes_only_files_from_the_recording_folder(
    app: Flask, tess: User, records: Path, tmp_path: Path
) -> None:
    item_id = create_item(tess, title="Lesson 6 recorded", made="stream+recording")
    name, key = issue_key(tess, item_id)
    elsewhere = _flv(tmp_path, name)
    for path in (str(elsewhere), str(records / ".." / elsewhere.name), "/etc/passwd", ""):
        response = callback(app, "on_record_done", name, key, path=path)
        assert response.status_code == 404, path
    assert elsewhere.exists() and _recordings(app) == []
    inside = _flv(records, name)
    assert (
        callback(app, "on_record_done", "no-such-stream", key, path=str(inside)).status_code == 404
    )
    assert (
        callback(app, "on_record_done", name, key, path=str(inside), token="x" * 40).status_code
        == 404
    )
    assert inside.exists()
    with app.extensions["lti_tool"].db.transaction() as session:
        assert session.scalar(select(Stream.name)) == name
