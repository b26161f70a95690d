"""Consent through the tool's own pages: asking, answering (students 16+, parents for under-16s,
guests by signed link, staff from paper), the publication gate, withdrawal with its deletion
plan, objections, reminders, exports — and every attempt to answer for someone else refused
and audited with nothing written to the ledger."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from lti_tool.access.audience import can_see
from lti_tool.access.models import Person
from lti_tool.audit.models import AuditEvent
from lti_tool.consent.ledger import verify
from lti_tool.consent.models import ConsentLink, ConsentRequest, DeletionPlan, LedgerRecord
from lti_tool.items.models import Item
from tests.support.browser import Browser
from tests.support.items import G2_LIVE_LESSON, TODAY, User, count, created_id, launch, text

STUDENTS = ("s-anna", "s-bram", "s-chloe", "s-daan", "s-eva", "s-finn", "s-sam")
G3_DEMO = {
    "title": "Open day video",
    "made": "recording",
    "recognisable": ["students", "guests"],
    "purpose": "wider-audience",
    "audience": "institution",
    "teacher_location": "school",
    "scope": "course",
    "confirm": ["G3.1", "G3.2", "G3.3", "G4.4"],
}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def tool_settings(tool_settings: dict[str, Any]) -> dict[str, Any]:
    return {**tool_settings, "today": TODAY}


@pytest.fixture
def people(app: Flask, browser: Browser, new_browser: Any) -> dict[str, User]:
    """Everyone of course-1 launched once; Sam is 14 (birth date from the school)."""
    users = {sub: launch(new_browser(), sub) for sub in STUDENTS}
    users["t-tess"] = launch(browser, "t-tess")
    users["p-petra"] = launch(new_browser(), "p-petra")
    with app.extensions["lti_tool"].db.transaction() as session:
        session.execute(
            update(Person).where(Person.sub == "s-sam").values(birth_date=dt.date(2012, 9, 1))
        )
    return users


def _ids(app: Flask) -> dict[str, int]:
    with app.extensions["lti_tool"].db.transaction() as session:
        return dict(session.execute(select(Person.sub, Person.id)).all())


def _requests(app: Flask, item_id: int) -> dict[str, int]:
    """Request ids by the person's platform id (guests by name)."""
    with app.extensions["lti_tool"].db.transaction() as session:
        rows = session.execute(
            select(ConsentRequest.id, Person.sub, ConsentRequest.guest_name)
            .outerjoin(Person, Person.id == ConsentRequest.person_id)
            .where(ConsentRequest.item_id == item_id)
        ).all()
    return {sub or guest: rid for rid, sub, guest in rows}


def _shown(user: User, request_id: int) -> str:
    page = text(user.get("mine"))
    found = re.search(
        rf'/consent/requests/{request_id}/answer".*?name="shown" value="(\w+)"',
        page,
        re.S,
    )
    assert found, page
    return found.group(1)


def _answer(
    user: User, request_id: int, answer: str = "yes", shown: str = "", csrf: bool = True
) -> Any:
    data = {"answer": answer, "shown": shown or _shown(user, request_id)}
    return user.post(f"consent/requests/{request_id}/answer", data, csrf=csrf)


def _english_text(app: Flask, request_id: int) -> str:
    with app.extensions["lti_tool"].db.transaction() as session:
        return session.get_one(ConsentRequest, request_id).text_en


def _item(app: Flask, item_id: int) -> Item:
    with app.extensions["lti_tool"].db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return item


def _sees(app: Flask, item_id: int, person_id: int) -> bool:
    with app.extensions["lti_tool"].db.transaction() as session:
        return can_see(session, session.get_one(Item, item_id), person_id)


@pytest.fixture
def g3(app: Flask, people: dict[str, User]) -> int:
    """A G3 item; Anna, Bram and Sam (14) asked, and one guest."""
    tess = people["t-tess"]
    created = tess.post("items/new", {**G3_DEMO, "action": "create"})
    assert created.status_code == 303, text(created)
    assert created.headers["Location"].endswith("/consent")  # next step: ask people
    item_id = created_id(created)
    ids = _ids(app)
    asked = tess.post(
        f"items/{item_id}/consent/ask",
        {
            "person_id": [str(ids["s-anna"]), str(ids["s-bram"]), str(ids["s-sam"])],
            "guest_name": "Gerrit Gast",
            "guest_email": "gerrit@example.org",
        },
    )
    assert asked.status_code == 303, text(asked)
    return item_id


