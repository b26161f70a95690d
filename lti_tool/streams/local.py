"""Running nginx from the generated configuration on this machine: the demo, the browser
tests and the benchmarks start it the same way (files under one work folder, loopback ports)."""

from __future__ import annotations

import getpass
import os
import subprocess
from pathlib import Path
from typing import IO

from lti_tool.streams.nginx import RECORDING_APP, NginxLayout


def local_layout(work: Path, rtmp_port: int, http_port: int) -> NginxLayout:
    """A layout on 127.0.0.1 with pid, logs, temp files, HLS and recorded streams under
    ``work`` (created)."""
    folders = (work / "hls", work / "hls" / RECORDING_APP, work / "records")
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    root = os.geteuid() == 0
    if root:  # nginx's workers then run as another user than its master
        for path in (work, *folders):
            path.chmod(0o777)
    return NginxLayout(
        rtmp_listen=f"127.0.0.1:{rtmp_port}",
        http_listen=f"127.0.0.1:{http_port}",
        hls_path=str(work / "hls"),
        record_path=str(work / "records"),
        work_dir=str(work),
        user=getpass.getuser() if root else None,
    )


def run_nginx(
    work: Path, config: str, stderr: int | IO[bytes] | None = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """Write ``config`` to ``work``/nginx.conf and run nginx in the foreground with it."""
    conf = work / "nginx.conf"
    conf.write_text(config)
    return subprocess.Popen(  # noqa: S603 - fixed program, our own files
        ["nginx", "-e", str(work / "error.log"), "-c", str(conf), "-g", "daemon off;"],  # noqa: S607
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
