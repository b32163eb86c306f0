"""The systems, staff and responsibilities files: their CSV columns, the rows an export
writes, and how an import checks and writes rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from marshmallow import ValidationError
from sqlalchemy import Boolean, or_, select, type_coerce

from app import fiscal
from app.coverage import api_schemas as coverage_schemas
from app.coverage import queries as coverage_queries
from app.coverage.checks import Existing, References
from app.coverage.inputs import NEW, RESPONSIBILITY, STAFF, StaffMemberInput, max_length
from app.coverage.responsibilities import add_responsibilities, check_new_responsibility
from app.coverage.staff import check_new_staff_member, create_staff_members
from app.coverage.systems import check_new_system, create_systems
from app.extensions import db
from app.models import (
    Criticality,
    Responsibility,
    ResponsibilityKind,
    StaffMember,
    System,
)
from app.transfer import cells as c
from app.transfer.bulk import (
    FilterError,
    Lookups,
    _check_rows,
    _cleans,
    _one,
    _staff_id,
    _system_id,
    date_field,
    enum_field,
    flag_field,
)
from app.transfer.csv_format import CellError, Column, ParsedRow


def _system_list(args: Mapping):
    as_of, error = coverage_queries.as_of_from(args)
    if error:
        raise FilterError(error)
    return coverage_queries.systems_list_query(args, as_of)


def _staff_list(args: Mapping):
    return coverage_queries.staff_list_query(args, fiscal.today())


def _responsibility_list(args: Mapping):
    """No page lists responsibilities: the API's filters (``/api/v1/responsibilities``)."""
    # Loading the area's API registers its routes: left to ``app.api.resources.blueprints``.
    from app.coverage.api import responsibilities_query

    try:
        loaded = coverage_schemas.ResponsibilityArgs().load(
            {k: v for k, v in args.items() if k not in ("page", "per_page")}, unknown="exclude"
        )
    except ValidationError as error:
        raise FilterError(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in error.normalized_messages().items())
        ) from None
    return responsibilities_query(loaded)


# ---- systems ---------------------------------------------------------------------------

SYSTEM_COLUMNS = [
    Column("Name", "name", lambda: System.name, c.text(max_length("name")), required=True),
    Column(
        "Description",
        "description",
        lambda: System.description,
        c.text(max_length("description"), strip=False),
    ),
    Column("Team", "team", lambda: System.team, c.text(max_length("team"))),
    enum_field("Criticality", System, "criticality", Criticality, Criticality.MEDIUM),
    flag_field("In production", System, "in_production", True),
    date_field("Retired on", System, "retired_on"),
]


class CoverageReferences(References):
    """The coverage rules' look-ups, loaded once for the file; they also see the file's
    earlier rows, so a name used twice or two overlapping periods in one file are refused
    like a clash with the register."""

    def __init__(self, lookups: Lookups) -> None:
        super().__init__()
        self._lookups = lookups
        self._names = {name: Existing() for name in lookups.systems()}
        self._links: dict[int, str] | None = None
        self._id_sets: dict[str, set[int]] = {}
        self._periods: dict[tuple, list] | None = None

    def system_named(self, name, exclude_id=None):
        return self._names.get(name.casefold())

    def remember_system(self, name: str, line: int) -> None:
        self._names.setdefault(name.casefold(), Existing(line=line))

    def _ids(self, key: str, found) -> set[int]:
        if key not in self._id_sets:
            values = found.values()
            self._id_sets[key] = (
                {i for ids in values for i in ids} if key == "staff" else set(values)
            )
        return self._id_sets[key]

    def system_exists(self, system_id) -> bool:
        return system_id in self._ids("systems", self._lookups.systems())

    def staff_exists(self, staff_id) -> bool:
        return staff_id in self._ids("staff", self._lookups.staff())

    def user_exists(self, user_id) -> bool:
        return user_id in self._ids("users", self._lookups.users())

    def staff_linked_to(self, user_id, exclude_id=None):
        if self._links is None:
            query = select(StaffMember.user_id, StaffMember.name)
            self._links = dict(db.session.execute(query.where(StaffMember.user_id.is_not(None))))
        return self._links.get(user_id)

    def _responsibility_periods(self) -> dict[tuple, list]:
        """Every responsibility's period by (person, system, kind), read once."""
        if self._periods is None:
            self._periods = defaultdict(list)
            query = select(
                Responsibility.staff_member_id,
                Responsibility.system_id,
                Responsibility.kind,
                Responsibility.since,
                Responsibility.until,
            )
            for person, system, k, since, until in db.session.execute(query):
                self._periods[(person, system, k)].append(Existing(since=since, until=until))
        return self._periods

    def responsibilities(self, staff_id, system_id, kind, exclude_id=None):
        return self._responsibility_periods().get((staff_id, system_id, kind), [])

    def remember_responsibility(self, clean: dict, line: int) -> None:
        key = (clean["staff_member_id"], clean["system_id"], clean["kind"])
        self._responsibility_periods()[key].append(
            Existing(line=line, since=clean["since"], until=clean["until"])
        )


