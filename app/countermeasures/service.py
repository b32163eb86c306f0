"""Business rules for countermeasures: plain values in, InputError out, nothing from Flask's
request, so the pages, the API and the seed all go through the same checks.

Every function validates first and changes nothing when it refuses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from sqlalchemy import func, select

from app import fiscal
from app.domain.countermeasures import allowed_next_statuses
from app.domain.quarters import Quarter, QuarterError
from app.domain.scoring import ScoringError
from app.extensions import db
from app.models.countermeasures import (
    Countermeasure,
    CountermeasureStatus,
    CountermeasureStatusChange,
    CountermeasureTargetPeriod,
    CountermeasureType,
    Effectiveness,
)
from app.models.setting import set_setting
from app.models.threats import Threat, ThreatScoreChange
from app.models.user import User
from app.threats.risk import rescore_threat, risk_matrix
from app.validation import ConflictError, InputError, check_date_range

TITLE_MAX = 200
TEXT_MAX = 20_000
MAX_QUARTER_TARGET = 50
MAX_YEARLY_GOAL = 500

_UNSET = object()


# --- parsing plain values -------------------------------------------------------------


def _enum(enum_cls, value, field: str, errors: dict, required: bool = True):
    if isinstance(value, enum_cls):
        return value
    if value in (None, ""):
        if required:
            errors[field] = "Choose one."
        return None
    text = str(value).strip()
    for member in enum_cls:
        if text.upper() == member.name or text.lower() == member.value:
            return member
    choices = ", ".join(m.value for m in enum_cls)
    errors[field] = f'"{text[:40]}" is not one of: {choices}.'
    return None


def _text(value, field: str, errors: dict, *, required=False, max_length=TEXT_MAX) -> str:
    text = (value or "").strip()
    if required and not text:
        errors[field] = "This is required."
    elif len(text) > max_length:
        errors[field] = f"Keep it under {max_length:,} characters (this is {len(text):,})."
    return text


def _quarter(value, errors: dict) -> Quarter | None:
    if value in (None, ""):
        return None
    if isinstance(value, Quarter):
        return value
    try:
        return fiscal.quarter_or_none(str(value))
    except QuarterError as error:
        errors["target_quarter"] = str(error)
        return None


class References:
    """What the rules look up: today, users, threats.

    This one reads the database as each rule needs it; the CSV import hands the rules one
    loaded once for the whole file (``app.transfer.entities``), so the same rules run
    without a query per row.
    """

    def __init__(self) -> None:
        self.today = fiscal.today()

    def user_exists(self, user_id: int) -> bool:
        return db.session.get(User, user_id) is not None

    def threats(self, ids: list[int]) -> dict:
        """The threats with these ids (objects with ``id``, ``title`` and ``archived_at``)."""
        return {t.id: t for t in db.session.scalars(select(Threat).where(Threat.id.in_(ids)))}


def _not_future(value: date | None, field: str, errors: dict, what: str, today=None) -> None:
    today = today or fiscal.today()
    if value is not None and value > today:
        errors[field] = f"The {what} cannot be in the future (today is {today.isoformat()})."
    else:
        try:
            check_date_range(field, value)
        except InputError as error:
            errors.update(error.errors)


def _user(user_id, field: str, errors: dict, refs: References | None = None) -> int | None:
    if user_id in (None, ""):
        return None
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        errors[field] = "Unknown user."
        return None
    if not (refs or References()).user_exists(user_id):
        errors[field] = "Unknown user."
        return None
    return user_id


def _threats(
    threat_ids: Iterable,
    errors: dict,
    already_linked: Iterable[Threat] = (),
    refs: References | None = None,
) -> list:
    ids: list[int] = []
    for raw in threat_ids or ():
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors["threat_ids"] = f'"{str(raw)[:20]}" is not a threat number.'
            return []
        if value not in ids:
            ids.append(value)
    if not ids:
        return []
    found = (refs or References()).threats(ids)
    missing = [str(i) for i in ids if i not in found]
    if missing:
        errors["threat_ids"] = f"No threat numbered {', '.join(missing)}."
        return []
    linked = {t.id for t in already_linked}
    archived = [found[i] for i in ids if found[i].archived_at is not None and i not in linked]
    if archived:
        names = ", ".join(f'#{t.id} "{t.title}"' for t in archived)
        errors["threat_ids"] = (
            f"Threat {names} is archived: a countermeasure cannot be linked to an archived "
            "threat. Restore the threat first."
        )
        return []
    return [found[i] for i in ids]


def _check_version(countermeasure: Countermeasure, expected_version) -> None:
    if expected_version in (None, ""):
        return
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise ConflictError() from None
    if expected != countermeasure.version:
        raise ConflictError(
            "Someone else changed this countermeasure since you opened it. "
            "Reload it to see their changes, then make yours again."
        )


def _record_status(countermeasure, status, changed_on, user_id) -> None:
    countermeasure.status = status
    countermeasure.status_changes.append(
        CountermeasureStatusChange(status=status, changed_on=changed_on, user_id=user_id)
    )


def _last_status_change_on(countermeasure: Countermeasure) -> date | None:
    dates = [c.changed_on for c in countermeasure.status_changes]
    return max(dates) if dates else None


def _set_target(countermeasure: Countermeasure, start: date | None, on: date, user_id) -> None:
    """The target quarter from ``on``: the period in force ends there, a new one begins.

    "Slipped" reads the target in force on a quarter's end, so changing it today leaves
    the quarters already ended as they were."""
    if countermeasure.target_quarter_start == start and (
        start is None or countermeasure.target_periods
    ):
        return
    countermeasure.target_quarter_start = start
    current = next((p for p in countermeasure.target_periods if p.valid_until is None), None)
    if current is not None and current.valid_from >= on:
        # Changed again the same day: that day's period takes the new target.
        current.target_quarter_start = start
        return
    if current is not None:
        current.valid_until = on
    countermeasure.target_periods.append(
        CountermeasureTargetPeriod(
            target_quarter_start=start, valid_from=on, valid_until=None, user_id=user_id
        )
    )


# --- create and edit ------------------------------------------------------------------


def _check_new(values: dict, refs: References, errors: dict) -> dict:
    clean: dict = {
        "title": _text(values.get("title"), "title", errors, required=True, max_length=TITLE_MAX),
        "description": _text(values.get("description"), "description", errors),
        "evidence": _text(values.get("evidence"), "evidence", errors),
        "type": _enum(
            CountermeasureType, values.get("type", CountermeasureType.PREVENTIVE), "type", errors
        ),
        "owner_id": _user(values.get("owner_id"), "owner_id", errors, refs),
    }
    status = _enum(
        CountermeasureStatus, values.get("status", CountermeasureStatus.PLANNED), "status", errors
    )
    clean["status"] = status
    quarter = _quarter(values.get("target_quarter"), errors)
    clean["target_quarter_start"] = quarter.first_day if quarter else None
    clean["threats"] = _threats(values.get("threat_ids") or (), errors, refs=refs)
    clean["threat_ids"] = [t.id for t in clean["threats"]]
    deployed_on = values.get("deployed_on")
    # Recording an existing control: planned, at the latest, the day it was deployed.
    default_plan = min(deployed_on, refs.today) if isinstance(deployed_on, date) else refs.today
    planned_on = values.get("planned_on") or default_plan
    _not_future(planned_on, "planned_on", errors, "plan date", refs.today)
    clean["planned_on"] = planned_on
    if status == CountermeasureStatus.DEPLOYED and deployed_on is None:
        errors["deployed_on"] = "A deployed countermeasure needs its deployment date."
    elif deployed_on is not None and status in (
        CountermeasureStatus.PLANNED,
        CountermeasureStatus.IN_PROGRESS,
    ):
        errors["deployed_on"] = "Only a deployed (or retired) countermeasure has a deployment date."
    elif (
        deployed_on is not None
        and "planned_on" not in errors
        and isinstance(deployed_on, date)
        and deployed_on < planned_on
    ):
        errors["deployed_on"] = (
            f"It was planned on {planned_on.isoformat()}; it cannot have been deployed before "
            "that. Give the earlier plan date."
        )
    _not_future(deployed_on, "deployed_on", errors, "deployment date", refs.today)
    clean["deployed_on"] = deployed_on
    return clean


def check_new_countermeasure(values: dict, refs: References | None = None) -> dict:
    """Every rule ``create_countermeasure`` applies, without writing: the clean values
    (``threats`` and ``threat_ids``, ``target_quarter_start``) or InputError.

    ``values`` has the keyword arguments of ``create_countermeasure``."""
    errors: dict[str, str] = {}
    clean = _check_new(values, refs or References(), errors)
    if errors:
        raise InputError(errors)
    return clean


def check_recorded_countermeasure(values: dict, refs: References | None = None) -> dict:
    """A countermeasure recorded as it stands (the CSV import): the rules of
    ``create_countermeasure`` and of the later steps it went through, retirement
    (``retired_on``) and verification (``verified_on``, ``effectiveness``), as
    ``change_status`` and ``verify_countermeasure`` apply them. Clean values or InputError.
    """
    refs = refs or References()
    errors: dict[str, str] = {}
    clean = _check_new(values, refs, errors)
    status, deployed_on = clean["status"], clean["deployed_on"]
    retired_on = values.get("retired_on")
    if status == CountermeasureStatus.RETIRED and retired_on is None:
        errors["retired_on"] = "A retired countermeasure needs its retirement date."
    elif retired_on is not None and status != CountermeasureStatus.RETIRED:
        errors["retired_on"] = "Only a retired countermeasure has a retirement date."
    else:
        _not_future(retired_on, "retired_on", errors, "retirement date", refs.today)
        if "retired_on" not in errors and deployed_on and retired_on and retired_on < deployed_on:
            errors["retired_on"] = "It cannot be retired before it was deployed."
        elif "retired_on" not in errors and retired_on and retired_on < clean["planned_on"]:
            if values.get("planned_on"):
                errors["retired_on"] = (
                    f"It was planned on {clean['planned_on'].isoformat()}; it cannot have been "
                    "retired before that."
                )
            else:
                # Dropped before it was ever deployed: planned, at the latest, that day.
                clean["planned_on"] = retired_on
    clean["retired_on"] = retired_on
    verified_on = values.get("verified_on")
    effectiveness = _enum(
        Effectiveness, values.get("effectiveness"), "effectiveness", errors, required=False
    )
    if verified_on is not None:
        if deployed_on is None:
            errors["verified_on"] = "Only a deployed countermeasure can be verified."
        else:
            _not_future(verified_on, "verified_on", errors, "verification date", refs.today)
            if "verified_on" not in errors and verified_on < deployed_on:
                errors["verified_on"] = (
                    f"It was deployed on {deployed_on.isoformat()}; "
                    "it cannot be verified before that."
                )
        if effectiveness is None and "effectiveness" not in errors:
            errors["effectiveness"] = "Give the effectiveness the verification found."
    elif effectiveness is not None:
        errors["verified_on"] = "Give the date of the verification that found this effectiveness."
    clean["verified_on"] = verified_on
    clean["effectiveness"] = effectiveness
    if errors:
        raise InputError(errors)
    return clean


def create_countermeasure(
    *,
    title: str,
    description: str = "",
    type=CountermeasureType.PREVENTIVE,
    threat_ids: Iterable = (),
    owner_id=None,
    target_quarter=None,
    evidence: str = "",
    status=CountermeasureStatus.PLANNED,
    planned_on: date | None = None,
    deployed_on: date | None = None,
    user_id: int | None = None,
) -> Countermeasure:
    """Create a countermeasure planned on ``planned_on`` (default today, or the deployment
    day of one recorded as deployed; never in the future): its first status change and its
    target quarter are dated from that day, so no figure as of an earlier day counts it.

    Recording one that is already deployed needs its deployment date (not in the future,
    not before the plan date); the threats' scores are then not touched (use
    ``deploy_countermeasure`` for that).
    """
    clean = check_new_countermeasure(
        {
            "title": title,
            "description": description,
            "type": type,
            "threat_ids": threat_ids,
            "owner_id": owner_id,
            "target_quarter": target_quarter,
            "evidence": evidence,
            "status": status,
            "planned_on": planned_on,
            "deployed_on": deployed_on,
        }
    )
    countermeasure = Countermeasure(
        title=clean["title"],
        description=clean["description"],
        type=clean["type"],
        owner_id=clean["owner_id"],
        evidence=clean["evidence"],
        deployed_on=clean["deployed_on"],
        planned_on=clean["planned_on"],
    )
    countermeasure.threats = clean["threats"]
    _set_target(countermeasure, clean["target_quarter_start"], clean["planned_on"], user_id)
    status = clean["status"]
    _record_status(
        countermeasure,
        status,
        clean["deployed_on"] if status == CountermeasureStatus.DEPLOYED else clean["planned_on"],
        user_id,
    )
    db.session.add(countermeasure)
    db.session.flush()
    return countermeasure


def update_countermeasure(
    countermeasure: Countermeasure,
    *,
    title: str,
    description: str = "",
    type=CountermeasureType.PREVENTIVE,
    threat_ids: Iterable = (),
    owner_id=None,
    target_quarter=None,
    evidence: str = "",
    deployed_on=_UNSET,
    expected_version=None,
    user_id: int | None = None,
) -> Countermeasure:
    """Edit the countermeasure's description, links and plan. Status moves elsewhere.

    A new target quarter takes effect today (the one in force before stays in the history).

    ``deployed_on`` corrects the deployment date of a deployed or retired one: it stays
    required for a deployed countermeasure and may not be in the future.
    """
    _check_version(countermeasure, expected_version)
    errors: dict[str, str] = {}
    title = _text(title, "title", errors, required=True, max_length=TITLE_MAX)
    description = _text(description, "description", errors)
    evidence = _text(evidence, "evidence", errors)
    kind = _enum(CountermeasureType, type, "type", errors)
    owner_id = _user(owner_id, "owner_id", errors)
    quarter = _quarter(target_quarter, errors)
    threats = _threats(threat_ids, errors, already_linked=countermeasure.threats)
    if deployed_on is not _UNSET:
        if countermeasure.status == CountermeasureStatus.DEPLOYED and deployed_on is None:
            errors["deployed_on"] = "A deployed countermeasure needs its deployment date."
        elif deployed_on is not None and countermeasure.deployed_on is None:
            errors["deployed_on"] = "Use Deploy to record the deployment of this countermeasure."
        _not_future(deployed_on, "deployed_on", errors, "deployment date")
        if (
            deployed_on is not None
            and countermeasure.retired_on is not None
            and deployed_on > countermeasure.retired_on
        ):
            errors["deployed_on"] = "The deployment date cannot be after the retirement date."
        elif deployed_on is not None and deployed_on < countermeasure.planned_on:
            errors["deployed_on"] = (
                f"It was planned on {countermeasure.planned_on.isoformat()}; the deployment "
                "date cannot be before that."
            )
    if errors:
        raise InputError(errors)
    countermeasure.title = title
    countermeasure.description = description
    countermeasure.type = kind
    countermeasure.owner_id = owner_id
    _set_target(countermeasure, quarter.first_day if quarter else None, fiscal.today(), user_id)
    countermeasure.evidence = evidence
    if {t.id for t in threats} != {t.id for t in countermeasure.threats}:
        countermeasure.threats = threats
    if deployed_on is not _UNSET and deployed_on != countermeasure.deployed_on:
        countermeasure.deployed_on = deployed_on
    return countermeasure


# --- status ---------------------------------------------------------------------------


def next_statuses(countermeasure: Countermeasure) -> list[CountermeasureStatus]:
    return [
        CountermeasureStatus[name] for name in allowed_next_statuses(countermeasure.status.name)
    ]


def change_status(
    countermeasure: Countermeasure,
    status,
    *,
    changed_on: date | None,
    user_id: int | None,
    expected_version=None,
) -> Countermeasure:
    """Move to a later status (in progress, or retired); deployment goes through
    ``deploy_countermeasure`` because it needs its date and the threats' new scores."""
    _check_version(countermeasure, expected_version)
    errors: dict[str, str] = {}
    status = _enum(CountermeasureStatus, status, "status", errors)
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
    if changed_on is None:
        errors["changed_on"] = "Give the date of the change."
    else:
        _not_future(changed_on, "changed_on", errors, "date of the change")
        last = _last_status_change_on(countermeasure)
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
    _record_status(countermeasure, status, changed_on, user_id)
    return countermeasure


