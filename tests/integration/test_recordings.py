"""Recordings on real parts: tus uploads to the tool, ffprobe and ffmpeg, local storage,
nginx checking signed media links (with ranges), the audience deciding, erasure."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from lti_tool.audit.models import AuditEvent
from lti_tool.errors import UpstreamError
from lti_tool.items.models import Item
from lti_tool.jobs.models import Job, JobState
from lti_tool.recordings import links
from lti_tool.recordings.models import Recording, RecordingState, Upload
from lti_tool.recordings.operations import erase_item_media, media_secret, partial_path
from lti_tool.recordings.storage import StorageUnavailable, media_root
from tests.conftest import free_port
from tests.support.browser import Browser
from tests.support.items import TODAY, User, count, launch, text
from tests.support.recordings import (
    link_of,
    make_media,
    recording_id,
    run_jobs,
    section_a_recording,
    serve_media,
    signed_parts,
    tus_create,
    tus_head,
    tus_patch,
    upload,
)
from tests.support.streams import STUDENTS

pytestmark = pytest.mark.skipif(
    not (shutil.which("nginx") and shutil.which("ffmpeg") and shutil.which("ffprobe")),
    reason="nginx and ffmpeg are needed: run scripts/system-packages.sh",
)


@pytest.fixture(scope="session")
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


@pytest.fixture
def item_id(app: Flask, tess: User) -> int:
    return section_a_recording(app, tess)


def _recording(app: Flask, rec_id: int) -> Recording:
    with app.extensions["lti_tool"].db.transaction() as session:
        found = session.get(Recording, rec_id)
        assert found is not None
        session.expunge(found)
        return found


def _events(app: Flask, kind: str) -> list[dict[str, Any]]:
    with app.extensions["lti_tool"].db.transaction() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.kind == kind))
        return [{"subject": e.subject, **e.data} for e in rows]


def _erase(app: Flask, item_id: int) -> list[str]:
    rt = app.extensions["lti_tool"]
    with rt.db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return erase_item_media(session, item, settings=rt.settings, actor="test")


def _ready(app: Flask, tess: User, item_id: int, path: Path) -> int:
    done = upload(tess, item_id, path)
    assert done.status_code == 204, text(done)
    rec_id = recording_id(done)
    assert _recording(app, rec_id).state is RecordingState.PROCESSING
    assert run_jobs(app) >= 1
    found = _recording(app, rec_id)
    assert found.state is RecordingState.READY, found.error
    return rec_id


# --- the thin path ------------------------------------------------------------------------


def test_upload_convert_play_for_the_audience_only_then_erase(
    app: Flask, tess: User, item_id: int, media: dict[str, Path], media_server: Path,
    new_browser: Any,
) -> None:  # fmt: skip
    rec_id = _ready(app, tess, item_id, media["webm"])
    stored = sorted(p.name for p in media_server.rglob("*") if p.is_file())
    assert stored == ["media.mp4", "poster.jpg"]
    assert not list((media_root(app.extensions["lti_tool"].settings) / "uploads").iterdir())

    anna = launch(new_browser(), "s-anna")  # section A: in the audience
    assert anna.get(f"recordings/{rec_id}").status_code == 200
    page = text(anna.get(f"recordings/{rec_id}"))
    assert 'controlslist="nodownload' in page and "G4" in page
    found = link_of(anna, rec_id)
    assert found["expires"] - time.time() <= 300
    whole = requests.get(found["url"], timeout=10)
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "video/mp4"
    assert whole.content[4:8] == b"ftyp" and b"moov" in whole.content[:4096]  # faststart
    part = requests.get(found["url"], headers={"Range": "bytes=100-199"}, timeout=10)
    assert part.status_code == 206 and part.content == whole.content[100:200]
    assert requests.get(found["poster"], timeout=10).content[:2] == b"\xff\xd8"

    daan = launch(new_browser(), "s-daan")  # section B: not in the audience
    assert daan.get(f"recordings/{rec_id}").status_code == 404
    assert daan.get(f"recordings/{rec_id}/link").status_code == 404
    assert daan.get(f"items/{item_id}/recordings").status_code == 404

    # tampered (another viewer, another file) and stale links are refused by nginx
    sig, expires, viewer, rec, file = signed_parts(found["url"])
    base = found["url"].split("/media/")[0] + "/media"
    other = f"{base}/{sig}/{expires}/p999/{rec}/{file}"
    assert requests.get(other, timeout=10).status_code == 403
    longer = f"{base}/{sig}/{int(expires) + 60}/{viewer}/{rec}/{file}"
    assert requests.get(longer, timeout=10).status_code == 403
    secret = found["url"]  # a link signed for the past with the right secret: 410
    with app.app_context():
        key = media_secret(app.extensions["lti_tool"].settings, app.config["SECRET_KEY"])
    stale = links.signed_path(key, rec, file, viewer, int(time.time()) - 5)
    assert requests.get(base + stale, timeout=10).status_code == 410
    assert secret.startswith(base)
    # no guessable path: without a signature nothing is served
    assert requests.get(f"{base}/{rec}/{file}", timeout=10).status_code == 404

    removed = _erase(app, item_id)
    assert len(removed) == 2 and all("local disk" in line for line in removed)
    assert not [p for p in media_server.rglob("*") if p.is_file()]
    assert requests.get(found["url"], timeout=10).status_code == 404
    assert _erase(app, item_id) == []  # idempotent
    assert _recording(app, rec_id).state is RecordingState.ERASED
    assert anna.get(f"recordings/{rec_id}/link").status_code == 404
    assert len(_events(app, "recording.erased")) == 2


def test_an_mp4_is_kept_as_is_and_only_moved_to_faststart(
    app: Flask, tess: User, item_id: int, media: dict[str, Path]
) -> None:
    rec_id = _ready(app, tess, item_id, media["mp4"])
    found = _recording(app, rec_id)
    assert found.format is not None and found.format.startswith("mov,mp4")
    assert 1.5 < (found.duration or 0) < 2.5 and (found.width, found.height) == (320, 240)


def test_nothing_is_visible_before_processing(
    app: Flask, tess: User, item_id: int, media: dict[str, Path], new_browser: Any
) -> None:
    done = upload(tess, item_id, media["mp4"])
    rec_id = recording_id(done)
    anna = launch(new_browser(), "s-anna")
    assert anna.get(f"recordings/{rec_id}").status_code == 404
    assert anna.get(f"recordings/{rec_id}/link").status_code == 404
    status = anna.get(f"items/{item_id}/recordings/status", headers={"Accept": "application/json"})
    assert status.status_code == 200 and status.get_json()["recordings"] == []


# --- tus ----------------------------------------------------------------------------------


def test_an_interrupted_upload_resumes_from_the_offset_the_tool_has(
    app: Flask, tess: User, item_id: int, media: dict[str, Path]
) -> None:
    body = media["mp4"].read_bytes()
    created = tus_create(tess, item_id, len(body))
    location = created.headers["Location"]
    first = tus_patch(tess, location, 0, body[:10000])
    assert first.status_code == 204 and first.headers["Upload-Offset"] == "10000"
    # the client lost the answer and retries from 0: refused, it asks where to go on
    assert tus_patch(tess, location, 0, body[:10000]).status_code == 409
    head = tus_head(tess, location)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "10000"
    assert head.headers["Upload-Length"] == str(len(body)) and head.headers["Tus-Resumable"]
    last = tus_patch(tess, location, 10000, body[10000:])
    assert last.status_code == 204 and last.headers["Upload-Offset"] == str(len(body))
    assert run_jobs(app) == 1
    assert _recording(app, recording_id(last)).state is RecordingState.READY


def test_a_damaged_chunk_is_refused_by_its_checksum_and_dropped(
    app: Flask, tess: User, item_id: int, media: dict[str, Path]
) -> None:
    import base64
    import hashlib

    body = media["mp4"].read_bytes()
    location = tus_create(tess, item_id, len(body)).headers["Location"]
    digest = base64.b64encode(hashlib.sha1(body[:5000]).digest()).decode()
    damaged = b"X" + body[1:5000]
    bad = tus_patch(tess, location, 0, damaged, **{"Upload-Checksum": f"sha1 {digest}"})
    assert bad.status_code == 460
    assert tus_head(tess, location).headers["Upload-Offset"] == "0"
    good = tus_patch(tess, location, 0, body[:5000], **{"Upload-Checksum": f"sha1 {digest}"})
    assert good.status_code == 204 and good.headers["Upload-Offset"] == "5000"


def test_tus_options_announce_the_extensions(app: Flask, tess: User, item_id: int) -> None:
    response = tess.browser.client.options(tess.url(f"items/{item_id}/uploads"))
    assert response.status_code == 204
    assert "creation" in response.headers["Tus-Extension"]
    assert "checksum" in response.headers["Tus-Extension"]
    assert response.headers["Tus-Version"] == "1.0.0"


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [
        ("text", 415, "not a video or audio recording"),
        ("truncated", 415, "not a video or audio recording"),
    ],
)
def test_not_media_or_a_lying_name_is_refused_and_removed(
    app: Flask, tess: User, item_id: int, media: dict[str, Path], kind: str, status: int,
    reason: str,
) -> None:  # fmt: skip
    done = upload(tess, item_id, media[kind])
    assert done.status_code == status and reason in text(done)
    assert count(app, Upload) == 0
    assert not list((media_root(app.extensions["lti_tool"].settings) / "uploads").iterdir())
    rec = _recording(app, int(_events(app, "recording.upload_discarded")[0]["recording"]))
    assert rec.state is RecordingState.FAILED and rec.error


def test_the_refusal_is_translated(
    app: Flask, browser: Browser, new_browser: Any, media: dict[str, Path]
) -> None:
    for student in STUDENTS:
        launch(new_browser(), student)
    tess_nl = launch(browser, "t-tess", lang="nl")
    item = section_a_recording(app, tess_nl)
    done = upload(tess_nl, item, media["text"])
    assert done.status_code == 415 and "geen video" in text(done).lower()


@pytest.fixture
def strict(tool_settings: dict[str, Any]) -> dict[str, Any]:
    return tool_settings


@pytest.mark.parametrize(
    ("setting", "kind", "status"),
    [("recording_max_seconds", "long", 413), ("recording_max_pixels", "mp4", 413)],
)
def test_probe_limits_refuse_long_or_huge_media(
    app: Flask, tess: User, item_id: int, media: dict[str, Path], setting: str, kind: str,
    status: int,
) -> None:  # fmt: skip
    rt = app.extensions["lti_tool"]
    from dataclasses import replace

    rt.settings = replace(rt.settings, **{setting: 10 if "seconds" in setting else 4096})
    done = upload(tess, item_id, media[kind])
    assert done.status_code == status, text(done)
    assert count(app, Upload) == 0


def test_an_upload_larger_than_allowed_is_refused_before_any_byte(
    app: Flask, tess: User, item_id: int
) -> None:
    too_big = app.extensions["lti_tool"].settings.recording_max_bytes + 1
    response = tus_create(tess, item_id, too_big)
    assert response.status_code == 413
    assert count(app, Recording) == 0


def test_more_bytes_than_announced_are_refused(
    app: Flask, tess: User, item_id: int, media: dict[str, Path]
) -> None:
    location = tus_create(tess, item_id, 100).headers["Location"]
    assert tus_patch(tess, location, 0, b"x" * 200).status_code == 413


def test_uploads_of_others_and_to_others_items_are_refused(
    app: Flask, tess: User, item_id: int, media: dict[str, Path], new_browser: Any
) -> None:
    body = media["mp4"].read_bytes()
    location = tus_create(tess, item_id, len(body)).headers["Location"]
    anna = launch(new_browser(), "s-anna")
    # a student cannot add to a teacher's item, nor continue the teacher's upload
    assert tus_create(anna, item_id, len(body)).status_code == 403
    theirs = location.replace(tess.sid, anna.sid)
    assert tus_patch(anna, theirs, 0, body[:1000]).status_code == 404
    assert tus_head(anna, theirs).status_code == 404
    # a teacher of another course cannot reach this item
    other = launch(new_browser(), "t-tess", course="course-2")
    assert tus_create(other, item_id, len(body)).status_code == 404
    # no CSRF header: refused
    no_csrf = tess.browser.client.post(
        tess.url(f"items/{item_id}/uploads"),
        headers={"Tus-Resumable": "1.0.0", "Upload-Length": "10"},
    )
    assert no_csrf.status_code == 403


def test_an_abandoned_upload_expires_and_its_partial_file_goes(
    app: Flask, tess: User, item_id: int, media: dict[str, Path]
) -> None:
    import datetime as dt

    body = media["mp4"].read_bytes()
    created = tus_create(tess, item_id, len(body))
    location = created.headers["Location"]
    tus_patch(tess, location, 0, body[:1000])
    upload_id = location.rsplit("/", 1)[1]
    partial = partial_path(app.extensions["lti_tool"].settings, upload_id)
    assert partial.stat().st_size == 1000
    assert run_jobs(app) == 0  # not yet due
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with app.extensions["lti_tool"].db.transaction() as session:  # the expiry time has come
        found = session.get(Upload, upload_id)
        assert found is not None
        found.expires_at = past
        for job in session.scalars(select(Job).where(Job.kind == "recordings.expire_upload")):
            job.run_after = past
    assert tus_head(tess, location).status_code == 410
    assert tus_patch(tess, location, 1000, body[1000:2000]).status_code == 410
    assert run_jobs(app) == 1
    assert not partial.exists() and count(app, Upload) == 0
    assert _recording(app, recording_id(created)).state is RecordingState.FAILED


def test_unreachable_storage_is_retried_then_failed_without_leftovers(
    app: Flask, tess: User, item_id: int, media: dict[str, Path]
) -> None:
    from dataclasses import replace

    rt = app.extensions["lti_tool"]
    done = upload(tess, item_id, media["mp4"])
    rec_id = recording_id(done)
    store = media_root(rt.settings) / "store"
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text("not a folder")  # local storage broken: every put fails
    try:
        for _attempt in range(3):
            assert run_jobs(app) == 1
            with rt.db.transaction() as session:
                job = session.scalar(select(Job).where(Job.kind == "recordings.process"))
                assert job is not None
                job.run_after = job.created_at  # due again now
        found = _recording(app, rec_id)
        assert found.state is RecordingState.FAILED and "storage" in (found.error or "")
        assert not list((media_root(rt.settings) / "uploads").iterdir())
        with rt.db.transaction() as session:
            query = select(Job.state).where(Job.kind == "recordings.process")
            states = list(session.scalars(query))
        assert states == [JobState.DONE]
    finally:
        store.unlink()
    rt.settings = replace(rt.settings)


def test_erasure_raises_a_retryable_error_when_storage_is_unreachable(
    app: Flask, tess: User, item_id: int, media: dict[str, Path]
) -> None:
    _ready(app, tess, item_id, media["mp4"])
    store = media_root(app.extensions["lti_tool"].settings) / "store"
    moved = store.with_name("store-away")
    store.rename(moved)
    try:
        with pytest.raises(StorageUnavailable) as raised:
            _erase(app, item_id)
        assert isinstance(raised.value, UpstreamError)
    finally:
        moved.rename(store)
    assert len(_erase(app, item_id)) == 2


def test_a_full_disk_is_a_clear_507_before_any_byte(
    app: Flask, tess: User, item_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil as shutil_module
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil_module, "disk_usage", lambda _path: usage(10**9, 10**9, 10**6))
    response = tus_create(tess, item_id, 50 * 10**6)
    assert response.status_code == 507 and "full" in text(response)
    assert count(app, Recording) == 0


def test_the_teacher_sees_progress_and_failures(
    app: Flask, tess: User, item_id: int, media: dict[str, Path]
) -> None:
    upload(tess, item_id, media["text"])
    done = upload(tess, item_id, media["mp4"])
    status = tess.get(
        f"items/{item_id}/recordings/status", headers={"Accept": "application/json"}
    ).get_json()["recordings"]
    assert [r["state"] for r in status] == ["processing", "failed"]
    assert "not a video or audio recording" in status[1]["error"]
    run_jobs(app)
    page = text(tess.get(f"items/{item_id}/recordings"))
    assert "Ready" in page and "Failed" in page
    assert f"recordings/{recording_id(done)}" in page


def test_a_cancelled_upload_leaves_nothing(
    app: Flask, tess: User, item_id: int, media: dict[str, Path]
) -> None:
    body = media["mp4"].read_bytes()
    location = tus_create(tess, item_id, len(body)).headers["Location"]
    tus_patch(tess, location, 0, body[:1000])
    gone = tess.browser.client.delete(
        location, headers={"Tus-Resumable": "1.0.0", "X-CSRF-Token": tess.csrf()}
    )
    assert gone.status_code == 204
    assert count(app, Upload) == 0
    assert not list((media_root(app.extensions["lti_tool"].settings) / "uploads").iterdir())
    assert tus_head(tess, location).status_code == 404


def test_erasing_an_item_whose_upload_was_refused_needs_no_storage(
    app: Flask, tess: User, item_id: int, media: dict[str, Path]
) -> None:
    upload(tess, item_id, media["text"])  # refused: nothing was ever stored
    assert not (media_root(app.extensions["lti_tool"].settings) / "store").exists()
    assert _erase(app, item_id) == []


def test_rows_are_forgotten_only_after_the_media_is_erased(
    app: Flask, tess: User, item_id: int, media: dict[str, Path]
) -> None:
    from lti_tool.recordings.operations import MediaNotErased, forget_recordings

    _ready(app, tess, item_id, media["mp4"])
    rt = app.extensions["lti_tool"]
    with pytest.raises(MediaNotErased), rt.db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None
        forget_recordings(session, item)
    _erase(app, item_id)
    with rt.db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None
        assert forget_recordings(session, item) == 1
    assert count(app, Recording) == 0


def test_a_disk_that_fills_up_during_an_upload_is_a_507_and_the_partial_goes(
    app: Flask, tess: User, item_id: int, media: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from lti_tool.recordings import tus

    body = media["mp4"].read_bytes()
    created = tus_create(tess, item_id, len(body))
    location = created.headers["Location"]

    def full(_fd: int, _block: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tus, "_write_all", full)
    response = tus_patch(tess, location, 0, body)
    assert response.status_code == 507 and "full" in text(response)
    assert count(app, Upload) == 0
    assert not list((media_root(app.extensions["lti_tool"].settings) / "uploads").iterdir())
    assert _recording(app, recording_id(created)).state is RecordingState.FAILED


def test_the_retention_sweep_erases_a_recording_on_its_date(
    app: Flask, tess: User, item_id: int, media: dict[str, Path], media_server: Path
) -> None:
    """The real sweep with the installed erasers: on the item's date its MP4 and poster leave
    storage, the item is deleted and the audit says what was removed where."""
    from lti_tool.deletion.erasers import install_defaults
    from lti_tool.deletion.operations import sweep
    from lti_tool.items.models import ItemState

    rec_id = _ready(app, tess, item_id, media["mp4"])
    rt = app.extensions["lti_tool"]
    with rt.db.transaction() as session:
        item = session.get_one(Item, item_id)
        due = item.delete_on or item.review_on
    assert due is not None
    install_defaults(rt.settings)
    early = sweep(rt.db, due - dt.timedelta(days=1), grace_days=30)
    assert early.deleted == 0 and [p for p in media_server.rglob("*") if p.is_file()]
    with rt.db.transaction() as session:  # a review date: the teacher did not keep it
        session.get_one(Item, item_id).delete_on = due
    done = sweep(rt.db, due, grace_days=30)
    assert done.deleted == 1 and done.failed == 0
    assert not [p for p in media_server.rglob("*") if p.is_file()]
    assert _recording(app, rec_id).state is RecordingState.ERASED
    with rt.db.transaction() as session:
        assert session.get_one(Item, item_id).state is ItemState.DELETED
    deleted = _events(app, "item.deleted")
    assert len(deleted) == 1
    assert sum("media.mp4" in line for line in deleted[0]["removed"]) == 1
    assert sweep(rt.db, due, grace_days=30).deleted == 0  # nothing twice
