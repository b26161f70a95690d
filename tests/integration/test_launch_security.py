"""Every launch check of issue 2 item 7, attacked: the bad token is sent and refused."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from sqlalchemy import select

from lti_tool.audit.models import AuditEvent
from lti_tool.lti import claims as c
from lti_tool.lti.models import Deployment, DeploymentStatus
from tests.support.browser import Browser, Launch

Claims = dict[str, Any]


def crafted(
    browser: Browser,
    mutate: Callable[[Claims], None],
    *,
    user: str = "t-tess",
    sign: Callable[[Claims], str] | None = None,
) -> Launch:
    """A real login and authorization, then the id_token re-signed after ``mutate``."""
    fields = browser.authorize(browser.login(user))
    claims = jwt.decode(fields["id_token"], options={"verify_signature": False})
    mutate(claims)
    fields["id_token"] = (sign or browser.lms.sign)(claims)
    return browser.post_launch(fields, follow=False)


def refused(launch: Launch, status: int = 401) -> str:
    assert launch.response.status_code == status, launch.response.get_data(as_text=True)[:500]
    return launch.response.get_data(as_text=True)


def test_untampered_token_is_accepted(browser: Browser) -> None:
    assert crafted(browser, lambda cl: None).response.status_code == 303


# --- signature and keys -----------------------------------------------------------------


def test_unsigned_token_is_refused(browser: Browser) -> None:
    launch = crafted(
        browser, lambda cl: None, sign=lambda cl: jwt.encode(cl, None, algorithm="none")
    )
    assert "RS256" in refused(launch)


def test_hs256_with_the_public_key_as_secret_is_refused(browser: Browser) -> None:
    def hs256(cl: Claims) -> str:
        return jwt.encode(cl, "a" * 64, algorithm="HS256", headers={"kid": "x"})

    assert "RS256" in refused(crafted(browser, lambda cl: None, sign=hs256))


def test_token_signed_by_another_key_with_the_platform_kid_is_refused(browser: Browser) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = browser.lms.keys.current_kid

    def forge(cl: Claims) -> str:
        return jwt.encode(cl, other, algorithm="RS256", headers={"kid": kid})

    assert "signature" in refused(crafted(browser, lambda cl: None, sign=forge))


def test_token_without_kid_is_refused(browser: Browser) -> None:
    def no_kid(cl: Claims) -> str:
        return jwt.encode(
            cl, browser.lms.keys._private[browser.lms.keys.current_kid], algorithm="RS256"
        )

    refused(crafted(browser, lambda cl: None, sign=no_kid))


def test_platform_key_rotation_needs_no_restart(app: Flask, browser: Browser, new_browser) -> None:
    assert browser.launch("t-tess").response.status_code == 303  # caches the key set
    browser.lms.rotate_key()
    assert new_browser().launch("s-anna").response.status_code == 303


def test_unknown_kid_refetch_is_rate_limited(app: Flask, browser: Browser, new_browser) -> None:
    fetches: list[str] = []
    http = app.extensions["lti_tool"].http
    real = http.json

    def counting(method: str, url: str, **kw: Any) -> Any:
        if url.endswith("jwks.json"):
            fetches.append(url)
        return real(method, url, **kw)

    http.json = counting
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def unknown_kid(cl: Claims) -> str:
        return jwt.encode(cl, other, algorithm="RS256", headers={"kid": "no-such-kid"})

    for _ in range(3):
        refused(crafted(new_browser(), lambda cl: None, sign=unknown_kid))
    assert len(fetches) == 2  # first fetch, then one re-fetch; the rest is rate limited


# --- issuer, audience -------------------------------------------------------------------


def test_other_issuer_is_refused(browser: Browser) -> None:
    text = refused(crafted(browser, lambda cl: cl.update(iss="https://evil.example")))
    assert "not registered" in text


def test_other_audience_is_refused(browser: Browser) -> None:
    refused(crafted(browser, lambda cl: cl.update(aud="someone-else")))


def test_several_audiences_need_azp_equal_to_us(browser: Browser, new_browser) -> None:
    def several(azp: str | None) -> Callable[[Claims], None]:
        def mutate(cl: Claims) -> None:
            cl["aud"] = [cl["aud"], "other-client"]
            cl.pop("azp", None)
            if azp:
                cl["azp"] = azp

        return mutate

    refused(crafted(browser, several(None)))
    refused(crafted(new_browser(), several("other-client")))
    ok = crafted(new_browser(), several(browser.lms.tool().client_id))
    assert ok.response.status_code == 303


# --- time ---------------------------------------------------------------------------------


def test_expired_token_is_refused(browser: Browser) -> None:
    now = int(time.time())
    launch = crafted(browser, lambda cl: cl.update(iat=now - 900, exp=now - 300))
    assert "expired" in refused(launch)


def test_platform_clock_a_little_fast_is_tolerated(browser: Browser) -> None:
    browser.lms.clock_skew_seconds = 2
    assert browser.launch("t-tess").response.status_code == 303


def test_platform_clock_within_leeway_is_tolerated(browser: Browser) -> None:
    now = int(time.time())
    launch = crafted(browser, lambda cl: cl.update(iat=now + 50, exp=now + 350))
    assert launch.response.status_code == 303


def test_token_issued_far_in_the_future_is_refused(browser: Browser) -> None:
    now = int(time.time())
    refused(crafted(browser, lambda cl: cl.update(iat=now + 600, exp=now + 900)))


# --- nonce and state ----------------------------------------------------------------------


def test_wrong_nonce_is_refused(browser: Browser) -> None:
    assert "nonce" in refused(crafted(browser, lambda cl: cl.update(nonce="forged")))


def test_replayed_launch_is_refused(browser: Browser, new_browser) -> None:
    fields = browser.authorize(browser.login("t-tess"))
    assert browser.post_launch(fields, follow=False).response.status_code == 303
    assert browser.post_launch(dict(fields), follow=False).response.status_code == 401
    # the same id_token with a fresh state of another login: nonce mismatch
    other = new_browser()
    fresh = other.authorize(other.login("t-tess"))
    fresh["id_token"] = fields["id_token"]
    refused(other.post_launch(fresh, follow=False))


def test_replayed_id_token_from_another_browser_is_refused(browser: Browser, new_browser) -> None:
    fields = browser.authorize(browser.login("s-anna"))
    thief = new_browser()
    thief.client.set_cookie("ltt_state_other", "x")  # a browser with cookies, not this state
    text = refused(thief.post_launch(fields, follow=False))
    assert "another browser" in text
    # and the original browser cannot use it either any more: state is single use
    refused(browser.post_launch(fields, follow=False))


def test_browser_without_cookies_gets_the_new_window_page(browser: Browser, new_browser) -> None:
    fields = browser.authorize(browser.login("s-anna"))
    cookieless = new_browser()
    launch = cookieless.post_launch(fields, follow=False)
    text = refused(launch, 403)
    assert 'target="_blank"' in text and 'name="login_hint"' in text


def test_missing_state_or_token_is_refused(browser: Browser) -> None:
    for fields in ({}, {"state": "x"}, {"id_token": "x"}):
        assert browser.client.post("/lti/launch", data=fields).status_code == 401


def test_garbage_and_oversized_tokens_are_refused_without_500(browser: Browser) -> None:
    for token in ("garbage", "a.b.c", "eyJ" * 10, "x" * 70_000):
        fields = browser.authorize(browser.login("t-tess"))
        fields["id_token"] = token
        status = browser.post_launch(fields, follow=False).response.status_code
        assert status in {401, 413}, token[:20]


# --- deployment -----------------------------------------------------------------------------


def test_unknown_deployment_is_recorded_pending_and_refused(app: Flask, browser: Browser) -> None:
    launch = crafted(browser, lambda cl: cl.update({c.DEPLOYMENT_ID: "new-deployment"}))
    assert "awaits approval" in refused(launch, 403)
    with app.extensions["lti_tool"].db.transaction() as session:
        deployment = session.scalar(
            select(Deployment).where(Deployment.deployment_id == "new-deployment")
        )
        assert deployment is not None and deployment.status == DeploymentStatus.PENDING
        kinds = set(session.scalars(select(AuditEvent.kind)))
        assert "deployment.pending" in kinds


def test_approved_deployment_then_launches(app: Flask, browser: Browser, new_browser) -> None:
    from lti_tool.lti.registrations import set_deployment_status

    refused(crafted(browser, lambda cl: cl.update({c.DEPLOYMENT_ID: "dep-2"})), 403)
    with app.extensions["lti_tool"].db.transaction() as session:
        pk = session.scalar(select(Deployment.id).where(Deployment.deployment_id == "dep-2"))
        assert pk is not None
        set_deployment_status(session, pk, DeploymentStatus.APPROVED)
    ok = crafted(new_browser(), lambda cl: cl.update({c.DEPLOYMENT_ID: "dep-2"}))
    assert ok.response.status_code == 303


def test_registration_trusting_new_deployments_accepts_them(app: Flask, browser: Browser) -> None:
    from lti_tool.lti.models import Registration

    with app.extensions["lti_tool"].db.transaction() as session:
        for registration in session.scalars(select(Registration)):
            registration.trust_new_deployments = True
    ok = crafted(browser, lambda cl: cl.update({c.DEPLOYMENT_ID: "dep-3"}))
    assert ok.response.status_code == 303


def test_disabled_registration_is_refused(app: Flask, browser: Browser) -> None:
    from lti_tool.lti.models import Registration

    with app.extensions["lti_tool"].db.transaction() as session:
        for registration in session.scalars(select(Registration)):
            registration.active = False
    response = browser.login("t-tess")
    assert response.status_code == 401


# --- message ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda cl: cl.update({c.MESSAGE_TYPE: "LtiSubmissionReviewRequest"}), "not supported"),
        (lambda cl: cl.update({c.VERSION: "1.1"}), "incomplete"),
        (lambda cl: cl.pop(c.ROLES), "roles"),
        (lambda cl: cl.update({c.RESOURCE_LINK: {}}), "incomplete"),
        (lambda cl: cl.pop("sub"), "claim"),
        (lambda cl: cl.pop(c.DEPLOYMENT_ID), "deployment"),
        (lambda cl: cl.update({c.TARGET_LINK_URI: "https://evil.example/launch"}), "another tool"),
        (lambda cl: cl.update({c.MESSAGE_TYPE: c.DEEP_LINKING_REQUEST}), "incomplete"),
    ],
    ids=[
        "message-type",
        "version",
        "roles",
        "resource-link",
        "sub",
        "deployment",
        "target-link-uri",
        "deep-link-settings",
    ],
)
def test_incomplete_or_foreign_messages_are_refused(
    browser: Browser, mutate: Callable[[Claims], None], words: str
) -> None:
    assert words in refused(crafted(browser, mutate))


def test_refused_launch_is_audited_without_the_token(app: Flask, browser: Browser) -> None:
    launch = crafted(browser, lambda cl: cl.update(nonce="forged"))
    refused(launch)
    with app.extensions["lti_tool"].db.transaction() as session:
        events = list(
            session.scalars(select(AuditEvent).where(AuditEvent.kind == "launch.refused"))
        )
    assert events and launch.id_token not in str(events[0].data)


def test_refusal_is_explained_in_dutch_and_english(new_browser) -> None:
    dutch = crafted(new_browser("nl"), lambda cl: cl.update(nonce="forged"))
    assert "De nonce van het token past niet bij deze aanmelding." in dutch.response.get_data(
        as_text=True
    )
    english_by_cookie = new_browser("nl")
    english_by_cookie.client.set_cookie("ltt_lang", "en")
    english = crafted(english_by_cookie, lambda cl: cl.update(nonce="forged"))
    assert "The token's nonce does not match this login." in english.response.get_data(
        as_text=True
    ).replace("&#39;", "'")


# --- platform key set down or junk ----------------------------------------------------------


@pytest.mark.parametrize("jwks_path", ["/nope-404", "/", None])
def test_platform_jwks_down_or_junk_is_a_clear_502(
    app: Flask, browser: Browser, jwks_path: str | None
) -> None:
    from lti_tool.lti.models import Registration

    with app.extensions["lti_tool"].db.transaction() as session:
        registration = session.scalar(select(Registration))
        assert registration is not None
        registration.jwks_url = (
            browser.lms.url(jwks_path) if jwks_path else "http://127.0.0.1:1/jwks.json"
        )
    launch = crafted(browser, lambda cl: None)
    assert launch.response.status_code == 502
    assert "did not answer correctly" in launch.response.get_data(as_text=True)


def test_logs_never_contain_the_token(browser: Browser, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    refused_launch = crafted(browser, lambda cl: cl.update(nonce="forged"))
    accepted = browser.launch("s-anna")
    assert accepted.response.status_code == 303
    for token in (refused_launch.id_token, accepted.id_token):
        assert token and token not in caplog.text
        assert token[-40:] not in caplog.text  # not even the signature part
