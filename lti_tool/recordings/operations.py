"""What happens to recordings: uploads started, received and finished (probed), converted by a
job, played by short-lived links, people marked as appearing, media erased. Operations flush
and audit; the web layer (or the job runner) commits.

Nothing is visible before it is ``ready``; a refused or failed file leaves no media behind.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.access.audience import active_students, can_see, can_see_recording
from lti_tool.access.models import GroupMember, Person
from lti_tool.audit.operations import record
from lti_tool.config import Settings, load_settings
from lti_tool.db import utcnow
from lti_tool.errors import Conflict, Forbidden, NotFound, ToolError, _
from lti_tool.items.models import Item, ItemState
from lti_tool.jobs.queue import enqueue
from lti_tool.policy import Made, Outcome
from lti_tool.recordings import links, processing, tus
from lti_tool.recordings.models import (
    Recording,
    RecordingItem,
    RecordingPerson,
    RecordingState,
    Source,
    Upload,
)
from lti_tool.recordings.storage import (
    Storage,
    StorageFull,
    StorageUnavailable,
    storage_for,
    uploads_dir,
    work_dir,
)

RECORDED = (Made.RECORDING, Made.STREAM_AND_RECORDING)
MEDIA_FILE = "media.mp4"
POSTER_FILE = "poster.jpg"
LINK_SECONDS = 240  # at most 5 minutes (the brief: short-lived)
MARGIN_BYTES = 64 * 1024 * 1024  # free space kept on the upload disk
PROCESS_JOB = "recordings.process"
EXPIRE_JOB = "recordings.expire_upload"


class NotARecording(Conflict):
    reason = _("This item is a live stream without a recording.")


class RecordingNotAllowed(Conflict):
    reason = _("Recordings cannot be added to this item: it was cancelled or withdrawn.")


class NotYours(Forbidden):
    reason = _("You cannot add a recording to this item.")


class UploadTooLarge(processing.TooLarge):
    pass


@dataclass(frozen=True)
class MediaLink:
    url: str
    poster: str | None
    expires: int


def limits(settings: Settings, source: Source | None = None) -> processing.Limits:
    """The processing limits; a recorded live stream also comes as FLV (nginx-rtmp)."""
    formats = {f.strip() for f in settings.recording_formats.split(",") if f.strip()}
    if source is Source.STREAM:
        formats.add("flv")
    return processing.Limits(
        max_bytes=settings.recording_max_bytes,
        max_seconds=settings.recording_max_seconds,
        max_pixels=settings.recording_max_pixels,
        formats=frozenset(formats),
        timeout=settings.processing_timeout_seconds,
    )


def recording_item(session: Session, item: Item) -> RecordingItem | None:
    return session.get(RecordingItem, item.id)


def is_hand_in(session: Session, item: Item) -> bool:
    found = recording_item(session, item)
    return bool(found and found.hand_in)


def refusal(item: Item) -> ToolError | None:
    """Why nothing can be recorded for ``item`` now, or None."""
    if item.made not in RECORDED:
        return NotARecording()
    # A consent item may be recorded before everyone consented: it is shown only after (G3).
    allowed = (ItemState.READY, ItemState.AWAITING_CONSENT)
    if item.state not in allowed or item.removed_at is not None:
        return RecordingNotAllowed()
    return None


def set_hand_in(
    session: Session, item: Item, *, hand_in: bool, shared_with_class: bool, actor: str
) -> RecordingItem:
    """Make ``item`` a G1 hand-in (each student hands in their own recording) or not; sharing
    with the class is allowed only within G1's own context (G1.1)."""
    if hand_in and item.rule != "G1":
        raise Conflict(_("Only an assessment recording (rule G1) can be handed in by students."))
    row = recording_item(session, item)
    if row is None:
        row = RecordingItem(item_id=item.id)
        session.add(row)
    row.hand_in = hand_in
    row.shared_with_class = hand_in and shared_with_class
    session.flush()
    record(
        session,
        "recording.hand_in_set",
        actor=actor,
        course_id=item.course_id,
        subject=item.subject,
        hand_in=row.hand_in,
        shared_with_class=row.shared_with_class,
    )
    return row


