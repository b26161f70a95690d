"""Erasers: what the sweep calls to remove an item's media, derivatives, provider copies and
stream leftovers.

An eraser is ``fn(session, item) -> list[str]``: it removes everything of ``item`` it is
responsible for and returns one line per thing removed ("what was removed where"). It must be
idempotent (a second call removes nothing and returns []), may write through ``session`` (it
flushes; the sweep commits), must not change the item's own row (the sweep holds it) and
raises an :class:`~lti_tool.errors.UpstreamError` when its storage cannot be reached; the
sweep then records the failure and tries again later.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.config import Settings, media_dirs
from lti_tool.errors import UpstreamError, _
from lti_tool.items.models import Item
from lti_tool.recordings.operations import erase_item_media
from lti_tool.streams.models import Stream

Eraser = Callable[[Session, Item], list[str]]

_ERASERS: dict[str, Eraser] = {}

_STREAM_NAME = re.compile(r"[A-Za-z0-9_-]{8,64}")


class StorageUnavailable(UpstreamError):
    """A media folder or store an eraser needs cannot be reached."""

    reason = _("The storage holding recordings cannot be reached.")


def register_eraser(name: str, fn: Eraser) -> None:
    """Make the sweep call ``fn`` for every item it deletes (a name registers once; the same
    name again replaces it, so registering at start-up is safe to repeat)."""
    _ERASERS[name] = fn


def unregister_eraser(name: str) -> None:
    _ERASERS.pop(name, None)


def registered() -> list[tuple[str, Eraser]]:
    """The erasers in the order they were registered."""
    return list(_ERASERS.items())


def stream_leftovers(media_dirs: Iterable[str | Path]) -> Eraser:
    """The live-stream eraser: revoke the item's stream key (nothing can publish any more) and
    remove its HLS fragments and recorded files from ``media_dirs`` (nginx-rtmp writes
    ``<dir>/<stream name>/`` with ``hls_nested``, else ``<name>.m3u8``/``<name>-N.ts``;
    recordings ``<name>-<time>.flv``). A configured folder that does not exist means the
    storage is not mounted: :class:`StorageUnavailable`, and the deletion is retried."""
    folders = [Path(d) for d in media_dirs]

    def erase(session: Session, item: Item) -> list[str]:
        stream = session.scalar(select(Stream).where(Stream.item_id == item.id))
        if stream is None:
            return []
        if not _STREAM_NAME.fullmatch(stream.name):
            raise StorageUnavailable(detail=f"unexpected stream name {stream.name!r}")
        lines: list[str] = []
        if stream.key_hash is not None:
            stream.key_hash = None
            stream.key_version += 1
            lines.append(f"stream {stream.name}: key revoked")
        for folder in folders:
            if not folder.is_dir():
                raise StorageUnavailable(detail=f"media folder {folder} is not there")
            found = [folder / stream.name, *folder.glob(f"{stream.name}.*")]
            found += folder.glob(f"{stream.name}-*")
            for path in sorted({p for p in found if p.exists() or p.is_symlink()}):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
                lines.append(f"{path}: removed")
        session.flush()
        return lines

    return erase


def recordings(settings: Settings) -> Eraser:
    """The recordings eraser: every stored object, derivative and partial upload of the
    item's recordings, in the storage each was kept in."""

    def erase(session: Session, item: Item) -> list[str]:
        return erase_item_media(session, item, settings=settings, actor="retention sweep")

    return erase


def install_defaults(settings: Settings) -> None:
    """Register the erasers of stream leftovers and of recordings (called before every
    sweep)."""
    register_eraser("streams", stream_leftovers(media_dirs(settings)))
    register_eraser("recordings", recordings(settings))
