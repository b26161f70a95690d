"""OIDC third-party initiated login: the first step of every launch."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from lti_tool.errors import LaunchError
from lti_tool.lti.registrations import find_for_login
from lti_tool.store import Store

LOGIN_TTL = 600
STATE_COOKIE_PREFIX = "ltt_state_"
MAX_PARAM = 2048


@dataclass(frozen=True)
class LoginRedirect:
    """Where to send the browser, and the state cookie that binds the launch to it."""

    url: str
    state: str
    cookie_name: str


def state_cookie_name(state: str) -> str:
    """One cookie per login, so parallel launches in one page do not overwrite each other."""
    return STATE_COOKIE_PREFIX + hashlib.sha256(state.encode()).hexdigest()[:16]


def initiate(
    session: Session,
    store: Store,
    params: dict[str, str],
    *,
    redirect_uri: str,
    our_target_prefixes: tuple[str, ...],
) -> LoginRedirect:
    """Check the login request, remember state+nonce in the shared store, build the redirect."""
    for name, value in params.items():
        if len(value) > MAX_PARAM:
            raise LaunchError("The login request is malformed.", detail=f"{name} too long")
    issuer = params.get("iss", "")
    login_hint = params.get("login_hint", "")
    target = params.get("target_link_uri", "")
    if not issuer or not login_hint or not target:
        raise LaunchError(
            "The login request is missing iss, login_hint or target_link_uri.",
        )
    if not is_our_target(target, our_target_prefixes):
        raise LaunchError("The launch is meant for another tool.", detail=target[:200])
    registration = find_for_login(session, issuer, params.get("client_id"))
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    record = {
        "nonce": nonce,
        "registration_id": registration.id,
        "target_link_uri": target,
        "relaunch": {k: v for k, v in params.items() if k in RELAUNCH_PARAMS},
    }
    store.put("login:" + state, json.dumps(record), LOGIN_TTL)
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": registration.client_id,
        "redirect_uri": redirect_uri,
        "login_hint": login_hint,
        "state": state,
        "nonce": nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in registration.auth_login_url else "?"
    return LoginRedirect(
        url=registration.auth_login_url + separator + urlencode(query),
        state=state,
        cookie_name=state_cookie_name(state),
    )


RELAUNCH_PARAMS = frozenset(
    {"iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id", "lti_deployment_id"}
)


def is_our_target(target: str, prefixes: tuple[str, ...]) -> bool:
    """True when ``target`` is exactly one of our launch URLs or below one of them."""
    return any(target == p or target.startswith(p.rstrip("/") + "/") for p in prefixes)