def test_everyone_consents_then_the_item_is_published(
    app: Flask, people: dict[str, User], g3: int
) -> None:
    ids, reqs = _ids(app), _requests(app, g3)
    assert set(reqs) == {"s-anna", "s-bram", "s-sam", "Gerrit Gast"}
    assert _item(app, g3).state == "awaiting-consent"
    assert not _sees(app, g3, ids["s-chloe"])  # the audience sees nothing before consent
    anna = people["s-anna"]
    assert "1 request for consent waits for an answer" in text(anna.get(""))
    page = text(anna.get("mine"))
    assert "Purpose (one purpose only)" in page and "Privacy officer" in page
    assert _answer(anna, reqs["s-anna"]).status_code == 303
    assert _answer(people["s-bram"], reqs["s-bram"]).status_code == 303
    # Sam is 14: Sam sees the request, Petra (mentor of Sam) answers it
    assert "your parent or guardian answers" in text(people["s-sam"].get("mine"))
    petra = people["p-petra"]
    assert "1 request for consent waits" in text(petra.get(""))
    assert _answer(petra, reqs["s-sam"]).status_code == 303
    assert _item(app, g3).state == "awaiting-consent"  # the guest has not answered
    # the guest answers through a signed link made by the teacher
    issued = people["t-tess"].post(f"consent/requests/{reqs['Gerrit Gast']}/link", {})
    url = re.search(r'value="(http[^"]+/consent/link/[^"]+)"', text(issued))
    assert url, text(issued)
    path = url.group(1).split("://", 1)[1].split("/", 1)[1]
    guest = Browser(app.test_client(), people["t-tess"].browser.lms)
    form = text(guest.client.get("/" + path))
    shown = re.search(r'name="shown" value="(\w+)"', form)
    assert shown and "Request for consent" in form
    done = guest.client.post(
        "/" + path, data={"action": "answer", "answer": "yes", "shown": shown.group(1)}
    )
    assert done.status_code == 200 and "/consent/link/" in text(done)
    assert _item(app, g3).state == "ready"
    assert _sees(app, g3, ids["s-chloe"])
    assert count(app, AuditEvent, AuditEvent.kind == "item.published") == 1
    # the used link is refused, audited
    again = guest.client.post(
        "/" + path, data={"action": "answer", "answer": "no", "shown": shown.group(1)}
    )
    assert again.status_code == 403 and "already used" in text(again)
    assert _item(app, g3).state == "ready"
    with app.extensions["lti_tool"].db.engine.connect() as conn:
        assert verify(conn).ok


def test_answering_for_someone_else_is_refused_and_audited(
    app: Flask, people: dict[str, User], g3: int
) -> None:
    reqs = _requests(app, g3)
    anna, sam, petra, tess = (people[s] for s in ("s-anna", "s-sam", "p-petra", "t-tess"))
    shown = _shown(anna, reqs["s-anna"])
    ledger_before = count(app, LedgerRecord)
    refused_before = count(app, AuditEvent, AuditEvent.kind == "consent.refused")
    attempts = [
        (anna, reqs["s-bram"], "You cannot answer for this person"),  # another student
        (sam, reqs["s-sam"], "A parent or guardian answers"),  # under 16
        (petra, reqs["s-anna"], "You cannot answer for this person"),  # not represented
        (tess, reqs["s-anna"], "You cannot answer for this person"),  # a teacher
    ]
    for user, request_id, reason in attempts:
        response = _answer(user, request_id, shown=shown)
        assert response.status_code == 403, text(response)
        assert reason in text(response)
    assert count(app, LedgerRecord) == ledger_before
    assert count(app, AuditEvent, AuditEvent.kind == "consent.refused") == refused_before + 4
    # malformed answers change nothing either
    assert _answer(anna, reqs["s-anna"], "maybe").status_code == 400
    assert _answer(anna, reqs["s-anna"], shown="0" * 64).status_code == 400
    assert _answer(anna, reqs["s-anna"], csrf=False).status_code in (400, 403)
    assert anna.post("consent/requests/999999/answer", {"answer": "yes"}).status_code == 404
    assert count(app, LedgerRecord) == ledger_before
    # a student of another course cannot reach a request of this one
    gijs = launch(Browser(app.test_client(), anna.browser.lms), "s-gijs", "course-2")
    assert _answer(gijs, reqs["s-anna"], shown=shown).status_code == 404


