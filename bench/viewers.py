"""200 concurrent viewers on one live stream on loopback, each through its own signed URL.

The tool (`lti-tool serve`, 2 workers) and nginx with its generated configuration run as in
production; ffmpeg publishes with the teacher's key (nginx asks the tool: `on_publish`). One
viewer's link comes from the renewal endpoint (a launched student); the others are signed by
the provider for distinct viewer ids, as the endpoint would. Each viewer behaves like an HLS
player on its own keep-alive connection: playlist every second, every new segment fetched.
Prints errors (must be 0) and segment latency (p50/p99/max, request to last byte).

    python bench/viewers.py [--viewers 200] [--seconds 20]
"""

from __future__ import annotations

import argparse
import http.client
import random
import threading
import time
from urllib.parse import urlsplit

from common import percentile, start_live, wait_for


class Viewer(threading.Thread):
    def __init__(self, url: str, until: float, results: dict[str, list]):
        super().__init__(daemon=True)
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path.rsplit("/", 1)[0] + "/"
        self.playlist = parts.path
        self.until = until
        self.results = results

    def get(self, conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
        conn.request("GET", path)
        answer = conn.getresponse()
        return answer.status, answer.read()

    def run(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        seen: set[str] = set()
        first = True
        time.sleep(random.random())  # players do not start in the same millisecond
        while time.monotonic() < self.until:
            tick = time.monotonic()
            try:
                status, body = self.get(conn, self.playlist)
                self.results["playlists"].append(1)
                if status != 200:
                    self.results["errors"].append(f"playlist {status}")
                else:
                    names = [x for x in body.decode().splitlines() if x.endswith(".ts")]
                    fresh = [n for n in names if n not in seen]
                    if first:  # join at the live edge, as hls.js does
                        fresh, first = fresh[-2:], False
                        seen.update(names)
                    for name in fresh:
                        seen.add(name)
                        started = time.perf_counter()
                        status, body = self.get(conn, self.prefix + name)
                        if status != 200 or not body:
                            self.results["errors"].append(f"segment {status}")
                        else:
                            self.results["latency"].append(time.perf_counter() - started)
            except (OSError, http.client.HTTPException) as exc:
                self.results["errors"].append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()

    live = start_live()
    tool = live.tool
    try:
        item_id, name, key = live.new_stream()
        pusher = live.push(name, key, int(args.seconds) + 30)
        wait_for(live.playlist(name).exists, 15, "nginx to write the HLS playlist")
        time.sleep(3)  # a few segments in the playlist
        student, sid = tool.launch("s-anna")
        link_url = f"{tool.url}/s/{sid}/items/{item_id}/watch/link"
        for _ in range(20):  # the first call may sync a stale roster
            answer = student.get(link_url, timeout=10)
            if answer.status_code == 200 and answer.json().get("url"):
                break
            time.sleep(0.5)
        urls = [answer.json()["url"]]
        provider = tool.provider()
        urls += [provider.playback(name, f"v{n}").url for n in range(1, args.viewers)]

        results: dict[str, list] = {"playlists": [], "latency": [], "errors": []}
        until = time.monotonic() + args.seconds
        viewers = [Viewer(url, until, results) for url in urls]
        for viewer in viewers:
            viewer.start()
        for viewer in viewers:
            viewer.join(args.seconds + 30)
        still_live = pusher.poll() is None
        latency = results["latency"]
        print(
            f"viewers: {args.viewers} concurrent HLS clients (Python threads, one keep-alive "
            f"connection each), one stream, {args.seconds:.0f} s, nginx secure_link on loopback"
        )
        print(f"  playlist fetches : {len(results['playlists'])}")
        print(f"  segment fetches  : {len(latency)}")
        print(f"  errors           : {len(results['errors'])}  (must be 0)")
        if results["errors"]:
            print(f"    first: {results['errors'][:3]}")
        print(
            f"  segment latency  : p50 {percentile(latency, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(latency, 0.99) * 1000:.1f} ms, max {max(latency) * 1000:.1f} ms"
        )
        if not still_live:
            print("  WARNING: the encoder stopped during the run")
    finally:
        tool.stop()


if __name__ == "__main__":
    main()
