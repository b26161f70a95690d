"""The platform's RSA signing keys: a current key and the previous one, both in the JWKS."""

from __future__ import annotations

import secrets
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from lti_tool.devlms.store import JsonStore

_DOC = "keys"


def _new_key() -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {"kid": f"devlms-{secrets.token_hex(6)}", "pem": pem.decode("ascii")}


class KeyRing:
    """Keys kept in ``keys.json``; the last entry signs, the one before stays published."""

    def __init__(self, store: JsonStore) -> None:
        self._store = store
        with store.lock:
            self._keys: list[dict[str, str]] = store.load(_DOC, [])
            if not self._keys:
                self._keys = [_new_key()]
                store.save(_DOC, self._keys)
        self._private = {k["kid"]: _load(k["pem"]) for k in self._keys}

    @property
    def current_kid(self) -> str:
        return self._keys[-1]["kid"]

    def rotate(self) -> str:
        """Make a new current key; the old current becomes previous; older ones are dropped."""
        with self._store.lock:
            self._keys = [*self._keys[-1:], _new_key()]
            self._store.save(_DOC, self._keys)
            self._private = {k["kid"]: _load(k["pem"]) for k in self._keys}
        return self.current_kid

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public keys as a JSON Web Key Set."""
        keys = []
        for kid, private in self._private.items():
            jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": keys}

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        """RS256-sign ``claims``.

        ``kid`` None signs with the current key; a published kid signs with that key; any
        other kid signs with the current key but names the unknown kid in the header.
        """
        header_kid = kid or self.current_kid
        key = self._private.get(header_kid, self._private[self.current_kid])
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": header_kid})


def _load(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key
