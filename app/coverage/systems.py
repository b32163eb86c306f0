"""Systems: create and edit, with their production and criticality changes dated."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from app.bulk import insert_new
from app.coverage.checks import References, added, check_version, coverage_today, kept_in
from app.coverage.inputs import NEW, first_refusal, read_system
from app.extensions import db
from app.models.systems import (
    Criticality,
    System,
    SystemCriticalityChange,
    SystemProductionChange,
)
from app.validation import FieldErrors, InputError, check_date_range


def _check_unique(name: str, exclude_id: int | None, refs: References | None = None) -> None:
    clash = (refs or References()).system_named(name, exclude_id)
    if clash is not None:
        if clash.line:
            raise InputError({"name": f'A system named "{name}" is also on line {clash.line}.'})
        raise InputError({"name": f'A system named "{name}" already exists.'})


def check_new_system(values: dict, refs: References | None = None) -> dict:
    """Every rule ``create_system`` applies, without writing: the clean values or
    InputError (a message per field). The CSV import calls it for each row."""
    clean, refused = read_system(values, NEW)
    errors = FieldErrors()
    if "name" not in refused:
        with kept_in(errors):
            _check_unique(clean["name"], None, refs)
    errors.update(refused)
    errors.raise_if_any()
    return clean


def create_system(
    *,
    name: str,
    description: str = "",
    team: str = "",
    criticality: Criticality = Criticality.MEDIUM,
    in_production: bool = True,
    retired_on: date | None = None,
) -> System:
    # The keyword arguments, as the input schema reads them.
    return added(System(**check_new_system(locals())))


def create_systems(cleans: list[dict], audited: bool = True) -> list[int]:
    """Add many systems (``check_new_system``'s values) in bulk, as ``create_system`` would
    one by one, with an "import" audit row each unless not ``audited``; their ids."""
    return insert_new(System, cleans, "name", audited)


def update_system(
    system: System,
    *,
    version: int | None,
    name: str,
    description: str,
    team: str,
    criticality: Criticality,
    in_production: bool,
    retired_on: date | None,
    production_changed_on: date | None = None,
    criticality_changed_on: date | None = None,
    user_id: int | None = None,
) -> System:
    """A change of the production flag is dated ``production_changed_on`` (default today;
    not in the future, not before the system's last production change): coverage as of an
    earlier day still sees the flag it had then. A change of criticality likewise
    (``criticality_changed_on``): a past quarter's report lists the criticality of then."""
    check_version(system, version)
    clean, refused = read_system(
        {
            "name": name,
            "description": description,
            "team": team,
            "criticality": criticality,
            "in_production": bool(in_production),
            "retired_on": retired_on,
        },
        NEW,
    )
    # An edit stops at its first refusal, in this order.
    first_refusal(refused, "name")
    _check_unique(clean["name"], system.id)
    first_refusal(refused, "description", "team", "criticality")
    system.name, system.description, system.team = (
        clean["name"],
        clean["description"],
        clean["team"],
    )
    if clean["criticality"] != system.criticality:
        _record_criticality_change(system, clean["criticality"], criticality_changed_on, user_id)
    first_refusal(refused, "retired_on")
    if clean["in_production"] != system.in_production:
        _record_production_change(system, clean["in_production"], production_changed_on, user_id)
    system.retired_on = clean["retired_on"]
    db.session.flush()
    return system


def _record_production_change(
    system: System, in_production: bool, changed_on: date | None, user_id: int | None
) -> None:
    changed_on = _change_dated(
        "production_changed_on", changed_on, system.production_changes, "production flag"
    )
    system.production_changes.append(
        SystemProductionChange(in_production=in_production, changed_on=changed_on, user_id=user_id)
    )
    system.in_production = in_production


def _record_criticality_change(
    system: System,
    criticality: Criticality,
    changed_on: date | None,
    user_id: int | None,
) -> None:
    changed_on = _change_dated(
        "criticality_changed_on", changed_on, system.criticality_changes, "criticality"
    )
    system.criticality_changes.append(
        SystemCriticalityChange(
            previous=system.criticality,
            criticality=criticality,
            changed_on=changed_on,
            user_id=user_id,
        )
    )
    system.criticality = criticality


def _change_dated(
    field: str,
    changed_on: date | None,
    earlier: Iterable[SystemProductionChange] | Iterable[SystemCriticalityChange],
    what: str,
) -> date:
    """The day a dated change of ``what`` takes effect: today unless given, never in the
    future, never before its last change (of the ``earlier`` ones)."""
    today = coverage_today()
    changed_on = changed_on or today
    check_date_range(field, changed_on)
    if changed_on > today:
        raise InputError(
            {
                field: "The date of the change cannot be in the future "
                f"(today is {today.isoformat()})."
            }
        )
    last = max((c.changed_on for c in earlier), default=None)
    if last is not None and changed_on < last:
        raise InputError(
            {
                field: f"Its {what} last changed on {last.isoformat()}; a new change cannot be "
                "dated before it."
            }
        )
    return changed_on
