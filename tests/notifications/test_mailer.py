"""The digest message: valid MIME, both parts, headers that cannot be split."""

from __future__ import annotations

import email
import email.policy

from app.notifications.mailer import build_message


def test_message_parts_non_ascii_and_no_header_injection():
    data = build_message(
        "frontline@example.org",
        "Zoë Ölund\r\nBcc: victim@example.org",
        "zoe@example.org",
        "Frontline reminders — 2 items",
        "Plain: café\n" * 40,
        "<p>HTML: café</p>",
        {"List-Unsubscribe": "<http://localhost:5000/reminders/unsubscribe/abc>"},
    )
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert b"\n" not in data.replace(b"\r\n", b"")
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert message["Bcc"] is None
    assert message["To"].addresses[0].addr_spec == "zoe@example.org"
    assert "Zoë Ölund" in message["To"].addresses[0].display_name
    assert str(message["Subject"]) == "Frontline reminders — 2 items"
    assert message.get_body(("plain",)).get_content().startswith("Plain: café")
    assert message.get_body(("html",)).get_content() == "<p>HTML: café</p>"
    assert message["List-Unsubscribe"] == "<http://localhost:5000/reminders/unsubscribe/abc>"
