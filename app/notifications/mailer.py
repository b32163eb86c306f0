"""Sending e-mail over SMTP: one connection per run, configured by the MAIL_* settings."""

from __future__ import annotations

import queue
import smtplib
import ssl
from concurrent.futures import Future, ThreadPoolExecutor
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
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


def build_message(
    sender: str,
    to_name: str,
    to_address: str,
    subject: str,
    text: str,
    html: str,
    headers: dict[str, str] | None = None,
) -> MIMEMultipart:
    # The compat32 MIME classes: the modern EmailMessage parses every header it is given,
    # which costs more than the SMTP exchange itself for thousands of digests.
    message = MIMEMultipart("alternative")
    message["From"] = sender
    message["To"] = formataddr((str(Header(to_name, "utf-8")), to_address))
    message["Subject"] = Header(subject, "utf-8")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    for name, value in (headers or {}).items():
        message[name] = value
    message.attach(MIMEText(text, "plain", "utf-8"))
    message.attach(MIMEText(html, "html", "utf-8"))
    return message


def as_bytes(message: MIMEMultipart) -> bytes:
    # SMTP wants CRLF line ends; bytes are sent as they are.
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


class Mailer:
    """An open SMTP session (one thread at a time); use as a context manager."""

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


class MailerPool:
    """A few SMTP sessions sending from worker threads while the caller builds the next
    messages: the wait for the server's replies overlaps the work of writing digests."""

    def __init__(self, settings: dict, size: int = 2):
        self.settings = settings
        self.size = max(1, size)
        self.mailers: list[Mailer] = []

    def __enter__(self) -> MailerPool:
        try:
            for _ in range(self.size):
                self.mailers.append(Mailer(self.settings).__enter__())
        except MailError:
            self.close()
            raise
        self.idle: queue.SimpleQueue[Mailer] = queue.SimpleQueue()
        for mailer in self.mailers:
            self.idle.put(mailer)
        self.pool = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="smtp")
        return self

    def _send(self, to_address: str, data: bytes) -> None:
        mailer = self.idle.get()
        try:
            mailer.send(to_address, data)
        finally:
            self.idle.put(mailer)

    def submit(self, to_address: str, data: bytes) -> Future:
        return self.pool.submit(self._send, to_address, data)

    def close(self) -> None:
        if hasattr(self, "pool"):
            self.pool.shutdown(wait=True)
        for mailer in self.mailers:
            mailer.close()
        self.mailers = []

    def __exit__(self, *exc) -> None:
        self.close()
