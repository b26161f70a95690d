"""HLS segment delivery through the product's signed `secure_link` location against plain
unauthenticated nginx static delivery of the same file, in one nginx, measured with wrk.

Real segments are made once (ffmpeg writes a test pattern as HLS into the stream's folder);
the bench-only static server is added to the benchmark's own copy of the generated
configuration (the product configuration is unchanged). Prints both rates and the ratio
(target >= 0.6).

    python bench/hls_delivery.py [--seconds 10] [--threads 2] [--connections 50]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import requests
from common import free_port, start_nginx, stop_process

from lti_tool.streams.providers import NginxProvider

STREAM = "bench-stream"


def make_segments(folder: Path) -> Path:
    """Six 1 s segments of a 320x240 test pattern with sound (as nginx-rtmp would write)."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
            "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
            "-f", "lavfi", "-i", "sine", "-t", "6",
            "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-f", "hls", "-hls_time", "1", "-hls_list_size", "0",
            "-hls_segment_filename", str(folder / "index%d.ts"), str(folder / "index.m3u8"),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder / "index2.ts"


def keep_fresh(folder: Path, stop: threading.Event) -> None:
    """nginx-rtmp's ``hls_cleanup`` deletes fragments older than the playlist: the files stay
    "live" while nobody writes them if their modification time keeps moving."""
    while not stop.wait(0.5):
        for path in folder.iterdir():
            path.touch()


def wrk(url: str, seconds: float, threads: int, connections: int) -> float:
    """Requests/s of ``url``; refuses to report a run with errors or non-2xx answers."""
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:.0f}s", url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if bad:
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
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: run scripts/system-packages.sh as root")

    tmp = Path(tempfile.mkdtemp(prefix="lti-bench-hls-"))
    rtmp_port, http_port, static_port = free_port(), free_port(), free_port()
    hls_url = f"http://127.0.0.1:{http_port}/hls"
    provider = NginxProvider(
        f"rtmp://127.0.0.1:{rtmp_port}/live", hls_url, "bench-link-secret-" + "x" * 32
    )
    work = tmp / "nginx"
    static = f"""    server {{
      listen 127.0.0.1:{static_port};
      location /static/ {{ alias {work / "hls"}/; }}
    }}"""
    proc = None
    stop = threading.Event()
    try:
        proc = start_nginx(
            work,
            provider,
            rtmp_port=rtmp_port,
            http_port=http_port,
            tool_url="http://127.0.0.1:9",  # no publishing here: segments are written directly
            extra_http=static,
        )
        segment = make_segments(work / "hls" / STREAM)
        threading.Thread(target=keep_fresh, args=(segment.parent, stop), daemon=True).start()
        link = provider.playback(STREAM, "p1")
        signed = link.url.rsplit("/", 1)[0] + "/" + segment.name
        plain = f"http://127.0.0.1:{static_port}/static/{STREAM}/{segment.name}"
        size = segment.stat().st_size
        for url in (signed, plain):
            answer = requests.get(url, timeout=5)
            assert answer.status_code == 200 and len(answer.content) == size, url
        assert requests.get(signed.replace("/p1/", "/p2/"), timeout=5).status_code == 403

        for url in (signed, plain):  # warm-up
            wrk(url, 2, args.threads, args.connections)
        print(
            f"HLS segment delivery: wrk {args.threads} threads, {args.connections} connections, "
            f"{args.seconds:.0f} s each, one {size / 1024:.0f} KiB segment, nginx on loopback"
        )
        authorised = wrk(signed, args.seconds, args.threads, args.connections)
        unauthenticated = wrk(plain, args.seconds, args.threads, args.connections)
        print(f"  signed (secure_link) req/s : {authorised:10.0f}")
        print(f"  static (no auth) req/s     : {unauthenticated:10.0f}")
        print(
            f"  ratio                      : {authorised / unauthenticated:10.2f}  (target >= 0.60)"
        )
    except SystemExit:
        log = work / "error.log"
        if log.exists():
            print("nginx error.log (last lines):", *log.read_text().splitlines()[-5:], sep="\n")
        raise
    finally:
        stop.set()
        stop_process(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
