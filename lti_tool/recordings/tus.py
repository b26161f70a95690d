"""The server side of tus 1.0 (https://tus.io/protocols/resumable-upload): core, creation,
expiration, checksum (sha1, sha256, md5) and termination. Bytes go straight from the request
stream to a partial file in chunks, so memory stays flat whatever the file size.

The HTTP handling is in ``views``; here are the protocol's rules and the partial file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import queue
import threading
from pathlib import Path
from typing import IO

from lti_tool.errors import BadRequest, Conflict, NotFound, ToolError, _

VERSION = "1.0.0"
EXTENSIONS = "creation,expiration,checksum,termination"
CHECKSUMS = ("sha1", "sha256", "md5")
CONTENT_TYPE = "application/offset+octet-stream"
CHUNK = 1024 * 1024
QUEUED = 4


class VersionMismatch(ToolError):
    status = 412
    reason = _("This upload client speaks another version of the upload protocol.")


class OffsetMismatch(Conflict):
    reason = _("The upload is out of step. It resumes from where the tool stopped.")


class WrongContentType(BadRequest):
    status = 415
    reason = _("The upload sent data of the wrong type.")


class ChecksumMismatch(ToolError):
    status = 460
    reason = _("A part of the upload arrived damaged. It is sent again.")


class UnknownChecksum(BadRequest):
    reason = _("The upload asked for a checksum the tool does not know.")


class UploadGone(NotFound):
    status = 410
    reason = _("This upload has expired or was cancelled. Start it again.")


class BadMetadata(BadRequest):
    reason = _("The upload sent a description the tool cannot read.")


class BadLength(BadRequest):
    reason = _("The upload did not say how large it is.")


def parse_metadata(header: str) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (value optional)."""
    found: dict[str, str] = {}
    for pair in header.split(","):
        parts = pair.strip().split(" ")
        if not parts[0]:
            continue
        value = ""
        if len(parts) > 1:
            try:
                value = base64.b64decode(parts[1], validate=True).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                raise BadMetadata() from None
        found[parts[0][:64]] = value[:500]
    return found


def parse_length(header: str | None) -> int:
    if header is None or not header.isdigit():
        raise BadLength()
    return int(header)


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    """``Upload-Checksum: <algorithm> <base64 digest>``."""
    if not header:
        return None
    try:
        algorithm, digest = header.strip().split(" ", 1)
        raw = base64.b64decode(digest, validate=True)
    except (ValueError, binascii.Error):
        raise UnknownChecksum() from None
    if algorithm not in CHECKSUMS:
        raise UnknownChecksum(detail=algorithm)
    return algorithm, raw


def _write_all(fd: int, block: bytes) -> None:
    view = memoryview(block)
    while view:
        view = view[os.write(fd, view) :]


def append(
    path: Path,
    stream: IO[bytes],
    offset: int,
    limit: int,
    checksum: tuple[str, bytes] | None = None,
) -> tuple[int, BaseException | None]:
    """Write at most ``limit`` bytes of ``stream`` to ``path`` at ``offset``.

    Returns the new offset and the error that ended the body early (a client that went away),
    if any: the bytes received so far are kept, so the client resumes from there -- unless
    the request carried a checksum, which cannot be checked then, and its bytes are dropped.
    A checksum that does not match drops the chunk too (:class:`ChecksumMismatch`). An error
    writing the file (a full disk) is raised as the ``OSError`` it is.

    Reading the request and writing the file overlap: a writer thread takes blocks from a
    small queue (at most ``QUEUED`` blocks of ``CHUNK`` bytes in memory).
    """
    digest = hashlib.new(checksum[0]) if checksum else None
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        raise UploadGone() from None
    try:
        if os.lseek(fd, 0, os.SEEK_END) != offset:
            os.ftruncate(fd, offset)  # a crash after writing, before the offset was stored
        os.lseek(fd, offset, os.SEEK_SET)
        blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED)
        failed: list[OSError] = []
        stored = [0]

        def writer() -> None:
            while (block := blocks.get()) is not None:
                if failed:
                    continue  # keep taking blocks so the reader never waits forever
                try:
                    _write_all(fd, block)
                    stored[0] += len(block)
                except OSError as exc:
                    failed.append(exc)

        thread = threading.Thread(target=writer, name="tus-writer", daemon=True)
        thread.start()
        read = 0
        interrupted: BaseException | None = None
        try:
            while read < limit and not failed:
                try:
                    block = stream.read(min(CHUNK, limit - read))
                except Exception as exc:  # werkzeug's ClientDisconnected and the like
                    interrupted = exc
                    break
                if not block:
                    break
                if digest is not None:
                    digest.update(block)
                read += len(block)
                blocks.put(block)
        finally:
            blocks.put(None)
            thread.join()
        if failed:
            os.ftruncate(fd, offset)
            raise failed[0]
        if digest is not None and (interrupted is not None or digest.digest() != checksum[1]):  # type: ignore[index]
            os.ftruncate(fd, offset)
            if interrupted is None:
                raise ChecksumMismatch()
            return offset, interrupted
        return offset + stored[0], interrupted
    finally:
        os.close(fd)
