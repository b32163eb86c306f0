"""One pass of reminders: collect the events, send each person one digest, post the webhooks,
and record what was told so the next pass tells only what is new, changed or a week old."""

from __future__ import annotations

import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask import current_app, render_template, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, select, tuple_

from app.domain.reminders import (
    CADENCES,
    CONFIDENCE_LEVELS,
    KINDS,
    Event,
    Told,
    days_setting,
    digest_due,
    group_by_kind,
    should_tell,
)
from app.extensions import db
from app.models.base import utcnow
from app.models.notifications import (
    DigestSent,
    NotificationPreference,
    NotificationRun,
    SentNotification,
    Webhook,
)
from app.models.setting import get_setting, set_setting
from app.models.user import User
from app.notifications.events import collect_events
from app.notifications.lock import run_lock
from app.notifications.mailer import Mailer, MailError, build_message, mail_settings
from app.validation import InputError

DAYS_KEY = "reminder_days"
CANDIDATE_LEVEL_KEY = "reminder_candidate_level"
DEFAULT_CANDIDATE_LEVEL = "any"
# A digest lists at most this many items per kind and links to the rest.
ITEMS_PER_KIND = 50
# What left is recorded every this many digests (and when the run ends or fails).
RECORD_EVERY = 100


# ------------------------------------------------------------------------- settings


def reminder_days() -> dict[str, int]:
    return days_setting(get_setting(DAYS_KEY, {}))


def candidate_level() -> str:
    level = get_setting(CANDIDATE_LEVEL_KEY, DEFAULT_CANDIDATE_LEVEL)
    return level if level in CONFIDENCE_LEVELS else DEFAULT_CANDIDATE_LEVEL


def save_settings(days: dict[str, int], level: str) -> None:
    errors = {}
    for kind, value in days.items():
        if not isinstance(value, int) or not 0 <= value <= 365:
            errors[f"days_{kind}"] = "A whole number of days from 0 to 365."
    if level not in CONFIDENCE_LEVELS:
        errors["candidate_level"] = f"Choose one of: {', '.join(CONFIDENCE_LEVELS.values())}."
    if errors:
        raise InputError(errors)
    set_setting(DAYS_KEY, {**reminder_days(), **days})
    set_setting(CANDIDATE_LEVEL_KEY, level)
    db.session.flush()


def preference_of(user_id: int) -> NotificationPreference:
    pref = db.session.get(NotificationPreference, user_id)
    return pref or NotificationPreference(user_id=user_id, cadence="daily", muted_kinds=[])


def save_preference(user_id: int, cadence: str, kinds: list[str]) -> NotificationPreference:
    if cadence not in CADENCES:
        raise InputError({"cadence": f"Choose one of: {', '.join(CADENCES.values())}."})
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise InputError({"kinds": f"Unknown reminder: {', '.join(unknown)}."})
    pref = db.session.get(NotificationPreference, user_id)
    if pref is None:
        pref = NotificationPreference(user_id=user_id)
        db.session.add(pref)
    pref.cadence = cadence
    pref.muted_kinds = sorted(set(KINDS) - set(kinds))
    db.session.flush()
    return pref


# ---------------------------------------------------------------------- unsubscribe


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="reminders-unsubscribe")


def unsubscribe_token(user_id: int) -> str:
    return _serializer().dumps(user_id)


def user_of_token(token: str) -> User | None:
    try:
        user_id = _serializer().loads(token)
    except BadSignature:
        return None
    return db.session.get(User, user_id) if isinstance(user_id, int) else None


# ----------------------------------------------------------------------------- run


@dataclass
class Digest:
    user_id: int
    name: str
    email: str
    events: list[Event] = field(default_factory=list)
    # Keys this person was told about before (their record is replaced).
    replaced: list[str] = field(default_factory=list)


