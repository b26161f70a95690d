"""Institution settings: the administrator installs packs (a broken one never loads half),
sets the school-year end and the privacy officer's contact; teachers see the effect."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.audit.models import AuditEvent
from lti_tool.institution.models import GuidelinePack, RegistrationSettings
from lti_tool.items.models import Item
from lti_tool.policy import DEFAULT_PACK_PATH
from tests.support.browser import Browser
from tests.support.items import G2_LIVE_LESSON, TODAY, User, count, launch, text

BROKEN = Path(__file__).parent.parent / "unit" / "packs" / "broken-types.yaml"


@pytest.fixture
def tool_settings(tool_settings: dict[str, Any]) -> dict[str, Any]:
    return {**tool_settings, "today": TODAY}


@pytest.fixture
def adam(browser: Browser) -> User:
    return launch(browser, "a-adam")


def _upload(user: User, name: str, content: bytes, **kwargs: Any) -> Any:
    return user.post(
        "admin/pack",
        {"pack": (BytesIO(content), name)},
        content_type="multipart/form-data",
        **kwargs,
    )


def _institution_pack() -> bytes:
    """The default pack as an institution would adapt it: its own version and G2 title."""
    content = DEFAULT_PACK_PATH.read_text(encoding="utf-8")
    content = content.replace('version: "2020.10-1"', 'version: "2027.1-school"')
    content = content.replace(
        "en: Streaming a lesson live for remote education",
        "en: Live lessons for pupils at home",
    )
    return content.encode()


def test_admin_sees_what_is_in_force(adam: User) -> None:
    assert 'href="/s/' in text(adam.get()) and "Institution settings" in text(adam.get())
    page = adam.get("admin/settings")
    assert page.status_code == 200
    html = text(page)
    assert "Richtlijn opnames onderwijs" in html and "2020.10-1" in html
    assert "Built into the tool" in html
    assert "privacy@example.org" in html and "07-31" in html


def test_only_an_administrator_reaches_the_settings(browser: Browser, new_browser) -> None:
    for user in ("t-tess", "s-anna", "p-petra"):
        someone = launch(new_browser(), user)
        assert someone.get("admin/settings").status_code == 403, user
        assert someone.post("admin/settings", {"school_year_end": "06-30"}).status_code == 403


def test_valid_pack_is_installed_audited_and_used(app: Flask, adam: User, new_browser) -> None:
    installed = _upload(adam, "school.yaml", _institution_pack())
    assert installed.status_code == 303, text(installed)
    page = text(adam.get("admin/settings"))
    assert "2027.1-school" in page and "Uploaded: school.yaml" in page
    with app.extensions["lti_tool"].db.transaction() as session:
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.kind == "settings.pack_installed")
        )
        assert event is not None and event.pack_version == "2027.1-school"
        assert event.data["previous"]["version"] == "2020.10-1"
        assert event.actor.endswith(":a-adam")
    tess = launch(new_browser(), "t-tess")
    preview = text(tess.post("items/new", {**G2_LIVE_LESSON, "action": "preview"}))
    assert "Live lessons for pupils at home" in preview
    created = tess.post("items/new", {**G2_LIVE_LESSON, "action": "create"})
    assert created.status_code == 303
    with app.extensions["lti_tool"].db.transaction() as session:
        item = session.scalar(select(Item))
        assert item is not None and item.pack.version == "2027.1-school"
        assert item.decision["pack_version"] == "2027.1-school"
    back = adam.post("admin/pack/builtin", {})
    assert back.status_code == 303
    assert "Built into the tool" in text(adam.get("admin/settings"))
    # the item keeps the texts it was decided with
    assert "Live lessons for pupils at home" in text(tess.browser.client.get(created.location))


def test_broken_pack_never_loads_half(app: Flask, adam: User) -> None:
    assert _upload(adam, "school.yaml", _institution_pack()).status_code == 303
    packs = count(app, GuidelinePack)
    events = count(app, AuditEvent)
    refused = _upload(adam, "broken-types.yaml", BROKEN.read_bytes())
    assert refused.status_code == 400
    html = text(refused)
    assert "The pack was not installed; the pack above stays in force." in html
    assert "2027.1-school" in html  # the previous pack is still the one in force
    assert "<td>broken-types.yaml</td>" in html
    assert "4 problem(s) found" in html  # every problem, not only the first
    for path in ("version", "legal_bases.teacher-consent.en", "retention.one-year.kind"):
        assert f"<code>{path}</code>" in html
    assert "must be a non-empty string, not a number" in html
    assert (count(app, GuidelinePack), count(app, AuditEvent)) == (packs, events)
    with app.extensions["lti_tool"].db.transaction() as session:
        row = session.scalar(select(RegistrationSettings))
        assert row is not None and row.pack is not None and row.pack.version == "2027.1-school"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("pack.yaml", b"\xff\xfe not utf-8", "is not UTF-8 text"),
        ("pack.yaml", b"name: [unclosed", "line 1"),
        ("", b"", "Choose a pack file to upload."),
    ],
)
def test_unreadable_uploads_are_refused(
    app: Flask, adam: User, name: str, content: bytes, message: str
) -> None:
    refused = _upload(adam, name, content)
    assert refused.status_code == 400
    assert message in text(refused)
    assert count(app, GuidelinePack) == 0
    assert count(app, AuditEvent, AuditEvent.kind.like("settings.%")) == 0


def test_pack_upload_needs_the_csrf_token(app: Flask, adam: User) -> None:
    assert _upload(adam, "school.yaml", _institution_pack(), csrf=False).status_code == 403
    assert count(app, GuidelinePack) == 0


def test_school_year_end_moves_the_g2_date(app: Flask, adam: User, new_browser) -> None:
    tess = launch(new_browser(), "t-tess")
    before = text(tess.post("items/new", {**G2_LIVE_LESSON, "action": "preview"}))
    assert "Deleted on July 31, 2027." in before
    saved = adam.post("admin/settings", {"school_year_end": "08-31"})
    assert saved.status_code == 303
    after = text(tess.post("items/new", {**G2_LIVE_LESSON, "action": "preview"}))
    assert "Deleted on August 31, 2027." in after
    with app.extensions["lti_tool"].db.transaction() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.kind == "settings.changed"))
        assert event is not None
        assert event.data["changes"]["school_year_end"] == {"from": None, "to": "08-31"}


@pytest.mark.parametrize("value", ["13-01", "02-30", "7-31", "end of july"])
def test_bad_school_year_end_is_refused(app: Flask, adam: User, value: str) -> None:
    refused = adam.post("admin/settings", {"school_year_end": value})
    assert refused.status_code == 400
    assert "Write the date as MM-DD, for example 07-31." in text(refused)
    assert 'aria-invalid="true"' in text(refused)
    assert count(app, RegistrationSettings) == 0
    assert count(app, AuditEvent, AuditEvent.kind == "settings.changed") == 0


def test_refusals_show_the_privacy_officer_set_by_the_administrator(
    adam: User, new_browser
) -> None:
    contact = "Fatima Ouali, privacy@school.example, 030 123 4567"
    assert adam.post("admin/settings", {"privacy_officer_contact": contact}).status_code == 303
    tess = launch(new_browser(), "t-tess")
    refused = text(
        tess.post("items/new", {**G2_LIVE_LESSON, "purpose": "exam-content", "action": "preview"})
    )
    assert contact in refused
