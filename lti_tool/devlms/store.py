"""JSON documents in the data directory, guarded by one lock (a single process)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


class JsonStore:
    """Reads and atomically rewrites ``<name>.json`` files under ``data_dir``.

    Callers hold :attr:`lock` around a read-modify-write so concurrent requests of the
    threaded server never interleave.
    """

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.path = Path(data_dir)
        self.path.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()

    def load(self, name: str, default: Any) -> Any:
        """The stored document, or ``default`` when there is none yet."""
        file = self.path / f"{name}.json"
        if not file.exists():
            return default
        return json.loads(file.read_text(encoding="utf-8"))

    def save(self, name: str, data: Any) -> None:
        """Replace the document atomically (write a temporary file, then rename)."""
        file = self.path / f"{name}.json"
        tmp = file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, file)