@dataclass
class RunSummary:
    run_id: int
    events: int = 0
    digests: int = 0
    deliveries: int = 0
    failures: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (
            f"{self.events} event(s), {self.digests} digest(s) sent, "
            f"{self.deliveries} webhook deliver(ies), {self.failures} failure(s)"
        )
        return text + "".join(f"\n  {e}" for e in self.errors)


def told_before(recipients: list[str] | None = None) -> dict[tuple[str, str], Told]:
    query = select(
        SentNotification.recipient,
        SentNotification.event_key,
        SentNotification.fingerprint,
        SentNotification.sent_on,
    )
    if recipients is not None:
        query = query.where(SentNotification.recipient.in_(recipients))
    rows = db.session.connection().execute(query)
    return {(r, k): Told(fp, on) for r, k, fp, on in rows}


def _last_digests() -> dict[int, date]:
    query = select(DigestSent.user_id, func.max(DigestSent.sent_on)).group_by(DigestSent.user_id)
    return dict(db.session.connection().execute(query).tuples().all())


def plan_digests(events: list[Event], today: date) -> list[Digest]:
    """Which users get a digest today, each with the events to tell them (none twice)."""
    by_user: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        for user_id in event.user_ids:
            by_user[user_id].append(event)
    if not by_user:
        return []
    users = db.session.connection().execute(
        select(User.id, User.name, User.email).where(User.is_active_account.is_(True))
    )
    people = {u.id: u for u in users}
    prefs = {
        p.user_id: (p.cadence, set(p.muted_kinds or []))
        for p in db.session.scalars(select(NotificationPreference))
    }
    told = told_before()
    last = _last_digests()
    digests = []
    for user_id in sorted(by_user):
        person = people.get(user_id)
        if person is None:
            continue
        cadence, muted = prefs.get(user_id, ("daily", set()))
        if not digest_due(cadence, last.get(user_id), today):
            continue
        recipient = f"user:{user_id}"
        items = [
            e
            for e in by_user[user_id]
            if e.kind not in muted and should_tell(e, told.get((recipient, e.key)), today)
        ]
        if items:
            replaced = [e.key for e in items if (recipient, e.key) in told]
            digests.append(Digest(user_id, person.name, person.email, items, replaced))
    return digests


def forget_told(pairs: list[tuple[str, str]]) -> None:
    """Drop what these (recipient, event key) pairs were told before, to record it anew."""
    for start in range(0, len(pairs), 500):
        db.session.execute(
            delete(SentNotification).where(
                tuple_(SentNotification.recipient, SentNotification.event_key).in_(
                    pairs[start : start + 500]
                )
            )
        )


def told_rows(recipient: str, events: list[Event], today: date, run_id: int) -> list[dict]:
    now = utcnow()
    return [
        {
            "recipient": recipient,
            "event_key": e.key,
            "fingerprint": e.fingerprint,
            "sent_on": today,
            "sent_at": now,
            "run_id": run_id,
        }
        for e in events
    ]


def record_told(
    recipient: str, events: list[Event], replaced: list[str], today: date, run_id: int
) -> None:
    """Remember what ``recipient`` was told (replacing what they were told before)."""
    forget_told([(recipient, k) for k in replaced])
    connection = db.session.connection()
    connection.execute(
        SentNotification.__table__.insert(), told_rows(recipient, events, today, run_id)
    )


def render_digest(digest: Digest, today: date, unsubscribe_url: str) -> tuple[str, str, str]:
    groups = [
        (KINDS[kind], items[:ITEMS_PER_KIND], len(items) - ITEMS_PER_KIND)
        for kind, items in group_by_kind(digest.events)
    ]
    context = {
        "digest": digest,
        "groups": groups,
        "today": today,
        "preferences_url": url_for("notifications.preferences", _external=True),
        "unsubscribe_url": unsubscribe_url,
    }
    count = len(digest.events)
    subject = f"Frontline reminders for {today.isoformat()}: {count} item{'s' * (count != 1)}"
    text = render_template("notifications/email/digest.txt", **context)
    html = render_template("notifications/email/digest.html", **context)
    return subject, text, html