def test_withdrawal_hides_the_item_and_plans_its_deletion(
    app: Flask, people: dict[str, User], g3: int
) -> None:
    ids, reqs = _ids(app), _requests(app, g3)
    for sub in ("s-anna", "s-bram"):
        _answer(people[sub], reqs[sub])
    _answer(people["p-petra"], reqs["s-sam"])
    tess = people["t-tess"]
    unrec = tess.post(f"consent/requests/{reqs['Gerrit Gast']}/unrecognisable", {"confirm": "yes"})
    assert unrec.status_code == 303
    assert _item(app, g3).state == "ready"
    anna = people["s-anna"]
    confirm_page = anna.get(f"consent/requests/{reqs['s-anna']}/withdraw")
    assert "Withdraw consent" in text(confirm_page)
    done = anna.post(f"consent/requests/{reqs['s-anna']}/withdraw", {})
    assert done.status_code == 200
    assert "deleted on March 22, 2027" in text(done)  # institution-wide: removed, 7 days
    item = _item(app, g3)
    assert item.removed_at is not None and item.delete_on == dt.date(2027, 3, 22)
    assert not _sees(app, g3, ids["s-chloe"])
    assert count(app, DeletionPlan) == 1
    assert "removed from view" in text(anna.get("mine"))
    assert "removed after a withdrawal" in text(tess.get(""))
    # nothing left to withdraw; the withdrawn item takes no new answers
    again = anna.post(f"consent/requests/{reqs['s-anna']}/withdraw", {})
    assert again.status_code == 409
    late = _answer(people["s-bram"], reqs["s-bram"], "no", _english_text(app, reqs["s-bram"]))
    assert late.status_code == 409


def test_withdrawal_from_material_in_use_for_the_cohort_keeps_it_until_year_end(
    app: Flask, people: dict[str, User]
) -> None:
    tess = people["t-tess"]
    cohort = {**G3_DEMO, "recognisable": ["students"], "purpose": "wider-audience"}
    cohort.update(audience="cohort", confirm=["G3.1", "G3.2", "G3.3"])
    item_id = created_id(tess.post("items/new", {**cohort, "action": "create"}))
    ids = _ids(app)
    tess.post(f"items/{item_id}/consent/ask", {"person_id": [str(ids["s-anna"])]})
    anna = people["s-anna"]
    _answer(anna, _requests(app, item_id)["s-anna"])
    assert _item(app, item_id).state == "ready"
    done = anna.post(f"consent/requests/{_requests(app, item_id)['s-anna']}/withdraw", {})
    assert "stays until the end of the school year" in text(done)
    item = _item(app, item_id)
    assert item.removed_at is None and item.state == "ready"
    assert item.delete_on == dt.date(2027, 7, 31)


def test_objection_to_a_live_lesson(app: Flask, people: dict[str, User]) -> None:
    tess, bram, anna = people["t-tess"], people["s-bram"], people["s-anna"]
    item_id = created_id(tess.post("items/new", {**G2_LIVE_LESSON, "action": "create"}))
    ids = _ids(app)
    ask = bram.get(f"items/{item_id}/object")
    assert "follow the lesson online" in text(ask)
    done = bram.post(f"items/{item_id}/object", {"person": str(ids["s-bram"]), "objecting": "1"})
    assert done.status_code == 200 and "/watch" in text(done)
    assert "1 student objects: Bram Visser" in text(tess.get(f"items/{item_id}"))
    # Anna cannot object for Bram, Petra not for Anna
    other = anna.post(f"items/{item_id}/object", {"person": str(ids["s-bram"]), "objecting": "1"})
    assert other.status_code == 403
    petra = people["p-petra"]
    assert petra.post(f"items/{item_id}/object", {"person": str(ids["s-anna"])}).status_code == 403
    assert petra.post(f"items/{item_id}/object", {"person": str(ids["s-sam"])}).status_code == 200
    taken_back = bram.post(
        f"items/{item_id}/object", {"person": str(ids["s-bram"]), "objecting": "0"}
    )
    assert taken_back.status_code == 200
    assert "1 student objects: Sam Meijer" in text(tess.get(f"items/{item_id}"))


def test_reminders_are_rate_limited(app: Flask, people: dict[str, User], g3: int) -> None:
    tess = people["t-tess"]
    assert tess.post(f"items/{g3}/consent/remind", {}).status_code == 303
    assert "Your teacher reminded you" in text(people["s-anna"].get("mine"))
    again = tess.post(f"items/{g3}/consent/remind", {})
    assert again.status_code == 429 and "reminder was sent recently" in text(again)
    assert people["s-anna"].post(f"items/{g3}/consent/remind", {}).status_code == 403


