"""Settings: defaults < environment (``LTI_TOOL_*``) < explicit overrides (tests).

Every setting is declared once in :data:`SETTINGS` with its type and default. An unknown
``LTI_TOOL_*`` variable or a malformed value stops start-up with a message naming it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lti_tool.errors import ConfigError

PREFIX = "LTI_TOOL_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


def _int(raw: str) -> int:
    return int(raw.strip())


def _str(raw: str) -> str:
    return raw


def _optional_str(raw: str) -> str | None:
    return raw or None


@dataclass(frozen=True)
class Settings:
    """The tool's settings; build with :func:`load_settings`."""

    database_url: str
    redis_url: str | None
    secret_key: str
    base_url: str
    dev: bool
    launch_leeway_seconds: int
    session_hours: int
    default_locale: str
    instance_path: str
    jwks_cache_seconds: int
    jwks_refetch_interval_seconds: int
    http_timeout_seconds: int
    max_form_bytes: int
    privacy_officer_contact: str
    school_year_end: str
    pack_path: str | None
    today: str | None
    roster_max_age_minutes: int
    stream_provider: str
    rtmp_url: str | None
    hls_url: str | None
    stream_secret: str
    stream_link_seconds: int
    stream_record_dir: str
    controller_name: str
    withdrawal_grace_days: int
    consent_link_days: int
    reminder_interval_hours: int
    max_scan_bytes: int
    timezone: str
    review_grace_days: int
    stream_media_dirs: str
    worker_interval_seconds: int
    media_storage: str
    media_root: str | None
    media_url: str | None
    s3_bucket: str | None
    s3_prefix: str
    s3_endpoint_url: str | None
    s3_region: str | None
    s3_sse: str
    s3_kms_key_id: str | None
    recording_max_bytes: int
    recording_max_seconds: int
    recording_max_pixels: int
    recording_formats: str
    upload_expiry_hours: int
    processing_timeout_seconds: int

    @property
    def https_only(self) -> bool:
        """Outside dev mode only https URLs are accepted, for platforms and for ourselves."""
        return not self.dev


_PARSERS: dict[str, Callable[[str], Any]] = {
    "database_url": _str,
    "redis_url": _optional_str,
    "secret_key": _str,
    "base_url": _str,
    "dev": _bool,
    "launch_leeway_seconds": _int,
    "session_hours": _int,
    "default_locale": _str,
    "instance_path": _str,
    "jwks_cache_seconds": _int,
    "jwks_refetch_interval_seconds": _int,
    "http_timeout_seconds": _int,
    "max_form_bytes": _int,
    "privacy_officer_contact": _str,
    "school_year_end": _str,
    "pack_path": _optional_str,
    "today": _optional_str,
    "roster_max_age_minutes": _int,
    "stream_provider": _str,
    "rtmp_url": _optional_str,
    "hls_url": _optional_str,
    "stream_secret": _str,
    "stream_link_seconds": _int,
    "stream_record_dir": _str,
    "controller_name": _str,
    "withdrawal_grace_days": _int,
    "consent_link_days": _int,
    "reminder_interval_hours": _int,
    "max_scan_bytes": _int,
    "timezone": _str,
    "review_grace_days": _int,
    "stream_media_dirs": _str,
    "worker_interval_seconds": _int,
    "media_storage": _str,
    "media_root": _optional_str,
    "media_url": _optional_str,
    "s3_bucket": _optional_str,
    "s3_prefix": _str,
    "s3_endpoint_url": _optional_str,
    "s3_region": _optional_str,
    "s3_sse": _str,
    "s3_kms_key_id": _optional_str,
    "recording_max_bytes": _int,
    "recording_max_seconds": _int,
    "recording_max_pixels": _int,
    "recording_formats": _str,
    "upload_expiry_hours": _int,
    "processing_timeout_seconds": _int,
}


