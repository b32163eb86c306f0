from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from app.auth import bp
from app.auth.forms import ApiTokenForm, ChangePasswordForm, LoginForm
from app.auth.tokens import create_token, revoke_token, tokens_of
from app.extensions import db, limiter
from app.models.api_token import ApiToken
from app.models.base import utcnow
from app.models.user import User, normalise_email
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
        user = db.session.scalar(select(User).where(User.email == normalise_email(form.email.data)))
        if (
            user is None
            or not user.is_active_account
            or not user.check_password(form.password.data)
        ):
            flash(FAILED_SIGN_IN, "danger")
            return render_template("auth/login.html", form=form), 200
        user.last_login_at = utcnow()
        db.session.commit()
        login_user(user, remember=form.remember.data)
        flash(f"Signed in as {user.name}.", "success")
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@readable
def logout():
    logout_user()
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@readable
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append("That is not your current password.")
        else:
            current_user.set_password(form.new_password.data)
            db.session.commit()
            # The version bump signed out every session, this one included: sign back in here.
            login_user(current_user)
            flash("Your password has been changed; other devices are signed out.", "success")
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
    revoke_token(token)
    db.session.commit()
    flash(f"Token “{token.name}” revoked: it no longer opens the API.", "info")
    return redirect(url_for("auth.tokens"))
