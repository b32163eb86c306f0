"""Reminder pages: a user's choices, the signed unsubscribe link, the admin's settings,
webhooks and the record of runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from app.domain.reminders import DEFAULT_DAYS, KINDS
from app.extensions import csrf, db
from app.models.notifications import FeedFetch, NotificationRun, Webhook, WebhookDelivery
from app.models.threats import ThreatFeed
from app.models.user import Role
from app.notifications import bp
from app.notifications.forms import (
    PreferenceForm,
    ReminderSettingsForm,
    UnsubscribeForm,
    WebhookForm,
)
from app.notifications.service import (
    candidate_level,
    preference_of,
    reminder_days,
    save_preference,
    save_settings,
    user_of_token,
)
from app.notifications.webhooks import create_webhook, ping
from app.security import public, readable, roles
from app.validation import saved_or_shown, saved_then_back


@bp.route("/account/reminders", methods=["GET", "POST"])
@readable
def preferences():
    pref = preference_of(current_user.id)
    form = PreferenceForm()
    if not form.is_submitted():
        form.cadence.data = pref.cadence
        form.kinds.data = [k for k in KINDS if k not in (pref.muted_kinds or [])]
    elif form.validate():
        with saved_or_shown(form) as outcome:
            save_preference(current_user.id, form.cadence.data, form.kinds.data or [])
        if outcome.saved:
            flash("Your reminder choices are saved.", "success")
            return redirect(url_for("notifications.preferences"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("notifications/preferences.html", form=form), status


@bp.route("/reminders/unsubscribe/<token>", methods=["GET", "POST"])
@public  # the signed token is the credential, and it can only turn that user's reminders off
@csrf.exempt  # mail clients' one-click unsubscribe (RFC 8058) POSTs without a form token
def unsubscribe(token: str):
    user = user_of_token(token)
    if user is None:
        return render_template("notifications/unsubscribe.html", user=None, form=None), 404
    form = UnsubscribeForm()
    if form.is_submitted():
        pref = preference_of(user.id)
        save_preference(user.id, "off", [k for k in KINDS if k not in (pref.muted_kinds or [])])
        db.session.commit()
        return render_template("notifications/unsubscribe.html", user=user, form=None, done=True)
    return render_template("notifications/unsubscribe.html", user=user, form=form)


def _latest(attempt: Any, target: Any, target_id: Any, limit: int) -> Sequence[Any]:
    """The last attempts logged (deliveries, fetches), newest first, each with the name of
    the webhook or feed it was for."""
    return db.session.execute(
        select(attempt, target.name)
        .join(target, target.id == target_id)
        .order_by(attempt.id.desc())
        .limit(limit)
    ).all()


def _admin_page(settings_form=None, webhook_form=None, status=200):
    if settings_form is None:
        settings_form = ReminderSettingsForm(formdata=None)
        for kind, days in reminder_days().items():
            getattr(settings_form, f"days_{kind}").data = days
        settings_form.candidate_level.data = candidate_level()
    runs = db.session.scalars(
        select(NotificationRun).order_by(NotificationRun.id.desc()).limit(10)
    ).all()
    hooks = db.session.scalars(select(Webhook).order_by(Webhook.name)).all()
    deliveries = _latest(WebhookDelivery, Webhook, WebhookDelivery.webhook_id, 20)
    fetches = _latest(FeedFetch, ThreatFeed, FeedFetch.feed_id, 10)
    return render_template(
        "notifications/admin.html",
        settings_form=settings_form,
        webhook_form=webhook_form or WebhookForm(formdata=None),
        runs=runs,
        hooks=hooks,
        deliveries=deliveries,
        fetches=fetches,
        default_days=DEFAULT_DAYS,
    ), status


@bp.route("/admin/reminders")
@roles(Role.ADMIN)
def admin():
    return _admin_page()


@bp.route("/admin/reminders/settings", methods=["POST"])
@roles(Role.ADMIN)
def save_admin_settings():
    form = ReminderSettingsForm()
    if form.validate():
        days = {kind: getattr(form, f"days_{kind}").data for kind in DEFAULT_DAYS}
        with saved_or_shown(form) as outcome:
            save_settings(days, form.candidate_level.data)
        if outcome.saved:
            flash("Reminder settings saved.", "success")
            return redirect(url_for("notifications.admin"))
    return _admin_page(settings_form=form, status=422)


@bp.route("/admin/reminders/webhooks", methods=["POST"])
@roles(Role.ADMIN)
def add_webhook():
    form = WebhookForm()
    added = saved_then_back(
        form,
        lambda: create_webhook(form.name.data, form.url.data),
        lambda hook: f"Webhook “{hook.name}” added; its signing secret is in the table.",
        url_for("notifications.admin"),
    )
    return added or _admin_page(webhook_form=form, status=422)


@bp.route("/admin/reminders/webhooks/<int:webhook_id>/delete", methods=["POST"])
@roles(Role.ADMIN)
def delete_webhook(webhook_id: int):
    hook = db.get_or_404(Webhook, webhook_id)
    db.session.delete(hook)
    db.session.commit()
    flash(f"Webhook “{hook.name}” removed.", "info")
    return redirect(url_for("notifications.admin"))


@bp.route("/admin/reminders/webhooks/<int:webhook_id>/test", methods=["POST"])
@roles(Role.ADMIN)
def test_webhook(webhook_id: int):
    hook = db.get_or_404(Webhook, webhook_id)
    attempts, status, error = ping(hook)
    db.session.add(
        WebhookDelivery(
            webhook_id=hook.id,
            events=0,
            attempts=attempts,
            status_code=status,
            ok=not error,
            error=error,
        )
    )
    db.session.commit()
    if error:
        flash(f"Test of “{hook.name}” failed: {error}", "danger")
    else:
        flash(f"Test of “{hook.name}” delivered (HTTP {status}).", "success")
    return redirect(url_for("notifications.admin"))
