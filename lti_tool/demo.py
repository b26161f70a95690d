"""``lti-tool demo``: the tool on its embedded defaults next to the development LMS.

Serves the development LMS in this process and the tool (gunicorn, SQLite, dev mode) beside it,
registers the tool in the LMS by Dynamic Registration on first start, and prints where to click.
Both run on ``localhost`` (one site), as an LMS and a tool on one domain would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click
import requests

from lti_tool.config import PROJECT_ROOT


def _wait(url: str, child: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise click.ClickException("the tool stopped during start-up; see the log above")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise click.ClickException(f"{url} did not come up within {seconds:.0f} s")


@click.command()
@click.option("--port", default=5000, show_default=True, help="Port of the tool.")
@click.option("--lms-port", default=5001, show_default=True, help="Port of the development LMS.")
def demo(port: int, lms_port: int) -> None:
    """Run the demo: development LMS + tool on SQLite; Ctrl-C stops both."""
    from lti_tool.devlms import create_devlms_app
    from lti_tool.devlms.cli import serve_in_thread

    tool = f"http://localhost:{port}"
    lms_url = f"http://localhost:{lms_port}"
    lms_app = create_devlms_app(str(PROJECT_ROOT / "instance" / "devlms"), lms_url)
    lms = lms_app.extensions["devlms"]
    server, _thread = serve_in_thread(lms_app, "localhost", lms_port)
    env = {**os.environ, "LTI_TOOL_DEV": "1", "LTI_TOOL_BASE_URL": tool}
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "lti_tool.cli", "serve", "--host", "localhost", "--port", str(port)],
        env=env,
    )
    try:
        _wait(f"{tool}/healthz", child)
        if not lms.tools.all():
            lms.register_tool(f"{tool}/lti/register")
            click.echo("Registered the tool in the development LMS (Dynamic Registration).")
        click.echo(
            f"\n  Demo ready. Open {lms_url}/ and launch as the teacher, a student or the parent."
            f"\n  Tool: {tool}/   Stop with Ctrl-C.\n"
        )
        while child.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=15)
