"""What the benchmarks share: the development LMS in this process, the tool under
`lti-tool serve` (registered, migrated), launches over HTTP, nginx from the generated
configuration on free loopback ports, ffmpeg pushing a test pattern, and a live stream set up
through the tool's own pages. Everything runs on loopback; ``stop()`` ends what was started."""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lti_tool import create_app  # noqa: E402
from lti_tool.devlms import create_devlms_app  # noqa: E402
from lti_tool.devlms.cli import serve_in_thread  # noqa: E402
from lti_tool.devlms.platform import DevLms  # noqa: E402
from lti_tool.lti.models import DeploymentStatus  # noqa: E402
from lti_tool.lti.registrations import add_deployment, add_registration  # noqa: E402
from lti_tool.migrations import upgrade  # noqa: E402
from lti_tool.streams import nginx  # noqa: E402
from lti_tool.streams.local import local_layout, run_nginx  # noqa: E402
from lti_tool.streams.operations import provider_for  # noqa: E402
from lti_tool.streams.providers import NginxProvider  # noqa: E402
from lti_tool.web.sessions import csrf_token  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the LMS's access log

CLIENT_ID, DEPLOYMENT_ID = "bench-client", "bench-deployment"
# a G2 live lesson for the whole course, as the wizard takes it (tests/support/items.py)
G2_LIVE_LESSON = {
    "title": "Bench live",
    "made": "stream",
    "recognisable": ["teacher", "students"],
    "purpose": "remote-lesson",
    "audience": "class",
    "teacher_location": "school",
    "scope": "course",
    "confirm": ["G2.1", "G2.2", "G2.3", "G2.4", "G2.5"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out after {seconds:.0f} s waiting for {what}")


def wait_up(url: str) -> None:
    def up() -> bool:
        try:
            return requests.get(url, timeout=1).status_code < 500
        except requests.RequestException:
            return False

    wait_for(up, 20, url)


def stop_process(proc: subprocess.Popen[Any] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@dataclass
class Tool:
    """The development LMS (in this process) and the tool under ``lti-tool serve``."""

    tmp: Path
    lms: DevLms
    url: str
    env: dict[str, str]
    app: Any  # the tool's app in this process (same settings): CSRF tokens, the provider
    proc: subprocess.Popen[bytes] | None = None
    children: list[subprocess.Popen[Any]] = field(default_factory=list)

    def provider(self) -> NginxProvider:
        with self.app.app_context():
            found = provider_for(self.app.extensions["lti_tool"].settings, self.app.secret_key)
        assert isinstance(found, NginxProvider)
        return found

    def csrf(self, sid: str) -> str:
        with self.app.test_request_context():
            return csrf_token(sid)

    def launch(self, user: str, course: str = "course-1") -> tuple[requests.Session, str]:
        """A complete launch over HTTP: a session carrying the tool's cookies, and the sid.
        (requests keeps Secure cookies off plain http; a browser sends them to loopback.)"""
        session = requests.Session()
        url, params = self.lms.login_initiation(user, course)
        login = session.get(url, params=params, allow_redirects=False, timeout=10)
        assert login.status_code == 302, login.status_code
        query = parse_qs(urlsplit(login.headers["Location"]).query)
        claims = self.lms.build_id_token_claims(user, course, nonce=query["nonce"][0])
        answer = session.post(
            f"{self.url}/lti/launch",
            data={"id_token": self.lms.sign(claims), "state": query["state"][0]},
            allow_redirects=False,
            timeout=10,
            cookies=dict(login.cookies),
        )
        assert answer.status_code == 303, answer.status_code
        session.cookies.clear()
        for name, value in answer.cookies.items():
            session.cookies.set(name, value)
        sid = urlsplit(answer.headers["Location"]).path.split("/")[2]
        return session, sid

    def live_item(self, session: requests.Session, sid: str) -> tuple[int, str, str]:
        """The teacher (``session``) sets up a G2 live lesson and makes a stream key:
        (item id, stream name, key)."""
        created = session.post(
            f"{self.url}/s/{sid}/items/new",
            data={**G2_LIVE_LESSON, "action": "create", "csrf_token": self.csrf(sid)},
            allow_redirects=False,
            timeout=10,
        )
        assert created.status_code == 303, created.status_code
        item_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        page = session.post(
            f"{self.url}/s/{sid}/items/{item_id}/stream",
            data={"csrf_token": self.csrf(sid)},
            timeout=10,
        )
        found = re.search(r'id="ingest-key">([A-Za-z0-9_-]+)\?key=([A-Za-z0-9_-]+)<', page.text)
        assert page.status_code == 200 and found, page.status_code
        return item_id, found.group(1), found.group(2)

    def stop(self) -> None:
        for child in [*reversed(self.children), self.proc]:
            stop_process(child)
        shutil.rmtree(self.tmp, ignore_errors=True)


def start_tool(
    workers: int = 2,
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    serve: bool = True,
) -> Tool:
    """The LMS in a thread, the tool registered in it, migrated, and (``serve``) started under
    ``lti-tool serve`` with ``workers`` workers. Call ``stop()`` when done."""
    tmp = Path(tempfile.mkdtemp(prefix="lti-bench-"))
    lms_port, tool_port = free_port(), free_port()
    lms_app = create_devlms_app(str(tmp / "devlms"), f"http://127.0.0.1:{lms_port}")
    lms = lms_app.extensions["devlms"]
    serve_in_thread(lms_app, "127.0.0.1", lms_port)
    tool_url = f"http://127.0.0.1:{tool_port}"
    env = {
        **os.environ,
        "LTI_TOOL_DEV": "1",
        "LTI_TOOL_BASE_URL": tool_url,
        "LTI_TOOL_DATABASE_URL": database_url or f"sqlite:///{tmp / 'tool.sqlite3'}",
        "LTI_TOOL_INSTANCE_PATH": str(tmp / "instance"),
        "LTI_TOOL_SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789",
        **(extra_env or {}),
    }
    if redis_url:
        env["LTI_TOOL_REDIS_URL"] = redis_url
    settings: dict[str, Any] = {
        k[len("LTI_TOOL_") :].lower(): v for k, v in env.items() if k.startswith("LTI_TOOL_")
    }
    settings["dev"] = True
    tool_app = create_app(settings, environ={})
    upgrade(tool_app.extensions["lti_tool"].db.engine)
    with tool_app.extensions["lti_tool"].db.transaction() as session:
        registration = add_registration(
            session,
            issuer=lms.issuer,
            client_id=CLIENT_ID,
            auth_login_url=lms.url("/auth"),
            auth_token_url=lms.url("/token"),
            jwks_url=lms.url("/.well-known/jwks.json"),
            https_only=False,
        )
        add_deployment(session, registration, DEPLOYMENT_ID, DeploymentStatus.APPROVED)
    tool_app.extensions["lti_tool"].db.engine.dispose()
    lms.add_tool(CLIENT_ID, DEPLOYMENT_ID, tool_url)
    tool = Tool(tmp, lms, tool_url, env, tool_app)
    if serve:
        tool.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "lti_tool.cli", "serve", "--host", "127.0.0.1"),
                *("--port", str(tool_port), "--workers", str(workers), "--no-migrate"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp / "tool.log").open("wb"),
        )
        try:
            wait_up(f"{tool_url}/healthz")
        except BaseException:
            tool.stop()
            raise
    return tool


def media_env(rtmp_port: int, http_port: int) -> dict[str, str]:
    """The tool's settings for a media server on these loopback ports."""
    return {
        "LTI_TOOL_RTMP_URL": f"rtmp://127.0.0.1:{rtmp_port}/live",
        "LTI_TOOL_HLS_URL": f"http://127.0.0.1:{http_port}/hls",
    }


def start_nginx(
    work: Path,
    provider: NginxProvider,
    *,
    rtmp_port: int,
    http_port: int,
    tool_url: str,
    extra_http: str = "",
) -> subprocess.Popen[bytes]:
    """nginx with the tool's generated configuration (files under ``work``), plus
    ``extra_http`` (bench-only servers) appended inside its ``http`` block."""
    for tool in ("nginx", "ffmpeg"):
        if not shutil.which(tool) or not Path(nginx.RTMP_MODULE).exists():
            raise SystemExit("nginx, libnginx-mod-rtmp and ffmpeg are needed: make setup")
    work.parent.chmod(0o777)  # nginx's workers may run as another user
    layout = local_layout(work, rtmp_port, http_port)
    text = nginx.config_for(provider, layout, tool_url=tool_url, origin=tool_url)
    if extra_http:
        head, tail = text.rstrip().rsplit("}", 1)  # the http block's closing brace
        text = f"{head}\n  # bench only\n{extra_http}\n}}{tail}\n"
    proc = run_nginx(work, text)
    try:
        wait_for(lambda: listening(http_port) and listening(rtmp_port), 10, "nginx to listen")
    except BaseException:
        stop_process(proc)
        raise
    return proc


def push(rtmp_url: str, name: str, key: str, seconds: int) -> subprocess.Popen[bytes]:
    """ffmpeg pushes a 320x240 test pattern with sound (1 s GOP) as an encoder would."""
    return subprocess.Popen(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
            "-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
            "-f", "lavfi", "-i", "sine", "-t", str(seconds),
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "25",
            "-pix_fmt", "yuv420p", "-c:a", "aac",
            "-f", "flv", f"{rtmp_url}/{name}?key={key}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


@dataclass
class LiveSetup:
    """The tool, nginx in front of it and a teacher's session (with their sid)."""

    tool: Tool
    work: Path
    teacher: requests.Session
    sid: str

    @property
    def rtmp_url(self) -> str:
        return self.tool.env["LTI_TOOL_RTMP_URL"]

    def new_stream(self) -> tuple[int, str, str]:
        return self.tool.live_item(self.teacher, self.sid)

    def push(self, name: str, key: str, seconds: int) -> subprocess.Popen[bytes]:
        proc = push(self.rtmp_url, name, key, seconds)
        self.tool.children.append(proc)
        return proc

    def playlist(self, name: str) -> Path:
        return self.work / "hls" / name / "index.m3u8"


def start_live(workers: int = 2) -> LiveSetup:
    """The tool (``workers``), nginx with its generated configuration calling it back, and the
    teacher launched. ``setup.tool.stop()`` stops everything."""
    rtmp_port, http_port = free_port(), free_port()
    tool = start_tool(workers, extra_env=media_env(rtmp_port, http_port))
    try:
        work = tool.tmp / "nginx"
        tool.children.append(
            start_nginx(
                work, tool.provider(), rtmp_port=rtmp_port, http_port=http_port, tool_url=tool.url
            )
        )
        teacher, sid = tool.launch("t-tess")
    except BaseException:
        tool.stop()
        raise
    return LiveSetup(tool, work, teacher, sid)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
