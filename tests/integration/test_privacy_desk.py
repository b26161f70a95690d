"""The privacy officer's desk: only an administrator of the launch's registration reaches it;
it shows upcoming deletions, plans, withdrawals and objections, pending consents and requests;
the audit log search filters and pages (keyset) and refuses bad filters with a reason (400,
never a 500); the register of processing and the evidence file are exported."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_tool.access.models import Course
from lti_tool.audit.models import AuditEvent
from lti_tool.deletion.erasers import StorageUnavailable
from lti_tool.deletion.models import Deletion, DeletionState
from lti_tool.deletion.operations import sweep
from lti_tool.devlms import create_devlms_app
from lti_tool.devlms.cli import serve_in_thread
from lti_tool.items.models import Item
from lti_tool.privacy.models import PrivacyRequest
from tests.conftest import free_port
from tests.support import privacy as fx
from tests.support.browser import Browser
from tests.support.fixtures import register
from tests.support.items import User, count, launch, text
from tests.support.privacy import ids

tool_settings, people, items = fx.tool_settings, fx.people, fx.items

DESK_PAGES = (
    "desk",
    "desk/audit",
    "desk/register.csv",
    "desk/register.json",
    "desk/evidence?item=1",
    "desk/items/1/evidence",
    "desk/items/1/evidence.json",
)


def _course_id(app: Flask, context_id: str = "course-1") -> int:
    with app.extensions["lti_tool"].db.transaction() as session:
        found = session.scalar(select(Course.id).where(Course.context_id == context_id))
        assert found is not None
        return found


@pytest.fixture
def other_admin(app: Flask, tmp_path: Path) -> Iterator[User]:
    """The administrator of another platform (another registration) using the same tool."""
    port = free_port()
    lms_app = create_devlms_app(str(tmp_path / "devlms-2"), f"http://localhost:{port}")
    server, thread = serve_in_thread(lms_app, "127.0.0.1", port)
    lms2 = register(app, lms_app.extensions["devlms"])
    yield launch(Browser(app.test_client(), lms2), "a-adam")
    server.shutdown()
    thread.join(5)


@pytest.mark.parametrize("who", ["t-tess", "s-anna", "p-petra"])
def test_only_an_administrator_reaches_the_desk(
    people: dict[str, User], items: dict[str, int], who: str
) -> None:
    user = people[who]
    for path in DESK_PAGES:
        got = user.get(path)
        assert got.status_code == 403, (who, path)
        assert "Only the privacy officer" in text(got)
    for path in ("desk/person-export", "desk/erasure"):
        assert user.post(path, {"user": "s-anna", "confirm": "yes"}).status_code == 403
    assert people["a-adam"].get("desk").status_code == 200


def test_the_desk_shows_what_is_coming_and_what_is_open(
    app: Flask, people: dict[str, User], items: dict[str, int]
) -> None:
    anna = ids(app)["s-anna"]
    assert people["s-anna"].post("privacy/erasure", {"person": str(anna)}).status_code == 303
    adam = people["a-adam"]
    assert "Open the desk" in text(adam.get(""))
    page = text(adam.get("desk?days=400"))
    # upcoming: the G2 lesson at the school-year end, the G1 review, the G3 plan date
    assert "Lesson 3 live" in page and "July 31, 2027" in page
    assert "Presentations week 12" in page
    # the withdrawal the erasure made, its plan, Bram still pending in the course
    assert "Consent withdrawn" in page and "Anna Bakker" in page
    assert "Open deletion plans" in page and "No open deletion plans." not in page
    assert "Demo course: Biology 4A" in page
    assert "Erasure (GDPR art. 17)" in page
    assert "Nothing is overdue and nothing failed." in page
    assert "Nothing has been deleted yet." in page
    assert "Nothing in this period." in text(adam.get("desk?days=1"))
    for bad in ("0", "801", "x", "-1", "99999"):
        assert adam.get(f"desk?days={bad}").status_code == 400, bad


def test_the_desk_shows_overdue_failed_and_carried_out_deletions(
    app: Flask, people: dict[str, User], items: dict[str, int]
) -> None:
    """The clock moves past the G2 lesson's date (the school-year end): the desk lists it as
    overdue; a sweep whose storage is down leaves it failed with the reason; the next sweep
    deletes it and the desk shows what was removed where."""
    rt = app.extensions["lti_tool"]
    rt.settings = dataclasses.replace(rt.settings, today="2027-08-01")
    adam = people["a-adam"]
    page = text(adam.get("desk"))
    assert "Lesson 3 live" in page and "overdue: the sweep has not reached it yet" in page

    def down(session: Session, item: Item) -> list[str]:
        raise StorageUnavailable()

    def working(session: Session, item: Item) -> list[str]:
        return [f"media of item {item.id}: removed from the test store"]

    day = dt.date(2027, 8, 1)
    failed = sweep(rt.db, day, grace_days=30, erasers=[("media", down)])
    assert failed.outcomes and all(o.state is DeletionState.FAILED for o in failed.outcomes)
    page = text(adam.get("desk"))
    assert "failed: tried again later" in page
    assert "The storage holding recordings cannot be reached." in page
    assert "Nothing has been deleted yet." in page

    with rt.db.transaction() as session:  # the back-off has passed
        session.execute(update(Deletion).values(next_attempt_at=None))
    done = sweep(rt.db, day, grace_days=30, erasers=[("media", working)])
    assert done.outcomes and all(o.state is DeletionState.DONE for o in done.outcomes)
    page = text(adam.get("desk"))
    assert f"media of item {items['G2']}: removed from the test store" in page
    assert "Nothing is overdue and nothing failed." in page
    assert (
        "Lesson 3 live"
        not in page.split("Upcoming deletions and reviews", 2)[2].split(
            "Overdue and failed deletions"
        )[0]
    )


def test_objections_show_on_the_desk(
    app: Flask, people: dict[str, User], items: dict[str, int]
) -> None:
    objected = people["s-bram"].post(f"items/{items['G2']}/object", {"objecting": "1"})
    assert objected.status_code == 200, text(objected)
    page = text(people["a-adam"].get("desk"))
    assert "Objection" in page and "Bram Visser" in page


def test_exports_register_and_evidence(
    app: Flask, people: dict[str, User], items: dict[str, int]
) -> None:
    adam = people["a-adam"]
    got = adam.get("desk/register.csv")
    assert got.status_code == 200 and got.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(got.get_data(as_text=True))))
    assert [r["rule"] for r in rows] == ["G1", "G2", "G3", "G4"]
    assert rows[0]["legal_basis"] == "legal-task" and "graduates" in rows[0]["erasure_period"]
    dutch = adam.get("desk/register.json?lang=nl")
    data = json.loads(dutch.get_data(as_text=True))
    assert data["pack"]["version"] == "2020.10-1" and data["language"] == "nl"
    assert data["rows"][1]["erasure_period"] == [
        "Verwijderd aan het eind van het lopende schooljaar."
    ]
    adam.get("desk?lang=en")
    assert adam.get("desk/register.xml").status_code == 404
    # the evidence file of one item, as the consent area makes it
    evidence = adam.get(f"desk/items/{items['G3']}/evidence")
    assert evidence.status_code == 200 and "Evidence: Open day video" in text(evidence)
    as_json = json.loads(adam.get(f"desk/items/{items['G3']}/evidence.json").get_data())
    assert as_json["item"]["rule"] == "G3" and len(as_json["requests"]) == 3
    jump = adam.get(f"desk/evidence?item={items['G3']}")
    assert jump.status_code == 303 and jump.headers["Location"].endswith("/evidence")
    assert adam.get("desk/evidence?item=abc").status_code == 400
    assert adam.get("desk/evidence?item=99999").status_code == 404


def test_the_officer_exports_a_person_and_records_an_erasure(
    app: Flask, people: dict[str, User], items: dict[str, int]
) -> None:
    adam = people["a-adam"]
    got = adam.post("desk/person-export", {"user": "s-anna", "format": "json"})
    assert got.status_code == 200
    assert json.loads(got.get_data(as_text=True))["person"]["name"] == "Anna Bakker"
    html = adam.post("desk/person-export", {"user": "s-anna", "format": "html"})
    assert "Everything the tool holds about Anna Bakker" in text(html)
    assert adam.post("desk/person-export", {"user": "nobody"}).status_code == 400
    assert adam.post("desk/erasure", {"user": "s-anna"}).status_code == 400  # not confirmed
    done = adam.post("desk/erasure", {"user": "s-anna", "confirm": "yes"})
    assert done.status_code == 303
    page = text(adam.browser.client.get(done.headers["Location"]))
    assert "by the privacy officer" in page and "Consent withdrawn, deletion planned" in page
    with app.extensions["lti_tool"].db.transaction() as session:
        kinds = [(r.kind, r.capacity) for r in session.scalars(select(PrivacyRequest))]
    assert kinds == [("access", "officer"), ("access", "officer"), ("erasure", "officer")]


def test_another_registrations_administrator_sees_nothing_of_this_one(
    app: Flask, people: dict[str, User], items: dict[str, int], other_admin: User
) -> None:
    anna = ids(app)["s-anna"]
    request_page = people["s-anna"].post("privacy/erasure", {"person": str(anna)})
    assert request_page.status_code == 303, text(request_page)
    request_id = int(request_page.headers["Location"].rsplit("/", 1)[1])
    page = text(other_admin.get("desk?days=800"))
    assert "Open day video" not in page and "Anna Bakker" not in page
    for item_id in items.values():
        assert other_admin.get(f"desk/items/{item_id}/evidence").status_code == 404
        assert other_admin.get(f"desk/items/{item_id}/evidence.json").status_code == 404
        assert other_admin.get(f"desk/audit?item={item_id}").status_code == 400
    assert other_admin.get(f"desk/requests/{request_id}").status_code == 404
    assert other_admin.get(f"desk/audit?course={_course_id(app)}").status_code == 400
    # unfiltered, the other registration's log holds none of this one's events
    log = text(other_admin.get("desk/audit?limit=200"))
    assert "privacy.erasure-outcome" not in log and "consent.withdrawn" not in log
    # its own person with the same user id is another person: none of this one's data
    export = other_admin.post("desk/person-export", {"user": "s-anna", "format": "json"})
    if export.status_code == 200:
        assert json.loads(export.get_data(as_text=True))["items"] == []
    else:
        assert export.status_code == 400
    # and a student of this registration is refused by the other one's request pages
    assert other_admin.post("privacy/access", {"person": str(anna)}).status_code == 403


# --- the audit log search --------------------------------------------------------------------


def test_audit_search_filters_and_pages(
    app: Flask, people: dict[str, User], items: dict[str, int]
) -> None:
    adam = people["a-adam"]
    anna = ids(app)["s-anna"]
    assert people["s-anna"].post("privacy/erasure", {"person": str(anna)}).status_code == 303
    by_kind = text(adam.get("desk/audit?kind=privacy.erasure-outcome"))
    assert by_kind.count("<code>privacy.erasure-outcome</code>") == 3
    by_prefix = text(adam.get("desk/audit?kind=privacy."))
    assert "privacy.request-received" in by_prefix and "consent.withdrawn" not in by_prefix
    by_item = text(adam.get(f"desk/audit?item={items['G1']}"))
    assert "privacy.erasure-outcome" in by_item and "consent.asked" not in by_item
    by_person = text(adam.get("desk/audit?person=s-anna"))
    assert "privacy.request-received" in by_person and "consent.withdrawn" in by_person
    assert "item.created" not in by_person  # Tess's, not Anna's
    by_course = text(adam.get(f"desk/audit?course={_course_id(app)}&kind=consent."))
    assert "consent.asked" in by_course and "privacy.request-received" not in by_course
    assert "No events match." in text(adam.get("desk/audit?since=2000-01-01&until=2000-01-02"))
    # keyset pages: every event once, newest first, whatever the page size
    total = count(app, AuditEvent)
    seen: list[int] = []
    url = "desk/audit?limit=3"
    while url:
        page = adam.get(url)
        assert page.status_code == 200
        html = text(page)
        seen += [int(x) for x in _ids_on(html)]
        nxt = _next_link(html)
        url = nxt.split("/", 3)[-1] if nxt else ""
    assert len(seen) == len(set(seen)) and seen == sorted(seen, reverse=True)
    with app.extensions["lti_tool"].db.transaction() as session:
        course_ids = list(session.scalars(select(Course.id)))
        expected = session.scalars(
            select(AuditEvent.id).where(
                (AuditEvent.registration_id.is_not(None)) | AuditEvent.course_id.in_(course_ids)
            )
        ).all()
    assert sorted(seen) == sorted(expected) and len(expected) <= total


def test_person_search_pages_through_both_ways_a_person_is_named(
    app: Flask, people: dict[str, User], items: dict[str, int]
) -> None:
    """Anna acted (her answers, her requests) and is what events are about (privacy events):
    paged two at a time, the search finds exactly those events, each once, newest first."""
    anna = ids(app)["s-anna"]
    for _ in range(2):
        assert people["s-anna"].post("privacy/erasure", {"person": str(anna)}).status_code == 303
    with app.extensions["lti_tool"].db.transaction() as session:
        reg = session.scalar(select(Course.registration_id).limit(1))
        expected = set(
            session.scalars(
                select(AuditEvent.id).where(
                    (AuditEvent.actor == f"{reg}:s-anna") | (AuditEvent.subject == f"person:{anna}")
                )
            )
        )
    assert len(expected) > 6
    seen: list[int] = []
    url = "desk/audit?person=s-anna&limit=2"
    while url:
        html = text(people["a-adam"].get(url))
        seen += [int(x) for x in _ids_on(html)]
        nxt = _next_link(html)
        url = nxt.split("/", 3)[-1] if nxt else ""
    assert seen == sorted(seen, reverse=True) and set(seen) == expected
    assert len(seen) == len(expected)


def _ids_on(html: str) -> list[str]:
    import re

    return re.findall(r'<tr data-event="(\d+)"', html)


def _next_link(html: str) -> str | None:
    import re

    found = re.search(r'<a class="button" href="([^"]+)">Older events', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.mark.parametrize(
    "query",
    [
        "course=abc",
        "course=99999",
        "person=nobody",
        "item=x1",
        "item=99999",
        "kind=drop%20table",
        "kind=" + "k" * 65,
        "since=2027-13-01",
        "since=15-03-2027",
        "until=yesterday",
        "since=2027-03-15&until=2027-03-01",
        "after=garbage",
        "after=" + "A" * 30,
        "limit=0",
        "limit=1000",
        "limit=-5",
    ],
)
def test_bad_audit_filters_are_refused_with_a_reason(people: dict[str, User], query: str) -> None:
    got = people["a-adam"].get(f"desk/audit?{query}")
    assert got.status_code == 400, (query, text(got)[:300])
    assert "Error code: 400" in text(got) and "Something went wrong" not in text(got)


def test_bad_filter_reasons_are_translated(people: dict[str, User]) -> None:
    got = people["a-adam"].get("desk/audit?since=2027-13-01&lang=nl")
    assert got.status_code == 400 and "Schrijf datums als JJJJ-MM-DD" in text(got)


def test_json_error_for_api_clients(people: dict[str, User]) -> None:
    got = people["a-adam"].get("desk/audit?course=abc", headers={"Accept": "application/json"})
    assert got.status_code == 400 and got.json == {
        "error": "Choose a course of this institution.",
        "status": 400,
    }
