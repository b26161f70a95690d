"""Short-lived secrets kept in memory: access tokens, used assertion ids, registration tokens."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

ACCESS_TOKEN_SECONDS = 3600
REGISTRATION_TOKEN_SECONDS = 3600


@dataclass(frozen=True)
class AccessToken:
    """What a bearer token grants: a client and its scopes, until ``expires_at``."""

    client_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class _RegistrationToken:
    expires_at: float
    client_id: str | None = None


class TokenBook:
    """The platform's in-memory ledger of issued and spent one-off values."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._access: dict[str, AccessToken] = {}
        self._spent_jti: dict[tuple[str, str], float] = {}
        self._registration: dict[str, _RegistrationToken] = {}
        self._spent: set[str] = set()

    def spend_jti(self, client_id: str, jti: str, expires_at: float) -> bool:
        """Record a client assertion's jti; False when it was used before."""
        now = time.time()
        with self._lock:
            self._spent_jti = {k: exp for k, exp in self._spent_jti.items() if exp > now - 600}
            if (client_id, jti) in self._spent_jti:
                return False
            self._spent_jti[(client_id, jti)] = expires_at
            return True

    def spend_once(self, value: str) -> bool:
        """Mark a one-off value (e.g. deep-linking data) as used; False when it already was."""
        with self._lock:
            if value in self._spent:
                return False
            self._spent.add(value)
            return True

    def issue_access_token(self, client_id: str, scopes: frozenset[str]) -> tuple[str, int]:
        """A new random bearer token and its lifetime in seconds."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            expiry = time.time() + ACCESS_TOKEN_SECONDS
            self._access[token] = AccessToken(client_id, scopes, expiry)
        return token, ACCESS_TOKEN_SECONDS

    def access_token(self, token: str) -> AccessToken | None:
        """The grant behind a bearer token, or None when unknown or expired."""
        with self._lock:
            grant = self._access.get(token)
        if grant is None or grant.expires_at <= time.time():
            return None
        return grant

    def issue_registration_token(self) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            expiry = time.time() + REGISTRATION_TOKEN_SECONDS
            self._registration[token] = _RegistrationToken(expiry)
        return token

    def registration_token_usable(self, token: str) -> bool:
        with self._lock:
            return self._usable(self._registration.get(token))

    def claim_registration_token(self, token: str, client_id: str) -> bool:
        """Tie an unused token to the client it registers; False when it is not usable."""
        with self._lock:
            entry = self._registration.get(token)
            if not self._usable(entry):
                return False
            assert entry is not None
            entry.client_id = client_id
            return True

    @staticmethod
    def _usable(entry: _RegistrationToken | None) -> bool:
        return entry is not None and entry.client_id is None and entry.expires_at > time.time()

    def registered_with(self, token: str) -> str | None:
        """The client_id registered with this token, if any."""
        with self._lock:
            entry = self._registration.get(token)
        return entry.client_id if entry else None
