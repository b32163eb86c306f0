"""Responsibilities: who is responsible for which system, from when until when."""

from __future__ import annotations

from datetime import date, timedelta

from app.bulk import insert_new
from app.coverage import figures
from app.coverage.checks import (
    References,
    added,
    check_version,
    impact_to_confirm,
    kept_in,
    periods_overlap,
)
from app.coverage.inputs import PERIOD, first_refusal, read_responsibility
from app.domain.coverage import (
    DepartureImpact,
    ResponsibilityFact,
    responsibility_end_impact,
)
from app.extensions import db
from app.models.systems import Responsibility, ResponsibilityKind, StaffMember, System
from app.validation import FieldErrors, InputError


def _check_dates(clean: dict, refused: dict[str, str]) -> date:
    """The start date, once it is there and the period is well ordered (the first refusal
    of the two dates, the start's first)."""
    since, until = clean["since"], clean["until"]
    if since is None and "since" not in refused:
        raise InputError({"since": "Enter the date the responsibility starts."})
    first_refusal(refused, "since", "until")
    if until is not None and until < since:
        raise InputError(
            {"until": f"The end date must be on or after the start date ({since.isoformat()})."}
        )
    return since


def _check_overlap(
    staff_id: int,
    system_id: int,
    kind: ResponsibilityKind,
    since: date,
    until: date | None,
    exclude_id: int | None,
    refs: References | None = None,
) -> None:
    refs = refs or References()
    for clash in refs.responsibilities(staff_id, system_id, kind, exclude_id):
        if periods_overlap(since, until, clash):
            end = clash.until.isoformat() if clash.until else "today, open-ended"
            raise InputError(
                {
                    "since": f"This person already has a {kind.value} responsibility for this "
                    f"system from {clash.since} to {end}{clash.where}; "
                    "change that one instead."
                }
            )


def check_new_responsibility(values: dict, refs: References | None = None) -> dict:
    """Every rule ``add_responsibility`` applies (the overlap check included), without
    writing: the clean values or InputError. The CSV import calls it for each row."""
    refs = refs or References()
    clean, refused = read_responsibility(values)
    errors = FieldErrors()
    staff_id, system_id = clean["staff_member_id"], clean["system_id"]
    # The schema refuses what is not an id with the same words.
    if not staff_id or not refs.staff_exists(staff_id):
        errors["staff_member_id"] = "Choose a staff member."
    if not system_id or not refs.system_exists(system_id):
        errors["system_id"] = "Choose a system."
    if "kind" in refused:
        errors["kind"] = refused["kind"]
    with kept_in(errors):
        start = _check_dates(clean, refused)
        if not errors and staff_id and system_id:  # both checked above
            _check_overlap(staff_id, system_id, clean["kind"], start, clean["until"], None, refs)
    errors.raise_if_any()
    return clean


def add_responsibility(
    *,
    staff_member_id: int | None,
    system_id: int | None,
    kind: ResponsibilityKind = ResponsibilityKind.PRIMARY,
    since: date | None,
    until: date | None = None,
) -> Responsibility:
    # The keyword arguments, as the input schema reads them.
    clean = check_new_responsibility(locals())
    return added(
        Responsibility(
            staff_member=db.session.get(StaffMember, clean.pop("staff_member_id")),
            system=db.session.get(System, clean.pop("system_id")),
            **clean,
        )
    )


def responsibility_end_preview(responsibility: Responsibility, until: date) -> DepartureImpact:
    day_after = until + timedelta(days=1)
    systems, staff, _ = figures.load_facts(day_after)
    others = figures.responsibility_facts(day_after, day_after, exclude_id=responsibility.id)
    this = ResponsibilityFact(
        responsibility.staff_member_id,
        responsibility.system_id,
        responsibility.since,
        responsibility.until,
        responsibility.kind.value,
    )
    return responsibility_end_impact(systems, staff, [*others, this], len(others), until)


def update_responsibility(
    responsibility: Responsibility,
    *,
    version: int | None,
    kind: ResponsibilityKind,
    since: date | None,
    until: date | None,
    confirm_impact: bool = False,
) -> Responsibility:
    check_version(responsibility, version)
    clean, refused = read_responsibility({"kind": kind, "since": since, "until": until}, PERIOD)
    start = _check_dates(clean, refused)
    first_refusal(refused, "kind")
    kind, until = clean["kind"], clean["until"]
    _check_overlap(
        responsibility.staff_member_id,
        responsibility.system_id,
        kind,
        start,
        until,
        responsibility.id,
    )
    if until is not None and (responsibility.until is None or until < responsibility.until):
        impact = responsibility_end_preview(responsibility, until)
        if impact.has_impact and not confirm_impact:
            raise impact_to_confirm(impact)
    responsibility.kind = kind
    responsibility.since = start
    responsibility.until = until
    db.session.flush()
    return responsibility


# Positions.


def remove_responsibility(responsibility: Responsibility, version: int | None) -> None:
    """Delete a responsibility that was never held (an administrator's correction; the audit
    log keeps its values). One that ended is ended with a date instead."""
    check_version(responsibility, version)
    db.session.delete(responsibility)
    db.session.flush()


def add_responsibilities(cleans: list[dict], audited: bool = True) -> list[int]:
    """Add many responsibilities (``check_new_responsibility``'s values) in bulk, as
    ``add_responsibility`` would, with an "import" audit row each unless not ``audited``."""
    return insert_new(Responsibility, cleans, "since", audited)
