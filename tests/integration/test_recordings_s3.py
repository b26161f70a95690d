"""Recordings in S3-compatible storage: moto's S3 server on loopback stands in for the
bucket (server-side encryption, presigned short-lived links with ranges, erasure, an
unreachable bucket)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from flask import Flask
from moto.server import ThreadedMotoServer

from lti_tool.errors import UpstreamError
from lti_tool.items.models import Item
from lti_tool.recordings.models import Recording, RecordingState
from lti_tool.recordings.operations import erase_item_media
from lti_tool.recordings.storage import StorageUnavailable
from tests.conftest import free_port
from tests.support.browser import Browser
from tests.support.items import TODAY, User, launch, text
from tests.support.recordings import (
    link_of,
    make_media,
    recording_id,
    run_jobs,
    section_a_recording,
    upload,
)
from tests.support.streams import STUDENTS

pytestmark = pytest.mark.skipif(
    not shutil.which("ffmpeg"), reason="ffmpeg is needed: run scripts/system-packages.sh"
)
BUCKET = "school-recordings"


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_media(tmp_path_factory.mktemp("media"))


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's S3 server on a free loopback port, with a bucket."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=url).create_bucket(Bucket=BUCKET)
    yield url
    server.stop()


@pytest.fixture
def tool_settings(tool_settings: dict[str, Any], s3: str) -> dict[str, Any]:
    return {
        **tool_settings,
        "today": TODAY,
        "media_storage": "s3",
        "s3_bucket": BUCKET,
        "s3_prefix": "tool/",
        "s3_endpoint_url": s3,
        "s3_sse": "AES256",
    }


@pytest.fixture
def tess(browser: Browser, new_browser: Any) -> User:
    for student in STUDENTS:
        launch(new_browser(), student)
    return launch(browser, "t-tess")


def _erase(app: Flask, item_id: int) -> list[str]:
    rt = app.extensions["lti_tool"]
    with rt.db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return erase_item_media(session, item, settings=rt.settings)


def _objects(s3: str) -> dict[str, str]:
    client = boto3.client("s3", endpoint_url=s3)
    found = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {
        o["Key"]: client.head_object(Bucket=BUCKET, Key=o["Key"]).get("ServerSideEncryption", "")
        for o in found
    }


def test_recordings_live_encrypted_in_the_bucket_and_play_by_short_links(
    app: Flask, tess: User, media: dict[str, Path], s3: str, new_browser: Any
) -> None:
    item_id = section_a_recording(app, tess)
    done = upload(tess, item_id, media["webm"])
    assert done.status_code == 204, text(done)
    assert run_jobs(app) == 1
    rec_id = recording_id(done)
    with app.extensions["lti_tool"].db.transaction() as session:
        rec = session.get(Recording, rec_id)
        assert rec is not None and rec.state is RecordingState.READY, rec and rec.error
        prefix = rec.prefix
    objects = _objects(s3)
    assert sorted(objects) == [f"tool/{prefix}media.mp4", f"tool/{prefix}poster.jpg"]
    assert set(objects.values()) == {"AES256"}

    anna = launch(new_browser(), "s-anna")
    found = link_of(anna, rec_id)
    assert found["url"].startswith(s3) and "X-Amz-Expires=240" in found["url"]
    assert found["expires"] - time.time() <= 300
    part = requests.get(found["url"], headers={"Range": "bytes=0-99"}, timeout=10)
    assert part.status_code == 206 and len(part.content) == 100
    unsigned = f"{s3}/{BUCKET}/tool/{prefix}media.mp4"
    assert requests.get(unsigned, timeout=10).status_code == 403
    # (moto does not verify signatures of presigned URLs: tampered and stale S3 links are the
    # store's own check; nginx's check of local links is tested in test_recordings.py)
    daan = launch(new_browser(), "s-daan")
    assert daan.get(f"recordings/{rec_id}/link").status_code == 404

    removed = _erase(app, item_id)
    assert len(removed) == 2 and all(f"s3 bucket {BUCKET}" in line for line in removed)
    assert _objects(s3) == {}
    assert _erase(app, item_id) == []


def test_an_unreachable_bucket_is_a_retryable_error(
    app: Flask, tess: User, media: dict[str, Path], s3: str, tool_settings: dict[str, Any]
) -> None:
    from dataclasses import replace

    item_id = section_a_recording(app, tess)
    done = upload(tess, item_id, media["mp4"])
    assert done.status_code == 204
    run_jobs(app)
    rt = app.extensions["lti_tool"]
    rt.settings = replace(rt.settings, s3_endpoint_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StorageUnavailable) as raised:
        _erase(app, item_id)
    assert isinstance(raised.value, UpstreamError) and raised.value.status == 503
