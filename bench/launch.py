"""Full LTI launches per second under `lti-tool serve` (2 workers), against a floor.

A launch = login initiation (GET /lti/login) + the validated launch (POST /lti/launch with a
fresh RS256 id_token for the login's nonce; state cookie, single-use nonce in the real store)
+ the first page (GET /s/<sid>/). The floor is a bare Flask app under the same gunicorn
settings that only verifies an RS256 JWT and renders a page. The client signs id_tokens for
both, so client cost is the same on both sides. Prints both rates and the ratio (target ≥ 0.6).

    python bench/launch.py [--seconds 10] [--threads 8] [--redis-url redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import requests
from common import CLIENT_ID, ROOT, free_port, start_tool, stop_process, wait_up

USERS = ["t-tess", "s-anna", "s-bram", "s-chloe", "s-daan", "s-eva", "p-petra"]


def run_load(seconds: float, threads: int, one: Callable[[requests.Session, int], None]) -> float:
    """Run ``one`` in ``threads`` loops for ``seconds``; returns completed iterations/s."""
    done = [0] * threads
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def loop(index: int) -> None:
        i = 0
        while time.monotonic() < stop:
            session = requests.Session()  # a fresh browser per launch
            try:
                one(session, index * 100_000 + i)
                done[index] += 1
            except Exception as exc:
                errors.append(repr(exc))
            i += 1

    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    started = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - started
    if errors:
        print(f"  {len(errors)} errors, first: {errors[0]}")
    return sum(done) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args()

    tool = start_tool(args.workers, database_url=args.database_url, redis_url=args.redis_url)
    lms, tool_url, env = tool.lms, tool.url, tool.env
    floor_port = free_port()
    exe = [sys.executable, "-m"]
    floor = subprocess.Popen(
        [
            *exe,
            "gunicorn",
            "--bind",
            f"127.0.0.1:{floor_port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--chdir",
            str(ROOT / "bench"),
            "floor_app:app",
        ],
        env={
            **env,
            "FLOOR_JWKS_URL": lms.url("/.well-known/jwks.json"),
            "FLOOR_AUDIENCE": CLIENT_ID,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_up(f"http://127.0.0.1:{floor_port}/launch")

        def launch(session: requests.Session, n: int) -> None:
            user = USERS[n % len(USERS)]
            url, params = lms.login_initiation(user, "course-1")
            login = session.get(url, params=params, allow_redirects=False, timeout=10)
            assert login.status_code == 302, login.status_code
            query = parse_qs(urlsplit(login.headers["Location"]).query)
            claims = lms.build_id_token_claims(user, "course-1", nonce=query["nonce"][0])
            form = {"id_token": lms.sign(claims), "state": query["state"][0]}
            # requests keeps Secure cookies off plain http; a browser sends them to localhost
            answer = session.post(
                f"{tool_url}/lti/launch",
                data=form,
                allow_redirects=False,
                timeout=10,
                cookies=dict(login.cookies),
            )
            assert answer.status_code == 303, answer.status_code
            page = session.get(
                tool_url + answer.headers["Location"], timeout=10, cookies=dict(answer.cookies)
            )
            assert page.status_code == 200, page.status_code

        def bare(session: requests.Session, n: int) -> None:
            user = USERS[n % len(USERS)]
            claims = lms.build_id_token_claims(user, "course-1")
            answer = session.post(
                f"http://127.0.0.1:{floor_port}/launch",
                data={"id_token": lms.sign(claims)},
                timeout=10,
            )
            assert answer.status_code == 200, answer.status_code

        run_load(2, args.threads, launch)  # warm-up: keys fetched, pools filled
        run_load(2, args.threads, bare)
        store = "redis" if args.redis_url else "database"
        database = env["LTI_TOOL_DATABASE_URL"].split(":")[0]
        print(
            f"launch benchmark: {args.workers} workers, {args.threads} client threads, "
            f"{args.seconds:.0f} s each, store={store}, db={database}"
        )
        launches = run_load(args.seconds, args.threads, launch)
        floor_rate = run_load(args.seconds, args.threads, bare)
        print(f"  full launches/s : {launches:8.1f}")
        print(f"  floor (verify+render)/s : {floor_rate:8.1f}")
        print(f"  ratio           : {launches / floor_rate:8.2f}  (target >= 0.60)")
    finally:
        stop_process(floor)
        tool.stop()


if __name__ == "__main__":
    main()
