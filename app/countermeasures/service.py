"""Business rules for countermeasures: plain values in, InputError out, nothing from Flask's
request, so the pages, the API and the seed all go through the same checks.

Every function validates first and changes nothing when it refuses.
"""

from __future__ import annotations

from datetime import date
from typing import Unpack

from app import fiscal
from app.bulk import audit_imported, insert_links, insert_returning_ids, insert_rows, stamped
from app.countermeasures.checks import (
    MAX_QUARTER_TARGET,
    MAX_YEARLY_GOAL,
    UNSET,
    References,
    check_not_future,
    check_version,
    record_status,
    set_target,
    threats_field,
)
from app.countermeasures.inputs import (
    EDITED,
    PLANNED,
    EditedValues,
    PlannedValues,
    read_countermeasure,
)
from app.extensions import db
from app.models.countermeasures import (
    Countermeasure,
    CountermeasureStatus,
    CountermeasureStatusChange,
    CountermeasureTargetPeriod,
    countermeasure_threats,
)
from app.models.setting import set_setting
from app.validation import InputError

# --- create and edit ------------------------------------------------------------------


def _take(errors: dict, refused: dict, *names: str) -> None:
    # The refusals of the reading, listed where the rules have always listed them.
    errors.update({name: refused[name] for name in names if name in refused})


def _owner(clean: dict, refused: dict, refs: References, errors: dict) -> None:
    _take(errors, refused, "owner_id")
    if clean["owner_id"] is not None and not refs.user_exists(clean["owner_id"]):
        errors["owner_id"] = "Unknown user."
        clean["owner_id"] = None


def _threats(clean: dict, refused: dict, refs: References, errors: dict, already_linked=()) -> None:
    _take(errors, refused, "threat_ids")
    clean["threats"] = threats_field(clean["threat_ids"], errors, already_linked, refs)
    clean["threat_ids"] = [t.id for t in clean["threats"]]


def _check_new(clean: dict, refused: dict, refs: References, errors: dict) -> dict:
    _take(errors, refused, "title", "description", "evidence", "type")
    _owner(clean, refused, refs, errors)
    _take(errors, refused, "status", "target_quarter")
    status = clean["status"]
    quarter = clean.pop("target_quarter")
    clean["target_quarter_start"] = quarter.first_day if quarter else None
    _threats(clean, refused, refs, errors)
    _take(errors, refused, "planned_on", "deployed_on")
    deployed_on = clean["deployed_on"]
    # Recording an existing control: planned, at the latest, the day it was deployed.
    default_plan = min(deployed_on, refs.today) if deployed_on is not None else refs.today
    planned_on = clean["planned_on"] or default_plan
    if "planned_on" not in refused:
        check_not_future(planned_on, "planned_on", errors, "plan date", refs.today)
    clean["planned_on"] = planned_on
    if "deployed_on" in refused:
        return clean
    if status == CountermeasureStatus.DEPLOYED and deployed_on is None:
        errors["deployed_on"] = "A deployed countermeasure needs its deployment date."
    elif deployed_on is not None and status in (
        CountermeasureStatus.PLANNED,
        CountermeasureStatus.IN_PROGRESS,
    ):
        errors["deployed_on"] = "Only a deployed (or retired) countermeasure has a deployment date."
    elif deployed_on is not None and "planned_on" not in errors and deployed_on < planned_on:
        errors["deployed_on"] = (
            f"It was planned on {planned_on.isoformat()}; it cannot have been deployed before "
            "that. Give the earlier plan date."
        )
    check_not_future(deployed_on, "deployed_on", errors, "deployment date", refs.today)
    return clean


def check_new_countermeasure(values: dict, refs: References | None = None) -> dict:
    """Every rule ``create_countermeasure`` applies, without writing: the clean values
    (``threats`` and ``threat_ids``, ``target_quarter_start``) or InputError.

    ``values`` has the keyword arguments of ``create_countermeasure``."""
    errors: dict[str, str] = {}
    clean = _check_new(*read_countermeasure(values, PLANNED), refs or References(), errors)
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
    given, refused = read_countermeasure(values)
    planned_given = given["planned_on"] is not None
    clean = _check_new(given, refused, refs, errors)
    _check_retired(clean, refused, refs, errors, planned_given)
    _check_verified(clean, refused, refs, errors)
    if errors:
        raise InputError(errors)
    return clean


