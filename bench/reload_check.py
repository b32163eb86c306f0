"""Check a running production server on this machine: sign-in limit and a HUP reload.

    python -m bench.reload_check --url http://127.0.0.1:8000 --master-pid PID

1. Sign-in limit across workers: ``--attempts`` failed sign-ins from one address, each on a
   new connection (so the workers share them out); with a shared limiter store the ones past
   ``LOGIN_RATE_LIMIT`` answer 429 whichever worker takes them.
2. Reload under load: ``--clients`` threads request ``/healthz`` and ``/login`` in a loop
   for ``--seconds``, each request on a new connection; the master gets ``SIGHUP`` at each
   ``--hup-at`` second. Refused connections, errors and the workers before and after are
   counted.

Loopback only, bounded in time; it stops by itself. Requests carry
``X-Forwarded-Proto: https`` as the TLS proxy would, since production redirects plain HTTP.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

HEADERS = {"X-Forwarded-Proto": "https", "User-Agent": "reload-check"}


# What the TLS proxy waits for an answer (nginx's proxy_read_timeout): a request still
# unanswered after this is an error, as it would be behind the proxy.
PROXY_TIMEOUT = 60


def _connection(host: str, port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(host, port, timeout=PROXY_TIMEOUT)


def _request(host, port, method, path, body=None, headers=None):
    conn = _connection(host, port)
    try:
        conn.request(method, path, body=body, headers={**HEADERS, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def sign_in_limit(host: str, port: int, attempts: int) -> Counter:
    # Flask-WTF checks the Referer of an HTTPS form post, as the proxy would pass it on.
    referer = {"Referer": f"https://{host}:{port}/login"}
    status, headers, body = _request(host, port, "GET", "/login")
    cookie = "; ".join(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body).group(1).decode()
    form = f"csrf_token={token}&email=nobody%40example.org&password=wrong-password"
    answers: Counter = Counter()
    for _ in range(attempts):
        status, _, _ = _request(
            host,
            port,
            "POST",
            "/login",
            body=form,
            headers={
                "Cookie": cookie,
                "Content-Type": "application/x-www-form-urlencoded",
                **referer,
            },
        )
        answers[status] += 1
    return answers


def workers_of(master: int) -> set[int]:
    out = subprocess.run(["ps", "--ppid", str(master), "-o", "pid="], capture_output=True)
    return {int(p) for p in out.stdout.split()}


def under_load(host, port, seconds, clients, master, hup_at) -> dict:
    counts: Counter = Counter()
    waits: list[float] = []
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def client(n: int) -> None:
        path = "/healthz" if n % 2 == 0 else "/login"
        while time.monotonic() < end:
            began = time.monotonic()
            try:
                status, _, _ = _request(host, port, "GET", path)
                outcome = "ok" if status == 200 else f"status {status}"
            except ConnectionRefusedError:
                outcome = "refused"
            except OSError as error:
                outcome = f"error {type(error).__name__}"
            with lock:
                counts[outcome] += 1
                waits.append(time.monotonic() - began)

    before = workers_of(master)
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for at in sorted(hup_at):
        time.sleep(max(0.0, started + at - time.monotonic()))
        os.kill(master, signal.SIGHUP)
        print(f"  SIGHUP to {master} at {time.monotonic() - started:.1f} s")
    for thread in threads:
        thread.join()
    after = workers_of(master)
    waits.sort()
    return {
        "counts": counts,
        "median": waits[len(waits) // 2] if waits else 0.0,
        "p99": waits[int(len(waits) * 0.99)] if waits else 0.0,
        "slowest": waits[-1] if waits else 0.0,
        "workers_before": sorted(before),
        "workers_after": sorted(after),
        "replaced": not (before & after),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--master-pid", type=int, required=True)
    parser.add_argument("--attempts", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--hup-at", type=float, nargs="*", default=[5.0])
    args = parser.parse_args()
    parts = urlsplit(args.url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("This check only talks to a server on this machine (loopback).")
    host, port = parts.hostname, parts.port or 80

    limit = sign_in_limit(host, port, args.attempts)
    print(f"sign-in: {args.attempts} failed attempts from one address -> {dict(limit)}")
    result = under_load(host, port, args.seconds, args.clients, args.master_pid, args.hup_at)
    counts = result["counts"]
    total = sum(counts.values())
    print(f"load: {total} requests in {args.seconds:.0f} s from {args.clients} clients")
    print(f"  outcomes: {dict(counts)}")
    print(f"  refused connections: {counts['refused']}; not 200: {total - counts['ok']}")
    print(
        f"  seconds per request: median {result['median']:.3f}, p99 {result['p99']:.2f}, "
        f"slowest {result['slowest']:.2f} (timeout {PROXY_TIMEOUT} s)"
    )
    print(f"  workers before: {result['workers_before']}")
    print(f"  workers after:  {result['workers_after']} (all replaced: {result['replaced']})")


if __name__ == "__main__":
    main()