def deploy_countermeasure(
    countermeasure: Countermeasure,
    *,
    deployed_on: date | None,
    residuals: Mapping[int, tuple[int, int] | None] | None = None,
    user_id: int | None,
    evidence: str | None = None,
    expected_version=None,
) -> Countermeasure:
    """Record the deployment and the treated threats' new residual (likelihood, impact).

    A threat whose residual pair is missing or unchanged keeps its scores; each changed one
    gets a score change dated the deployment day that credits this countermeasure.
    """
    _check_version(countermeasure, expected_version)
    errors: dict[str, str] = {}
    if countermeasure.status not in (
        CountermeasureStatus.PLANNED,
        CountermeasureStatus.IN_PROGRESS,
    ):
        errors["_"] = f"This countermeasure is already {countermeasure.status.label.lower()}."
    _check_deployment_date(countermeasure, deployed_on, errors)
    evidence_text = None
    if evidence is not None:
        evidence_text = _text(evidence, "evidence", errors)
    changes = _residual_changes(countermeasure, residuals or {}, errors)
    if changes and deployed_on is not None and "deployed_on" not in errors:
        _refuse_rescored_after(deployed_on, changes, errors)
    if errors or deployed_on is None:  # a missing date is among the errors
        raise InputError(errors)
    _rescore_treated(countermeasure, changes, deployed_on, user_id)
    countermeasure.deployed_on = deployed_on
    countermeasure.retired_on = None
    if evidence_text is not None:
        countermeasure.evidence = evidence_text
    _record_status(countermeasure, CountermeasureStatus.DEPLOYED, deployed_on, user_id)
    return countermeasure


