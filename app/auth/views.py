from __future__ import annotations

import functools
import math
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user
from markupsafe import Markup

from app.auth import bp, events, pending, service, sso, two_factor
from app.auth.forms import (
    ApiTokenForm,
    ChangePasswordForm,
    EnrolForm,
    LoginForm,
    RecoveryCodesForm,
    SecondStepForm,
    TurnOffTwoFactorForm,
)
from app.auth.session import sign_in_here
from app.auth.tokens import create_token, revoke_token, tokens_of
from app.domain.sign_in import RoleMapError
from app.extensions import db, limiter
from app.models.api_token import ApiToken, aware
from app.models.base import utcnow
from app.models.user import User
from app.security import public, readable
from app.validation import saved_or_shown

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


def _login_page(form: LoginForm, status: int = 200):
    config = current_app.config
    return (
        render_template(
            "auth/login.html",
            form=form,
            sso=sso.configured(),
            provider=sso.provider_name(),
            password_on=bool(config["PASSWORD_SIGN_IN"]),
        ),
        status,
    )


def _locked_response(locked_until, render: Callable[[], str]):
    wait = max(1, math.ceil((locked_until - utcnow()).total_seconds()))
    minutes = max(1, math.ceil(wait / 60))
    flash(
        "Too many failed sign-ins for this account. Try again in "
        f"{minutes} minute{'s' if minutes != 1 else ''}, or ask an administrator "
        "to unlock it.",
        "danger",
    )
    response = current_app.make_response((render(), 429))
    response.headers["Retry-After"] = str(wait)
    return response


def _sign_in_step(view):
    """A page of signing in: open, its posts rate-limited; the signed in go to the dashboard."""

    @functools.wraps(view)
    def step(*args, **kwargs):
        if current_user.is_authenticated:
            return redirect(url_for("main.dashboard"))
        return view(*args, **kwargs)

    return public(limiter.limit(_login_limit, methods=["POST"])(step))


@bp.route("/login", methods=["GET", "POST"])
@_sign_in_step
def login():
    form = LoginForm()
    if form.validate_on_submit():
        result = service.check_sign_in(form.email.data, form.password.data)
        if result.locked:
            db.session.commit()
            return _locked_response(result.locked_until, lambda: _login_page(form)[0])
        if result.user is None:
            db.session.commit()
            flash(FAILED_SIGN_IN, "danger")
            return _login_page(form)
        target = _safe_next(request.args.get("next"))
        if result.user.has_two_factor:
            db.session.commit()
            pending.start(
                result.user, remember=bool(form.remember.data), next_url=target, method="password"
            )
            return redirect(url_for("auth.second_step"))
        pending.clear()
        sign_in_here(result.user, bool(form.remember.data))
        flash(f"Signed in as {result.user.name}.", "success")
        return redirect(target)
    return _login_page(form)


@bp.route("/login/second-step", methods=["GET", "POST"])
@_sign_in_step
def second_step():
    """The code from the authenticator app (or a recovery code) after the password."""
    waiting = pending.current()
    if waiting is None:
        pending.clear()
        flash("Sign in first; the code is asked for after that.", "info")
        return redirect(url_for("auth.login"))
    user, data = waiting
    form = SecondStepForm()
    if form.validate_on_submit():
        now = utcnow()
        if service.is_locked(user, now):
            pending.clear()
            events.record(
                "sign-in-locked", user, f"Second step refused for {user.email}: account locked"
            )
            db.session.commit()
            return _locked_response(
                aware(user.locked_until),
                lambda: render_template("auth/second_step.html", form=form),
            )
        how = two_factor.check_second_step(user, form.code.data, now)
        if how is None:
            result = service.count_failure(user, now, reason="wrong two-factor code")
            db.session.commit()
            if result.locked:
                pending.clear()
                return _locked_response(
                    result.locked_until,
                    lambda: render_template("auth/second_step.html", form=form),
                )
            form.code.errors.append("That code is not right, or has been used already.")
            return render_template("auth/second_step.html", form=form), 200
        service.mark_signed_in(user, now)
        pending.clear()
        by_sso = data.get("method") == "sso"
        sign_in_here(user, bool(data.get("remember")), event="sso-sign-in" if by_sso else "sign-in")
        if by_sso and data.get("id_token"):
            session[SSO_TOKEN_KEY] = data["id_token"]
        if how == "recovery code":
            left = two_factor.recovery_codes_left(user)
            flash(f"Signed in with a recovery code; {left} left. Each works once.", "warning")
        else:
            flash(f"Signed in as {user.name}.", "success")
        return redirect(_safe_next(data.get("next")))
    return render_template("auth/second_step.html", form=form)