def may_upload(session: Session, item: Item, person_id: int, is_teacher: bool) -> bool:
    if is_teacher:
        return True
    return is_hand_in(session, item) and can_see(session, item, person_id)


# --- uploads (tus) ------------------------------------------------------------------------


def partial_path(settings: Settings, upload_id: str) -> Path:
    return uploads_dir(settings) / upload_id


def _new_upload(
    session: Session,
    item: Item,
    person_id: int,
    source: Source,
    filename: str,
    length: int,
    settings: Settings,
    *,
    owner_id: int | None = None,
    received: int = 0,
) -> Upload:
    """A recording of ``item`` in state ``uploading`` (invisible) and its upload record."""
    recording = Recording(
        item_id=item.id,
        public_id=secrets.token_urlsafe(16),
        uploaded_by_id=person_id,
        owner_id=owner_id,
        source=source,
        state=RecordingState.UPLOADING,
        filename=filename[:200],
        size=length,
        storage=settings.media_storage,
    )
    session.add(recording)
    session.flush()
    upload = Upload(
        id=secrets.token_urlsafe(32),
        recording_id=recording.id,
        person_id=person_id,
        length=length,
        offset=received,
        expires_at=utcnow() + dt.timedelta(hours=settings.upload_expiry_hours),
        recording=recording,
    )
    session.add(upload)
    session.flush()
    return upload


def start_upload(
    session: Session,
    item: Item,
    person: Person,
    *,
    is_teacher: bool,
    length: int,
    filename: str,
    source: Source,
    settings: Settings,
    actor: str,
) -> Upload:
    """A new tus upload of ``length`` bytes for ``item`` by ``person``: a recording in state
    ``uploading`` (invisible), an empty partial file, and a job that removes it if it is not
    finished in time."""
    problem = refusal(item)
    if problem is not None:
        raise problem
    if not may_upload(session, item, person.id, is_teacher):
        raise NotYours()
    if length <= 0:
        raise tus.BadLength()
    if length > settings.recording_max_bytes:
        raise UploadTooLarge(detail=f"{length} bytes")
    folder = uploads_dir(settings)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        raise StorageUnavailable(detail=str(exc)) from exc
    if free < length + MARGIN_BYTES:
        raise StorageFull(detail=f"{free} bytes free for {length}")
    hand_in = is_hand_in(session, item) and not is_teacher
    upload = _new_upload(
        session,
        item,
        person.id,
        source,
        filename or "recording",
        length,
        settings,
        owner_id=person.id if hand_in else None,
    )
    recording = upload.recording
    try:
        partial_path(settings, upload.id).touch(0o600, exist_ok=False)
    except OSError as exc:
        raise StorageUnavailable(detail=str(exc)) from exc
    enqueue(session, EXPIRE_JOB, {"upload_id": upload.id}, run_after=upload.expires_at)
    record(
        session,
        "recording.upload_started",
        actor=actor,
        course_id=item.course_id,
        subject=item.subject,
        recording=recording.id,
        bytes=length,
        source=source.value,
        hand_in=hand_in,
    )
    return upload


