"""Login initiation, launch sessions, CSRF, security headers and the health check."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask import Flask

from tests.support.browser import Browser


def test_login_redirects_to_the_platform_with_state_nonce_and_cookie(browser: Browser) -> None:
    response = browser.login("t-tess")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["response_mode"] == ["form_post"] and query["prompt"] == ["none"]
    assert query["scope"] == ["openid"] and query["response_type"] == ["id_token"]
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    cookie = response.headers["Set-Cookie"]
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned"):
        assert attribute in cookie


def test_login_with_unknown_issuer_or_foreign_target_is_refused(browser: Browser) -> None:
    url, params = browser.lms.login_initiation("t-tess", "course-1")
    path = urlsplit(url).path
    assert (
        browser.client.get(path, query_string={**params, "iss": "https://x.example"}).status_code
        == 401
    )
    foreign = {**params, "target_link_uri": "https://evil.example/lti/launch"}
    assert browser.client.get(path, query_string=foreign).status_code == 401
    missing = {k: v for k, v in params.items() if k != "login_hint"}
    assert browser.client.get(path, query_string=missing).status_code == 401
    assert browser.client.post(path, data=params).status_code == 302  # POST works too


def test_two_parallel_launches_in_one_browser_both_work(browser: Browser) -> None:
    first = browser.authorize(browser.login("t-tess", "course-1"))
    second = browser.authorize(browser.login("t-tess", "course-2"))
    a = browser.post_launch(second)
    b = browser.post_launch(first)
    assert a.page is not None and "Physics" in a.page.get_data(as_text=True)
    assert b.page is not None and "Biology" in b.page.get_data(as_text=True)


def test_session_url_is_useless_in_another_browser(browser: Browser, new_browser) -> None:
    launch = browser.launch("t-tess")
    home = launch.response.headers["Location"]
    other = new_browser()
    other.client.set_cookie("ltt_browser", "someone-elses-key")
    assert other.client.get(home).status_code == 403
    assert new_browser().client.get(home).status_code == 403  # no cookie at all


def test_unknown_session_is_expired(browser: Browser) -> None:
    browser.launch("t-tess")
    response = browser.client.get("/s/doesnotexist/")
    assert response.status_code == 401


def test_state_changing_request_needs_csrf_token(browser: Browser) -> None:
    launch = browser.launch("t-tess")
    assert browser.client.post(f"/s/{launch.sid}/roster/sync").status_code == 403
    assert (
        browser.client.post(
            f"/s/{launch.sid}/roster/sync", data={"csrf_token": "0" * 64}
        ).status_code
        == 403
    )


def test_student_cannot_sync_the_roster(browser: Browser) -> None:
    launch = browser.launch("s-anna")
    from lti_tool.web.sessions import csrf_token

    with browser.client.application.test_request_context():
        token = csrf_token(launch.sid)
    response = browser.client.post(f"/s/{launch.sid}/roster/sync", data={"csrf_token": token})
    assert response.status_code == 403


def test_frame_ancestors_name_the_platform(browser: Browser) -> None:
    launch = browser.launch("t-tess")
    assert launch.page is not None
    csp = launch.page.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {browser.lms.issuer}" in csp
    assert "evil" not in csp


def test_healthz(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json["checks"]["database"] == "ok"


def test_healthz_is_503_when_the_database_is_down(tool_settings: dict) -> None:
    from lti_tool import create_app

    broken = create_app(
        {**tool_settings, "database_url": "postgresql+psycopg://postgres@127.0.0.1:1/none"},
        environ={},
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "unavailable"


def test_oversized_form_is_413_not_500(app: Flask) -> None:
    response = app.test_client().post("/lti/launch", data={"id_token": "x" * 200_000})
    assert response.status_code == 413


def test_unknown_page_is_404_page(app: Flask) -> None:
    response = app.test_client().get("/nope", headers={"Accept-Language": "en"})
    assert response.status_code == 404 and "does not exist" in response.get_data(as_text=True)
