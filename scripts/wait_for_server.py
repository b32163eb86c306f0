"""Wait until the app answers its health check: `make run` prints "Serving on" only then.

Usage: wait_for_server.py HOST PORT PID. Exits 0 once /healthz answers, 1 if the server
process PID ends first or nothing answers within a minute.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.error
import urllib.request


def main(host: str, port: str, pid: int) -> int:
    # A server bound to every address is reached on the loopback one.
    target = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    url = f"http://{target}:{port}/healthz"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return 1  # the server stopped (port taken, bad setting): its own message says why
        try:
            with urllib.request.urlopen(url, timeout=2):
                return 0
        except urllib.error.HTTPError:
            return 0  # it answered, if not with 200 (a database still starting, say)
        except OSError:
            time.sleep(0.3)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
