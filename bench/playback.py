"""Playback of a recording: HTTP range requests per second through the product's path (a
student's short-lived link from the tool, checked by nginx `secure_link`) against plain,
unauthenticated nginx static delivery of the same MP4, measured with wrk in one run.

The recording goes the product's whole way first: a teacher's tus upload to `lti-tool serve`,
probing, conversion by the job queue, local storage; then a launched student asks the tool
for the link. Each request asks for 64 KiB at a fixed offset (`Range`), as a seeking player
does. Prints both rates and the ratio (target >= 0.6).

    python bench/playback.py [--seconds 10] [--threads 2] [--connections 50]
"""

from __future__ import annotations

import argparse
import base64
import re
import shutil
import subprocess

import requests
from common import free_port, start_nginx, start_tool, stop_process
from upload import G4_RECORDING

from lti_tool.jobs.queue import run_pending
from lti_tool.recordings.storage import media_root

RANGE = "bytes=65536-131071"


def wrk(url: str, script: str, seconds: float, threads: int, connections: int) -> float:
    out = subprocess.run(
        [
            *("wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:.0f}s"),
            *("-s", script, url),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    if re.search(r"Non-2xx or 3xx responses|Socket errors", out):
        raise SystemExit(f"wrk saw errors for {url}:\n{out}")
    found = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if not found:
        raise SystemExit(f"no rate in wrk's output:\n{out}")
    return float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    for program in ("wrk", "ffmpeg", "nginx"):
        if not shutil.which(program):
            raise SystemExit(f"{program} is missing: run scripts/system-packages.sh as root")

    http_port, static_port = free_port(), free_port()
    tool = start_tool(2, extra_env={"LTI_TOOL_MEDIA_URL": f"http://127.0.0.1:{http_port}/media"})
    try:
        rt = tool.app.extensions["lti_tool"]
        store = media_root(rt.settings) / "store"
        store.mkdir(parents=True, exist_ok=True)
        for folder in (store, store.parent, store.parent.parent):
            folder.chmod(0o755)
        static = (
            f"  server {{ listen 127.0.0.1:{static_port};\n"
            f"    location /static/ {{ alias {store}/; }} }}\n"
        )
        from dataclasses import replace

        import common

        original = common.local_layout
        common.local_layout = lambda *a: replace(original(*a), media_path=str(store))
        tool.children.append(
            start_nginx(
                tool.tmp / "nginx",
                tool.provider(),
                rtmp_port=free_port(),
                http_port=http_port,
                tool_url=tool.url,
                extra_http=static,
            )
        )
        common.local_layout = original
        teacher, sid = tool.launch("t-tess")
        created = teacher.post(
            f"{tool.url}/s/{sid}/items/new",
            data={**G4_RECORDING, "action": "create", "csrf_token": tool.csrf(sid)},
            allow_redirects=False,
            timeout=10,
        )
        item_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        source = tool.tmp / "lesson.mp4"
        subprocess.run(
            [
                "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25", "-f", "lavfi", "-i", "sine",
                "-t", "60", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                "-c:a", "aac", str(source),
            ],
            check=True,
            timeout=300,
        )  # fmt: skip
        body = source.read_bytes()
        name = base64.b64encode(b"lesson.mp4").decode()
        headers = {"Tus-Resumable": "1.0.0", "X-CSRF-Token": tool.csrf(sid)}
        made = teacher.post(
            f"{tool.url}/s/{sid}/items/{item_id}/uploads",
            headers={
                **headers,
                "Upload-Length": str(len(body)),
                "Upload-Metadata": f"filename {name}",
            },
            timeout=10,
        )
        sent = teacher.patch(
            tool.url + made.headers["Location"],
            data=body,
            headers={**headers, "Upload-Offset": "0",
                     "Content-Type": "application/offset+octet-stream"},
            timeout=60,
        )  # fmt: skip
        assert sent.status_code == 204, sent.status_code
        rec_id = int(sent.headers["X-Recording-Id"])
        assert run_pending(rt.db.sessions, 5, settings=rt.settings) >= 1  # the conversion

        student, ssid = tool.launch("s-anna")
        link = student.get(
            f"{tool.url}/s/{ssid}/recordings/{rec_id}/link",
            headers={"Accept": "application/json"},
            timeout=10,
        )
        assert link.status_code == 200, link.status_code
        signed = link.json()["url"]
        rec_path = "/".join(signed.split("/")[-2:])
        plain = f"http://127.0.0.1:{static_port}/static/rec/{rec_path}"
        for url in (signed, plain):
            answer = requests.get(url, headers={"Range": RANGE}, timeout=5)
            assert answer.status_code == 206 and len(answer.content) == 65536, url
        viewer = signed.split("/")[-3]
        other = signed.replace(f"/{viewer}/", "/p999999/")
        assert requests.get(other, timeout=5).status_code == 403
        script = tool.tmp / "range.lua"
        script.write_text(f'wrk.headers["Range"] = "{RANGE}"\n')
        for url in (signed, plain):  # warm-up
            wrk(url, str(script), 2, args.threads, args.connections)
        print(
            f"recording playback: wrk {args.threads} threads, {args.connections} connections, "
            f"{args.seconds:.0f} s each, 64 KiB range requests of a {len(body) / 1e6:.1f} MB "
            "MP4 (converted by the tool), nginx on loopback"
        )
        authorised = wrk(signed, str(script), args.seconds, args.threads, args.connections)
        unauthenticated = wrk(plain, str(script), args.seconds, args.threads, args.connections)
        print(f"  signed link (secure_link) req/s : {authorised:10.0f}")
        print(f"  static (no auth) req/s          : {unauthenticated:10.0f}")
        print(
            f"  ratio                           : {authorised / unauthenticated:10.2f}"
            "  (target >= 0.60)"
        )
    finally:
        for child in tool.children:
            stop_process(child)
        tool.stop()


if __name__ == "__main__":
    main()
