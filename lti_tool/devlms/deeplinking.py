"""Deep Linking 2.0 return: verify the tool's LtiDeepLinkingResponse and store placements."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import jwt
from flask import Blueprint, render_template, request

from lti_tool.devlms import claims as c
from lti_tool.devlms.hints import DEEP_LINKING_DATA, InvalidHint
from lti_tool.devlms.outbound import ToolKeyError, unverified_claim, verify_tool_jwt
from lti_tool.devlms.platform import current_lms
from lti_tool.devlms.registry import ToolRegistration
from lti_tool.devlms.web import error_page

log = logging.getLogger(__name__)
bp = Blueprint("devlms_deeplinking", __name__)


class ResponseRefused(Exception):
    """The deep-linking response is not acceptable; the message says why."""


@bp.post("/deep_link_return")
def deep_link_return() -> str | tuple[str, int]:
    """Accept the form-posted ``JWT`` and show what was placed in the course."""
    lms = current_lms()
    token = request.form.get("JWT", "")
    tool = lms.tools.get(str(unverified_claim(token, "iss"))) if token else None
    if tool is None:
        return error_page(400, "Deep linking refused", "Missing JWT or unknown issuer (client_id).")
    try:
        claims = verify_tool_jwt(
            token,
            tool.jwks_uri,
            issuer=tool.client_id,
            audience=lms.issuer,
            required=["iss", "aud", "exp", "iat", "nonce"],
        )
        data = _check_message(tool, claims)
        request_data = lms.hints.loads(DEEP_LINKING_DATA, data)
        if request_data["client_id"] != tool.client_id:
            raise ResponseRefused("data was issued to another tool")
        if not lms.tokens.spend_once(request_data["id"]):
            raise ResponseRefused("this deep-linking response was already received")
        items = [_content_item(i) for i in claims.get(c.DL_CONTENT_ITEMS) or []]
    except ToolKeyError as exc:
        return error_page(502, "Deep linking failed", str(exc))
    except (jwt.InvalidTokenError, InvalidHint, ResponseRefused) as exc:
        log.info("deep-linking response of %s refused: %s", tool.client_id, exc)
        return error_page(400, "Deep linking refused", str(exc))
    course_id = request_data["course_id"]
    placed = [lms.placements.add(course_id, tool.client_id, **item) for item in items]
    log.info("%d item(s) placed in %s by %s", len(placed), course_id, tool.client_id)
    return render_template(
        "devlms/deep_link_done.html",
        course=lms.roster.course(course_id),
        user_id=request_data["user_id"],
        placed=placed,
        msg=claims.get(c.DL_MSG, ""),
        errormsg=claims.get(c.DL_ERRORMSG, ""),
    )


def _check_message(tool: ToolRegistration, claims: dict[str, Any]) -> str:
    """Check the LTI claims of the response; return its ``data``."""
    if claims.get(c.MESSAGE_TYPE) != c.DEEP_LINKING_RESPONSE:
        raise ResponseRefused(f"message_type must be {c.DEEP_LINKING_RESPONSE}")
    if claims.get(c.VERSION) != c.LTI_VERSION:
        raise ResponseRefused(f"version must be {c.LTI_VERSION}")
    if claims.get(c.DEPLOYMENT_ID) != tool.deployment_id:
        raise ResponseRefused("deployment_id does not match the tool's deployment")
    data = claims.get(c.DL_DATA)
    if not isinstance(data, str):
        raise ResponseRefused("the data sent with the request must come back unchanged")
    return data


def _content_item(item: Any) -> dict[str, Any]:
    """An ``ltiResourceLink`` content item as keyword arguments of ``PlacementStore.add``."""
    if not isinstance(item, dict) or item.get("type") != "ltiResourceLink":
        raise ResponseRefused("only content items of type ltiResourceLink are accepted")
    url = item.get("url")
    if url is not None and (
        not isinstance(url, str) or urlsplit(url).scheme not in {"http", "https"}
    ):
        raise ResponseRefused("a content item url must be an http(s) URL")
    custom = item.get("custom") or {}
    if not isinstance(custom, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in custom.items()
    ):
        raise ResponseRefused("custom must map strings to strings")
    title = item.get("title") or "Untitled"
    text = item.get("text") or ""
    if not isinstance(title, str) or not isinstance(text, str):
        raise ResponseRefused("title and text must be strings")
    return {"title": title, "url": url, "text": text, "custom": custom}
