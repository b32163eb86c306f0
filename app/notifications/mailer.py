"""Sending e-mail over SMTP: one connection per run, configured by the MAIL_* settings."""

from __future__ import annotations

import base64
import smtplib
import ssl
import uuid
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid


class MailError(RuntimeError):
    """The mail server could not be reached or refused the connection."""


def mail_settings(config) -> dict:
    return {
        "server": config.get("MAIL_SERVER") or "localhost",
        "port": int(config.get("MAIL_PORT") or 25),
        "use_tls": bool(config.get("MAIL_USE_TLS")),
        "username": config.get("MAIL_USERNAME") or "",
        "password": config.get("MAIL_PASSWORD") or "",
        "sender": config.get("MAIL_DEFAULT_SENDER") or "frontline@localhost",
        "timeout": float(config.get("MAIL_TIMEOUT") or 10),
    }


def _header_text(value: str) -> str:
    # No line breaks inside a header (they would start a new one); non-ASCII as RFC 2047.
    value = " ".join(value.splitlines())
    return value if value.isascii() else Header(value, "utf-8").encode()


def _part(content_type: str, text: str) -> bytes:
    body = base64.encodebytes(text.encode("utf-8")).replace(b"\n", b"\r\n")
    head = (
        f'Content-Type: {content_type}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    )
    return head.encode("ascii") + body


def build_message(
    sender: str,
    to_name: str,
    to_address: str,
    subject: str,
    text: str,
    html: str,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A multipart/alternative message (plain text and HTML) as bytes with CRLF line ends.

    Written directly rather than through ``email.message``: for thousands of digests its
    header folding costs more than the SMTP exchange itself. Headers are plain or RFC 2047.
    """
    boundary = f"=_frontline_{uuid.uuid4().hex}"
    lines = {
        "From": sender,
        "To": formataddr((" ".join(to_name.splitlines()), to_address), charset="utf-8"),
        "Subject": _header_text(subject),
        "Date": formatdate(localtime=False),
        "Message-ID": make_msgid(domain=sender.rpartition("@")[2] or "localhost"),
        "MIME-Version": "1.0",
        "Content-Type": f'multipart/alternative; boundary="{boundary}"',
        **{name: _header_text(value) for name, value in (headers or {}).items()},
    }
    head = "".join(f"{name}: {value}\r\n" for name, value in lines.items()).encode("ascii")
    marker = f"--{boundary}\r\n".encode("ascii")
    return (
        head
        + b"\r\n"
        + marker
        + _part("text/plain", text)
        + marker
        + _part("text/html", html)
        + f"--{boundary}--\r\n".encode("ascii")
    )


class Mailer:
    """An open SMTP session; use as a context manager."""

    def __init__(self, settings: dict):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        s = self.settings
        where = f"{s['server']}:{s['port']}"
        try:
            self.smtp = smtplib.SMTP(s["server"], s["port"], timeout=s["timeout"])
            if s["use_tls"]:
                self.smtp.starttls(context=ssl.create_default_context())
            if s["username"]:
                self.smtp.login(s["username"], s["password"])
        except (TimeoutError, OSError, smtplib.SMTPException) as error:
            self.close()
            raise MailError(f"Could not use the mail server at {where}: {error}") from None
        return self

    def send(self, to_address: str, data: bytes) -> None:
        """Send one message (bytes from ``as_bytes``) to one address."""
        assert self.smtp is not None
        try:
            self.smtp.sendmail(self.settings["sender"], [to_address], data)
        except smtplib.SMTPRecipientsRefused:
            raise
        except (OSError, smtplib.SMTPException) as error:
            where = f"{self.settings['server']}:{self.settings['port']}"
            raise MailError(f"The mail server at {where} stopped answering: {error}") from None

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def __exit__(self, *exc) -> None:
        self.close()
