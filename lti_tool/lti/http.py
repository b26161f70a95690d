"""Outgoing HTTP to platforms: one User-Agent, a timeout, typed failures, no secrets logged."""

from __future__ import annotations

import logging
from typing import Any

import requests

from lti_tool.errors import UpstreamError

USER_AGENT = "lti-tool/0.1 (+https://github.com/lti-tool)"
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
log = logging.getLogger(__name__)


class PlatformHttp:
    """A requests session with our User-Agent and a timeout on every call."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send a request; raise :class:`UpstreamError` on network failure or a 5xx."""
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            log.warning("%s %s failed: %s", method, _safe(url), type(exc).__name__)
            raise UpstreamError(detail=f"{method} {_safe(url)}: {type(exc).__name__}") from exc
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise UpstreamError(detail=f"{_safe(url)}: response too large")
        if response.status_code >= 500:
            log.warning("%s %s answered %s", method, _safe(url), response.status_code)
            raise UpstreamError(detail=f"{_safe(url)} answered {response.status_code}")
        return response

    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        """Send a request expecting a 2xx JSON body; anything else is an :class:`UpstreamError`."""
        response = self.request(method, url, **kwargs)
        if not 200 <= response.status_code < 300:
            raise UpstreamError(detail=f"{_safe(url)} answered {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamError(detail=f"{_safe(url)} did not answer JSON") from exc


def _safe(url: str) -> str:
    """The URL without its query string (which may carry tokens)."""
    return url.split("?", 1)[0]
