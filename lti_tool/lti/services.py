"""LTI Advantage services: OAuth2 client-credentials tokens and Names and Role Provisioning."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.errors import UpstreamError
from lti_tool.lti import claims as c
from lti_tool.lti.http import PlatformHttp
from lti_tool.lti.keys import sign
from lti_tool.lti.models import Registration
from lti_tool.store import Store

NRPS_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES = 1000


def access_token(
    session: Session, store: Store, http: PlatformHttp, registration: Registration, scope: str
) -> str:
    """A bearer token for ``scope``, cached in the shared store until shortly before expiry."""
    cache_key = f"token:{registration.id}:{scope}"
    cached = store.get(cache_key)
    if cached:
        return cached
    assertion = sign(
        session,
        {
            "iss": registration.client_id,
            "sub": registration.client_id,
            "aud": registration.auth_audience or registration.auth_token_url,
            "jti": secrets.token_urlsafe(16),
        },
    )
    data = http.json(
        "POST",
        registration.auth_token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": scope,
        },
    )
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise UpstreamError("The platform did not grant an access token.")
    lifetime = (
        int(data.get("expires_in", 3600)) if str(data.get("expires_in", "")).isdigit() else 3600
    )
    if lifetime > 60:
        store.put(cache_key, token, lifetime - 30)
    return token


def fetch_members(
    session: Session,
    store: Store,
    http: PlatformHttp,
    registration: Registration,
    memberships_url: str,
    *,
    role: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Every member of a course, following ``Link: rel="next"`` exactly as given."""
    token = access_token(session, store, http, registration, c.NRPS_SCOPE)
    headers = {"Authorization": f"Bearer {token}", "Accept": NRPS_MEDIA_TYPE}
    params: dict[str, str] = {}
    if role:
        params["role"] = role
    if limit:
        params["limit"] = str(limit)
    members: list[dict[str, Any]] = []
    url: str | None = memberships_url
    for _page in range(MAX_PAGES):
        if url is None:
            return members
        response = http.request("GET", url, headers=headers, params=params or None)
        if response.status_code != 200:
            raise UpstreamError(detail=f"names and roles answered {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise UpstreamError(detail="names and roles did not answer JSON") from exc
        page = body.get("members") if isinstance(body, dict) else None
        if not isinstance(page, list):
            raise UpstreamError(detail="names and roles answer has no members list")
        members.extend(m for m in page if isinstance(m, dict))
        url = response.links.get("next", {}).get("url")
        params = {}  # the next URL carries its own query
    raise UpstreamError(detail="names and roles paging did not end")