def _check_retired(clean: dict, refused: dict, refs: References, errors: dict, planned_given):
    status, deployed_on, retired_on = clean["status"], clean["deployed_on"], clean["retired_on"]
    _take(errors, refused, "retired_on")
    if "retired_on" in refused:
        return
    if status == CountermeasureStatus.RETIRED and retired_on is None:
        errors["retired_on"] = "A retired countermeasure needs its retirement date."
    elif retired_on is not None and status != CountermeasureStatus.RETIRED:
        errors["retired_on"] = "Only a retired countermeasure has a retirement date."
    else:
        check_not_future(retired_on, "retired_on", errors, "retirement date", refs.today)
        if "retired_on" not in errors and deployed_on and retired_on and retired_on < deployed_on:
            errors["retired_on"] = "It cannot be retired before it was deployed."
        elif "retired_on" not in errors and retired_on and retired_on < clean["planned_on"]:
            if planned_given:
                errors["retired_on"] = (
                    f"It was planned on {clean['planned_on'].isoformat()}; it cannot have been "
                    "retired before that."
                )
            else:
                # Dropped before it was ever deployed: planned, at the latest, that day.
                clean["planned_on"] = retired_on


def _check_verified(clean: dict, refused: dict, refs: References, errors: dict) -> None:
    deployed_on, verified_on = clean["deployed_on"], clean["verified_on"]
    _take(errors, refused, "effectiveness", "verified_on")
    effectiveness = clean["effectiveness"]
    if "verified_on" in refused:
        return
    if verified_on is not None:
        if deployed_on is None:
            errors["verified_on"] = "Only a deployed countermeasure can be verified."
        else:
            check_not_future(verified_on, "verified_on", errors, "verification date", refs.today)
            if "verified_on" not in errors and verified_on < deployed_on:
                errors["verified_on"] = (
                    f"It was deployed on {deployed_on.isoformat()}; "
                    "it cannot be verified before that."
                )
        if effectiveness is None and "effectiveness" not in errors:
            errors["effectiveness"] = "Give the effectiveness the verification found."
    elif effectiveness is not None:
        errors["verified_on"] = "Give the date of the verification that found this effectiveness."


# A new countermeasure's own fields; its status and target quarter are dated facts.
FIELD_KEYS = ("title", "description", "type", "owner_id", "evidence", "deployed_on", "planned_on")
# One recorded as it stands (the CSV import) also brings the steps it went through; the
# synthetic data also gives its own ids and who verified it.
RECORDED_KEYS = (
    *FIELD_KEYS,
    "status",
    "target_quarter_start",
    "retired_on",
    "verified_on",
    "effectiveness",
)
GIVEN_KEYS = ("id", "verified_by_id")


def create_countermeasure(
    *, user_id: int | None = None, **values: Unpack[PlannedValues]
) -> Countermeasure:
    """Create a countermeasure planned on ``planned_on`` (default today, or the deployment
    day of one recorded as deployed; never in the future): its first status change and its
    target quarter are dated from that day, so no figure as of an earlier day counts it.

    Recording one that is already deployed needs its deployment date (not in the future,
    not before the plan date); the threats' scores are then not touched (use
    ``deploy_countermeasure`` for that).
    """
    clean = check_new_countermeasure(dict(values))
    countermeasure = Countermeasure(**{key: clean[key] for key in FIELD_KEYS})
    countermeasure.threats = clean["threats"]
    set_target(countermeasure, clean["target_quarter_start"], clean["planned_on"], user_id)
    status = clean["status"]
    record_status(
        countermeasure,
        status,
        clean["deployed_on"] if status == CountermeasureStatus.DEPLOYED else clean["planned_on"],
        user_id,
    )
    db.session.add(countermeasure)
    db.session.flush()
    return countermeasure