SSO_TOKEN_KEY = "oidc_id_token"


@bp.route("/login/sso")
@public
@limiter.limit(_login_limit)
def sso_start():
    """Off to the provider. A link, not a form: a form's redirect to another site would be
    stopped by the form-action policy. Starting a sign-in changes nothing here; the
    callback only accepts the state this browser was given."""
    if not sso.configured():
        abort(404)
    pending.clear()
    # One sign-in at a time per browser: states of abandoned attempts do not pile up.
    for key in [k for k in session if k.startswith(sso.STATE_PREFIX)]:
        session.pop(key)
    try:
        return sso.begin(url_for("auth.sso_callback", _external=True))
    except sso.SsoRefusedError as error:
        page = render_template(
            "auth/sso_refused.html", message=str(error), provider=sso.provider_name()
        )
        return page, 503


@bp.route("/login/sso/callback")
@public
@limiter.limit(_login_limit)
def sso_callback():
    """Where the provider sends the browser back. Without the state this browser's sign-in
    started it refuses, and writes nothing but the refusal event."""
    if not sso.configured():
        abort(404)
    try:
        answer = sso.answer_from_callback()
        user = sso.user_for(answer.claims)
    except sso.SsoRefusedError as error:
        db.session.rollback()
        sso.record_refusal(error)
        db.session.commit()
        page = render_template(
            "auth/sso_refused.html", message=str(error), provider=sso.provider_name()
        )
        return page, 403
    except RoleMapError as error:
        db.session.rollback()
        current_app.logger.error("OIDC_ROLE_MAP: %s", error)
        page = render_template(
            "auth/sso_refused.html",
            message="Single sign-on is misconfigured here (OIDC_ROLE_MAP); tell an administrator.",
            provider=sso.provider_name(),
        )
        return page, 503
    if user.has_two_factor:
        db.session.commit()
        pending.start(
            user,
            remember=False,
            next_url=url_for("main.dashboard"),
            method="sso",
            id_token=answer.id_token,
        )
        return redirect(url_for("auth.second_step"))
    sign_in_here(user, remember=False, event="sso-sign-in")
    session[SSO_TOKEN_KEY] = answer.id_token
    flash(f"Signed in as {user.name}.", "success")
    return redirect(url_for("main.dashboard"))


@bp.route("/logout", methods=["POST"])
@readable
def logout():
    service.end_session(current_user, current_user.session_key)
    db.session.commit()
    logout_user()
    id_token = session.pop(SSO_TOKEN_KEY, None)
    flash("You have been signed out.", "info")
    if id_token and sso.configured():
        # Ends the provider's session too, when it offers an end-session endpoint.
        provider_exit = sso.logout_url(id_token, url_for("auth.login", _external=True))
        if provider_exit:
            return redirect(provider_exit)
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
        codes_left=(
            two_factor.recovery_codes_left(current_user) if current_user.has_two_factor else None
        ),
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
        with saved_or_shown(form) as outcome:
            token, new_secret = create_token(current_user, form.name.data, form.expires_days.data)
        if outcome.saved:
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


SETUP_SECRET_KEY = "two_factor_setup_secret"