def _defaults() -> dict[str, Any]:
    instance = PROJECT_ROOT / "instance"
    return {
        "database_url": f"sqlite:///{instance / 'lti_tool.sqlite3'}",
        "redis_url": None,
        "secret_key": "",
        "base_url": "http://127.0.0.1:5000",
        "dev": False,
        "launch_leeway_seconds": 60,
        "session_hours": 8,
        "default_locale": "nl",
        "instance_path": str(instance),
        "jwks_cache_seconds": 3600,
        "jwks_refetch_interval_seconds": 10,
        "http_timeout_seconds": 10,
        "max_form_bytes": 64 * 1024,
        "privacy_officer_contact": "privacy@example.org",
        "school_year_end": "07-31",
        "pack_path": None,
        "today": None,
        "roster_max_age_minutes": 60,
        "stream_provider": "nginx",
        "rtmp_url": None,
        "hls_url": None,
        "stream_secret": "",
        "stream_link_seconds": 240,
        "stream_record_dir": "/var/lib/lti-tool/records",
        "controller_name": "",
        "withdrawal_grace_days": 7,
        "consent_link_days": 14,
        "reminder_interval_hours": 24,
        "max_scan_bytes": 5 * 1024 * 1024,
        "timezone": "Europe/Amsterdam",
        "review_grace_days": 30,
        "stream_media_dirs": "/var/lib/lti-tool/hls",
        "worker_interval_seconds": 300,
        "media_storage": "local",
        "media_root": None,
        "media_url": None,
        "s3_bucket": None,
        "s3_prefix": "lti-tool/",
        "s3_endpoint_url": None,
        "s3_region": None,
        "s3_sse": "AES256",
        "s3_kms_key_id": None,
        "recording_max_bytes": 4 * 1024**3,
        "recording_max_seconds": 4 * 3600,
        "recording_max_pixels": 3840 * 2160,
        "recording_formats": "mp4,mov,webm,mkv",
        "upload_expiry_hours": 24,
        "processing_timeout_seconds": 3600,
    }


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Read settings from ``environ`` (default ``os.environ``) and apply ``overrides``.

    Raises :class:`ConfigError` naming the variable for unknown keys and bad values.
    """
    environ = os.environ if environ is None else environ
    values = _defaults()
    known = {f.name for f in fields(Settings)}
    for name, raw in environ.items():
        if not name.startswith(PREFIX):
            continue
        key = name[len(PREFIX) :].lower()
        if key not in known:
            raise ConfigError(
                f"unknown setting {name}; known: "
                + ", ".join(PREFIX + k.upper() for k in sorted(known))
            )
        try:
            values[key] = _PARSERS[key](raw)
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r} is malformed: {exc}") from exc
    for key, value in (overrides or {}).items():
        if key not in known:
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = value
    settings = Settings(**values)
    _check(settings)
    return settings


def _check(s: Settings) -> None:
    if not 0 <= s.launch_leeway_seconds <= 180:
        raise ConfigError("LTI_TOOL_LAUNCH_LEEWAY_SECONDS must be between 0 and 180")
    if s.roster_max_age_minutes < 0:
        raise ConfigError("LTI_TOOL_ROSTER_MAX_AGE_MINUTES must be 0 (off) or more")
    if s.session_hours < 1:
        raise ConfigError("LTI_TOOL_SESSION_HOURS must be at least 1")
    if s.default_locale not in {"nl", "en"}:
        raise ConfigError("LTI_TOOL_DEFAULT_LOCALE must be 'nl' or 'en'")
    parts = urlsplit(s.base_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"}:
        raise ConfigError("LTI_TOOL_BASE_URL must be an origin like https://tool.example.org")
    if s.https_only and parts.scheme != "https":
        raise ConfigError("LTI_TOOL_BASE_URL must use https (set LTI_TOOL_DEV=1 for local use)")
    if not s.dev and len(s.secret_key) < 32:
        raise ConfigError("LTI_TOOL_SECRET_KEY must be set to at least 32 characters")
    if not s.database_url.startswith(("sqlite", "postgresql")):
        raise ConfigError("LTI_TOOL_DATABASE_URL must be a sqlite:// or postgresql:// URL")
    try:
        month, day = (int(p) for p in s.school_year_end.split("-"))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise ValueError
    except ValueError:
        raise ConfigError("LTI_TOOL_SCHOOL_YEAR_END must be MM-DD, e.g. 07-31") from None
    try:
        ZoneInfo(s.timezone)
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigError(
            f"LTI_TOOL_TIMEZONE {s.timezone!r} is not a time zone name like Europe/Amsterdam"
        ) from None
    _check_streams(s)
    _check_consent(s)
    _check_retention(s)
    _check_recordings(s)
    for name in ("http_timeout_seconds", "jwks_cache_seconds", "max_form_bytes"):
        if getattr(s, name) <= 0:
            raise ConfigError(f"{PREFIX}{name.upper()} must be positive")


def _check_consent(s: Settings) -> None:
    """Consent: days a withdrawn item stays before deletion (G3.2), days a signed consent link
    works, hours between reminders, the largest scan of a paper form."""
    if not 0 <= s.withdrawal_grace_days <= 30:
        raise ConfigError("LTI_TOOL_WITHDRAWAL_GRACE_DAYS must be between 0 and 30")
    if not 1 <= s.consent_link_days <= 60:
        raise ConfigError("LTI_TOOL_CONSENT_LINK_DAYS must be between 1 and 60")
    if s.reminder_interval_hours < 1:
        raise ConfigError("LTI_TOOL_REMINDER_INTERVAL_HOURS must be at least 1")
    if not 64 * 1024 <= s.max_scan_bytes <= 50 * 1024 * 1024:
        raise ConfigError("LTI_TOOL_MAX_SCAN_BYTES must be between 64 KiB and 50 MiB")


def _check_retention(s: Settings) -> None:
    """Retention: days an unanswered yearly review (G4.2) waits before the item is deleted,
    the folders holding live-stream leftovers, the worker's pause between sweeps."""
    if not 0 <= s.review_grace_days <= 365:
        raise ConfigError("LTI_TOOL_REVIEW_GRACE_DAYS must be between 0 and 365")
    for folder in media_dirs(s):
        if not folder.startswith("/"):
            raise ConfigError(
                "LTI_TOOL_STREAM_MEDIA_DIRS must list absolute folders (':'-separated)"
            )
    if not 5 <= s.worker_interval_seconds <= 86400:
        raise ConfigError("LTI_TOOL_WORKER_INTERVAL_SECONDS must be between 5 and 86400")


