"""Who may see a recording and who appears in it: G1 hand-ins (the student and the assessors
only, or the class when the teacher chooses), people marked as recognisable (their own
overview; consent requests for a G3 item)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.consent.models import ConsentRequest
from lti_tool.items.models import Item
from lti_tool.policy import RetentionKind
from lti_tool.recordings.models import Recording, RecordingPerson, RecordingState
from tests.support.browser import Browser
from tests.support.items import TODAY, User, count, launch, text
from tests.support.recordings import (
    G1_HAND_IN,
    G3_RECORDING,
    make_media,
    recording_id,
    recording_item,
    run_jobs,
    upload,
)
from tests.support.streams import STUDENTS, create_item, ids

pytestmark = pytest.mark.skipif(not shutil.which("ffmpeg"), reason="ffmpeg is needed")


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_media(tmp_path_factory.mktemp("media"))


@pytest.fixture
def tool_settings(tool_settings: dict[str, Any]) -> dict[str, Any]:
    return {**tool_settings, "today": TODAY, "media_url": "http://127.0.0.1:9/media"}


@pytest.fixture
def users(browser: Browser, new_browser: Any) -> dict[str, User]:
    found = {s: launch(new_browser(), s) for s in STUDENTS}
    found["t-tess"] = launch(browser, "t-tess")
    return found


def _json(user: User, path: str) -> Any:
    response = user.get(path, headers={"Accept": "application/json"})
    return response.status_code, response.get_json(silent=True)


def test_a_hand_in_is_for_its_student_and_the_assessors_only(
    app: Flask, users: dict[str, User], media: dict[str, Path]
) -> None:
    tess, anna, bram = users["t-tess"], users["s-anna"], users["s-bram"]
    picked = [str(ids(app)[s]) for s in ("s-anna", "s-bram", "s-daan")]
    item_id = create_item(tess, **{**G1_HAND_IN, "scope": "students", "students": picked})
    with app.extensions["lti_tool"].db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.rule == "G1"
        assert item.retention_kind is RetentionKind.UNTIL_GRADUATION and item.review_on
    # before the teacher makes it a hand-in, students cannot add recordings
    page = anna.post(f"items/{item_id}/uploads", {}, headers={"Tus-Resumable": "1.0.0",
                     "Upload-Length": "10"})  # fmt: skip
    assert page.status_code == 403
    assert tess.post(f"items/{item_id}/hand-in", {"hand_in": "1"}).status_code == 303
    assert "Hand in your recording" in text(anna.get(f"items/{item_id}/recordings"))
    done = upload(anna, item_id, media["mp4"])
    assert done.status_code == 204, text(done)
    assert run_jobs(app) == 1
    rec_id = recording_id(done)
    with app.extensions["lti_tool"].db.transaction() as session:
        rec = session.get(Recording, rec_id)
        assert rec is not None and rec.state is RecordingState.READY
        assert rec.owner_id == ids(app)["s-anna"]

    assert anna.get(f"recordings/{rec_id}").status_code == 200
    assert tess.get(f"recordings/{rec_id}").status_code == 200
    assert _json(anna, f"recordings/{rec_id}/link")[0] == 200
    for other in ("s-bram", "s-daan", "s-eva"):
        assert users[other].get(f"recordings/{rec_id}").status_code == 404
        assert users[other].get(f"recordings/{rec_id}/link").status_code == 404
        status = _json(users[other], f"items/{item_id}/recordings/status")[1]
        assert status == {"recordings": []}
    player = text(anna.get(f"recordings/{rec_id}"))
    assert "Only the student who handed it in and the teachers" in player

    # G1.1: the teacher shows the hand-ins to the class of the item
    tess.post(f"items/{item_id}/hand-in", {"hand_in": "1", "shared": "1"})
    assert bram.get(f"recordings/{rec_id}").status_code == 200


def test_only_an_assessment_item_can_be_a_hand_in(app: Flask, users: dict[str, User]) -> None:
    item_id = recording_item(users["t-tess"], scope="course")
    assert users["t-tess"].post(f"items/{item_id}/hand-in", {"hand_in": "1"}).status_code == 409
    assert users["s-anna"].post(f"items/{item_id}/hand-in", {"hand_in": "1"}).status_code == 403


def test_people_marked_find_the_recording_in_their_overview(
    app: Flask, users: dict[str, User]
) -> None:
    tess = users["t-tess"]
    item_id = recording_item(tess, scope="course", title="Lab safety demo")
    found = ids(app)
    response = tess.post(
        f"items/{item_id}/people",
        {"group": [str(found["sec-A"])], "guests": "Gerrit Gast\n"},
    )
    assert response.status_code == 303
    with app.extensions["lti_tool"].db.transaction() as session:
        marked = session.scalars(
            select(RecordingPerson).where(RecordingPerson.item_id == item_id)
        ).all()
        assert {p.person_id for p in marked if p.person_id} == {
            found[s] for s in ("s-anna", "s-bram", "s-chloe", "s-sam")
        }
        assert [p.guest_name for p in marked if p.guest_name] == ["Gerrit Gast"]
    page = text(tess.get(f"items/{item_id}/people"))
    assert "Gerrit Gast" in page and "Anna" in page
    mine = text(users["s-anna"].get("mine"))
    assert "Lab safety demo" in mine and "marked you as recognisable" in mine
    assert "marked you as recognisable" not in text(users["s-daan"].get("mine"))
    exported = users["s-anna"].get("mine.json")
    assert exported.status_code == 200 and '"appears_in_recording": true' in text(exported)
    # marking again adds nobody twice; a student cannot mark people
    tess.post(f"items/{item_id}/people", {"person": [str(found["s-anna"])]})
    assert count(app, RecordingPerson, RecordingPerson.item_id == item_id) == 5
    assert users["s-anna"].post(f"items/{item_id}/people", {}).status_code == 403


def test_an_access_request_lists_the_recordings_a_student_appears_in_and_made(
    app: Flask, users: dict[str, User], media: dict[str, Path]
) -> None:
    """GDPR art. 15: the export names the recording Anna was marked in and the one she
    handed in herself (G1 hand-in), in JSON and on the printable page."""
    tess, anna = users["t-tess"], users["s-anna"]
    found = ids(app)
    marked = recording_item(tess, scope="course", title="Lab safety demo")
    tess.post(f"items/{marked}/people", {"person": [str(found["s-anna"])]})
    picked = [str(found[s]) for s in ("s-anna", "s-bram")]
    hand_in_id = create_item(tess, **{**G1_HAND_IN, "scope": "students", "students": picked})
    assert tess.post(f"items/{hand_in_id}/hand-in", {"hand_in": "1"}).status_code == 303
    assert upload(anna, hand_in_id, media["mp4"]).status_code == 204

    got = anna.post("privacy/access", {"person": str(found["s-anna"]), "format": "json"})
    data = json.loads(got.get_data(as_text=True))
    appears = {i["title"]: i["appears_in_recording"] for i in data["items"]}
    assert appears["Lab safety demo"] is True
    made = data["recordings_made"]
    assert [(r["file_name"], r["handed_in_as_own_work"]) for r in made] == [
        (media["mp4"].name, True)
    ]
    page = anna.post("privacy/access", {"person": str(found["s-anna"]), "format": "html"})
    assert "you appear in it" in text(page) and media["mp4"].name in text(page)
    other = users["s-daan"].post(
        "privacy/access", {"person": str(found["s-daan"]), "format": "json"}
    )
    assert json.loads(other.get_data(as_text=True))["recordings_made"] == []


def test_people_marked_in_a_consent_item_are_asked_and_it_stays_hidden(
    app: Flask, users: dict[str, User], media: dict[str, Path]
) -> None:
    tess, anna = users["t-tess"], users["s-anna"]
    response = tess.post("items/new", {**G3_RECORDING, "action": "create"})
    assert response.status_code == 303
    item_id = int(response.headers["Location"].split("/items/")[1].split("/")[0])
    done = upload(tess, item_id, media["mp4"])  # recorded before consent: allowed
    assert done.status_code == 204, text(done)
    run_jobs(app)
    rec_id = recording_id(done)
    found = ids(app)
    tess.post(
        f"items/{item_id}/people",
        {"person": [str(found["s-anna"]), str(found["s-bram"])], "guests": "Gerrit Gast"},
    )
    with app.extensions["lti_tool"].db.transaction() as session:
        asked = session.scalars(
            select(ConsentRequest).where(ConsentRequest.item_id == item_id)
        ).all()
        assert {r.person_id for r in asked if r.person_id} == {found["s-anna"], found["s-bram"]}
    assert anna.get(f"recordings/{rec_id}").status_code == 404  # waits for consent
    assert "Open day film" in text(anna.get("mine"))
