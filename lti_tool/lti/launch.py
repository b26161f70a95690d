"""Validating an LTI 1.3 launch (id_token + state) into a :class:`LaunchContext`.

On top of what pylti1p3 offers we check: RS256 only; kid looked up with one re-fetch on an
unknown kid; iss registered; aud contains our client_id and azp equals it when aud has several
values; exp/iat with a bounded leeway; nonce equal to the login's and single use across workers;
state bound to the browser by a cookie; deployment approved; message type, version, roles, sub,
resource link id and deep-linking settings (pylti1p3's message validators); target_link_uri ours.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from pylti1p3.exception import LtiException
from pylti1p3.message_validators.deep_link import DeepLinkMessageValidator
from pylti1p3.message_validators.resource_message import ResourceMessageValidator
from sqlalchemy.orm import Session

from lti_tool.errors import CookiesBlocked, LaunchError
from lti_tool.lti import claims as c
from lti_tool.lti.context import LaunchContext, build_context
from lti_tool.lti.login import is_our_target, state_cookie_name
from lti_tool.lti.platform_keys import PlatformKeys
from lti_tool.lti.registrations import check_deployment, get_registration
from lti_tool.store import Store

MAX_ID_TOKEN = 64 * 1024
_VALIDATORS = {
    c.RESOURCE_LINK_REQUEST: ResourceMessageValidator(),
    c.DEEP_LINKING_REQUEST: DeepLinkMessageValidator(),
}


@dataclass(frozen=True)
class ValidatedLaunch:
    context: LaunchContext
    new_deployment: bool


def validate(
    session: Session,
    store: Store,
    keys: PlatformKeys,
    form: Mapping[str, str],
    cookies: Mapping[str, str],
    *,
    leeway: int,
    our_target_prefixes: tuple[str, ...],
) -> ValidatedLaunch:
    """Check every part of the launch; raise :class:`LaunchError` naming the first failure."""
    id_token = form.get("id_token", "")
    state = form.get("state", "")
    if not id_token or not state:
        raise LaunchError("The launch is missing id_token or state.")
    if len(id_token) > MAX_ID_TOKEN or len(state) > 256:
        raise LaunchError("The launch is malformed.", detail="oversized id_token or state")

    raw_login = store.take("login:" + state)
    if raw_login is None:
        raise LaunchError("This launch has expired or was already used. Open the tool again.")
    login = json.loads(raw_login)
    if cookies.get(state_cookie_name(state)) != state:
        if not any(name.startswith("ltt_") for name in cookies):
            raise CookiesBlocked(relaunch=login["relaunch"])
        raise LaunchError("The launch was started in another browser.")

    header = _header(id_token)
    unverified = _unverified_claims(id_token)
    registration = get_registration(session, login["registration_id"])
    if unverified.get("iss") != registration.issuer or not registration.active:
        raise LaunchError("The token was issued by a platform that is not registered.")
    aud = unverified.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if registration.client_id not in audiences:
        raise LaunchError("The token is meant for another tool (aud).")
    if len(audiences) > 1 and unverified.get("azp") != registration.client_id:
        raise LaunchError("The token has several audiences and azp is not ours.")

    public_key = keys.key_for(registration.jwks_url, header["kid"])
    token = _verify(id_token, public_key, registration.client_id, registration.issuer, leeway)

    # The nonce is ours, bound to one state that was just taken atomically from the shared
    # store: a token can therefore be used once, whichever worker receives it.
    if token.get("nonce") != login["nonce"]:
        raise LaunchError("The token's nonce does not match this login.")

    deployment_id = token.get(c.DEPLOYMENT_ID)
    if not isinstance(deployment_id, str) or not deployment_id:
        raise LaunchError("The token has no deployment_id.")
    _check_message(token)
    target = token.get(c.TARGET_LINK_URI)
    if not isinstance(target, str) or not is_our_target(target, our_target_prefixes):
        raise LaunchError("The launch is meant for another tool (target_link_uri).")
    new_deployment = check_deployment(session, registration, deployment_id)
    context = build_context(registration.id, registration.product, token)
    return ValidatedLaunch(context=context, new_deployment=new_deployment)


def fingerprint(id_token: str) -> str:
    """A short, non-reversible reference to a token for logs."""
    return hashlib.sha256(id_token.encode()).hexdigest()[:12]


def _header(id_token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.DecodeError as exc:
        raise LaunchError("The launch token is not a valid JWT.") from exc
    if header.get("alg") != "RS256":
        raise LaunchError(
            "The launch token must be signed with RS256.", detail=str(header.get("alg"))
        )
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise LaunchError("The launch token has no key id (kid).")
    return header


def _unverified_claims(id_token: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.DecodeError as exc:
        raise LaunchError("The launch token is not a valid JWT.") from exc
    if not isinstance(claims, dict):
        raise LaunchError("The launch token is not a valid JWT.")
    return claims


def _verify(id_token: str, key: Any, client_id: str, issuer: str, leeway: int) -> dict[str, Any]:
    try:
        token: dict[str, Any] = jwt.decode(
            id_token,
            key=key,
            algorithms=["RS256"],
            audience=client_id,
            issuer=issuer,
            leeway=leeway,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise LaunchError("The launch token has expired.") from exc
    except jwt.ImmatureSignatureError as exc:
        raise LaunchError("The launch token was issued in the future.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise LaunchError("The launch token misses a required claim.", detail=exc.claim) from exc
    except jwt.InvalidSignatureError as exc:
        raise LaunchError("The launch token's signature is invalid.") from exc
    except jwt.InvalidTokenError as exc:
        raise LaunchError("The launch token is invalid.", detail=type(exc).__name__) from exc
    return token


def _check_message(token: dict[str, Any]) -> None:
    message_type = token.get(c.MESSAGE_TYPE)
    validator = _VALIDATORS.get(message_type) if isinstance(message_type, str) else None
    if validator is None:
        raise LaunchError(
            "This kind of LTI message is not supported.", detail=str(message_type)[:64]
        )
    if not isinstance(token.get(c.ROLES), list):
        raise LaunchError("The launch has no roles.")
    try:
        validator.validate(token)
    except LtiException as exc:
        raise LaunchError("The launch message is incomplete.", detail=str(exc)) from exc
    if message_type == c.RESOURCE_LINK_REQUEST and not isinstance(token.get(c.CONTEXT), dict):
        raise LaunchError("The launch has no course context.")
