"""An unknown email costs the same as a wrong password: no timing tell for who has an account."""

from __future__ import annotations

import statistics
import time

import pytest

from app.auth import service
from app.extensions import db
from app.models import user as user_module
from app.models.user import Role, User
from tests.conftest import ROLE_EMAILS

ROUNDS = 20


@pytest.fixture
def no_lockout(app):
    # 20 wrong passwords would lock the account; the timing is what is measured here.
    old = app.config["LOCKOUT_THRESHOLD"]
    app.config["LOCKOUT_THRESHOLD"] = 0
    yield
    app.config["LOCKOUT_THRESHOLD"] = old


def _attempt(client, email: str) -> float:
    started = time.perf_counter()
    response = client.post("/login", data={"email": email, "password": "not-the-password"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    return elapsed


def test_every_failed_path_checks_exactly_one_password_hash(app, users, no_lockout, monkeypatch):
    calls = []
    real = user_module.check_password_hash

    def counting(stored, password):
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(user_module, "check_password_hash", counting)
    monkeypatch.setattr(service, "check_password_hash", counting)
    inactive = db.session.get(User, users[Role.SECURITY].id)
    inactive.is_active_account = False
    db.session.commit()
    client = app.test_client()
    for email in (ROLE_EMAILS[Role.VIEWER], "nobody@test.example", ROLE_EMAILS[Role.SECURITY]):
        calls.clear()
        _attempt(client, email)
        assert len(calls) == 1, email
        assert calls[0].split("$")[0] == users[Role.VIEWER].password_hash.split("$")[0]


def test_unknown_email_and_wrong_password_take_the_same_time(app, users, no_lockout):
    client = app.test_client()
    known, unknown = ROLE_EMAILS[Role.VIEWER], "nobody@test.example"
    _attempt(client, known), _attempt(client, unknown)  # warm up both paths
    ratios = []
    for _ in range(3):  # a busy machine gets two more tries; a real gap fails all three
        known_times, unknown_times = [], []
        for _ in range(ROUNDS):  # interleaved, so load on the machine hits both alike
            known_times.append(_attempt(client, known))
            unknown_times.append(_attempt(client, unknown))
        ratio = statistics.median(unknown_times) / statistics.median(known_times)
        ratios.append(ratio)
        if 0.8 <= ratio <= 1.2:
            break
    assert 0.8 <= ratios[-1] <= 1.2, ratios
