"""A countermeasure's status: the statuses it may move to, a change of status, deployment
(with the residual scores it brings to the threats it treats) and verification."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import func, select

from app.countermeasures.checks import (
    References,
    check_not_future,
    check_version,
    last_status_change_on,
    record_status,
)
from app.countermeasures.inputs import DEPLOYMENT, STATUS_CHANGE, VERIFICATION
from app.domain.countermeasures import allowed_next_statuses
from app.domain.scoring import ScoringError
from app.extensions import db
from app.inputs import read
from app.models.countermeasures import Countermeasure, CountermeasureStatus
from app.models.threats import Threat, ThreatScoreChange
from app.threats.risk import rescore_threat, risk_matrix
from app.validation import InputError

# --- status ---------------------------------------------------------------------------


def next_statuses(countermeasure: Countermeasure) -> list[CountermeasureStatus]:
    return [
        CountermeasureStatus[name] for name in allowed_next_statuses(countermeasure.status.name)
    ]


def change_status(
    countermeasure: Countermeasure,
    status=None,
    *,
    changed_on: date | None = None,
    user_id: int | None = None,
    version=None,
) -> Countermeasure:
    """Move to a later status (in progress, or retired); deployment goes through
    ``deploy_countermeasure`` because it needs its date and the threats' new scores."""
    check_version(countermeasure, version)
    clean, errors = read(STATUS_CHANGE, {"status": status, "changed_on": changed_on})
    status, changed_on = clean["status"], clean["changed_on"]
    if status == CountermeasureStatus.DEPLOYED:
        errors["status"] = (
            "Use Deploy: a deployed countermeasure needs its deployment date and the treated "
            "threats' residual scores."
        )
    elif status is not None and status.name not in allowed_next_statuses(
        countermeasure.status.name
    ):
        errors["status"] = (
            f"A countermeasure that is {countermeasure.status.label.lower()} cannot move to "
            f"{status.label.lower()}."
        )
    if changed_on is None:  # (a date refused as read keeps its own message)
        errors.setdefault("changed_on", "Give the date of the change.")
    else:
        check_not_future(changed_on, "changed_on", errors, "date of the change")
        last = last_status_change_on(countermeasure)
        if "changed_on" not in errors and last is not None and changed_on < last:
            errors["changed_on"] = (
                f"The last status change was on {last.isoformat()}; use that day or later."
            )
        if (
            status == CountermeasureStatus.RETIRED
            and countermeasure.deployed_on is not None
            and changed_on < countermeasure.deployed_on
            and "changed_on" not in errors
        ):
            errors["changed_on"] = "It cannot be retired before it was deployed."
    if errors:
        raise InputError(errors)
    if status == CountermeasureStatus.RETIRED:
        countermeasure.retired_on = changed_on
    record_status(countermeasure, status, changed_on, user_id)
    return countermeasure


def deploy_countermeasure(
    countermeasure: Countermeasure,
    *,
    deployed_on: date | None = None,
    residuals: Mapping[int, tuple[int, int] | None] | list[dict] | None = None,
    user_id: int | None = None,
    evidence: str | None = None,
    version=None,
) -> Countermeasure:
    """Record the deployment and the treated threats' new residual (likelihood, impact).

    A threat whose residual pair is missing or unchanged keeps its scores; each changed one
    gets a score change dated the deployment day that credits this countermeasure.
    """
    check_version(countermeasure, version)
    clean, refused = read(
        DEPLOYMENT, {"deployed_on": deployed_on, "evidence": evidence, "residuals": residuals}
    )
    deployed_on, evidence_text = clean["deployed_on"], clean["evidence"]
    errors: dict[str, str] = {}
    if countermeasure.status not in (
        CountermeasureStatus.PLANNED,
        CountermeasureStatus.IN_PROGRESS,
    ):
        errors["_"] = f"This countermeasure is already {countermeasure.status.label.lower()}."
    if "deployed_on" in refused:
        errors["deployed_on"] = refused["deployed_on"]
    else:
        _check_deployment_date(countermeasure, deployed_on, errors)
    errors.update(refused)  # the evidence's, after the date's
    changes = _residual_changes(countermeasure, clean["residuals"], errors)
    if changes and deployed_on is not None and "deployed_on" not in errors:
        _refuse_rescored_after(deployed_on, changes, errors)
    if errors or deployed_on is None:  # a missing date is among the errors
        raise InputError(errors)
    _rescore_treated(countermeasure, changes, deployed_on, user_id)
    countermeasure.deployed_on = deployed_on
    countermeasure.retired_on = None
    if evidence_text is not None:
        countermeasure.evidence = evidence_text
    record_status(countermeasure, CountermeasureStatus.DEPLOYED, deployed_on, user_id)
    return countermeasure


def _check_deployment_date(
    countermeasure: Countermeasure, deployed_on: date | None, errors: dict[str, str]
) -> None:
    """Given, not in the future, not before the plan or the last status change."""
    if deployed_on is None:
        errors["deployed_on"] = "A deployed countermeasure needs its deployment date."
        return
    check_not_future(deployed_on, "deployed_on", errors, "deployment date")
    last = last_status_change_on(countermeasure)
    if "deployed_on" not in errors and deployed_on < countermeasure.planned_on:
        errors["deployed_on"] = (
            f"It was planned on {countermeasure.planned_on.isoformat()}; it cannot have "
            "been deployed before that."
        )
    elif "deployed_on" not in errors and last is not None and deployed_on < last:
        errors["deployed_on"] = (
            f"Its status last changed on {last.isoformat()}; it cannot have been "
            "deployed before that."
        )


