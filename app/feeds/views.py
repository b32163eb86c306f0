"""Feed pages: register feeds, import STIX bundles, accept or dismiss candidates."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app import fiscal
from app.extensions import db
from app.feeds import bp
from app.feeds.fetch import fetch_feed, fetchable, last_fetch
from app.feeds.forms import AcceptForm, BundleForm, FeedForm
from app.feeds.service import (
    accept_candidate,
    dismiss_candidate,
    feed_counts,
    import_bundle,
    register_feed,
)
from app.models import CandidateStatus, ThreatCandidate, ThreatFeed
from app.models.user import Role
from app.security import readable, roles
from app.threats.risk import risk_matrix
from app.validation import Refusals, saved_or_shown


@bp.route("/feeds", methods=["GET"])
@readable
def index():
    feeds = db.session.scalars(select(ThreatFeed).order_by(ThreatFeed.name)).all()
    return render_template("feeds/index.html", feeds=feeds, counts=feed_counts(), form=FeedForm())


@bp.route("/feeds", methods=["POST"])
@roles(Role.SECURITY)
def create():
    form = FeedForm()
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            feed = register_feed(
                form.name.data, form.kind.data, form.url.data, form.description.data
            )
        if outcome.saved:
            flash(f"Feed “{feed.name}” registered.", "success")
            return redirect(url_for("feeds.detail", feed_id=feed.id))
    feeds = db.session.scalars(select(ThreatFeed).order_by(ThreatFeed.name)).all()
    return render_template("feeds/index.html", feeds=feeds, counts=feed_counts(), form=form), 422


def _feed_or_404(feed_id: int) -> ThreatFeed:
    return db.get_or_404(ThreatFeed, feed_id)


@bp.route("/feeds/<int:feed_id>")
@readable
def detail(feed_id: int, bundle_form=None, status_code=200):
    feed = _feed_or_404(feed_id)
    status = request.args.get("status", "pending")
    query = select(ThreatCandidate).where(ThreatCandidate.feed_id == feed.id)
    if status in {s.value for s in CandidateStatus}:
        query = query.where(ThreatCandidate.status == CandidateStatus(status))
    page = db.paginate(
        query.order_by(ThreatCandidate.stix_type, ThreatCandidate.name, ThreatCandidate.id),
        per_page=50,
    )
    return render_template(
        "feeds/detail.html",
        feed=feed,
        page=page,
        status=status,
        counts=feed_counts().get(feed.id),
        bundle_form=bundle_form or BundleForm(),
        accept_form=AcceptForm(formdata=None),
        matrix=risk_matrix(),
        statuses=list(CandidateStatus),
        fetch=last_fetch(feed.id),
        can_fetch=fetchable(feed),
    ), status_code


@bp.route("/feeds/<int:feed_id>/fetch", methods=["POST"])
@roles(Role.SECURITY)
def fetch_now(feed_id: int):
    feed = _feed_or_404(feed_id)
    if not fetchable(feed):
        flash("Only STIX and TAXII feeds with an http:// or https:// URL are fetched.", "danger")
        return redirect(url_for("feeds.detail", feed_id=feed.id))
    record = fetch_feed(feed)
    if record.outcome == "error":
        flash(f"The fetch failed: {record.error}", "danger")
    elif record.outcome == "not_modified":
        flash("The feed has not changed since the last fetch.", "info")
    else:
        flash(f"Fetched: {record.new} new candidate(s), {record.updated} updated.", "success")
    return redirect(url_for("feeds.detail", feed_id=feed_id))


@bp.route("/feeds/<int:feed_id>/import", methods=["POST"])
@roles(Role.SECURITY)
def import_file(feed_id: int):
    feed = _feed_or_404(feed_id)
    form = BundleForm()
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            summary = import_bundle(feed, form.file.data.read())
        if outcome.saved:
            flash(f"Bundle imported: {summary}.", "success")
            return redirect(url_for("feeds.detail", feed_id=feed.id))
    return detail(feed.id, bundle_form=form, status_code=422)


def _candidate_or_404(candidate_id: int) -> ThreatCandidate:
    candidate = db.session.get(ThreatCandidate, candidate_id)
    if candidate is None:
        abort(404)
    return candidate


@bp.route("/feeds/candidates/<int:candidate_id>/accept", methods=["POST"])
@roles(Role.SECURITY)
def accept(candidate_id: int):
    candidate = _candidate_or_404(candidate_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        matrix = risk_matrix()
        flash(
            f"Likelihood is a whole number from 1 to {matrix.max_likelihood}, "
            f"impact from 1 to {matrix.max_impact}.",
            "danger",
        )
        return redirect(url_for("feeds.detail", feed_id=candidate.feed_id))
    with saved_or_shown(Refusals()) as outcome:
        threat = accept_candidate(
            candidate,
            likelihood=form.likelihood.data,
            impact=form.impact.data,
            on=fiscal.today(),
            user_id=current_user.id,
        )
    if outcome.saved:
        flash(f"“{threat.title}” is now in the register.", "success")
    else:
        flash(str(outcome.refusal or outcome.conflict), "danger")
    return redirect(url_for("feeds.detail", feed_id=candidate.feed_id))


@bp.route("/feeds/candidates/<int:candidate_id>/dismiss", methods=["POST"])
@roles(Role.SECURITY)
def dismiss(candidate_id: int):
    candidate = _candidate_or_404(candidate_id)
    with saved_or_shown(Refusals()) as outcome:
        dismiss_candidate(candidate, current_user.id)
    if outcome.saved:
        flash(f"“{candidate.name}” dismissed.", "info")
    else:
        flash(str(outcome.refusal or outcome.conflict), "danger")
    return redirect(url_for("feeds.detail", feed_id=candidate.feed_id))
