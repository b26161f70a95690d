"""Media providers for live streams: the contract, a registry by name, typed errors.

A provider turns the tool's decisions into its media server's terms. The contract
(:class:`LiveProvider`):

- ``from_options(options)`` builds the provider from a plain mapping; unknown or malformed
  keys raise :class:`ProviderSettingsError` (the tool does not start).
- ``ingest(stream_name, key, recorded)`` says where an encoder pushes: server URL, stream
  name and the full URL with the key (for ffmpeg); ``recorded`` streams go where the media
  server also records them. The stream name is public; the key is the secret.
- ``playback(stream_name, viewer, now)`` returns a URL a player can fetch for a short time
  (at most ``MAX_LINK_SECONDS``), bound to the stream and the viewer. The provider's media
  server, not the tool, checks it on every request.
- ``accepts_callback(token)`` tells whether a callback (publish / publish done) came from the
  provider's media server (constant-time).
- ``status(timeout)`` probes whether encoders and players can reach the media server now
  (a teacher sees it before going live; never raises).

The tool decides *whether* (audience, keys, item state); a provider never does. Providers
register with :func:`register`; :func:`build` makes one by name. The built-in ``nginx``
provider (nginx-rtmp ingest, HLS through ``secure_link``) is the default.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from lti_tool.errors import ConfigError, UpstreamError, _
from lti_tool.streams import signing
from lti_tool.streams.nginx import RECORDING_APP

MAX_LINK_SECONDS = 300


class ProviderError(UpstreamError):
    """The media provider failed."""

    reason = _("The streaming service did not answer correctly.")


class UnknownProvider(ConfigError):
    """No provider is registered under the configured name."""


class ProviderSettingsError(ConfigError):
    """A provider's settings have an unknown key or a malformed value."""


@dataclass(frozen=True)
class Ingest:
    """Where an encoder pushes a stream."""

    server_url: str
    stream_name: str
    push_url: str


@dataclass(frozen=True)
class MediaStatus:
    """Whether the media server takes streams in (``ingest``) and serves them (``playback``)."""

    ingest: bool
    playback: bool

    @property
    def ok(self) -> bool:
        return self.ingest and self.playback


@dataclass(frozen=True)
class Playback:
    """A short-lived URL for one viewer of one stream."""

    url: str
    expires: int


class LiveProvider(ABC):
    """The contract every live-stream provider fulfils (see the module docstring)."""

    name: ClassVar[str]
    option_types: ClassVar[Mapping[str, type]]
    required: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """``options`` checked against ``option_types``: unknown keys and wrong types refused."""
        unknown = sorted(set(options) - set(cls.option_types))
        if unknown:
            raise ProviderSettingsError(
                f"unknown setting(s) {', '.join(unknown)} for stream provider {cls.name!r}; "
                f"known: {', '.join(sorted(cls.option_types))}"
            )
        missing = sorted(cls.required - set(options))
        if missing:
            raise ProviderSettingsError(
                f"stream provider {cls.name!r} needs setting(s) {', '.join(missing)}"
            )
        for key, value in options.items():
            expected = cls.option_types[key]
            if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
                raise ProviderSettingsError(
                    f"setting {key!r} of stream provider {cls.name!r} must be {expected.__name__}"
                )
        return dict(options)

    @classmethod
    @abstractmethod
    def from_options(cls, options: Mapping[str, Any]) -> LiveProvider:
        """The provider configured by ``options``."""

    @abstractmethod
    def ingest(self, stream_name: str, key: str, recorded: bool = False) -> Ingest:
        """Where an encoder pushes ``stream_name`` with ``key`` (and has it recorded)."""

    @abstractmethod
    def playback(self, stream_name: str, viewer: str, now: float | None = None) -> Playback:
        """A short-lived URL of ``stream_name`` for ``viewer``."""

    @abstractmethod
    def accepts_callback(self, token: str) -> bool:
        """Whether a callback carrying ``token`` comes from this provider's server."""

    @abstractmethod
    def status(self, timeout: float) -> MediaStatus:
        """Whether the media server can be reached now (each probe within ``timeout``)."""


