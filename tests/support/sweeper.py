"""A sweeper process for the fault tests: ``lti-tool retention sweep`` with a file-backed
media eraser (one file per item under MEDIA; the provider delete moves it into MEDIA/removed/
in one atomic rename, so a SIGKILL can never lose or double-count a removal). Settings come
from the environment.

    python -m tests.support.sweeper MEDIA SECONDS_PER_ITEM -- <lti-tool arguments>
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from sqlalchemy.orm import Session

from lti_tool.cli import main
from lti_tool.deletion.erasers import register_eraser
from lti_tool.errors import UpstreamError
from lti_tool.items.models import Item


def file_eraser(media: Path, pause: float):  # type: ignore[no-untyped-def]
    removed = media / "removed"
    removed.mkdir(exist_ok=True)

    def erase(session: Session, item: Item) -> list[str]:
        time.sleep(pause)
        if (media / "DOWN").exists():
            raise UpstreamError(detail="media store down")
        path = media / f"{item.id}.mp4"
        if not path.exists():
            return []
        path.rename(removed / f"{item.id}.{os.getpid()}.{time.monotonic_ns()}")
        return [f"{path}: removed"]

    return erase


if __name__ == "__main__":
    media, pause, sep, *args = sys.argv[1:]
    assert sep == "--"
    register_eraser("media", file_eraser(Path(media), float(pause)))
    main(args)