def import_stream_recording(
    session: Session, item: Item, recorded: Path, settings: Settings, *, actor: str
) -> Recording | None:
    """Take a live stream's file that the media server recorded (``recorded``, on this
    machine) as a recording of ``item``: moved out of the media server's folder, probed, then
    converted by the usual job (H.264/AAC copied into MP4 with faststart). It lives as long
    as its item. Returns None (file removed, audited) when the item is not a recorded
    stream or the media is refused."""
    if item.made is not Made.STREAM_AND_RECORDING or refusal(item) is not None:
        recorded.unlink(missing_ok=True)
        record(
            session,
            "recording.stream_discarded",
            actor=actor,
            course_id=item.course_id,
            subject=item.subject,
            reason="not-recorded" if item.made is not Made.STREAM_AND_RECORDING else "not-allowed",
        )
        return None
    size = recorded.stat().st_size
    upload = _new_upload(
        session, item, item.creator_id, Source.STREAM, recorded.name, size, settings, received=size
    )
    try:
        uploads_dir(settings).mkdir(parents=True, exist_ok=True)
        shutil.move(recorded, partial_path(settings, upload.id))
    except OSError as exc:
        raise StorageUnavailable(detail=str(exc)) from exc
    try:
        return finish(session, upload, settings, actor=actor)
    except ToolError:
        return None  # refused: finish removed the file and marked the recording failed


def get_upload(session: Session, upload_id: str, person_id: int, course_id: int) -> Upload:
    """The upload ``upload_id`` of this person in this course (404 for anyone else's)."""
    upload = session.get(Upload, upload_id) if len(upload_id) <= 43 else None
    if upload is None or upload.person_id != person_id:
        raise NotFound()
    if upload.recording.item.course_id != course_id:
        raise NotFound()
    if upload.completed_at is None and upload.expires_at <= utcnow():
        raise tus.UploadGone()
    return upload


def receive(
    session: Session,
    upload: Upload,
    stream: IO[bytes],
    *,
    offset: int,
    content_length: int | None,
    checksum: tuple[str, bytes] | None,
    settings: Settings,
    actor: str,
) -> Upload:
    """A tus PATCH: bytes at ``offset``. The last byte finishes the upload (:func:`finish`)."""
    if upload.completed_at is not None:
        raise tus.OffsetMismatch(detail="already complete")
    if offset != upload.offset:
        raise tus.OffsetMismatch(detail=f"{offset} != {upload.offset}")
    room = upload.length - upload.offset
    if content_length is not None and content_length > room:
        raise UploadTooLarge(detail="more bytes than announced")
    limit = room if content_length is None else content_length
    path = partial_path(settings, upload.id)
    try:
        new_offset, interrupted = tus.append(path, stream, offset, limit, checksum)
    except OSError as exc:
        discard_upload(session, upload, settings, reason=StorageFull.reason, actor=actor)
        if exc.errno == 28:
            raise StorageFull(detail=str(exc)) from exc
        raise StorageUnavailable(detail=str(exc)) from exc
    upload.offset = new_offset
    session.flush()
    if interrupted is None and upload.offset == upload.length:
        finish(session, upload, settings, actor=actor)
    return upload


def discard_upload(
    session: Session, upload: Upload, settings: Settings, *, reason: str, actor: str
) -> None:
    """Remove a partial upload and mark its recording failed with ``reason``."""
    partial_path(settings, upload.id).unlink(missing_ok=True)
    recording = upload.recording
    recording.state = RecordingState.FAILED
    recording.error = reason
    record(
        session,
        "recording.upload_discarded",
        actor=actor,
        course_id=recording.item.course_id,
        subject=recording.item.subject,
        recording=recording.id,
        reason=reason,
        received=upload.offset,
    )
    session.delete(upload)
    session.flush()


def finish(session: Session, upload: Upload, settings: Settings, *, actor: str) -> Recording:
    """All bytes arrived: probe them. Refused media is removed at once (the error is raised
    after the recording was marked failed); accepted media waits for conversion (a job)."""
    recording = upload.recording
    path = partial_path(settings, upload.id)
    try:
        found = processing.probe(path, limits(settings, recording.source))
    except ToolError as exc:
        discard_upload(session, upload, settings, reason=exc.reason, actor=actor)
        raise
    upload.completed_at = utcnow()
    recording.state = RecordingState.PROCESSING
    recording.format = found.format[:32]
    recording.duration = found.duration
    recording.width, recording.height = found.width, found.height
    recording.has_video = found.has_video
    session.flush()
    enqueue(session, PROCESS_JOB, {"recording_id": recording.id, "upload_id": upload.id})
    record(
        session,
        "recording.uploaded",
        actor=actor,
        course_id=recording.item.course_id,
        subject=recording.item.subject,
        recording=recording.id,
        format=recording.format,
        seconds=round(found.duration, 1),
    )
    return recording


