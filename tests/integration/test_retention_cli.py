"""``lti-tool retention sweep``, ``audit verify`` and ``graduation import`` end to end, with the
real streams eraser on real folders."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from lti_tool.access.models import Membership, Person
from lti_tool.audit.models import AuditEvent
from lti_tool.cli import main
from lti_tool.db import Database
from lti_tool.deletion.erasers import unregister_eraser
from lti_tool.items.models import Item, ItemAudience, ItemState
from lti_tool.streams.models import Stream
from tests.support.deletion import World, add_item, world

STREAM = "AbCdEfGhIjKlMnOpQrStUvWx"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.engine.dispose()


@pytest.fixture
def media(tmp_path: Path) -> Path:
    folder = tmp_path / "hls"
    (folder / STREAM).mkdir(parents=True)
    (folder / STREAM / "0.ts").write_bytes(b"x")
    (folder / STREAM / "index.m3u8").write_text("#EXTM3U")
    (folder / f"{STREAM}-1700000000.flv").write_bytes(b"flv")
    (folder / "OtherStreamNameXXXXXXXXX").mkdir()
    return folder


@pytest.fixture
def env(database_url: str, tmp_path: Path, media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "LTI_TOOL_DEV": "1",
        "LTI_TOOL_DATABASE_URL": database_url,
        "LTI_TOOL_INSTANCE_PATH": str(tmp_path / "instance"),
        "LTI_TOOL_SECRET_KEY": "test-secret-key-test-secret-key-0123456789",
        "LTI_TOOL_STREAM_MEDIA_DIRS": str(media),
    }.items():
        monkeypatch.setenv(key, value)
    yield
    unregister_eraser("streams")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_sweep_deletes_stream_leftovers_audits_and_verify_agrees(
    env: None, db: Database, media: Path
) -> None:
    w = world(db)
    with db.transaction() as session:
        streamed = add_item(session, w, delete_on=dt.date(2027, 7, 31))
        later = add_item(session, w, delete_on=dt.date(2027, 8, 31))
        session.add(Stream(item_id=streamed.id, provider="nginx", name=STREAM, key_hash="f" * 64))
    code, out, _ = run("audit", "verify", "--today", "2027-08-01", "--json")
    assert code == 1
    report = json.loads(out)
    assert [o["item_id"] for o in report["offenders"]] == [streamed.id]

    code, out, _ = run("retention", "sweep", "--dry-run", "--today", "2027-08-01")
    assert code == 0 and f"due: item {streamed.id}" in out and "1 items due" in out
    assert (media / STREAM).exists()

    code, out, _ = run("retention", "sweep", "--today", "2027-08-01")
    assert code == 0, out
    assert "sweep 2027-08-01: 1 deleted, 0 failed" in out
    assert not (media / STREAM).exists() and not list(media.glob(f"{STREAM}*"))
    assert (media / "OtherStreamNameXXXXXXXXX").exists()
    with db.transaction() as session:
        stream = session.scalars(select(Stream)).one()
        assert stream.key_hash is None
        assert session.get_one(Item, streamed.id).state is ItemState.DELETED
        assert session.get_one(Item, later.id).state is ItemState.READY
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "item.deleted")).one()
        removed = event.data["removed"]
        assert "streams: stream AbCdEfGhIjKlMnOpQrStUvWx: key revoked" in removed
        assert any(line.endswith(f"{STREAM}: removed") for line in removed)
        assert any(".flv: removed" in line for line in removed)
    code, out, _ = run("audit", "verify", "--today", "2027-08-01")
    assert code == 0 and "ok" in out
    code, out, _ = run("retention", "sweep", "--today", "2027-08-01", "--json")
    assert json.loads(out)["deleted"] == 0


def test_missing_media_folder_fails_the_item_not_the_sweep(
    env: None, db: Database, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LTI_TOOL_STREAM_MEDIA_DIRS", str(media / "not-mounted"))
    w = world(db)
    with db.transaction() as session:
        item = add_item(session, w, delete_on=dt.date(2027, 7, 31))
        session.add(Stream(item_id=item.id, provider="nginx", name=STREAM, key_hash="f" * 64))
    code, out, err = run("retention", "sweep", "--today", "2027-08-01")
    assert code == 1
    assert "0 deleted, 1 failed" in out and "not-mounted" in err
    with db.transaction() as session:
        assert session.get_one(Item, item.id).state is ItemState.READY
        assert session.scalars(select(Stream)).one().key_hash == "f" * 64  # rolled back whole
    code, _, _ = run("audit", "verify", "--today", "2027-08-02")
    assert code == 0  # a recorded failure being retried


def _g1(db: Database, w: World, students: list[int]) -> int:
    with db.transaction() as session:
        item = add_item(
            session,
            w,
            rule="G1",
            purpose="assessment",
            audience="assessed",
            retention_kind="until-graduation",
            retention_rule="G1.3",
            decision={"pack_version": "1", "retention": {"years_after_graduation": 2}},
            audience_scope="students",
            delete_on=None,
            review_on=dt.date(2028, 3, 15),
        )
        for person_id in students:
            session.add(ItemAudience(item_id=item.id, person_id=person_id))
        return item.id


def test_graduation_import_schedules_assessment_material(
    env: None, db: Database, tmp_path: Path
) -> None:
    w = world(db)
    with db.transaction() as session:
        people = [
            Person(registration_id=w.registration, sub=f"s{n}", email=f"s{n}@x.nl") for n in (1, 2)
        ]
        session.add_all(people)
        session.flush()
        for p in people:
            session.add(Membership(course_id=w.course, person_id=p.id, roles=["student"]))
        ids = [p.id for p in people]
    both = _g1(db, w, ids)
    only_first = _g1(db, w, ids[:1])
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,graduation_date\ns1,2028-06-30\nnobody,2028-06-30\ns2,30-06-2028\n")
    code, _, err = run("graduation", "import", str(bad), "--registration", str(w.registration))
    assert code == 2
    assert "line 3: nobody known as nobody" in err and "line 4: graduation_date" in err
    with db.transaction() as session:
        assert session.get_one(Person, ids[0]).graduation_date is None  # all or nothing

    first = tmp_path / "first.csv"
    first.write_text("user_id,graduation_date\ns1,2028-06-30\n")
    code, out, _ = run("graduation", "import", str(first), "--registration", str(w.registration))
    assert code == 0 and "1 items rescheduled" in out
    with db.transaction() as session:
        assert session.get_one(Item, only_first).delete_on == dt.date(2030, 6, 30)
        assert session.get_one(Item, only_first).review_on is None
        assert session.get_one(Item, both).delete_on is None  # s2's date is not known yet
    second = tmp_path / "second.csv"
    second.write_text("email,graduation_date\ns2@x.nl,2029-07-01\n")
    code, out, _ = run("graduation", "import", str(second), "--registration", str(w.registration))
    assert code == 0 and "1 items rescheduled" in out
    with db.transaction() as session:
        assert session.get_one(Item, both).delete_on == dt.date(2031, 7, 1)
        changes = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "retention.date-changed")
        ).all()
        last = [e for e in changes if e.subject == f"item:{both}"][-1].data
        assert last["because"] == "graduation"
        assert last["old"] == {"delete_on": None, "review_on": "2028-03-15"}
        assert last["new"] == {"delete_on": "2031-07-01", "review_on": None}


def test_ages_import_is_all_or_nothing_and_adds_students_not_met_yet(
    env: None, db: Database, tmp_path: Path
) -> None:
    """``lti-tool people ages``: a user id the tool has not met is added (the school's records
    know students before their first launch); one bad line stops the whole file."""
    w = world(db)
    with db.transaction() as session:
        session.add(Person(registration_id=w.registration, sub="s1", email="s1@x.nl"))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "user_id,email,birth_date,under_16\n"
        "s1,,2011-02-03,\n"
        "fresh,,2011-02-03,\n"
        ",nobody@x.nl,2011-02-03,\n"
        "s2,,1850-01-01,\n"
        "s3,,,maybe\n"
    )
    code, _, err = run("people", "ages", str(bad), "--registration", str(w.registration))
    assert code == 2
    assert "line 4: nobody known as nobody@x.nl" in err
    assert "line 5: birth_date 1850-01-01 is not a plausible date" in err
    assert "line 6: under_16 must be yes or no, not maybe" in err
    with db.transaction() as session:  # nothing applied, nobody added
        people = {p.sub: p.birth_date for p in session.scalars(select(Person))}
        assert people["s1"] is None and not {"fresh", "s2", "s3"} & set(people)
    good = tmp_path / "good.csv"
    good.write_text("user_id,birth_date,under_16\ns1,2011-02-03,\nnew-student,,ja\n")
    code, _, err = run("people", "ages", str(good), "--registration", str(w.registration))
    assert code == 0, err
    with db.transaction() as session:
        found = {p.sub: (p.birth_date, p.under_16) for p in session.scalars(select(Person))}
    assert found["s1"][0] == dt.date(2011, 2, 3)
    assert found["new-student"] == (None, True)