def _start_run(kind: str, today: date) -> NotificationRun:
    run = NotificationRun(kind=kind, register_day=today, started_at=utcnow(), status="running")
    db.session.add(run)
    db.session.commit()
    return run


def _finish_run(run: NotificationRun, summary: RunSummary) -> None:
    run.finished_at = utcnow()
    run.events, run.digests = summary.events, summary.digests
    run.deliveries, run.failures = summary.deliveries, summary.failures
    run.status = "error" if summary.errors else "ok"
    run.error = "\n".join(summary.errors)[:4000]
    db.session.commit()


def _message(digest: Digest, today: date, sender: str) -> bytes:
    unsubscribe = url_for(
        "notifications.unsubscribe", token=unsubscribe_token(digest.user_id), _external=True
    )
    subject, text, html = render_digest(digest, today, unsubscribe)
    return build_message(
        sender,
        digest.name,
        digest.email,
        subject,
        text,
        html,
        {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


class _Recorder:
    """What left is recorded in batches: one insert of everything told per batch."""

    def __init__(self, today: date, run_id: int):
        self.today, self.run_id = today, run_id
        self.replaced: list[tuple[str, str]] = []
        self.told: list[dict] = []
        self.digests: list[dict] = []

    def add(self, digest: Digest) -> None:
        recipient = f"user:{digest.user_id}"
        self.replaced += [(recipient, k) for k in digest.replaced]
        self.told += told_rows(recipient, digest.events, self.today, self.run_id)
        self.digests.append(
            {
                "user_id": digest.user_id,
                "run_id": self.run_id,
                "sent_on": self.today,
                "sent_at": utcnow(),
                "items": len(digest.events),
            }
        )

    def commit(self) -> None:
        forget_told(self.replaced)
        connection = db.session.connection()
        if self.told:
            connection.execute(SentNotification.__table__.insert(), self.told)
        if self.digests:
            connection.execute(DigestSent.__table__.insert(), self.digests)
        db.session.commit()
        self.replaced, self.told, self.digests = [], [], []


def send_digests(digests: list[Digest], today: date, run_id: int, summary: RunSummary) -> None:
    """Send the digests; what left is recorded even if the server stops answering half-way."""
    if not digests:
        return
    settings = mail_settings(current_app.config)
    recorder = _Recorder(today, run_id)
    with Mailer(settings) as mailer:
        try:
            for digest in digests:
                try:
                    mailer.send(digest.email, _message(digest, today, settings["sender"]))
                except smtplib.SMTPRecipientsRefused as error:
                    summary.failures += 1
                    summary.errors.append(f"{digest.email} refused by the mail server: {error}")
                    continue
                recorder.add(digest)
                summary.digests += 1
                if len(recorder.digests) >= RECORD_EVERY:
                    recorder.commit()
        finally:
            recorder.commit()


def notify(today: date, with_webhooks: bool = True) -> RunSummary:
    """One pass; raises RunBusyError if another pass is under way, MailError if mail cannot go."""
    from app.notifications.webhooks import deliver_webhooks

    with run_lock("notify"):
        run = _start_run("notify", today)
        summary = RunSummary(run_id=run.id)
        try:
            events = collect_events(today, reminder_days(), candidate_level())
            summary.events = len(events)
            digests = plan_digests(events, today)
            db.session.rollback()
            try:
                send_digests(digests, today, run.id, summary)
            except MailError as error:
                db.session.rollback()
                summary.failures += 1
                summary.errors.append(str(error))
            if with_webhooks:
                hooks = db.session.scalars(select(Webhook).where(Webhook.active.is_(True))).all()
                if hooks:
                    deliver_webhooks(hooks, events, today, run.id, summary)
        except Exception as error:
            db.session.rollback()
            summary.errors.append(f"The run stopped: {error}")
            _finish_run(db.session.merge(run), summary)
            raise
        _finish_run(run, summary)
    return summary