def _check_deployment_date(
    countermeasure: Countermeasure, deployed_on: date | None, errors: dict[str, str]
) -> None:
    """Given, not in the future, not before the plan or the last status change."""
    if deployed_on is None:
        errors["deployed_on"] = "A deployed countermeasure needs its deployment date."
        return
    _not_future(deployed_on, "deployed_on", errors, "deployment date")
    last = _last_status_change_on(countermeasure)
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
    deployed_on: date, changes: list[tuple[Threat, tuple[int, int]]], errors: dict[str, str]
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
    verified_on: date | None,
    verified_by_id,
    effectiveness,
    expected_version=None,
) -> Countermeasure:
    """Record that the deployed countermeasure was checked: when, by whom, how effective."""
    _check_version(countermeasure, expected_version)
    errors: dict[str, str] = {}
    if countermeasure.deployed_on is None:
        errors["_"] = "Only a deployed countermeasure can be verified."
    if verified_on is None:
        errors["verified_on"] = "Give the date of the verification."
    else:
        _not_future(verified_on, "verified_on", errors, "verification date")
        if (
            "verified_on" not in errors
            and countermeasure.deployed_on is not None
            and verified_on < countermeasure.deployed_on
        ):
            errors["verified_on"] = (
                f"It was deployed on {countermeasure.deployed_on.isoformat()}; "
                "it cannot be verified before that."
            )
    verified_by_id = _user(verified_by_id, "verified_by_id", errors)
    if verified_by_id is None and "verified_by_id" not in errors:
        errors["verified_by_id"] = "Who verified it?"
    effectiveness = _enum(Effectiveness, effectiveness, "effectiveness", errors)
    if errors:
        raise InputError(errors)
    countermeasure.verified_on = verified_on
    countermeasure.verified_by_id = verified_by_id
    countermeasure.effectiveness = effectiveness
    return countermeasure


# --- settings -------------------------------------------------------------------------


def set_targets(*, per_quarter, yearly_goal) -> None:
    """The per-quarter target (also the N of the top N threats) and the yearly goal."""
    from app.countermeasures.figures import QUARTER_TARGET_KEY, YEARLY_GOAL_KEY

    errors: dict[str, str] = {}
    values = {}
    for field, raw, top in (
        ("per_quarter", per_quarter, MAX_QUARTER_TARGET),
        ("yearly_goal", yearly_goal, MAX_YEARLY_GOAL),
    ):
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors[field] = "Give a whole number."
            continue
        if isinstance(raw, bool) or not 1 <= value <= top:
            errors[field] = f"Give a number from 1 to {top}."
            continue
        values[field] = value
    if errors:
        raise InputError(errors)
    set_setting(QUARTER_TARGET_KEY, values["per_quarter"])
    set_setting(YEARLY_GOAL_KEY, values["yearly_goal"])


__all__ = [
    "References",
    "change_status",
    "check_new_countermeasure",
    "check_recorded_countermeasure",
    "create_countermeasure",
    "deploy_countermeasure",
    "next_statuses",
    "set_targets",
    "update_countermeasure",
    "verify_countermeasure",
]
