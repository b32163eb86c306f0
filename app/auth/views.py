from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from app.auth import bp, service
from app.auth.forms import ApiTokenForm, ChangePasswordForm, LoginForm
from app.auth.session import sign_in_here
from app.auth.tokens import create_token, revoke_token, tokens_of
from app.extensions import db, limiter
from app.models.api_token import ApiToken
from app.models.base import utcnow
from app.models.user import User
from app.security import public, readable
from app.validation import InputError, apply_errors_to_form

FAILED_SIGN_IN = "Those details do not match an active account. Check them and try again."


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would make the sign-in page a phishing tool.
    if (
        target
        and urlsplit(target).netloc == ""
        and target.startswith("/")
        and not target.startswith("//")
    ):
        return target
    return url_for("main.dashboard")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        result = service.check_sign_in(form.email.data, form.password.data)
        if result.locked:
            db.session.commit()
            wait = max(1, math.ceil((result.locked_until - utcnow()).total_seconds()))
            minutes = max(1, math.ceil(wait / 60))
            flash(
                "Too many failed sign-ins for this account. Try again in "
                f"{minutes} minute{'s' if minutes != 1 else ''}, or ask an administrator "
                "to unlock it.",
                "danger",
            )
            response = current_app.make_response(
                (render_template("auth/login.html", form=form), 429)
            )
            response.headers["Retry-After"] = str(wait)
            return response
        if result.user is None:
            db.session.commit()
            flash(FAILED_SIGN_IN, "danger")
            return render_template("auth/login.html", form=form), 200
        sign_in_here(result.user, bool(form.remember.data))
        flash(f"Signed in as {result.user.name}.", "success")
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@readable
def logout():
    service.end_session(current_user, current_user.session_key)
    db.session.commit()
    logout_user()
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))


def _duration_text(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@bp.route("/account")
@readable
def account():
    """Who you are, where you are signed in, and the way to end every session."""
    sessions = service.active_sessions(current_user)
    current = service.session_for(current_user.session_key)
    return render_template(
        "auth/account.html",
        sessions=sessions,
        current_id=current.id if current else None,
        idle=_duration_text(current_app.config["SESSION_IDLE_MINUTES"]),
        remember_days=current_app.config["REMEMBER_ME_DAYS"],
    )


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@readable
def sign_out_everywhere():
    ended = service.sign_out_everywhere(current_user)
    db.session.commit()
    logout_user()
    flash(
        f"Signed out everywhere: {ended} session{'s' if ended != 1 else ''} ended, "
        "this one included.",
        "info",
    )
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@readable
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append("That is not your current password.")
        else:
            user = db.session.get(User, current_user.id)
            here = service.session_for(current_user.session_key)
            service.change_password(user, form.new_password.data)
            # Every session ended, this one included: sign back in here only.
            sign_in_here(user, remember=bool(here and here.remember), event=None)
            flash(
                "Your password has been changed; other devices are signed out and your "
                "API tokens are revoked.",
                "success",
            )
            return redirect(url_for("main.dashboard"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/account/tokens", methods=["GET", "POST"])
@readable
def tokens():
    """Personal API tokens: list, create (the secret is shown once) and revoke."""
    form = ApiTokenForm()
    new_secret = None
    if form.validate_on_submit():
        try:
            token, new_secret = create_token(current_user, form.name.data, form.expires_days.data)
        except InputError as error:
            db.session.rollback()
            apply_errors_to_form(form, error)
        else:
            db.session.commit()
            flash(f"Token “{token.name}” created. Copy it now: it is not shown again.", "success")
            form = ApiTokenForm(formdata=None)
    return render_template(
        "auth/tokens.html",
        form=form,
        tokens=tokens_of(current_user),
        new_secret=new_secret,
        now=utcnow(),
    )


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@readable
def revoke_api_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    revoke_token(token, "revoked by its owner")
    db.session.commit()
    flash(f"Token “{token.name}” revoked: it no longer opens the API.", "info")
    return redirect(url_for("auth.tokens"))
