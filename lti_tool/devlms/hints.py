"""Opaque, signed and expiring values the platform hands out and later reads back.

Login hints, LTI message hints, deep-linking ``data`` and NRPS page tokens are all
signed JSON (itsdangerous), so a tool can pass them on but not forge or alter them.
Their text is base64url and case-sensitive: lower-casing one breaks its signature.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer

MAX_AGE_SECONDS = 3600
LOGIN_HINT = "login-hint"
MESSAGE_HINT = "lti-message-hint"
DEEP_LINKING_DATA = "deep-linking-data"
NRPS_PAGE = "nrps-page"


class InvalidHint(Exception):
    """A value that was not issued by this platform for that purpose, or has expired."""


class HintSigner:
    """Signs and reads back values for one purpose each (the salt)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def dumps(self, purpose: str, value: Any) -> str:
        return URLSafeTimedSerializer(self._secret, salt=purpose).dumps(value)

    def loads(self, purpose: str, token: str) -> Any:
        try:
            return URLSafeTimedSerializer(self._secret, salt=purpose).loads(
                token, max_age=MAX_AGE_SECONDS
            )
        except BadData as exc:
            raise InvalidHint(f"invalid or expired {purpose}") from exc