def create_countermeasures(
    cleans: list[dict], user_id: int | None, audited: bool = True
) -> list[int]:
    """Add many countermeasures recorded as they stand (``check_recorded_countermeasure``'s
    values) in bulk: each with its threats, its status from the day of its latest step
    (or the dated steps given in ``history``), its target quarter from the plan date, and
    an "import" audit row unless not ``audited`` (the synthetic data). Returns the ids."""
    rows = [
        {
            **{key: clean[key] for key in RECORDED_KEYS},
            **{key: clean[key] for key in GIVEN_KEYS if key in clean},
        }
        for clean in cleans
    ]
    ids = insert_returning_ids(Countermeasure, [stamped(row) for row in rows])
    if audited:
        audit_imported(
            Countermeasure,
            ids,
            [
                {**row, "threat_ids": clean["threat_ids"]}
                for row, clean in zip(rows, cleans, strict=True)
            ],
            "title",
        )
    insert_links(
        countermeasure_threats,
        "countermeasure_id",
        ids,
        "threat_id",
        [clean["threat_ids"] for clean in cleans],
    )
    insert_rows(
        CountermeasureStatusChange,
        [
            {"countermeasure_id": cm_id, "status": status, "changed_on": on, "user_id": user_id}
            for cm_id, row, clean in zip(ids, rows, cleans, strict=True)
            for status, on in clean.get("history") or [(row["status"], _latest_step_on(row))]
        ],
    )
    # The target quarter in force from the plan date ("slipped" reads it as of a day).
    insert_rows(
        CountermeasureTargetPeriod,
        [
            {
                "countermeasure_id": cm_id,
                "target_quarter_start": row["target_quarter_start"],
                "valid_from": row["planned_on"],
                "user_id": user_id,
            }
            for cm_id, row in zip(ids, rows, strict=True)
            if row["target_quarter_start"] is not None
        ],
    )
    return ids


def _latest_step_on(row: dict) -> date:
    return row["retired_on"] or row["deployed_on"] or row["planned_on"]


def update_countermeasure(
    countermeasure: Countermeasure,
    *,
    deployed_on=UNSET,
    version=None,
    user_id: int | None = None,
    **values: Unpack[EditedValues],
) -> Countermeasure:
    """Edit the countermeasure's description, links and plan. Status moves elsewhere.

    A new target quarter takes effect today (the one in force before stays in the history).

    ``deployed_on`` corrects the deployment date of a deployed or retired one: it stays
    required for a deployed countermeasure and may not be in the future.
    """
    check_version(countermeasure, version)
    errors: dict[str, str] = {}
    given: dict = dict(values)
    names: tuple[str, ...] = EDITED
    if deployed_on is not UNSET:
        given["deployed_on"], names = deployed_on, (*EDITED, "deployed_on")
    clean, refused = read_countermeasure(given, names)
    refs = References()
    _take(errors, refused, "title", "description", "evidence", "type")
    _owner(clean, refused, refs, errors)
    _take(errors, refused, "target_quarter")
    _threats(clean, refused, refs, errors, countermeasure.threats)
    if deployed_on is not UNSET:
        _take(errors, refused, "deployed_on")
        deployed_on = clean["deployed_on"]
        if "deployed_on" not in refused:
            _check_deployed_on(countermeasure, deployed_on, errors)
    if errors:
        raise InputError(errors)
    countermeasure.title = clean["title"]
    countermeasure.description = clean["description"]
    countermeasure.type = clean["type"]
    countermeasure.owner_id = clean["owner_id"]
    quarter = clean["target_quarter"]
    set_target(countermeasure, quarter.first_day if quarter else None, fiscal.today(), user_id)
    countermeasure.evidence = clean["evidence"]
    if set(clean["threat_ids"]) != {t.id for t in countermeasure.threats}:
        countermeasure.threats = clean["threats"]
    if deployed_on is not UNSET and deployed_on != countermeasure.deployed_on:
        countermeasure.deployed_on = deployed_on
    return countermeasure


def _check_deployed_on(countermeasure: Countermeasure, deployed_on, errors: dict) -> None:
    if countermeasure.status == CountermeasureStatus.DEPLOYED and deployed_on is None:
        errors["deployed_on"] = "A deployed countermeasure needs its deployment date."
    elif deployed_on is not None and countermeasure.deployed_on is None:
        errors["deployed_on"] = "Use Deploy to record the deployment of this countermeasure."
    check_not_future(deployed_on, "deployed_on", errors, "deployment date")
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