_REGISTRY: dict[str, type[LiveProvider]] = {}


def register(cls: type[LiveProvider]) -> type[LiveProvider]:
    """Make ``cls`` available under ``cls.name`` (usable as a class decorator)."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ConfigError(f"stream provider {cls.name!r} is registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    return sorted(_REGISTRY)


def build(name: str, options: Mapping[str, Any]) -> LiveProvider:
    """The provider registered as ``name``, configured by ``options``."""
    cls = _REGISTRY.get(name)
    if cls is None:
        raise UnknownProvider(f"unknown stream provider {name!r}; known: {', '.join(names())}")
    return cls.from_options(options)


@register
class NginxProvider(LiveProvider):
    """nginx with nginx-rtmp: RTMP ingest checked by ``on_publish`` callbacks to the tool,
    HLS (1 s fragments) served only through ``secure_link`` paths (see ``signing``)."""

    name = "nginx"
    option_types: ClassVar[Mapping[str, type]] = {
        "rtmp_url": str,
        "hls_url": str,
        "secret": str,
        "link_seconds": int,
    }
    required = frozenset({"rtmp_url", "hls_url", "secret"})

    def __init__(self, rtmp_url: str, hls_url: str, secret: str, link_seconds: int = 240):
        if not 30 <= link_seconds <= MAX_LINK_SECONDS:
            raise ProviderSettingsError(f"link_seconds must be between 30 and {MAX_LINK_SECONDS}")
        if len(secret) < 32:
            raise ProviderSettingsError("the nginx provider's secret needs 32 characters or more")
        for label, url, schemes in (
            ("rtmp_url", rtmp_url, {"rtmp", "rtmps"}),
            ("hls_url", hls_url, {"http", "https"}),
        ):
            parts = urlsplit(url)
            if parts.scheme not in schemes or not parts.netloc or parts.query:
                raise ProviderSettingsError(f"{label} {url!r} is not a {'/'.join(schemes)} URL")
        if not rtmp_url.rstrip("/").endswith("/live"):
            raise ProviderSettingsError(
                f"rtmp_url {rtmp_url!r} must name the application /live (nginx-config makes it)"
            )
        self.rtmp_url = rtmp_url.rstrip("/")
        self.hls_url = hls_url.rstrip("/")
        self.secret = secret
        self.link_seconds = link_seconds

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> NginxProvider:
        return cls(**cls.check_options(options))

    def ingest(self, stream_name: str, key: str, recorded: bool = False) -> Ingest:
        """``rtmp_url`` names the ``live`` application; recorded streams go to the recording
        application next to it (``…/rec``, see ``nginx.RECORDING_APP``)."""
        server = self.rtmp_url
        if recorded:
            server = server.rsplit("/", 1)[0] + "/" + RECORDING_APP
        return Ingest(server, stream_name, f"{server}/{stream_name}?key={key}")

    def playback(self, stream_name: str, viewer: str, now: float | None = None) -> Playback:
        expires = int(time.time() if now is None else now) + self.link_seconds
        path = signing.signed_path(self.secret, stream_name, viewer, expires)
        return Playback(self.hls_url + path, expires)

    def callback_token(self) -> str:
        """The path token nginx's callbacks carry (in the generated configuration)."""
        return hmac.new(self.secret.encode(), b"nginx-callback", hashlib.sha256).hexdigest()[:40]

    def accepts_callback(self, token: str) -> bool:
        return hmac.compare_digest(token.encode(), self.callback_token().encode())

    def status(self, timeout: float) -> MediaStatus:
        """RTMP: the port accepts a connection; HLS: nginx answers HTTP at all (a 404 for the
        bare path is an answer)."""
        rtmp = urlsplit(self.rtmp_url)
        try:
            with socket.create_connection((rtmp.hostname or "", rtmp.port or 1935), timeout):
                ingest = True
        except OSError:
            ingest = False
        try:
            requests.get(self.hls_url + "/", timeout=timeout, allow_redirects=False)
            playback = True
        except requests.RequestException:
            playback = False
        return MediaStatus(ingest, playback)
