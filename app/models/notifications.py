"""Reminders: who wants which, what was told to whom, webhooks, runs and feed fetches."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import TimestampMixin, owned_rows, utcnow

__all__ = [
    "DigestSent",
    "FeedFetch",
    "NotificationPreference",
    "NotificationRun",
    "RunLock",
    "SentNotification",
    "Webhook",
    "WebhookDelivery",
]


class NotificationPreference(TimestampMixin, Model):
    """A user's choice: how often a digest comes, and which kinds of reminder it holds."""

    __tablename__ = "notification_preferences"
    __audited__ = True

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    cadence: Mapped[str] = mapped_column(String(16), default="daily")
    # Kinds the user turned off (new kinds are on until they say otherwise).
    muted_kinds: Mapped[list] = mapped_column(JSON, default=list)


class NotificationRun(Model):
    """One pass of ``notify run`` or ``feeds fetch``, with its counts and error."""

    __tablename__ = "notification_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    register_day: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="running")
    events: Mapped[int] = mapped_column(default=0)
    digests: Mapped[int] = mapped_column(default=0)
    deliveries: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")


class SentNotification(Model):
    """What was last told to a recipient (a user or a webhook) about one event."""

    __tablename__ = "sent_notifications"
    __table_args__ = (UniqueConstraint("recipient", "event_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(40), index=True)
    event_key: Mapped[str] = mapped_column(String(120))
    fingerprint: Mapped[str] = mapped_column(String(64))
    sent_on: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_runs.id", ondelete="SET NULL"), index=True
    )


class DigestSent(Model):
    """One e-mail digest sent to one user (the weekly cadence counts from the last one)."""

    __tablename__ = "digests_sent"
    __table_args__ = (Index("ix_digests_sent_user_day", "user_id", "sent_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_runs.id", ondelete="SET NULL"), index=True
    )
    sent_on: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    items: Mapped[int] = mapped_column(default=0)


class Webhook(TimestampMixin, Model):
    """A URL that receives every reminder as Slack-compatible JSON, signed with its secret."""

    __tablename__ = "webhooks"
    __audited__ = True
    __audit_exclude__ = ("secret",)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(default=True)

    deliveries: Mapped[list[WebhookDelivery]] = owned_rows("webhook", passive_deletes=True)

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(Model):
    """One POST of a batch of events to a webhook, after its retries."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_hook_at", "webhook_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_runs.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    events: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    status_code: Mapped[int | None]
    ok: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str] = mapped_column(Text, default="")

    webhook: Mapped[Webhook] = relationship(back_populates="deliveries")


class FeedFetch(Model):
    """One fetch of a feed's URL: its answer, its counts, and the validators to send next."""

    __tablename__ = "feed_fetches"
    __table_args__ = (Index("ix_feed_fetches_feed_at", "feed_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("threat_feeds.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_runs.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # ok, not_modified or error
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None]
    new: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    etag: Mapped[str] = mapped_column(String(300), default="")
    last_modified: Mapped[str] = mapped_column(String(100), default="")
    error: Mapped[str] = mapped_column(Text, default="")


class RunLock(Model):
    """A held lock on SQLite (PostgreSQL uses an advisory lock): one run at a time."""

    __tablename__ = "run_locks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    holder: Mapped[str] = mapped_column(String(120), default="")
