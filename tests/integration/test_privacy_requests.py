"""Access and erasure requests (GDPR arts. 15 and 17) through the tool's own pages and the
command line: the request is recorded, consent-based material is withdrawn with its
proportional plan, assessment material is kept with the reason, live lessons go at their date,
everything is audited — and every attempt to ask about someone else is refused and audited."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select, update

from lti_tool.access.models import Person
from lti_tool.audit.models import AuditEvent
from lti_tool.cli import main
from lti_tool.consent.models import DeletionPlan, LedgerKind, LedgerRecord
from lti_tool.items.models import Item
from lti_tool.privacy.export import export_digest
from lti_tool.privacy.models import PrivacyRequest
from tests.support import privacy as fx
from tests.support.items import TODAY, User, count, text
from tests.support.privacy import ids, outcomes_of, request_id_of

tool_settings, people, items = fx.tool_settings, fx.people, fx.items

# --- the thin path: access, then erasure ---------------------------------------------------


def test_student_gets_everything_then_erasure_follows_the_guideline(
    app: Flask, people: dict[str, User], items: dict[str, int]
) -> None:
    anna = people["s-anna"]
    anna_id = ids(app)["s-anna"]
    assert "My data and my rights" in text(anna.get(""))
    page = anna.get("privacy")
    assert page.status_code == 200 and "Ask for erasure" in text(page)

    # access (art. 15): recorded, carried out at once, JSON with everything about Anna
    got = anna.post("privacy/access", {"person": str(anna_id), "format": "json"})
    assert got.status_code == 200 and got.mimetype == "application/json"
    data = json.loads(got.get_data(as_text=True))
    assert data["person"]["user_id"] == "s-anna"
    assert {i["id"] for i in data["items"]} == set(items.values())
    g3 = next(i for i in data["items"] if i["id"] == items["G3"])
    assert g3["asked_for_consent"] and g3["consent"]["state"] == "given"
    assert [r["kind"] for r in data["consent_ledger"]] == ["asked", "answered"]
    assert any(m["course"] == "Demo course: Biology 4A" for m in data["memberships"])
    with app.extensions["lti_tool"].db.transaction() as session:
        req = session.scalars(select(PrivacyRequest)).one()
        assert (req.kind, req.state, req.capacity) == ("access", "carried-out", "self")
        assert req.carried_out_at is not None
        # the digest recorded is that of what Anna got (the request itself is listed after it)
        assert req.export_sha256 and len(req.export_sha256) == 64
    # the printable page, in Dutch when asked
    html = anna.post("privacy/access?lang=nl", {"person": str(anna_id), "format": "html"})
    assert html.status_code == 200
    assert "Alles wat de tool over Anna Bakker bewaart" in text(html)
    assert "Open day video" in text(html)
    anna.get("privacy?lang=en")  # back to English (the switch is remembered in a cookie)

    # erasure (art. 17)
    confirm = anna.get(f"privacy/erasure?person={anna_id}")
    assert confirm.status_code == 200 and "Ask for erasure now" in text(confirm)
    request_id = request_id_of(anna.post("privacy/erasure", {"person": str(anna_id)}))
    outcomes = outcomes_of(app, request_id)
    assert {o.item_id: o.outcome for o in outcomes.values()} == {
        items["G1"]: "kept-legal-duty",
        items["G2"]: "deleted-at-year-end",
        items["G3"]: "erased",
    }
    g1, g2, g3o = outcomes[items["G1"]], outcomes[items["G2"]], outcomes[items["G3"]]
    assert (g1.rule, g1.retention_rule) == ("G1", "G1.3") and g1.until is not None
    assert (g2.rule, g2.retention_rule, g2.until) == ("G2", "G2.5", dt.date(2027, 7, 31))
    # G3: the consent is withdrawn through the consent area, with its proportional plan
    with app.extensions["lti_tool"].db.transaction() as session:
        plan = session.scalars(select(DeletionPlan)).one()
        assert g3o.deletion_plan_id == plan.id and g3o.until == plan.delete_on
        withdrawn = session.scalar(
            select(LedgerRecord).where(LedgerRecord.kind == LedgerKind.WITHDRAWN)
        )
        assert withdrawn is not None and withdrawn.subject == f"person:{anna_id}"
        assert withdrawn.answered_by == "self" and withdrawn.method == "tool"
        item = session.get_one(Item, items["G3"])
        assert item.delete_on == plan.delete_on
    # the requester sees each outcome with its reason
    shown = text(anna.get(f"privacy/requests/{request_id}"))
    assert "GDPR art. 17(3)(b)" in shown and "G1.3" in shown
    assert "July 31, 2027" in shown  # G2 deleted at the school-year end
    # everything audited: received, one outcome per item, carried out
    assert count(app, AuditEvent, AuditEvent.kind == "privacy.request-received") == 3
    assert count(app, AuditEvent, AuditEvent.kind == "privacy.erasure-outcome") == 3
    assert count(app, AuditEvent, AuditEvent.kind == "privacy.erasure-carried-out") == 1
    assert count(app, AuditEvent, AuditEvent.kind == "consent.withdrawn") == 1
    # a second erasure request finds the plan standing (nothing withdrawn twice)
    again = outcomes_of(app, request_id_of(anna.post("privacy/erasure", {"person": str(anna_id)})))
    assert again[items["G3"]].outcome == "already-planned"
    assert count(app, DeletionPlan) == 1
    # the desk shows the requests and the plan
    desk = text(people["a-adam"].get("desk"))
    assert "Erasure (GDPR art. 17)" in desk and "Open day video" in desk


def test_parent_asks_for_a_child_under_16(
    app: Flask, people: dict[str, User], items: dict[str, int]
) -> None:
    petra, sam = people["p-petra"], ids(app)["s-sam"]
    page = text(petra.get("privacy"))
    assert "About Sam Meijer" in page
    got = petra.post("privacy/access", {"person": str(sam), "format": "json"})
    assert got.status_code == 200
    assert json.loads(got.get_data(as_text=True))["person"]["user_id"] == "s-sam"
    request_id = request_id_of(petra.post("privacy/erasure", {"person": str(sam)}))
    assert outcomes_of(app, request_id)[items["G3"]].outcome == "erased"
    with app.extensions["lti_tool"].db.transaction() as session:
        req = session.get_one(PrivacyRequest, request_id)
        assert req.capacity == "guardian" and req.requester_id == ids(app)["p-petra"]
        record = session.scalar(
            select(LedgerRecord).where(LedgerRecord.kind == LedgerKind.WITHDRAWN)
        )
        assert record is not None and record.answered_by == "guardian"


def test_bram_never_consented_nothing_is_withdrawn(
    app: Flask, people: dict[str, User], items: dict[str, int]
) -> None:
    bram = people["s-bram"]
    request_id = request_id_of(bram.post("privacy/erasure", {"person": str(ids(app)["s-bram"])}))
    assert outcomes_of(app, request_id)[items["G3"]].outcome == "no-consent"
    assert count(app, DeletionPlan) == 0


# --- who may ask about whom ------------------------------------------------------------------


def _refused(app: Flask) -> int:
    return count(app, AuditEvent, AuditEvent.kind == "privacy.refused")


@pytest.mark.parametrize("path", ["privacy/access", "privacy/erasure"])
def test_a_student_cannot_ask_about_another(
    app: Flask, people: dict[str, User], items: dict[str, int], path: str
) -> None:
    anna = ids(app)["s-anna"]
    got = people["s-bram"].post(path, {"person": str(anna), "format": "json"})
    assert got.status_code == 403
    assert "only ask about yourself" in text(got)
    assert count(app, PrivacyRequest) == 0 and _refused(app) == 1
    assert count(app, DeletionPlan) == 0


def test_a_parent_cannot_ask_for_a_child_they_do_not_represent(
    app: Flask, people: dict[str, User], items: dict[str, int]
) -> None:
    anna = ids(app)["s-anna"]
    for path in ("privacy/access", "privacy/erasure"):
        got = people["p-petra"].post(path, {"person": str(anna), "format": "json"})
        assert got.status_code == 403, path
    assert people["p-petra"].get(f"privacy/erasure?person={anna}").status_code == 403
    assert count(app, PrivacyRequest) == 0 and _refused(app) == 3


def test_a_parent_cannot_ask_for_a_student_of_16(
    app: Flask, people: dict[str, User], items: dict[str, int]
) -> None:
    with app.extensions["lti_tool"].db.transaction() as session:
        session.execute(
            update(Person).where(Person.sub == "s-sam").values(birth_date=dt.date(2010, 1, 1))
        )
    sam = ids(app)["s-sam"]
    assert "makes this request themself" in text(people["p-petra"].get("privacy"))
    got = people["p-petra"].post("privacy/erasure", {"person": str(sam)})
    assert got.status_code == 403 and "16 or older" in text(got)
    assert count(app, PrivacyRequest) == 0 and count(app, DeletionPlan) == 0
    # Sam (now 17) asks themself
    own = people["s-sam"].post("privacy/access", {"person": str(sam), "format": "json"})
    assert own.status_code == 200


def test_requests_of_others_are_not_shown(
    app: Flask, people: dict[str, User], items: dict[str, int]
) -> None:
    anna = ids(app)["s-anna"]
    request_id = request_id_of(people["s-anna"].post("privacy/erasure", {"person": str(anna)}))
    assert people["s-bram"].get(f"privacy/requests/{request_id}").status_code == 404
    assert people["p-petra"].get(f"privacy/requests/{request_id}").status_code == 404
    assert people["s-anna"].get(f"privacy/requests/{request_id}").status_code == 200


@pytest.mark.parametrize(
    "form",
    [{"person": "", "format": "json"}, {"person": "abc"}, {"person": "99999"}, {"format": "xml"}],
)
def test_malformed_requests_are_400(
    app: Flask, people: dict[str, User], form: dict[str, str]
) -> None:
    form = {"person": str(ids(app)["s-anna"]), **form}
    got = people["s-anna"].post("privacy/access", form)
    assert got.status_code == 400, text(got)


def test_requests_need_the_csrf_token(app: Flask, people: dict[str, User]) -> None:
    anna = str(ids(app)["s-anna"])
    got = people["s-anna"].post("privacy/erasure", {"person": anna}, csrf=False)
    assert got.status_code == 403 and count(app, PrivacyRequest) == 0


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def cli_env(tool_settings: dict, app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "LTI_TOOL_DEV": "1",
        "LTI_TOOL_DATABASE_URL": tool_settings["database_url"],
        "LTI_TOOL_BASE_URL": tool_settings["base_url"],
        "LTI_TOOL_INSTANCE_PATH": tool_settings["instance_path"],
        "LTI_TOOL_SECRET_KEY": tool_settings["secret_key"],
        "LTI_TOOL_TODAY": TODAY,
    }.items():
        monkeypatch.setenv(key, value)


def test_export_person_from_the_command_line(
    app: Flask, people: dict[str, User], items: dict[str, int], cli_env: None, registered: Any
) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main, ["export", "person", "--platform", registered.issuer, "--user", "s-anna"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["person"]["user_id"] == "s-anna" and len(data["items"]) == 3
    with app.extensions["lti_tool"].db.transaction() as session:
        req = session.scalars(select(PrivacyRequest)).one()
        assert (req.capacity, req.requested_by, req.requester_id) == ("officer", "cli", None)
        assert req.export_sha256 == export_digest(data)
    html = runner.invoke(
        main,
        [
            "export",
            "person",
            "--platform",
            registered.issuer,
            "--user",
            "s-anna",
            "--format",
            "html",
            "--lang",
            "en",
        ],
    )
    assert html.exit_code == 0 and "Everything the tool holds about Anna Bakker" in html.stdout
    unknown = runner.invoke(
        main, ["export", "person", "--platform", registered.issuer, "--user", "nobody"]
    )
    assert unknown.exit_code != 0 and "no person" in unknown.output
    other = runner.invoke(
        main, ["export", "person", "--platform", "https://elsewhere.example", "--user", "s-anna"]
    )
    assert other.exit_code != 0 and "no registration" in other.output
    register = runner.invoke(main, ["export", "register", "--platform", registered.issuer])
    assert register.exit_code == 0 and register.stdout.startswith("rule,title,purpose")
    assert len(register.stdout.strip().splitlines()) == 5


def test_a_parent_does_not_see_the_requests_of_a_student_of_16(
    app: Flask, people: dict[str, User], items: dict[str, int]
) -> None:
    sam = ids(app)["s-sam"]
    made = people["p-petra"].post("privacy/erasure", {"person": str(sam)})
    request_id = request_id_of(made)
    assert people["p-petra"].get(f"privacy/requests/{request_id}").status_code == 200
    with app.extensions["lti_tool"].db.transaction() as session:
        session.execute(
            update(Person).where(Person.sub == "s-sam").values(birth_date=dt.date(2010, 1, 1))
        )
    assert people["p-petra"].get(f"privacy/requests/{request_id}").status_code == 404
    assert "Erasure (GDPR art. 17)" not in text(people["p-petra"].get("privacy"))
    assert people["s-sam"].get(f"privacy/requests/{request_id}").status_code == 200


def test_a_teachers_export_lists_what_they_set_up(
    app: Flask, people: dict[str, User], items: dict[str, int]
) -> None:
    tess = people["t-tess"]
    got = tess.post("privacy/access", {"person": str(ids(app)["t-tess"]), "format": "json"})
    data = json.loads(got.get_data(as_text=True))
    assert {i["id"] for i in data["items_set_up"]} == set(items.values())
    assert data["items"] == []  # a teacher is nobody's audience here
