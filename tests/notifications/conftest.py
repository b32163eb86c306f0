"""A real SMTP server on loopback, and the demo at 2021-01-15, for the reminder tests."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.extensions import db
from app.models.user import User
from app.seed import load_demo
from tests.conftest import TEST_PASSWORD


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["X-Envelope-To"]]

    def text_of(self, message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    def html_of(self, message) -> str:
        return message.get_body(preferencelist=("html",)).get_content()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    saved = {k: app.config.get(k) for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False)
    yield inbox
    controller.stop()
    app.config.update(saved)


@pytest.fixture
def demo(app):
    previous = app.config.get("FRONTLINE_TODAY")
    app.config["FRONTLINE_TODAY"] = "2021-01-15"
    load_demo()
    for user in db.session.scalars(select(User)):
        user.set_password(TEST_PASSWORD)
    db.session.commit()
    yield
    app.config["FRONTLINE_TODAY"] = previous