def test_paper_forms_need_a_real_scan(app: Flask, people: dict[str, User], g3: int) -> None:
    tess, reqs = people["t-tess"], _requests(app, g3)
    before = count(app, LedgerRecord)
    fake = tess.post(
        f"consent/requests/{reqs['s-bram']}/paper",
        {
            "answer": "yes",
            "signed_by": "self",
            "language": "nl",
            "scan": (io.BytesIO(b"MZ\x90"), "x.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert fake.status_code == 400 and count(app, LedgerRecord) == before
    anna = people["s-anna"]
    by_student = anna.post(
        f"consent/requests/{reqs['s-bram']}/paper",
        {
            "answer": "yes",
            "signed_by": "self",
            "language": "nl",
            "scan": (io.BytesIO(PDF), "form.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert by_student.status_code == 403
    ok = tess.post(
        f"consent/requests/{reqs['s-bram']}/paper",
        {
            "answer": "yes",
            "signed_by": "self",
            "language": "nl",
            "scan": (io.BytesIO(PDF), "form.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert ok.status_code == 303, text(ok)
    evidence = tess.get(f"items/{g3}/consent/evidence.json").get_json()
    bram = next(r for r in evidence["requests"] if r["id"] == reqs["s-bram"])
    assert bram["state"] == "given" and bram["answered_by"] == "staff"
    paper = [r for r in evidence["ledger"] if r["method"] == "paper"]
    assert paper and paper[0]["details"]["signed_by"] == "self" and paper[0]["hash_matches"]
    assert all(r["hash_matches"] for r in evidence["ledger"])
    assert evidence["texts"] and len(evidence["texts"]) == 2
    assert people["s-anna"].get(f"items/{g3}/consent/evidence.json").status_code == 403


def test_signed_links_that_are_altered_or_expired_are_refused(
    app: Flask, people: dict[str, User], g3: int
) -> None:
    tess, reqs = people["t-tess"], _requests(app, g3)
    issued = text(tess.post(f"consent/requests/{reqs['s-sam']}/link", {"holder_name": "Petra"}))
    path = "/" + re.search(r'value="https?://[^/]+/([^"]+)"', issued).group(1)  # type: ignore[union-attr]
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert client.get(path).status_code == 200
    assert "parent or guardian of a student under 16" in text(client.get(path))
    assert client.get(path[:-3] + "abc").status_code == 403  # altered
    assert client.get("/consent/link/not-a-token").status_code == 403
    with app.extensions["lti_tool"].db.transaction() as session:
        session.execute(
            update(ConsentLink).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(1))
        )
    assert client.get(path).status_code == 403  # expired
    # links are for guests and parents: none for a student of 16 or older
    assert tess.post(f"consent/requests/{reqs['s-anna']}/link", {}).status_code == 403
    refusals = count(app, AuditEvent, AuditEvent.kind == "consent.refused")
    assert refusals >= 3


def test_my_overview_and_its_export(app: Flask, people: dict[str, User], g3: int) -> None:
    anna, reqs = people["s-anna"], _requests(app, g3)
    _answer(anna, reqs["s-anna"])
    export = anna.get("mine.json")
    assert export.status_code == 200
    [mine] = export.get_json()
    [item] = [i for i in mine["items"] if i["id"] == g3]
    assert item["consent"]["state"] == "given" and item["rule"] == "G3"
    assert people["t-tess"].get("mine").status_code == 403


def test_a_student_who_turned_16_confirms_the_parents_consent(
    app: Flask, people: dict[str, User], g3: int
) -> None:
    reqs = _requests(app, g3)
    _answer(people["p-petra"], reqs["s-sam"])
    with app.extensions["lti_tool"].db.transaction() as session:
        session.execute(
            update(Person).where(Person.sub == "s-sam").values(birth_date=dt.date(2010, 1, 1))
        )
    sam = people["s-sam"]
    page = text(sam.get("mine"))
    assert "You are now 16: confirm it, or withdraw it." in page
    assert sam.post(f"consent/requests/{reqs['s-sam']}/confirm", {}).status_code == 303
    assert "You are now 16" not in text(sam.get("mine"))
    # Petra no longer answers for Sam
    refused = _answer(people["p-petra"], reqs["s-sam"], "no", shown="x")
    assert refused.status_code == 403 and "answers this request themself" in text(refused)
