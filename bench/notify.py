"""Benchmark of ``notify run`` over the synthetic register: 100,000 threats, 2,000 users.

Run by hand (never from pytest):

    nice .venv/bin/python -m bench.notify                  # SQLite
    nice .venv/bin/python -m bench.notify --db postgresql  # a private database on 127.0.0.1:5432

A fresh database (migrated, then the synthetic register), an SMTP server on loopback
(aiosmtpd, in its own process) that counts the messages per recipient, then: collecting
the events alone (the baseline, same run), the first full run (every digest sent), and a
second run the same day (nothing new to send). The run must finish in under 30 s and send
one digest per person.
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

from bench.threats import _database, _drop

TODAY = date(2021, 1, 15)


class CountingInbox:
    def __init__(self):
        self.per_recipient: Counter[str] = Counter()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        for rcpt in envelope.rcpt_tos:
            self.per_recipient[rcpt] += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _smtp_server(conn, port: int) -> None:
    # In its own process, as a real mail server would be: not competing for this one's GIL.
    from aiosmtpd.controller import Controller

    inbox = CountingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    conn.send("ready")
    conn.recv()  # "stop"
    controller.stop()
    conn.send(dict(inbox.per_recipient))


class SmtpProcess:
    def __init__(self):
        self.port = _free_port()
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_smtp_server, args=(child, self.port))
        self.process.start()
        self.conn.recv()

    def stop(self) -> Counter:
        self.conn.send("stop")
        counts = Counter(self.conn.recv())
        self.process.join()
        return counts


def run(engine: str, threats: int, users: int, workdir: Path) -> bool:
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from app import create_app
    from app.extensions import db
    from app.models.audit import set_cli_actor
    from app.models.notifications import DigestSent
    from app.notifications.events import collect_events
    from app.notifications.service import candidate_level, notify, reminder_days
    from app.seed.synthetic import fill

    url, pg_name = _database(engine, workdir, threats)
    smtp = SmtpProcess()
    stopped = False
    try:
        app = create_app(
            "development",
            SQLALCHEMY_DATABASE_URI=url,
            FRONTLINE_TODAY=TODAY.isoformat(),
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=smtp.port,
            MAIL_USE_TLS=False,
        )
        with app.app_context():
            upgrade()
            set_cli_actor(None, "bench")
            started = time.perf_counter()
            fill(
                seed=1,
                users=users,
                threats=threats,
                systems=100,
                staff=60,
                responsibilities=250,
                positions=10,
                countermeasures=500,
            )
            loaded = time.perf_counter() - started
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            db.session.remove()
        print(f"\n== {engine}: {threats:,} threats, {users:,} users (loaded in {loaded:.1f} s) ==")
        with app.app_context(), app.test_request_context(base_url="http://localhost:5000"):
            started = time.perf_counter()
            events = collect_events(TODAY, reminder_days(), candidate_level())
            baseline = time.perf_counter() - started
            db.session.rollback()
            expected = {u for e in events for u in e.user_ids}
            by_kind = Counter(e.kind for e in events)

            started = time.perf_counter()
            first = notify(TODAY)
            first_s = time.perf_counter() - started
            digests = db.session.scalar(select(func.count()).select_from(DigestSent))

            started = time.perf_counter()
            second = notify(TODAY)
            second_s = time.perf_counter() - started
            db.engine.dispose()
        per_recipient = smtp.stop()
        stopped = True
        messages = sum(per_recipient.values())
        print(f"events: {len(events):,} ({', '.join(f'{k} {n:,}' for k, n in by_kind.items())})")
        print(f"people with something to be told: {len(expected):,}")
        print(f"collect events alone (baseline):  {baseline:6.2f} s")
        print(f"notify run, first pass:            {first_s:6.2f} s  ({first_s / baseline:.1f}x)")
        print(f"notify run, second pass same day:  {second_s:6.2f} s  ({second_s / baseline:.1f}x)")
        print(
            f"digests sent (run / recorded / SMTP messages): {first.digests:,} / {digests:,} / "
            f"{messages:,}; most to one address: {max(per_recipient.values(), default=0)}"
        )
        print(f"second pass sent {second.digests} digest(s)")
        ok = (
            first_s < 30
            and messages == first.digests == digests == len(expected)
            and max(per_recipient.values(), default=0) == 1
            and second.digests == 0
        )
        print("PASS" if ok else "FAIL")
        return ok
    finally:
        if not stopped:
            smtp.stop()
        _drop(pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--threats", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="frontline-bench-") as workdir:
        ok = run(args.db, args.threats, args.users, Path(workdir))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
