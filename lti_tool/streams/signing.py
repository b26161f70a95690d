"""Signed HLS paths, checked by nginx ``secure_link`` (no Python on the media path).

A path is ``<prefix>/<sig>/<expires>/<viewer>/<stream>/<file>``: the token sits in the path so
the relative segment URLs of the playlist inherit it. ``sig`` is nginx's format: unpadded
base64url of ``md5("<expires>/<viewer>/<stream> <secret>")`` -- bound to the stream and the
viewer, valid until ``expires`` (Unix seconds).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PLAYLIST = "index.m3u8"


def signature(secret: str, stream: str, viewer: str, expires: int) -> str:
    """The ``secure_link`` token of one viewer's access to one stream until ``expires``."""
    for part in (stream, viewer):
        if not NAME.match(part):
            raise ValueError(f"not a safe path part: {part!r}")
    raw = hashlib.md5(f"{expires}/{viewer}/{stream} {secret}".encode(), usedforsecurity=False)
    return base64.urlsafe_b64encode(raw.digest()).rstrip(b"=").decode()


def signed_path(secret: str, stream: str, viewer: str, expires: int, file: str = PLAYLIST) -> str:
    """``/<sig>/<expires>/<viewer>/<stream>/<file>`` (to append to the HLS base URL)."""
    sig = signature(secret, stream, viewer, expires)
    return f"/{sig}/{expires}/{viewer}/{stream}/{file}"


def verify(secret: str, path: str, now: int) -> bool:
    """What nginx decides for ``path`` (for tests and diagnostics): a valid, unexpired token."""
    parts = path.strip("/").split("/")
    if len(parts) != 5 or not parts[1].isdigit():
        return False
    sig, expires, viewer, stream, _file = parts
    try:
        expected = signature(secret, stream, viewer, int(expires))
    except ValueError:
        return False
    return hmac.compare_digest(sig, expected) and int(expires) > now
