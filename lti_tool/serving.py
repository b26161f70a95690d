"""Running the tool under gunicorn, programmatically (``lti-tool serve``)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from lti_tool import create_app

        return create_app()  # one app per worker, after the fork


def run_gunicorn(host: str, port: int, workers: int) -> None:
    """Serve on ``host:port`` with ``workers`` sync worker processes (threads inside each)."""
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": 4,
            "timeout": 60,
            "graceful_timeout": 10,
            "accesslog": "-",
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
            "forwarded_allow_ips": "127.0.0.1",
        }
    ).run()