@bp.route("/account/two-factor", methods=["GET", "POST"])
@readable
def two_factor_setup():
    """Turn on two-factor sign-in: scan the QR code, confirm a code, keep the recovery codes."""
    user = db.session.get(User, current_user.id)
    required = user.role in two_factor.required_roles()
    if user.has_two_factor:
        return _two_factor_on_page(user, required)
    secret = session.get(SETUP_SECRET_KEY)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = two_factor.new_secret()
        session[SETUP_SECRET_KEY] = secret
    form = EnrolForm()
    if form.validate_on_submit():
        codes = two_factor.enrol(user, secret, form.code.data)
        if codes is None:
            form.code.errors.append(
                "That code does not match. Check the time on your phone and try the next code."
            )
        else:
            db.session.commit()
            session.pop(SETUP_SECRET_KEY, None)
            flash("Two-factor sign-in is on.", "success")
            return render_template("auth/recovery_codes.html", codes=codes)
    uri = two_factor.provisioning_uri(secret, user.email, current_app.config["MFA_ISSUER_NAME"])
    return render_template(
        "auth/two_factor.html",
        enrolled=False,
        user=user,
        form=form,
        # The SVG is drawn by segno from our own otpauth address: nothing typed goes in.
        qr=Markup(two_factor.qr_svg(uri)),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        required=required,
    )


def _wrong_proof(user: User, reason: str):
    """A wrong code or password here counts toward the account's lockout, as a wrong second
    step does: a stolen session cannot guess its way to new recovery codes. Returns when the
    account is locked now, or None."""
    db.session.rollback()
    result = service.count_failure(user, utcnow(), reason=reason)
    db.session.commit()
    return result.locked_until if result.locked else None


def _two_factor_on_page(
    user: User,
    required: bool,
    renew: RecoveryCodesForm | None = None,
    off: TurnOffTwoFactorForm | None = None,
):
    """The page of an account with two-factor sign-in on: codes left, new codes, turning off."""
    return render_template(
        "auth/two_factor.html",
        enrolled=True,
        user=user,
        left=two_factor.recovery_codes_left(user),
        required=required,
        renew=renew or RecoveryCodesForm(prefix="renew", formdata=None),
        off=off or TurnOffTwoFactorForm(prefix="off", formdata=None),
    )


def _proved_two_factor_change(form_class, prefix, attempt, wrong, reason):
    """A change to one's own two-factor sign-in, proved by a code (or the password) and
    refused while the account is locked: ``attempt(user, form, page)`` answers, or returns
    None for a wrong proof, which counts toward the lockout and shows ``wrong``."""
    user = db.session.get(User, current_user.id)
    if not user.has_two_factor:
        return redirect(url_for("auth.two_factor_setup"))
    required = user.role in two_factor.required_roles()
    form = form_class(prefix=prefix)

    def page():
        return _two_factor_on_page(user, required, **{prefix: form})

    if form.validate_on_submit():
        if service.is_locked(user):
            return _locked_response(aware(user.locked_until), page)
        answer = attempt(user, form, page)
        if answer is not None:
            return answer
        locked_until = _wrong_proof(user, reason)
        if locked_until is not None:
            return _locked_response(locked_until, page)
        form.code.errors.append(wrong)
    return page()


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@readable
@limiter.limit(_login_limit)
def replace_recovery_codes():
    """Ten new recovery codes, shown once; the old ones stop working."""

    def attempt(user, form, page):
        codes = two_factor.replace_recovery_codes(user, form.code.data)
        if codes is None:
            return None
        db.session.commit()
        flash("New recovery codes made; the old ones no longer work.", "success")
        return render_template("auth/recovery_codes.html", codes=codes)

    return _proved_two_factor_change(
        RecoveryCodesForm,
        "renew",
        attempt,
        "That code is not right, or has been used already.",
        "wrong code to replace recovery codes",
    )


@bp.route("/account/two-factor/off", methods=["POST"])
@readable
@limiter.limit(_login_limit)
def turn_off_two_factor():
    """Turn one's own two-factor sign-in off, with a current code or the password."""

    def attempt(user, form, page):
        try:
            how = two_factor.turn_off(user, form.code.data, form.password.data)
        except two_factor.TwoFactorRequiredError:
            db.session.rollback()
            # The form is not on the page for such a role: say it above the page.
            flash("Your role requires two-factor sign-in, so it cannot be turned off.", "danger")
            return page()
        if how is None:
            return None
        db.session.commit()
        flash("Two-factor sign-in is off: signing in asks for the password only.", "info")
        return redirect(url_for("auth.account"))

    return _proved_two_factor_change(
        TurnOffTwoFactorForm,
        "off",
        attempt,
        "Neither the code nor the password is right.",
        "wrong code or password to turn off two-factor",
    )
