"""Upload throughput through the tool's tus endpoint against a plain `curl` PUT to nginx
(WebDAV PUT to disk) of the same file on the same machine, in the same run; and the peak
resident memory of the tool's worker processes, which must not grow with the file size.

The file is real media (raw video in Matroska, made by ffmpeg), so the tool's last step --
probing the whole upload with ffprobe -- is part of the time, as for a teacher. Both clients
are curl reading the file from disk; the tool gets the teacher's launch-session cookie.
Prints MB/s of both, the ratio (target >= 0.5) and the peak RSS after a small and a large
upload (the large must not need more memory than the small).

    python bench/upload.py [--small-mb 100] [--large-mb 500] [--workers 2]
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import subprocess
from pathlib import Path

from common import free_port, start_nginx, start_tool, stop_process

G4_RECORDING = {
    "title": "Bench recording",
    "made": "recording",
    "recognisable": ["teacher"],
    "purpose": "instruction",
    "audience": "class",
    "teacher_location": "school",
    "scope": "course",
    "confirm": ["G4.1", "G4.2"],
}


def make_file(path: Path, megabytes: int) -> Path:
    """About ``megabytes`` MB of raw 1280x720 video in Matroska (1.38 MB a frame)."""
    frames = max(1, megabytes * 1_000_000 // (1280 * 720 * 3 // 2))
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "lavfi", "-i", "testsrc=size=1280x720:rate=25", "-frames:v", str(frames),
            "-c:v", "rawvideo", "-pix_fmt", "yuv420p", "-f", "matroska", str(path),
        ],
        check=True,
        timeout=300,
    )  # fmt: skip
    path.chmod(0o644)
    return path


def descendants(pid: int) -> list[int]:
    """Process ids below ``pid`` (gunicorn's master and workers under `lti-tool serve`)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def peak_rss_mb(pid: int) -> float:
    """The largest peak resident set (VmHWM) of the tool's processes, in MB."""
    peaks = []
    for p in descendants(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return max(peaks)


def curl(args: list[str]) -> tuple[int, float]:
    """curl's HTTP status and transfer time in seconds."""
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout.split()
    return int(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small-mb", type=int, default=100)
    parser.add_argument("--large-mb", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    for program in ("curl", "ffmpeg", "nginx"):
        if not shutil.which(program):
            raise SystemExit(f"{program} is missing: run scripts/system-packages.sh as root")

    http_port = free_port()
    tool = start_tool(
        args.workers,
        extra_env={"LTI_TOOL_MEDIA_URL": f"http://127.0.0.1:{http_port}/media"},
    )
    try:
        sink = tool.tmp / "put"
        sink.mkdir()
        sink.chmod(0o777)
        put_server = (
            f"  server {{ listen 127.0.0.1:{(put_port := free_port())};\n"
            f"    location /put/ {{ root {tool.tmp}; dav_methods PUT; create_full_put_path on;\n"
            f"      client_max_body_size 0; client_body_temp_path {tool.tmp}/put-tmp; }} }}\n"
        )
        tool.children.append(
            start_nginx(
                tool.tmp / "nginx",
                tool.provider(),
                rtmp_port=free_port(),
                http_port=http_port,
                tool_url=tool.url,
                extra_http=put_server,
            )
        )
        teacher, sid = tool.launch("t-tess")
        created = teacher.post(
            f"{tool.url}/s/{sid}/items/new",
            data={**G4_RECORDING, "action": "create", "csrf_token": tool.csrf(sid)},
            allow_redirects=False,
            timeout=10,
        )
        assert created.status_code == 303, created.status_code
        item_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        cookie = "; ".join(f"{k}={v}" for k, v in teacher.cookies.items())
        assert tool.proc is not None

        def tus_upload(path: Path) -> float:
            size = path.stat().st_size
            name = base64.b64encode(path.name.encode()).decode()
            made = teacher.post(
                f"{tool.url}/s/{sid}/items/{item_id}/uploads",
                headers={
                    "Tus-Resumable": "1.0.0",
                    "Upload-Length": str(size),
                    "Upload-Metadata": f"filename {name}",
                    "X-CSRF-Token": tool.csrf(sid),
                },
                timeout=10,
            )
            assert made.status_code == 201, (made.status_code, made.text[:300])
            status, seconds = curl(
                [
                    *("-X", "PATCH", "-T", str(path), f"{tool.url}{made.headers['Location']}"),
                    *("-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: 0"),
                    *("-H", "Content-Type: application/offset+octet-stream"),
                    *("-H", f"X-CSRF-Token: {tool.csrf(sid)}", "-H", f"Cookie: {cookie}"),
                    "-H", "Expect:",
                ]
            )  # fmt: skip
            assert status == 204, f"the tool answered {status}"
            return size / seconds / 1e6

        def put(path: Path) -> float:
            url = f"http://127.0.0.1:{put_port}/put/{path.name}"
            status, seconds = curl(["-T", str(path), url, "-H", "Expect:"])
            assert status in (201, 204), f"nginx answered {status}"
            return path.stat().st_size / seconds / 1e6

        files = tool.tmp / "files"
        files.mkdir()
        small = make_file(files / "small.mkv", args.small_mb)
        large = make_file(files / "large.mkv", args.large_mb)
        tus_upload(small)  # warm-up (workers import, page cache)
        put(small)
        rss_small = peak_rss_mb(tool.proc.pid)
        rates_tool, rates_nginx = [], []
        for _ in range(3):
            rates_nginx.append(put(large))
            rates_tool.append(tus_upload(large))
            os.sync()
        rss_large = peak_rss_mb(tool.proc.pid)
        tool_rate, nginx_rate = max(rates_tool), max(rates_nginx)
        ratio = tool_rate / nginx_rate
        print(
            f"upload of {large.stat().st_size / 1e6:.0f} MB over loopback, best of 3: tool tus "
            f"PATCH (lti-tool serve, {args.workers} workers) vs curl PUT to nginx (WebDAV)"
        )
        print(f"  tool (tus)        : {tool_rate:8.1f} MB/s")
        print(f"  nginx (plain PUT) : {nginx_rate:8.1f} MB/s")
        print(f"  ratio             : {ratio:8.2f}   (target >= 0.5)")
        print(
            f"  tool peak RSS     : {rss_small:6.1f} MB after {small.stat().st_size / 1e6:.0f} MB,"
            f" {rss_large:6.1f} MB after {large.stat().st_size / 1e6:.0f} MB (must not grow)"
        )
        if ratio < 0.5 or rss_large > rss_small + 20:
            print("  BELOW TARGET")
    finally:
        for child in tool.children:
            stop_process(child)
        tool.stop()


if __name__ == "__main__":
    main()
