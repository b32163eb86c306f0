from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any, NamedTuple

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from app.admin import bp, service
from app.admin.forms import AuditFilterForm, TwoFactorRolesForm, UserForm
from app.auth import service as auth_service
from app.auth import sso, two_factor
from app.auth.events import EVENTS as AUTH_EVENTS
from app.auth.session import sign_in_here
from app.auth.tokens import revoke_token as revoke_api_token
from app.extensions import db
from app.models.api_token import ApiToken
from app.models.audit import AuditEntry
from app.models.base import utcnow
from app.models.sso_identity import SsoIdentity
from app.models.user import Role, User
from app.security import roles
from app.validation import Refusals, id_or_none, saved_or_shown, saved_then_back


@bp.route("/users")
@roles(Role.ADMIN)
def users():
    page = db.paginate(select(User).order_by(User.name), per_page=50, error_out=False)
    now = utcnow()
    locked = {user.id for user in page.items if auth_service.is_locked(user, now)}
    bound = set(
        db.session.scalars(
            select(SsoIdentity.user_id).where(
                SsoIdentity.user_id.in_([user.id for user in page.items])
            )
        )
    )
    return render_template("admin/users.html", page=page, locked=locked, bound=bound)


@bp.route("/users/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def new_user():
    form = UserForm()
    created = saved_then_back(
        form,
        lambda: service.create_user(
            email=form.email.data,
            name=form.name.data,
            role=Role(form.role.data),
            password=form.password.data,
            active=form.is_active_account.data,
        ),
        lambda user: f"User {user.email} created.",
        url_for("admin.users"),
    )
    return created or render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles(Role.ADMIN)
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user) if request.method == "GET" else UserForm()
    if request.method == "GET":
        form.role.data = user.role.value
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            service.update_user(
                user,
                email=form.email.data,
                name=form.name.data,
                role=Role(form.role.data),
                active=form.is_active_account.data,
                password=form.password.data,
                acting_user_id=current_user.id,
            )
            if form.password.data and user.id == current_user.id:
                # Resetting one's own password ended this session too: keep this one.
                sign_in_here(user, remember=False, event=None)
        if outcome.saved:
            flash(f"User {user.email} saved.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user)


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@roles(Role.ADMIN)
def deactivate_user(user_id: int):
    user = db.get_or_404(User, user_id)
    refusals = Refusals()
    with saved_or_shown(refusals) as outcome:
        service.deactivate_user(user, current_user.id)
    if not outcome.saved:
        abort(400, " ".join(refusals.form_errors))
    flash(f"{user.email} can no longer sign in; their API tokens are revoked.", "success")
    return redirect(url_for("admin.users"))


class AccountAction(NamedTuple):
    """A button of the users list, a POST on one account: the change (False when there was
    nothing to change) and what is said after it, of the account's {email}."""

    path: str
    change: Callable[[User], bool]
    done: str
    nothing_to_do: str


ACCOUNT_ACTIONS = {
    "unlock_user": AccountAction(
        "unlock",
        auth_service.unlock,
        "{email} is unlocked and may sign in again.",
        "{email} was not locked.",
    ),
    "reset_two_factor": AccountAction(
        "reset-two-factor",
        two_factor.reset,
        "Two-factor sign-in of {email} is reset; they set it up again at their next sign-in "
        "(at once when their role requires it).",
        "{email} had no two-factor sign-in to reset.",
    ),
    # After the person's account at the identity provider was replaced: the next single
    # sign-on with their verified email binds the account to the new one.
    "unbind_sso": AccountAction(
        "unbind-sso",
        sso.unbind,
        "{email} is no longer bound to an identity-provider account; their next single "
        "sign-on binds it again.",
        "{email} was not bound to an identity-provider account.",
    ),
}


def _account_view(action: AccountAction):
    @roles(Role.ADMIN)
    def act_on_account(user_id: int):
        user = db.get_or_404(User, user_id)
        if action.change(user):
            db.session.commit()
            flash(action.done.format(email=user.email), "success")
        else:
            flash(action.nothing_to_do.format(email=user.email), "info")
        return redirect(url_for("admin.users"))

    return act_on_account


for _endpoint, _action in ACCOUNT_ACTIONS.items():
    bp.add_url_rule(
        f"/users/<int:user_id>/{_action.path}",
        _endpoint,
        _account_view(_action),
        methods=["POST"],
    )


@bp.route("/two-factor", methods=["GET", "POST"])
@roles(Role.ADMIN)
def two_factor_rules():
    """Roles that must use two-factor sign-in; their members set it up before anything else."""
    form = TwoFactorRolesForm()
    if request.method == "GET":
        required = two_factor.required_roles()
        for role in Role:
            form[role.value].data = role in required
    if form.validate_on_submit():
        two_factor.set_required_roles(form.chosen())
        db.session.commit()
        flash("Two-factor rules saved.", "success")
        return redirect(url_for("admin.two_factor_rules"))
    enrolled = db.session.scalar(
        select(func.count()).select_from(User).where(User.mfa_enrolled_at.is_not(None))
    )
    total = db.session.scalar(select(func.count()).select_from(User))
    return render_template("admin/two_factor.html", form=form, enrolled=enrolled, total=total)


TOKEN_STATES = [("active", "Active"), ("all", "All")]


@bp.route("/tokens")
@roles(Role.ADMIN)
def tokens():
    """Every user's API tokens: name, created, last used, expiry; revoke any."""
    now = utcnow()
    state = request.args.get("state", "active")
    query = (
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    if state != "all":
        state = "active"
        query = query.where(
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        )
    user_id = id_or_none(request.args.get("user", ""))
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template(
        "admin/tokens.html", page=page, now=now, state=state, states=TOKEN_STATES
    )


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@roles(Role.ADMIN)
def revoke_token(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    if revoke_api_token(token, f"revoked by administrator {current_user.email}"):
        db.session.commit()
        flash(f"Token “{token.name}” of {token.user.email} revoked.", "success")
    else:
        flash(f"Token “{token.name}” was already revoked.", "info")
    # Back to the list as it was filtered.
    filters: dict[str, Any] = request.args.to_dict()
    return redirect(url_for("admin.tokens", **filters))


@bp.route("/audit")
@roles(Role.ADMIN)
def audit_log():
    form = AuditFilterForm(request.args)
    users = db.session.execute(select(User.id, User.name).order_by(User.name)).all()
    entities = db.session.scalars(
        select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type)
    ).all()
    form.user.choices = [("", "Anyone")] + [(str(u.id), u.name) for u in users]
    form.entity.choices = [("", "Everything")] + [(e, e) for e in entities]
    form.action.choices = [("", "Any"), ("create", "create"), ("update", "update")]
    form.action.choices += [("delete", "delete")] + list(AUTH_EVENTS.items())
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if form.validate():
        if form.user.data and id_or_none(form.user.data) is not None:
            query = query.where(AuditEntry.user_id == int(form.user.data))
        if form.entity.data:
            query = query.where(AuditEntry.entity_type == form.entity.data)
        if form.action.data:
            query = query.where(AuditEntry.action == form.action.data[:16])
        if form.address.data and form.address.data.strip():
            query = query.where(AuditEntry.address == form.address.data.strip())
        if form.start.data:
            query = query.where(AuditEntry.at >= datetime.combine(form.start.data, time(), UTC))
        if form.end.data:
            end = datetime.combine(form.end.data, time.max, UTC)
            query = query.where(AuditEntry.at <= end)
        entity_id = request.args.get("entity_id", "").strip()
        if entity_id:
            query = query.where(AuditEntry.entity_id == entity_id)
    else:
        query = query.where(False)
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("admin/audit.html", page=page, form=form)


# Each area keeps its settings beside its own pages; this page gathers them.
SETTINGS_PAGES = [
    (
        "threats.risk_settings",
        "Risk matrix and review intervals",
        "Likelihood and impact labels, level thresholds, how often each level is reviewed.",
    ),
    (
        "threats.scoring_settings",
        "Scoring methods",
        "How a CVSS vector, OWASP or DREAD factors become a likelihood and impact.",
    ),
    ("threats.categories", "Threat categories", "The categories a threat can be filed under."),
    (
        "countermeasures.settings",
        "Countermeasure targets",
        "Countermeasures to deploy per quarter and the yearly goal.",
    ),
    (
        "coverage.positions",
        "SPOF hiring goal",
        "How many SPOF positions the key result aims to fill (set on the hiring page).",
    ),
    (
        "reports.settings",
        "Quarterly report",
        "The confidentiality marking printed on every report.",
    ),
    (
        "admin.two_factor_rules",
        "Two-factor sign-in",
        "Roles that must use a code from an authenticator app at every sign-in.",
    ),
    ("feeds.index", "Threat-intelligence feeds", "Feeds that threats are imported from."),
    (
        "notifications.admin",
        "Reminders",
        "Days ahead per reminder, webhooks, and the last runs of e-mail and feed fetching.",
    ),
]


@bp.route("/settings")
@roles(Role.ADMIN)
def settings():
    from flask import current_app

    pages = [
        (endpoint, title, text)
        for endpoint, title, text in SETTINGS_PAGES
        if endpoint in current_app.view_functions
    ]
    return render_template(
        "admin/settings.html",
        pages=pages,
        fiscal_start_month=current_app.config["FISCAL_YEAR_START_MONTH"],
    )