def media_dirs(s: Settings) -> list[str]:
    """The folders of ``LTI_TOOL_STREAM_MEDIA_DIRS`` (':'-separated; empty: none)."""
    return [d for d in s.stream_media_dirs.split(":") if d.strip()]


def _check_streams(s: Settings) -> None:
    """Live streams: where encoders push (default ``rtmp://<base host>/live``), where viewers
    fetch signed HLS (default ``<base url>/hls``, nginx in front of the tool) and the secret
    nginx checks links with (default: derived from the secret key)."""
    if s.rtmp_url is not None:
        rtmp = urlsplit(s.rtmp_url)
        if rtmp.scheme not in {"rtmp", "rtmps"} or not rtmp.netloc or rtmp.query:
            raise ConfigError("LTI_TOOL_RTMP_URL must be like rtmp://media.example.org/live")
    if s.hls_url is not None:
        hls = urlsplit(s.hls_url)
        if hls.scheme not in {"http", "https"} or not hls.netloc or hls.query or hls.fragment:
            raise ConfigError("LTI_TOOL_HLS_URL must be like https://media.example.org/hls")
        if s.https_only and hls.scheme != "https":
            raise ConfigError("LTI_TOOL_HLS_URL must use https (set LTI_TOOL_DEV=1 for local use)")
    if not 30 <= s.stream_link_seconds <= 300:
        raise ConfigError("LTI_TOOL_STREAM_LINK_SECONDS must be between 30 and 300")
    if s.stream_secret and (
        len(s.stream_secret) < 32
        or not s.stream_secret.isascii()
        or any(c in s.stream_secret for c in "\"'$;{}\\ \t\r\n")
    ):
        raise ConfigError(
            "LTI_TOOL_STREAM_SECRET must be at least 32 characters without quotes, $, ;, "
            "braces, backslashes or spaces"
        )


RECORDING_FORMATS = frozenset({"mp4", "mov", "webm", "mkv", "m4a", "ogg"})


def _check_recordings(s: Settings) -> None:
    """Recordings: where media is stored (``local`` under ``MEDIA_ROOT``, default
    ``<instance>/media``, outside the web root; or ``s3``), where viewers fetch signed media
    (default ``<base url>/media``, nginx ``secure_link``) and the limits of an upload."""
    if s.media_storage not in {"local", "s3"}:
        raise ConfigError("LTI_TOOL_MEDIA_STORAGE must be 'local' or 's3'")
    if s.media_storage == "s3" and not s.s3_bucket:
        raise ConfigError("LTI_TOOL_S3_BUCKET is needed with LTI_TOOL_MEDIA_STORAGE=s3")
    if s.s3_sse not in {"AES256", "aws:kms", "none"}:
        raise ConfigError("LTI_TOOL_S3_SSE must be AES256, aws:kms or none")
    if s.s3_sse == "aws:kms" and not s.s3_kms_key_id:
        raise ConfigError("LTI_TOOL_S3_KMS_KEY_ID is needed with LTI_TOOL_S3_SSE=aws:kms")
    for name in ("media_url", "s3_endpoint_url"):
        value = getattr(s, name)
        if value is None:
            continue
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query:
            raise ConfigError(f"{PREFIX}{name.upper()} must be an http(s) URL")
        if s.https_only and parts.scheme != "https":
            raise ConfigError(f"{PREFIX}{name.upper()} must use https (LTI_TOOL_DEV=1 for local)")
    if not 1024 * 1024 <= s.recording_max_bytes <= 100 * 1024**3:
        raise ConfigError("LTI_TOOL_RECORDING_MAX_BYTES must be between 1 MiB and 100 GiB")
    if not 10 <= s.recording_max_seconds <= 24 * 3600:
        raise ConfigError("LTI_TOOL_RECORDING_MAX_SECONDS must be between 10 and 86400")
    if not 64 * 64 <= s.recording_max_pixels <= 7680 * 4320:
        raise ConfigError("LTI_TOOL_RECORDING_MAX_PIXELS must be between 4096 and 33177600")
    formats = {f.strip() for f in s.recording_formats.split(",") if f.strip()}
    if not formats or formats - RECORDING_FORMATS:
        raise ConfigError(
            "LTI_TOOL_RECORDING_FORMATS must list some of " + ", ".join(sorted(RECORDING_FORMATS))
        )
    if not 1 <= s.upload_expiry_hours <= 24 * 14:
        raise ConfigError("LTI_TOOL_UPLOAD_EXPIRY_HOURS must be between 1 and 336")
    if not 30 <= s.processing_timeout_seconds <= 6 * 3600:
        raise ConfigError("LTI_TOOL_PROCESSING_TIMEOUT_SECONDS must be between 30 and 21600")
