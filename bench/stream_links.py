"""Requests/s of the signed-URL issuance/renewal endpoint (`/s/<sid>/items/<id>/watch/link`)
under `lti-tool serve` (2 workers), for a launched student of a live G2 stream.

The teacher sets the stream up through the tool's pages; the stream goes live through the
tool's own `on_publish` callback (posted as nginx-rtmp posts it, so no media server runs here).
Load: wrk with a Lua script that sends the student's launch-session Cookie header; every
answer must be 200 with a signed URL (checked once, and wrk's non-2xx count must be 0).

    python bench/stream_links.py [--seconds 10] [--threads 2] [--connections 16]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import time

import requests
from common import free_port, media_env, start_tool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: run scripts/system-packages.sh as root")

    tool = start_tool(args.workers, extra_env=media_env(free_port(), free_port()))
    try:
        teacher, tsid = tool.launch("t-tess")
        item_id, name, key = tool.live_item(teacher, tsid)
        token = tool.provider().callback_token()
        published = requests.post(
            f"{tool.url}/streams/nginx/{token}/on_publish",
            data={"call": "publish", "app": "live", "name": name, "key": key, "addr": "127.0.0.1"},
            timeout=10,
        )
        assert published.status_code == 200, published.status_code
        student, sid = tool.launch("s-anna")
        url = f"{tool.url}/s/{sid}/items/{item_id}/watch/link"
        failed = []
        for _ in range(20):  # the first call may sync a stale roster
            answer = student.get(url, headers={"Accept": "application/json"}, timeout=10)
            if answer.status_code == 200:
                break
            failed.append(answer.status_code)
            time.sleep(0.5)
        if failed:
            print(f"  NOTE: first link request(s) answered {failed} before a 200")
        body = answer.json()
        assert body["state"] == "live" and "/hls/" in body["url"], body
        cookie = "; ".join(f"{k}={v}" for k, v in student.cookies.items())
        script = tool.tmp / "cookie.lua"
        script.write_text(
            f'wrk.headers["Cookie"] = "{cookie}"\nwrk.headers["Accept"] = "application/json"\n'
        )

        def run(seconds: float) -> tuple[float, str]:
            """wrk's requests/s and p99 latency; a run with any non-2xx answer is refused."""
            out = subprocess.run(
                [
                    *("wrk", "-t", str(args.threads), "-c", str(args.connections)),
                    *("-d", f"{seconds:.0f}s", "-s", str(script), "--latency", url),
                ],
                capture_output=True,
                text=True,
                timeout=seconds + 30,
                check=True,
            ).stdout
            rate = re.search(r"Requests/sec:\s+([0-9.]+)", out)
            p99 = re.search(r"99%\s+(\S+)", out)
            if re.search(r"Non-2xx or 3xx responses|Socket errors", out) or not rate or not p99:
                raise SystemExit(f"wrk saw errors:\n{out}")
            return float(rate.group(1)), p99.group(1)

        run(2)  # warm-up
        rate, p99 = run(args.seconds)
        print(
            f"signed-URL renewal endpoint: lti-tool serve, {args.workers} workers, "
            f"client wrk + Lua Cookie header ({args.threads} threads, {args.connections} "
            f"connections), {args.seconds:.0f} s, db=sqlite"
        )
        print(f"  link renewals/s : {rate:8.1f}   (p99 latency {p99})")
    finally:
        tool.stop()


if __name__ == "__main__":
    main()
