"""``lti-tool devlms``: run the development LMS on werkzeug's threaded server."""

from __future__ import annotations

import threading
from pathlib import Path

import click
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from lti_tool.devlms import create_devlms_app

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "instance" / "devlms"


def serve_in_thread(app: Flask, host: str, port: int) -> tuple[BaseWSGIServer, threading.Thread]:
    """Serve ``app`` in a daemon thread (threaded server); stop it with ``server.shutdown()``."""
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="devlms-server", daemon=True)
    thread.start()
    return server, thread


@click.command("devlms")
@click.option("--host", default="localhost", show_default=True)
@click.option("--port", default=5001, show_default=True, type=int)
@click.option(
    "--data-dir",
    default=str(DEFAULT_DATA_DIR),
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where keys, registered tools, roster and placements are kept.",
)
@click.option("--base-url", help="Public origin and issuer [default: http://HOST:PORT].")
@click.option(
    "--tool-url",
    help="Register a tool with this base URL by hand (client_id devlms-demo, deployment dep-1).",
)
def devlms(host: str, port: int, data_dir: str, base_url: str | None, tool_url: str | None) -> None:
    """Run the development LMS (never in production)."""
    app = create_devlms_app(data_dir, base_url or f"http://{host}:{port}")
    lms = app.extensions["devlms"]
    if tool_url:
        lms.add_tool("devlms-demo", "dep-1", tool_url, name="Recordings and streams")
    click.echo(f"Development LMS at {lms.issuer} (data in {data_dir}); Ctrl+C stops it.")
    make_server(host, port, app, threaded=True).serve_forever()