# The column each of a system's values is read from.
SYSTEM_FIELD_COLUMNS = {
    column.key: (column.key, column.header) for column in SYSTEM_COLUMNS if column.key in NEW
}


def check_systems(rows: list[ParsedRow], lookups: Lookups) -> list[CellError]:
    """``check_new_system`` for each row; a name is refused if the register or an earlier
    line of the file has it."""
    refs = CoverageReferences(lookups)

    def remember(row, clean):
        if row.values.get("name"):
            refs.remember_system(row.values["name"], row.line)

    return _check_rows(rows, check_new_system, refs, SYSTEM_FIELD_COLUMNS, remember=remember)


def write_systems(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    return len(create_systems(_cleans(rows)))


# ---- staff -----------------------------------------------------------------------------


def _still_here():
    """SQL of StaffMember.active: no leaving date, or one not passed yet."""
    left_on = StaffMember.left_on
    return type_coerce(or_(left_on.is_(None), left_on >= fiscal.today()), Boolean)


STAFF_COLUMNS = [
    Column(
        "Name",
        "name",
        lambda: StaffMember.name,
        c.text(max_length("name", StaffMemberInput)),
        required=True,
    ),
    Column(
        "Email",
        "email",
        lambda: StaffMember.email,
        c.optional_text(max_length("email", StaffMemberInput)),
    ),
    Column("Team", "team", lambda: StaffMember.team, c.text(max_length("team", StaffMemberInput))),
    Column("Active", "active", lambda: _still_here(), c.boolean(True), kind="bool"),
    date_field("Left on", StaffMember, "left_on"),
]


# The column each of a staff member's values is read from.
STAFF_FIELD_COLUMNS = {
    column.key: (column.key, column.header) for column in STAFF_COLUMNS if column.key in STAFF
}


def check_staff(rows: list[ParsedRow], lookups: Lookups) -> list[CellError]:
    """``check_new_staff_member`` for each row (``Active`` "no" without a date: leaving today)."""
    refs = CoverageReferences(lookups)
    return _check_rows(rows, check_new_staff_member, refs, STAFF_FIELD_COLUMNS)


def write_staff(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    return len(create_staff_members(_cleans(rows)))


# ---- responsibilities ------------------------------------------------------------------

RESPONSIBILITY_COLUMNS = [
    Column(
        "Staff member",
        "staff_member_id",
        lambda: _one(Responsibility, StaffMember, StaffMember.name, Responsibility.staff_member_id),
        _staff_id,
        True,
    ),
    Column(
        "System",
        "system_id",
        lambda: _one(Responsibility, System, System.name, Responsibility.system_id),
        _system_id,
        required=True,
    ),
    enum_field("Kind", Responsibility, "kind", ResponsibilityKind, ResponsibilityKind.PRIMARY),
    date_field("Since", Responsibility, "since", required=True),
    date_field("Until", Responsibility, "until"),
]


# The column each of a responsibility's values is read from.
RESPONSIBILITY_FIELD_COLUMNS = {
    column.key: (column.key, column.header)
    for column in RESPONSIBILITY_COLUMNS
    if column.key in RESPONSIBILITY
}


def check_responsibilities(rows: list[ParsedRow], lookups: Lookups) -> list[CellError]:
    """``check_new_responsibility`` for each row: the overlap check sees the register and
    the file's earlier rows."""
    refs = CoverageReferences(lookups)

    def remember(row, clean):
        if clean is not None:
            refs.remember_responsibility(clean, row.line)

    return _check_rows(
        rows,
        check_new_responsibility,
        refs,
        RESPONSIBILITY_FIELD_COLUMNS,
        remember=remember,
    )


def write_responsibilities(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    return len(add_responsibilities(_cleans(rows)))
