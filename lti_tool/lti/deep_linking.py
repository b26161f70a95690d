"""Deep Linking 2.0: the signed response that places our content in the course."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.lti import claims as c
from lti_tool.lti.context import LaunchContext
from lti_tool.lti.keys import sign
from lti_tool.lti.models import Registration


def response_jwt(
    session: Session,
    registration: Registration,
    ctx: LaunchContext,
    items: list[dict[str, Any]],
    message: str = "",
) -> str:
    """An ``LtiDeepLinkingResponse`` JWT carrying ``items`` back to the platform."""
    if ctx.deep_link is None:
        raise ValueError("not a deep-linking launch")
    claims: dict[str, Any] = {
        "iss": registration.client_id,
        "aud": registration.issuer,
        "azp": registration.client_id,
        "nonce": secrets.token_urlsafe(16),
        c.MESSAGE_TYPE: c.DEEP_LINKING_RESPONSE,
        c.VERSION: "1.3.0",
        c.DEPLOYMENT_ID: ctx.deployment_id,
        c.DL_CONTENT_ITEMS: items,
    }
    if ctx.deep_link.data is not None:
        claims[c.DL_DATA] = ctx.deep_link.data
    if message:
        claims[c.DL_MSG] = message
    return sign(session, claims)


def resource_link_item(url: str, title: str, text: str, custom: dict[str, str]) -> dict[str, Any]:
    """A content item of type ``ltiResourceLink``."""
    return {"type": "ltiResourceLink", "url": url, "title": title, "text": text, "custom": custom}
