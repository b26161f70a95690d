"""Platform public keys: fetched from the registration's JWKS URL, cached per process,
re-fetched once on an unknown ``kid`` (rate limited across workers through the shared store)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.algorithms import RSAAlgorithm

from lti_tool.errors import LaunchError, UpstreamError
from lti_tool.lti.http import PlatformHttp
from lti_tool.store import Store


@dataclass
class _Cached:
    keys: dict[str, Any]
    fetched_at: float


class PlatformKeys:
    """Looks up a platform's RSA public key by kid."""

    def __init__(self, http: PlatformHttp, store: Store, max_age: int, refetch_interval: int):
        self.http = http
        self.store = store
        self.max_age = max_age
        self.refetch_interval = refetch_interval
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def key_for(self, jwks_url: str, kid: str) -> Any:
        """The public key with ``kid`` at ``jwks_url``; refuses the launch if there is none."""
        cached = self._cache.get(jwks_url)
        if cached is None or time.monotonic() - cached.fetched_at > self.max_age:
            cached = self._fetch(jwks_url)
        if kid not in cached.keys and self._may_refetch(jwks_url):
            cached = self._fetch(jwks_url)
        if kid not in cached.keys:
            raise LaunchError("The platform's signing key is unknown.", detail=f"kid {kid!r}")
        return cached.keys[kid]

    def _may_refetch(self, jwks_url: str) -> bool:
        return self.store.add("jwks-refetch:" + jwks_url, "1", self.refetch_interval)

    def _fetch(self, jwks_url: str) -> _Cached:
        data = self.http.json("GET", jwks_url)
        keys: dict[str, Any] = {}
        entries = data.get("keys") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise UpstreamError("The platform's key set is malformed.", detail=jwks_url)
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("kty") != "RSA" or "kid" not in entry:
                continue
            try:
                keys[str(entry["kid"])] = RSAAlgorithm.from_jwk(json.dumps(entry))
            except (jwt.InvalidKeyError, ValueError, KeyError):
                continue
        cached = _Cached(keys, time.monotonic())
        with self._lock:
            self._cache[jwks_url] = cached
        return cached
