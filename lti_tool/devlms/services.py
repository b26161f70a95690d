"""LTI Advantage services: the platform JWKS, the OAuth2 token endpoint and NRPS 2.0."""

from __future__ import annotations

import logging
from typing import Any

import jwt
from flask import Blueprint, Response, jsonify, request

from lti_tool.devlms import claims as c
from lti_tool.devlms.hints import NRPS_PAGE, InvalidHint
from lti_tool.devlms.launch import personal_claims
from lti_tool.devlms.outbound import ToolKeyError, unverified_claim, verify_tool_jwt
from lti_tool.devlms.platform import DevLms, current_lms, with_query
from lti_tool.devlms.registry import ToolRegistration
from lti_tool.devlms.roster import Membership, role_matches
from lti_tool.devlms.tokens import AccessToken
from lti_tool.devlms.web import no_store, oauth_error

log = logging.getLogger(__name__)
bp = Blueprint("devlms_services", __name__)

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SUPPORTED_SCOPES = frozenset({c.NRPS_SCOPE})


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The platform's public keys: the current one and the previous one."""
    return jsonify(current_lms().keys.jwks())


@bp.post("/token")
def token() -> Response:
    """OAuth2 client_credentials grant with a private_key_jwt client assertion (RFC 7523)."""
    lms = current_lms()
    form = request.form
    if form.get("grant_type") != "client_credentials":
        return oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
    if form.get("client_assertion_type") != JWT_BEARER or not form.get("client_assertion"):
        return oauth_error(400, "invalid_request", "a jwt-bearer client_assertion is required")
    assertion = form["client_assertion"]
    client_id = unverified_claim(assertion, "iss")
    tool = lms.tools.get(client_id) if isinstance(client_id, str) else None
    if tool is None:
        return oauth_error(401, "invalid_client", "unknown client")
    try:
        claims = verify_tool_jwt(
            assertion,
            tool.jwks_uri,
            issuer=tool.client_id,
            audience=lms.url("/token"),
            required=["iss", "sub", "aud", "exp", "iat", "jti"],
        )
    except (jwt.InvalidTokenError, ToolKeyError) as exc:
        log.info("client assertion of %s refused: %s", tool.client_id, exc)
        return oauth_error(401, "invalid_client", f"client assertion refused: {exc}")
    if claims["sub"] != tool.client_id:
        return oauth_error(401, "invalid_client", "sub must equal the client_id")
    if not lms.tokens.spend_jti(tool.client_id, str(claims["jti"]), float(claims["exp"])):
        return oauth_error(401, "invalid_client", "client assertion was already used (jti)")
    granted = frozenset(form.get("scope", "").split()) & SUPPORTED_SCOPES & set(tool.scopes)
    if not granted:
        return oauth_error(400, "invalid_scope", "none of the requested scopes is granted")
    access_token, expires_in = lms.tokens.issue_access_token(tool.client_id, granted)
    log.info("access token issued to %s for %s", tool.client_id, " ".join(sorted(granted)))
    answer = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": " ".join(sorted(granted)),
    }
    return no_store(jsonify(answer))


def _bearer(lms: DevLms, scope: str) -> AccessToken | Response:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    grant = lms.tokens.access_token(value.strip()) if scheme.lower() == "bearer" else None
    if grant is None:
        response = oauth_error(401, "invalid_token", "a valid bearer access token is required")
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    if scope not in grant.scopes:
        response = oauth_error(403, "insufficient_scope", f"the token lacks scope {scope}")
        response.headers["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{scope}"'
        return response
    return grant


@bp.get("/nrps/<course_id>/memberships")
def memberships(course_id: str) -> Response:
    """NRPS 2.0 membership container, filtered by ``role``, paged by ``limit``.

    The ``Link: <...>; rel="next"`` URL carries a signed, case-sensitive page token ``p``
    that fixes the filter, the page size and the offset.
    """
    lms = current_lms()
    grant = _bearer(lms, c.NRPS_SCOPE)
    if isinstance(grant, Response):
        return grant
    try:
        course = lms.roster.course(course_id)
    except KeyError:
        return oauth_error(404, "not_found", "unknown context")
    try:
        role, limit, offset = _page_request(lms, course_id, grant.client_id)
    except ValueError as exc:
        return oauth_error(400, "invalid_request", str(exc))
    members = [m for m in lms.roster.members(course_id) if not role or role_matches(m.roles, role)]
    end = len(members) if limit is None else offset + limit
    tool = lms.tool(grant.client_id)
    response = jsonify(
        {
            "id": request.url,
            "context": {"id": course.id, "label": course.label, "title": course.title},
            "members": [_member(m, tool) for m in members[offset:end]],
        }
    )
    response.content_type = c.NRPS_MEDIA_TYPE
    if end < len(members):
        page = {"course": course_id, "client": grant.client_id, "role": role, "limit": limit}
        token = lms.hints.dumps(NRPS_PAGE, {**page, "offset": end})
        response.headers["Link"] = f'<{with_query(lms.nrps_url(course_id), p=token)}>; rel="next"'
    return response


def _page_request(lms: DevLms, course_id: str, client_id: str) -> tuple[str, int | None, int]:
    """(role filter, page size, offset) from the query, or from the page token ``p``."""
    if "p" in request.args:
        try:
            page: dict[str, Any] = lms.hints.loads(NRPS_PAGE, request.args["p"])
        except InvalidHint as exc:
            raise ValueError("invalid or expired page token") from exc
        if page["course"] != course_id or page["client"] != client_id:
            raise ValueError("the page token belongs to another request")
        return page["role"], page["limit"], page["offset"]
    limit = request.args.get("limit")
    if limit is not None and (not limit.isdigit() or int(limit) < 1):
        raise ValueError("limit must be a positive integer")
    return request.args.get("role", ""), int(limit) if limit else None, 0


def _member(m: Membership, tool: ToolRegistration) -> dict[str, Any]:
    return {
        "user_id": m.user.id,
        "status": m.status,
        **personal_claims(m.user, tool),
        "roles": list(m.roles),
    }
