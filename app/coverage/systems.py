"""Systems: create and edit, with their production and criticality changes dated."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from app.bulk import insert_new
from app.coverage.checks import (
    DESCRIPTION_MAX,
    NAME_MAX,
    TEAM_MAX,
    References,
    check_version,
    choice_field,
    clean_text,
    coverage_today,
    text_field,
)
from app.extensions import db
from app.models.systems import (
    Criticality,
    System,
    SystemCriticalityChange,
    SystemProductionChange,
)
from app.validation import InputError, check_date_range


def _check_system_name(
    name: str | None, exclude_id: int | None, refs: References | None = None
) -> str:
    name = clean_text(name, "a name", "name", NAME_MAX)
    clash = (refs or References()).system_named(name, exclude_id)
    if clash is not None:
        if clash.line:
            raise InputError({"name": f'A system named "{name}" is also on line {clash.line}.'})
        raise InputError({"name": f'A system named "{name}" already exists.'})
    return name


def check_new_system(values: dict, refs: References | None = None) -> dict:
    """Every rule ``create_system`` applies, without writing: the clean values or
    InputError (a message per field). The CSV import calls it for each row."""
    refs = refs or References()
    errors: dict[str, str] = {}
    clean: dict = {}
    try:
        clean["name"] = _check_system_name(values.get("name"), None, refs)
    except InputError as refused:
        errors.update(refused.errors)
    clean["description"] = text_field(
        values, "description", "a description", DESCRIPTION_MAX, errors, required=False
    )
    clean["team"] = text_field(values, "team", "a team", TEAM_MAX, errors, required=False)
    clean["criticality"] = choice_field(
        Criticality,
        values.get("criticality"),
        Criticality.MEDIUM,
        "criticality",
        errors,
    )
    in_production = values.get("in_production")
    clean["in_production"] = True if in_production is None else bool(in_production)
    clean["retired_on"] = values.get("retired_on")
    try:
        check_date_range("retired_on", clean["retired_on"])
    except InputError as refused:
        errors.update(refused.errors)
    if errors:
        raise InputError(errors)
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
    clean = check_new_system(
        {
            "name": name,
            "description": description,
            "team": team,
            "criticality": criticality,
            "in_production": in_production,
            "retired_on": retired_on,
        }
    )
    system = System(**clean)
    db.session.add(system)
    db.session.flush()
    return system


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
    system.name = _check_system_name(name, system.id)
    system.description = clean_text(
        description, "a description", "description", DESCRIPTION_MAX, required=False
    )
    system.team = clean_text(team, "a team", "team", TEAM_MAX, required=False)
    if criticality != system.criticality:
        _record_criticality_change(system, criticality, criticality_changed_on, user_id)
    check_date_range("retired_on", retired_on)
    if bool(in_production) != system.in_production:
        _record_production_change(system, bool(in_production), production_changed_on, user_id)
    system.retired_on = retired_on
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
