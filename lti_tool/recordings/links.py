"""Signed media paths checked by nginx ``secure_link`` (no Python on the media path).

``/<sig>/<expires>/<viewer>/<recording>/<file>`` where ``sig`` is unpadded base64url of
``md5("<expires>/<viewer>/<recording>/<file> <secret>")``: bound to one file of one recording
for one viewer until ``expires``. (Stream signatures cover three parts, these four, so one
kind of link never opens the other.) nginx serves ranges itself, so seeking works.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FILE = re.compile(r"^[a-z0-9_-]{1,32}\.(mp4|jpg)$")


def signature(secret: str, recording: str, file: str, viewer: str, expires: int) -> str:
    if not (NAME.match(recording) and NAME.match(viewer) and FILE.match(file)):
        raise ValueError("not a safe media path part")
    raw = hashlib.md5(
        f"{expires}/{viewer}/{recording}/{file} {secret}".encode(), usedforsecurity=False
    )
    return base64.urlsafe_b64encode(raw.digest()).rstrip(b"=").decode()


def signed_path(secret: str, recording: str, file: str, viewer: str, expires: int) -> str:
    sig = signature(secret, recording, file, viewer, expires)
    return f"/{sig}/{expires}/{viewer}/{recording}/{file}"


def verify(secret: str, path: str, now: int) -> bool:
    """What nginx decides for ``path`` (tests and diagnostics)."""
    parts = path.strip("/").split("/")
    if len(parts) != 5 or not parts[1].isdigit():
        return False
    sig, expires, viewer, recording, file = parts
    try:
        expected = signature(secret, recording, file, viewer, int(expires))
    except ValueError:
        return False
    return hmac.compare_digest(sig, expected) and int(expires) > now
