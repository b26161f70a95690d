"""``lti-tool demo``: the tool on its embedded defaults next to the development LMS.

Serves the development LMS in this process, the tool (gunicorn, SQLite, dev mode) and nginx for
live streams (RTMP in, signed HLS out) and recordings (signed /media links) beside it, a job
runner that converts recordings, registers the tool in the LMS by Dynamic
Registration on first start, and prints where to click.
Both run on ``localhost`` (one site), as an LMS and a tool on one domain would.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import click
import requests

from lti_tool.config import PROJECT_ROOT

HLS_DIR = PROJECT_ROOT / "instance" / "nginx" / "hls"  # where the demo's nginx writes HLS
RECORDS_DIR = HLS_DIR.parent / "records"  # and records streams that are also recorded
MEDIA_DIRS = f"{HLS_DIR}:{HLS_DIR / 'rec'}:{RECORDS_DIR}"


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


def _start_nginx(env: dict[str, str], rtmp_port: int, http_port: int) -> subprocess.Popen[bytes]:
    """nginx with the tool's generated configuration, its files under instance/nginx."""
    from lti_tool import create_app
    from lti_tool.streams import nginx
    from lti_tool.streams.local import local_layout, run_nginx
    from lti_tool.streams.operations import provider_for

    missing = [
        package
        for package, present in (
            ("nginx", shutil.which("nginx")),
            ("libnginx-mod-rtmp", Path(nginx.RTMP_MODULE).exists()),
            ("ffmpeg", shutil.which("ffmpeg")),
        )
        if not present
    ]
    if missing:
        raise click.ClickException(
            f"missing for live streams and recordings: {', '.join(missing)}; "
            f"install them as root with `apt-get install {' '.join(missing)}` (or `make setup`)"
        )
    from lti_tool.recordings.storage import media_root

    work = PROJECT_ROOT / "instance" / "nginx"
    app = create_app(environ=env)
    store = media_root(app.extensions["lti_tool"].settings) / "store"
    store.mkdir(parents=True, exist_ok=True)
    layout = replace(local_layout(work, rtmp_port, http_port), media_path=str(store))
    with app.app_context():
        provider = provider_for(app.extensions["lti_tool"].settings, app.config["SECRET_KEY"])
    base_url = env["LTI_TOOL_BASE_URL"]
    config = nginx.config_for(provider, layout, tool_url=base_url, origin=base_url)
    app.extensions["lti_tool"].db.engine.dispose()
    return run_nginx(work, config, stderr=None)


def _import_ages(env: dict[str, str], issuer: str) -> None:
    """Hand the tool the birth dates the LMS's school records hold (LTI carries none), as a
    school's CSV import would: Sam is under 16, so Petra answers for Sam."""
    from sqlalchemy import select

    from lti_tool import create_app
    from lti_tool.access.ages import import_ages
    from lti_tool.devlms.seed import USERS
    from lti_tool.institution.queries import today
    from lti_tool.lti.models import Registration

    rows = [f"{u.id},{u.birthdate.isoformat()}" for u in USERS.values() if u.birthdate]
    rt = create_app(environ=env).extensions["lti_tool"]
    with rt.db.transaction() as session:
        registration = session.scalar(select(Registration).where(Registration.issuer == issuer))
        if registration is not None:
            csv_text = "user_id,birth_date\n" + "\n".join(rows)
            import_ages(session, registration.id, csv_text, actor="demo", today=today(rt.settings))


def _stop(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # a terminated demo stops its children like Ctrl-C does


@click.command()
@click.option("--port", default=5000, show_default=True, help="Port of the tool.")
@click.option("--lms-port", default=5001, show_default=True, help="Port of the development LMS.")
@click.option("--rtmp-port", default=1935, show_default=True, help="Where encoders push streams.")
@click.option("--hls-port", default=8088, show_default=True, help="Where viewers fetch streams.")
def demo(port: int, lms_port: int, rtmp_port: int, hls_port: int) -> None:
    """Run the demo: development LMS + tool on SQLite; Ctrl-C stops both."""
    from lti_tool.devlms import create_devlms_app
    from lti_tool.devlms.cli import serve_in_thread

    tool = f"http://localhost:{port}"
    lms_url = f"http://localhost:{lms_port}"
    lms_app = create_devlms_app(str(PROJECT_ROOT / "instance" / "devlms"), lms_url)
    lms = lms_app.extensions["devlms"]
    server, _thread = serve_in_thread(lms_app, "localhost", lms_port)
    env = {
        **os.environ,
        "LTI_TOOL_DEV": "1",
        "LTI_TOOL_BASE_URL": tool,
        "LTI_TOOL_RTMP_URL": f"rtmp://localhost:{rtmp_port}/live",
        "LTI_TOOL_HLS_URL": f"http://localhost:{hls_port}/hls",
        "LTI_TOOL_STREAM_MEDIA_DIRS": MEDIA_DIRS,
        "LTI_TOOL_STREAM_RECORD_DIR": str(RECORDS_DIR),
        "LTI_TOOL_MEDIA_URL": f"http://localhost:{hls_port}/media",
    }
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "lti_tool.cli", "serve", "--host", "localhost", "--port", str(port)],
        env=env,
    )
    media = _start_nginx(env, rtmp_port, hls_port)
    # retention sweeps (every minute here) and background jobs (recordings to convert,
    # expired uploads) in their own process, as in production
    worker = subprocess.Popen(
        [sys.executable, "-m", "lti_tool.cli", "worker", "--interval", "60"], env=env
    )
    signal.signal(signal.SIGTERM, _stop)
    try:
        _wait(f"{tool}/healthz", child)
        if not lms.tools.all():
            lms.register_tool(f"{tool}/lti/register")
            click.echo("Registered the tool in the development LMS (Dynamic Registration).")
            _import_ages(env, lms.issuer)
        click.echo(
            f"\n  Demo ready. Open {lms_url}/ and launch as the teacher, a student or the parent."
            f"\n  Tool: {tool}/   Live streams: rtmp://localhost:{rtmp_port}/live (keys in the"
            f" tool)\n  Move the clock and delete what is due (another shell):"
            f"\n    LTI_TOOL_STREAM_MEDIA_DIRS={MEDIA_DIRS} .venv/bin/lti-tool retention sweep"
            f" --today 2027-08-01\n  Stop with Ctrl-C.\n"
        )
        while child.poll() is None and media.poll() is None and worker.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        for process in (child, media, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=15)
