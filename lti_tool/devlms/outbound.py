"""Outgoing HTTP (User-Agent, timeout) and verification of JWTs signed by a tool."""

from __future__ import annotations

from typing import Any

import jwt
import requests

USER_AGENT = "lti-tool-devlms/0.1"
TIMEOUT_SECONDS = 10
LEEWAY_SECONDS = 60


class ToolKeyError(Exception):
    """The tool's JWKS could not be fetched or holds no usable key for the token."""


def get(url: str, **kwargs: Any) -> requests.Response:
    """GET ``url`` with the platform's User-Agent and a timeout."""
    headers = {"User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
    return requests.get(url, headers=headers, timeout=TIMEOUT_SECONDS, **kwargs)


def _tool_key(jwks_uri: str, kid: str | None) -> jwt.PyJWK:
    try:
        response = get(jwks_uri, headers={"Accept": "application/json"})
        response.raise_for_status()
        keys = response.json()["keys"]
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise ToolKeyError(f"cannot read the tool's JWKS at {jwks_uri}: {exc}") from exc
    candidates = [k for k in keys if isinstance(k, dict) and k.get("kty") == "RSA"]
    if kid is not None:
        candidates = [k for k in candidates if k.get("kid") == kid]
    if len(candidates) != 1:
        raise ToolKeyError(f"the tool's JWKS has no single RSA key for kid {kid!r}")
    try:
        return jwt.PyJWK(candidates[0], algorithm="RS256")
    except jwt.PyJWKError as exc:
        raise ToolKeyError(f"unusable key in the tool's JWKS: {exc}") from exc


def verify_tool_jwt(
    token: str, jwks_uri: str, *, issuer: str, audience: str, required: list[str]
) -> dict[str, Any]:
    """Verify an RS256 JWT against the tool's JWKS and return its claims.

    Raises :class:`jwt.InvalidTokenError` for a bad token, :class:`ToolKeyError` when the
    key cannot be found.
    """
    header = jwt.get_unverified_header(token)
    if header.get("alg") != "RS256":
        raise jwt.InvalidAlgorithmError("the token must be signed with RS256")
    key = _tool_key(jwks_uri, header.get("kid"))
    return jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        issuer=issuer,
        audience=audience,
        leeway=LEEWAY_SECONDS,
        options={"require": required},
    )


def unverified_claim(token: str, name: str) -> Any:
    """A claim read without verification, to find which tool's keys to verify with."""
    try:
        return jwt.decode(token, options={"verify_signature": False}).get(name)
    except jwt.InvalidTokenError:
        return None