def cancel_upload(session: Session, upload: Upload, settings: Settings, *, actor: str) -> None:
    """tus termination: the client gave up."""
    if upload.completed_at is not None:
        raise Conflict()
    discard_upload(session, upload, settings, reason=_("The upload was cancelled."), actor=actor)


# --- background work ----------------------------------------------------------------------


def process(
    session: Session, recording_id: int, upload_id: str, settings: Settings, *, last_attempt: bool
) -> None:
    """Convert a probed upload to MP4 with a poster and put both into storage (a job).

    A file ffmpeg cannot convert fails for good; unreachable storage is raised so the job is
    tried again, and marks the recording failed on the last attempt."""
    recording = session.get(Recording, recording_id)
    if recording is None or recording.state is not RecordingState.PROCESSING:
        return
    source = partial_path(settings, upload_id)
    work = work_dir(settings) / recording.public_id
    work.mkdir(parents=True, exist_ok=True)
    lim = limits(settings, recording.source)
    storage = storage_for(settings, recording.storage)
    try:
        found = processing.probe(source, lim)
        media = work / MEDIA_FILE
        processing.convert(source, media, found, lim)
        found = processing.probe(media, lim)  # browser WebM has no duration in its header
        poster = None
        if found.has_video:
            poster = work / POSTER_FILE
            processing.poster(media, poster, found.duration, lim)
        storage.put(recording.prefix + MEDIA_FILE, media, "video/mp4")
        if poster is not None:
            storage.put(recording.prefix + POSTER_FILE, poster, "image/jpeg")
    except StorageUnavailable as exc:
        if not last_attempt:
            shutil.rmtree(work, ignore_errors=True)
            raise
        _failed(session, recording, source, work, storage, exc.reason)
        return
    except ToolError as exc:
        _failed(session, recording, source, work, storage, exc.reason)
        return
    recording.media_key = recording.prefix + MEDIA_FILE
    recording.poster_key = recording.prefix + POSTER_FILE if poster is not None else None
    recording.duration = found.duration
    recording.state = RecordingState.READY
    recording.ready_at = utcnow()
    recording.error = None
    shutil.rmtree(work, ignore_errors=True)
    source.unlink(missing_ok=True)
    upload = session.get(Upload, upload_id)
    if upload is not None:
        session.delete(upload)
    session.flush()
    record(
        session,
        "recording.ready",
        course_id=recording.item.course_id,
        subject=recording.item.subject,
        recording=recording.id,
        where=storage.where,
    )


def _failed(
    session: Session,
    recording: Recording,
    source: Path,
    work: Path,
    storage: Storage,
    reason: str,
) -> None:
    shutil.rmtree(work, ignore_errors=True)
    source.unlink(missing_ok=True)
    try:
        for key in storage.keys(recording.prefix):
            storage.delete(key)
    except StorageUnavailable:
        pass  # nothing was stored, or erase_item_media removes it later
    recording.state = RecordingState.FAILED
    recording.error = reason
    session.flush()
    record(
        session,
        "recording.failed",
        course_id=recording.item.course_id,
        subject=recording.item.subject,
        recording=recording.id,
        reason=reason,
    )


def expire_upload(session: Session, upload_id: str, settings: Settings) -> bool:
    """Remove an upload that was not finished before it expired (a job); True if removed."""
    upload = session.get(Upload, upload_id)
    if upload is None or upload.completed_at is not None or upload.expires_at > utcnow():
        return False
    discard_upload(
        session,
        upload,
        settings,
        reason=_("The upload was not finished in time."),
        actor="system",
    )
    return True


