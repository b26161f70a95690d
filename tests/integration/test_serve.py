"""The production server: `lti-tool serve` with 4 workers shares login state and sessions;
migrations started twice at once run once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

from lti_tool.devlms.platform import DevLms
from tests.conftest import free_port


def _env(tmp_path: Path, database_url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "LTI_TOOL_DEV": "1",
        "LTI_TOOL_DATABASE_URL": database_url,
        "LTI_TOOL_BASE_URL": f"http://127.0.0.1:{port}",
        "LTI_TOOL_INSTANCE_PATH": str(tmp_path / "instance"),
        "LTI_TOOL_SECRET_KEY": "serve-test-secret-serve-test-secret-0123456789",
    }


def test_two_migrations_at_once_both_succeed(tmp_path: Path) -> None:
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'fresh.sqlite3'}", 1)
    cmd = [sys.executable, "-m", "lti_tool.cli", "db", "upgrade"]
    runs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    for run in runs:
        out, _ = run.communicate(timeout=60)
        assert run.returncode == 0, out.decode()


def test_launches_across_four_workers(tmp_path: Path, lms: DevLms, database_url: str) -> None:
    port = free_port()
    env = _env(tmp_path, database_url, port)
    base = env["LTI_TOOL_BASE_URL"]
    lms.add_tool("serve-client", "serve-deployment", base)
    add = [
        sys.executable,
        "-m",
        "lti_tool.cli",
        "registration",
        "add",
        "--issuer",
        lms.issuer,
        "--client-id",
        "serve-client",
        "--login-url",
        lms.url("/auth"),
        "--token-url",
        lms.url("/token"),
        "--jwks-url",
        lms.url("/.well-known/jwks.json"),
        "--deployment",
        "serve-deployment",
    ]
    assert subprocess.run(add, env=env, capture_output=True, timeout=60).returncode == 0
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lti_tool.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "4",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "serve.log").open("w"),
    )
    try:
        for _ in range(100):
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)

        def launch(n: int) -> int:
            user = ("t-tess", "s-anna", "s-bram", "p-petra")[n % 4]
            session = requests.Session()
            url, params = lms.login_initiation(user, "course-1")
            login = session.get(url, params=params, allow_redirects=False, timeout=10)
            query = parse_qs(urlsplit(login.headers["Location"]).query)
            claims = lms.build_id_token_claims(user, "course-1", nonce=query["nonce"][0])
            form = {"id_token": lms.sign(claims), "state": query["state"][0]}
            answer = session.post(
                base + "/lti/launch",
                data=form,
                allow_redirects=False,
                cookies=dict(login.cookies),
                timeout=10,
            )
            if answer.status_code != 303:
                return answer.status_code
            page = session.get(
                base + answer.headers["Location"], cookies=dict(answer.cookies), timeout=10
            )
            replay = session.post(
                base + "/lti/launch",
                data=form,
                allow_redirects=False,
                cookies=dict(login.cookies),
                timeout=10,
            )
            return page.status_code if replay.status_code == 401 else -replay.status_code

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(launch, range(40)))
        assert results == [200] * 40, (tmp_path / "serve.log").read_text()[-3000:]
    finally:
        server.terminate()
        server.wait(15)
