"""The tool's RSA signing keys: create, rotate, retire, publish as JWKS, sign JWTs."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.lti.models import ToolKey


def create_key(session: Session) -> ToolKey:
    """Generate a new 2048-bit RSA key; it becomes the signing key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = secrets.token_urlsafe(16)
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key = ToolKey(kid=kid, private_pem=pem, public_jwk=json.dumps(jwk))
    session.add(key)
    session.flush()
    return key


def active_keys(session: Session) -> list[ToolKey]:
    """Unretired keys, newest first."""
    return list(
        session.scalars(
            select(ToolKey).where(ToolKey.retired_at.is_(None)).order_by(ToolKey.id.desc())
        )
    )


def signing_key(session: Session) -> ToolKey:
    """The newest unretired key; the first is created and committed on first use, in its own
    transaction, so the platform can fetch it while the caller's transaction is still open."""
    keys = active_keys(session)
    if keys:
        return keys[0]
    with Session(session.get_bind(), expire_on_commit=False) as own, own.begin():
        existing = active_keys(own)
        key = existing[0] if existing else create_key(own)
    return key  # detached; the caller's snapshot may predate it


def retire_previous(session: Session) -> list[str]:
    """Retire every unretired key but the signing key; returns the retired kids."""
    keys = active_keys(session)
    retired = []
    for key in keys[1:]:
        key.retired_at = utcnow()
        retired.append(key.kid)
    session.flush()
    return retired


def jwks(session: Session) -> dict[str, list[dict[str, Any]]]:
    """The public key set: the signing key and not-yet-retired previous keys."""
    return {"keys": [json.loads(k.public_jwk) for k in active_keys(session)]}


def sign(session: Session, claims: dict[str, Any], lifetime: int = 300) -> str:
    """Sign ``claims`` (iat/exp/jti added) with the signing key, RS256, header kid."""
    key = signing_key(session)
    now = int(time.time())
    body = {"iat": now, "exp": now + lifetime, "jti": secrets.token_urlsafe(16), **claims}
    return jwt.encode(body, key.private_pem, algorithm="RS256", headers={"kid": key.kid})