# --- playback -----------------------------------------------------------------------------


def recordings_of(session: Session, item: Item) -> list[Recording]:
    return list(
        session.scalars(
            select(Recording)
            .where(Recording.item_id == item.id)
            .order_by(Recording.created_at.desc(), Recording.id.desc())
        )
    )


def may_play(session: Session, recording: Recording, person_id: int | None) -> bool:
    if person_id is None or recording.state is not RecordingState.READY:
        return False
    row = recording_item(session, recording.item)
    shared = bool(row and row.shared_with_class)
    return can_see_recording(session, recording.item, recording.owner_id, shared, person_id)


def playable(session: Session, item: Item, person_id: int | None) -> list[Recording]:
    """The ready recordings of ``item`` that ``person_id`` may play."""
    return [r for r in recordings_of(session, item) if may_play(session, r, person_id)]


def media_secret(settings: Settings, secret_key: str) -> str:
    from lti_tool.streams.operations import stream_secret

    return stream_secret(settings, secret_key)


def media_base(settings: Settings) -> str:
    return (settings.media_url or settings.base_url.rstrip("/") + "/media").rstrip("/")


def link(
    session: Session,
    recording: Recording,
    person_id: int | None,
    settings: Settings,
    secret: str,
    now: float | None = None,
) -> MediaLink:
    """A short-lived link to play ``recording`` (404 for anyone who may not)."""
    if not may_play(session, recording, person_id) or recording.media_key is None:
        raise NotFound()
    expires = int(time.time() if now is None else now) + LINK_SECONDS
    storage = storage_for(settings, recording.storage)
    direct = storage.signed_url(recording.media_key, LINK_SECONDS)
    if direct is not None:
        poster = None
        if recording.poster_key:
            poster = storage.signed_url(recording.poster_key, LINK_SECONDS)
        return MediaLink(direct, poster, expires)
    viewer = f"p{person_id}"
    base = media_base(settings)

    def signed(file: str) -> str:
        return base + links.signed_path(secret, recording.public_id, file, viewer, expires)

    return MediaLink(
        signed(MEDIA_FILE), signed(POSTER_FILE) if recording.poster_key else None, expires
    )


# --- who appears --------------------------------------------------------------------------


def people_of(session: Session, item: Item) -> list[RecordingPerson]:
    return list(
        session.scalars(
            select(RecordingPerson)
            .where(RecordingPerson.item_id == item.id)
            .order_by(RecordingPerson.id)
        )
    )


def add_people(
    session: Session,
    item: Item,
    *,
    person_ids: Iterable[int] = (),
    group_ids: Iterable[int] = (),
    guests: Sequence[str] = (),
    actor: str,
) -> tuple[list[int], list[str]]:
    """Mark people as recognisable in ``item``'s recordings: students of the course, every
    student of sections/groups ("the whole section") and guests by name. Returns the new
    person ids and guest names (the caller asks them for consent where the rule needs it)."""
    students = active_students(session, item.course_id)
    wanted = set(person_ids)
    groups = list(group_ids)
    if groups:
        wanted |= set(
            session.scalars(select(GroupMember.person_id).where(GroupMember.group_id.in_(groups)))
        )
    if set(person_ids) - students:
        raise NotFound()
    wanted &= students
    known = {p.person_id for p in people_of(session, item)}
    known_guests = {p.guest_name for p in people_of(session, item) if p.guest_name}
    new_ids = sorted(wanted - known)
    new_guests = [
        g.strip()[:200] for g in guests if g.strip() and g.strip()[:200] not in known_guests
    ]
    for person_id in new_ids:
        session.add(RecordingPerson(item_id=item.id, person_id=person_id, added_by=actor))
    for name in new_guests:
        session.add(RecordingPerson(item_id=item.id, guest_name=name, added_by=actor))
    session.flush()
    if new_ids or new_guests:
        record(
            session,
            "recording.people_added",
            actor=actor,
            course_id=item.course_id,
            subject=item.subject,
            people=[f"person:{i}" for i in new_ids],
            guests=len(new_guests),
        )
    return new_ids, new_guests


