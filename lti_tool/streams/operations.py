"""What happens to streams: keys issued and rotated, publishes accepted or refused, viewers
given short-lived links. Operations flush and audit; the web layer commits.

Who may watch is decided by :func:`lti_tool.access.audience.can_see` only; a stream adds one
gate: its item must be a stream that is allowed (state ``ready``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.access.audience import can_see
from lti_tool.audit.operations import record
from lti_tool.config import Settings
from lti_tool.db import utcnow
from lti_tool.errors import Conflict, Forbidden, NotFound, _
from lti_tool.items.models import Item, ItemState
from lti_tool.policy import Made
from lti_tool.recordings.models import Recording
from lti_tool.recordings.operations import import_stream_recording
from lti_tool.store import Store
from lti_tool.streams.models import Stream, StreamState
from lti_tool.streams.nginx import RECORDING_APP
from lti_tool.streams.providers import Ingest, LiveProvider, MediaStatus, Playback, build
from lti_tool.streams.window import Window

STREAMED = (Made.STREAM, Made.STREAM_AND_RECORDING)
_DUMMY_HASH = hashlib.sha256(b"no stream").hexdigest()


class NotAStream(Conflict):
    reason = _("This item is a recording, not a live stream.")


class StreamNotAllowed(Conflict):
    reason = _(
        "This stream is not allowed yet: it needs the confirmations and, where asked, "
        "everyone's consent first."
    )


class PublishRefused(Forbidden):
    """nginx is told no; ``code`` says why (audited, never shown to the encoder)."""

    reason = _("Publishing refused.")


def stream_secret(settings: Settings, secret_key: str) -> str:
    """The link secret: configured, or derived from the tool's secret key."""
    if settings.stream_secret:
        return settings.stream_secret
    return hmac.new(secret_key.encode(), b"lti_tool streams", hashlib.sha256).hexdigest()


def provider_options(settings: Settings, secret_key: str) -> dict[str, Any]:
    """The built-in provider's options from the tool's settings (defaults from the base URL)."""
    host = settings.base_url.split("://", 1)[1].rstrip("/").rsplit(":", 1)[0]
    return {
        "rtmp_url": settings.rtmp_url or f"rtmp://{host}/live",
        "hls_url": settings.hls_url or settings.base_url.rstrip("/") + "/hls",
        "secret": stream_secret(settings, secret_key),
        "link_seconds": settings.stream_link_seconds,
    }


def provider_for(settings: Settings, secret_key: str) -> LiveProvider:
    return build(settings.stream_provider, provider_options(settings, secret_key))


STATUS_SECONDS = 15  # how long one probe of the media server is believed
PROBE_TIMEOUT = 1.0


def media_status(provider: LiveProvider, store: Store) -> MediaStatus:
    """Whether the media server can be reached, probed at most every ``STATUS_SECONDS``
    (shared by every worker through ``store``)."""
    key = f"media-status:{provider.name}"
    cached = store.get(key)
    if cached is not None:
        ingest, playback = json.loads(cached)
        return MediaStatus(ingest, playback)
    found = provider.status(PROBE_TIMEOUT)
    store.put(key, json.dumps([found.ingest, found.playback]), STATUS_SECONDS)
    return found


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def refusal(item: Item) -> Conflict | None:
    """Why ``item`` cannot be streamed now, or None."""
    if item.made not in STREAMED:
        return NotAStream()
    if item.state is not ItemState.READY or item.removed_at is not None:
        return StreamNotAllowed()
    return None


def stream_of(session: Session, item: Item) -> Stream | None:
    return session.scalar(select(Stream).where(Stream.item_id == item.id))


def _stream_for(session: Session, item: Item, provider: LiveProvider) -> Stream:
    """The stream of ``item``, made (with an unguessable public name) on first use."""
    stream = stream_of(session, item)
    if stream is None:
        stream = Stream(item_id=item.id, provider=provider.name, name=secrets.token_urlsafe(18))
        session.add(stream)
    return stream


def issue_key(
    session: Session, item: Item, provider: LiveProvider, *, actor: str
) -> tuple[Stream, str, Ingest]:
    """A new secret key for the stream of ``item`` (created on first use); the old key stops
    working at once. Returns the stream, the key (shown once) and where to push."""
    problem = refusal(item)
    if problem is not None:
        raise problem
    stream = _stream_for(session, item, provider)
    key = secrets.token_urlsafe(24)
    stream.key_hash = _hash(key)
    stream.key_version = (stream.key_version or 0) + 1
    stream.key_set_at = utcnow()
    session.flush()
    record(
        session,
        "stream.key_issued",
        actor=actor,
        course_id=item.course_id,
        subject=item.subject,
        stream=stream.name,
        key_version=stream.key_version,
    )
    return stream, key, provider.ingest(stream.name, key, recorded(item))


def recorded(item: Item) -> bool:
    """Whether the decision says this stream is also recorded."""
    return item.made is Made.STREAM_AND_RECORDING