def _residual_changes(
    countermeasure: Countermeasure,
    residuals: Mapping[int, tuple[int, int] | None],
    errors: dict[str, str],
) -> list[tuple[Threat, tuple[int, int]]]:
    """The treated threats whose residual (likelihood, impact) the deployment changes."""
    linked = {t.id: t for t in countermeasure.threats}
    changes: list[tuple[Threat, tuple[int, int]]] = []
    matrix = risk_matrix()
    for threat_id, pair in residuals.items():
        threat = linked.get(int(threat_id))
        field = f"residual_{threat_id}"
        if threat is None:
            errors[field] = f"Threat #{threat_id} is not treated by this countermeasure."
            continue
        if pair is None:
            continue
        try:
            likelihood, impact = (int(pair[0]), int(pair[1]))
        except (TypeError, ValueError, IndexError):
            errors[field] = "Give a likelihood and an impact."
            continue
        if not (1 <= likelihood <= matrix.max_likelihood and 1 <= impact <= matrix.max_impact):
            errors[field] = (
                f"Likelihood must be 1-{matrix.max_likelihood} and impact 1-{matrix.max_impact}."
            )
            continue
        if (likelihood, impact) == (threat.residual_likelihood, threat.residual_impact):
            continue
        if threat.archived_at is not None:
            errors[field] = f'Threat "{threat.title}" is archived; its scores cannot change.'
            continue
        changes.append((threat, (likelihood, impact)))
    return changes


def _refuse_rescored_after(
    deployed_on: date,
    changes: list[tuple[Threat, tuple[int, int]]],
    errors: dict[str, str],
) -> None:
    """A threat re-scored after the deployment day keeps that later score (one query)."""
    latest = dict(
        db.session.execute(
            select(ThreatScoreChange.threat_id, func.max(ThreatScoreChange.changed_on))
            .where(ThreatScoreChange.threat_id.in_([t.id for t, _ in changes]))
            .group_by(ThreatScoreChange.threat_id)
        )
        .tuples()
        .all()
    )
    for threat, _pair in changes:
        last = latest.get(threat.id)
        if last is not None and last > deployed_on:
            errors[f"residual_{threat.id}"] = (
                f'"{threat.title}" was re-scored on {last.isoformat()}, after this '
                "deployment date: leave its score as it is here and re-score it on its page."
            )


def _rescore_treated(
    countermeasure: Countermeasure,
    changes: list[tuple[Threat, tuple[int, int]]],
    deployed_on: date,
    user_id: int | None,
) -> None:
    """Each changed threat's new residual, dated the deployment day, credited to it."""
    for threat, pair in changes:
        try:
            rescore_threat(
                threat,
                inherent=(threat.inherent_likelihood, threat.inherent_impact),
                residual=pair,
                changed_on=deployed_on,
                author_id=user_id,
                countermeasure_id=countermeasure.id,
                note=f"Countermeasure deployed: {countermeasure.title}"[:500],
            )
        except ScoringError as error:  # pragma: no cover - ranges were checked above
            raise InputError({f"residual_{threat.id}": str(error)}) from None


def verify_countermeasure(
    countermeasure: Countermeasure,
    *,
    verified_on: date | None = None,
    verified_by_id=None,
    effectiveness=None,
    version=None,
) -> Countermeasure:
    """Record that the deployed countermeasure was checked: when, by whom, how effective."""
    check_version(countermeasure, version)
    clean, refused = read(
        VERIFICATION,
        {
            "verified_on": verified_on,
            "verified_by_id": verified_by_id,
            "effectiveness": effectiveness,
        },
    )
    verified_on, verified_by_id = clean["verified_on"], clean["verified_by_id"]
    errors: dict[str, str] = {}
    if countermeasure.deployed_on is None:
        errors["_"] = "Only a deployed countermeasure can be verified."
    if verified_on is None:
        errors["verified_on"] = refused.get("verified_on", "Give the date of the verification.")
    else:
        check_not_future(verified_on, "verified_on", errors, "verification date")
        if (
            "verified_on" not in errors
            and countermeasure.deployed_on is not None
            and verified_on < countermeasure.deployed_on
        ):
            errors["verified_on"] = (
                f"It was deployed on {countermeasure.deployed_on.isoformat()}; "
                "it cannot be verified before that."
            )
    if "verified_by_id" in refused:
        errors["verified_by_id"] = refused["verified_by_id"]
    elif verified_by_id is None:
        errors["verified_by_id"] = "Who verified it?"
    elif not References().user_exists(verified_by_id):
        errors["verified_by_id"] = "Unknown user."
    errors.update(refused)  # the effectiveness's, last
    if errors:
        raise InputError(errors)
    countermeasure.verified_on = verified_on
    countermeasure.verified_by_id = verified_by_id
    countermeasure.effectiveness = clean["effectiveness"]
    return countermeasure