def needs_consent(item: Item) -> bool:
    return item.outcome is Outcome.CONSENT_REQUIRED


def appearing_in(session: Session, person_id: int, course_id: int) -> list[Item]:
    """Items of a course whose recordings ``person_id`` was marked as appearing in."""
    return list(
        session.scalars(
            select(Item)
            .join(RecordingPerson, RecordingPerson.item_id == Item.id)
            .where(
                RecordingPerson.person_id == person_id,
                Item.course_id == course_id,
                Item.state != ItemState.CANCELLED,
            )
        )
    )


# --- erasure ------------------------------------------------------------------------------


def erase_item_media(
    session: Session,
    item: Item,
    *,
    settings: Settings | None = None,
    actor: str = "system",
) -> list[str]:
    """Remove every object of ``item``'s recordings from storage: the MP4, the poster, any
    other copy under the recording's prefix, partial uploads and conversion scratch files.

    Idempotent: a second call finds nothing and returns ``[]``. Raises
    :class:`StorageUnavailable` (an ``UpstreamError``) when storage cannot be reached, so the
    retention sweep retries; what was removed before that stays removed and audited. Returns
    one human-readable line per removal ("what, where") and audits each."""
    settings = settings or load_settings()
    removed: list[str] = []

    def note(what: str, where: str, recording: Recording) -> None:
        line = f"{what} of recording {recording.id} (item {item.id}) from {where}"
        removed.append(line)
        record(
            session,
            "recording.erased",
            actor=actor,
            course_id=item.course_id,
            subject=item.subject,
            recording=recording.id,
            removed=what,
            where=where,
        )

    for recording in recordings_of(session, item):
        for upload in session.scalars(select(Upload).where(Upload.recording_id == recording.id)):
            path = partial_path(settings, upload.id)
            if path.exists():
                path.unlink()
                where = f"local disk {path.parent}"
                note(f"partial upload ({upload.offset} bytes)", where, recording)
            session.delete(upload)
        work = work_dir(settings) / recording.public_id
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
            note("conversion files", f"local disk {work.parent}", recording)
        storage = storage_for(settings, recording.storage)  # where this one was stored
        try:
            keys = storage.keys(recording.prefix)
        except StorageUnavailable:
            if recording.ready_at is not None or recording.state is RecordingState.PROCESSING:
                raise  # it has (or may have) media there: the sweep tries again
            keys = []  # refused or abandoned before anything was stored
        for key in keys:
            if storage.delete(key):
                note(key, storage.where, recording)
        if recording.state is not RecordingState.ERASED:
            recording.state = RecordingState.ERASED
            recording.erased_at = utcnow()
            recording.media_key = None
            recording.poster_key = None
        session.flush()
    return removed


class MediaNotErased(Conflict):
    reason = _("The recordings of this item still have media: erase it first.")


def forget_recordings(session: Session, item: Item) -> int:
    """Delete the rows of ``item``'s recordings and who appears in them, once their media is
    erased (:func:`erase_item_media`); for a sweep that deletes the item itself afterwards
    (recordings keep their item from deletion until then). Returns how many were deleted."""
    found = recordings_of(session, item)
    if any(r.state is not RecordingState.ERASED for r in found):
        raise MediaNotErased()
    for recording in found:
        session.delete(recording)
    for person in people_of(session, item):
        session.delete(person)
    row = recording_item(session, item)
    if row is not None:
        session.delete(row)
    session.flush()
    if found:
        record(
            session,
            "recording.forgotten",
            course_id=item.course_id,
            subject=item.subject,
            recordings=[r.id for r in found],
        )
    return len(found)