def _refusal_code(stream: Stream | None, key: str, app: str | None = None) -> str | None:
    """Why ``key`` may not publish ``stream`` now (a short code), or None; ``app`` (the RTMP
    application) must be the recording one exactly when the item is recorded."""
    window = stream.window if stream is not None else None
    matches = hmac.compare_digest(
        _hash(key), (stream.key_hash if stream is not None else None) or _DUMMY_HASH
    )
    if stream is None:
        return "unknown-stream"
    if not key:
        return "no-key"
    if not matches:
        return "wrong-key"
    if refusal(stream.item) is not None:
        return "item-not-allowed"
    if app is not None and (app == RECORDING_APP) != recorded(stream.item):
        return "wrong-application"
    if window is not None and not window.allows(utcnow()):
        return "outside-window"
    return None


def schedule(
    session: Session, item: Item, window: Window | None, provider: LiveProvider, *, actor: str
) -> Stream:
    """Give the stream of ``item`` a window (None: it may go live any time), audited."""
    problem = refusal(item)
    if problem is not None:
        raise problem
    stream = _stream_for(session, item, provider)
    stream.window_start = window.start if window else None
    stream.window_end = window.end if window else None
    session.flush()
    record(
        session,
        "stream.scheduled" if window else "stream.unscheduled",
        actor=actor,
        course_id=item.course_id,
        subject=item.subject,
        stream=stream.name,
        start=window.start.isoformat() if window else None,
        end=window.end.isoformat() if window else None,
    )
    return stream


def _stream_named(session: Session, name: str) -> Stream | None:
    return session.scalar(select(Stream).where(Stream.name == name)) if name else None


def _refuse(
    session: Session, kind: str, stream: Stream | None, name: str, code: str, addr: str
) -> PublishRefused:
    item = stream.item if stream is not None else None
    record(
        session,
        kind,
        actor="nginx",
        course_id=item.course_id if item else None,
        subject=item.subject if item else None,
        stream=name[:64],
        reason=code,
        addr=addr[:64],
    )
    return PublishRefused(detail=code)


def publish(session: Session, name: str, key: str, *, app: str, addr: str = "") -> Stream:
    """nginx's ``on_publish``: only the current key of an allowed item's stream is accepted,
    in the application that records it if (and only if) its decision says recorded.
    A refusal is audited and raised as :class:`PublishRefused`."""
    stream = _stream_named(session, name)
    code = _refusal_code(stream, key, app)
    if code is not None:
        raise _refuse(session, "stream.publish_refused", stream, name, code, addr)
    assert stream is not None
    stream.state = StreamState.LIVE
    stream.started_at = utcnow()
    stream.ended_at = None
    record(
        session,
        "stream.published",
        actor="nginx",
        course_id=stream.item.course_id,
        subject=stream.item.subject,
        stream=name,
        key_version=stream.key_version,
        addr=addr[:64],
    )
    return stream


def still_publishing(session: Session, name: str, key: str, *, addr: str = "") -> None:
    """nginx's ``on_update`` (every few seconds while live): a publish whose key was replaced,
    or whose item was cancelled or lost its consent meanwhile, is cut off (audited)."""
    stream = _stream_named(session, name)
    code = _refusal_code(stream, key)
    if code is not None:
        raise _refuse(session, "stream.cut_off", stream, name, code, addr)


class NotARecordedFile(NotFound):
    """``on_record_done`` named a file outside the media server's recording folder."""


def take_recording(
    session: Session, name: str, path: str, settings: Settings, *, record_dir: str
) -> Recording | None:
    """nginx's ``on_record_done``: the file the media server recorded of stream ``name``
    becomes a recording of its item (see ``recordings.operations.import_stream_recording``).
    Only files directly inside ``record_dir`` are taken."""
    folder = Path(record_dir).resolve()
    file = Path(path).resolve()
    stream = _stream_named(session, name)
    if stream is None or file.parent != folder or not file.is_file():
        raise NotARecordedFile(detail=path[:200])
    return import_stream_recording(session, stream.item, file, settings, actor="nginx")


def publish_done(session: Session, name: str) -> Stream | None:
    """nginx's ``on_publish_done``: the stream has ended (nginx writes no ENDLIST)."""
    stream = _stream_named(session, name)
    if stream is None or stream.state is not StreamState.LIVE:
        return stream
    stream.state = StreamState.ENDED
    stream.ended_at = utcnow()
    record(
        session,
        "stream.ended",
        actor="nginx",
        course_id=stream.item.course_id,
        subject=stream.item.subject,
        stream=name,
    )
    return stream


@dataclass(frozen=True)
class Viewing:
    """What a viewer's player gets: the stream's state and, while live, a signed link."""

    state: StreamState
    playback: Playback | None


def viewing(session: Session, item: Item, person_id: int | None, provider: LiveProvider) -> Viewing:
    """For ``person_id`` if they may watch ``item`` now (checked on every call: a student
    who left the roster, section or group is refused at the next renewal); else NotFound."""
    if person_id is None or not can_see(session, item, person_id):
        raise NotFound()
    problem = refusal(item)
    if problem is not None:
        raise problem
    stream = stream_of(session, item)
    if stream is None:
        return Viewing(StreamState.IDLE, None)
    if stream.state is not StreamState.LIVE:
        return Viewing(stream.state, None)
    return Viewing(stream.state, provider.playback(stream.name, f"p{person_id}"))
