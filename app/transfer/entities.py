"""Per entity: its CSV columns, the rows an export writes, and how an import writes rows.

Rows are checked cell by cell (``app.transfer.csv_format``), then across the file and
against the database (``check``), and only then written, in bulk, by ``write``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, NamedTuple

from marshmallow import ValidationError
from sqlalchemy import Boolean, func, insert, or_, select, type_coerce
from sqlalchemy.orm import aliased, selectinload

from app import fiscal
from app.api import resources
from app.api import schemas as api_schemas
from app.catalogues.mappings import CatalogueRefs, in_force, insert_mappings
from app.countermeasures import checks as countermeasures_checks
from app.countermeasures import queries as countermeasure_queries
from app.countermeasures import service as countermeasure_rules
from app.coverage import checks
from app.coverage import queries as coverage_queries
from app.coverage import responsibilities as coverage_responsibilities
from app.coverage import staff as coverage_staff
from app.coverage import systems as coverage_systems
from app.domain.scoring import score
from app.domain.scoring_methods import Assessment, Method, MethodError, assess, parse_method
from app.extensions import db
from app.models import (
    Countermeasure,
    CountermeasureStatus,
    CountermeasureStatusChange,
    CountermeasureTargetPeriod,
    CountermeasureType,
    Criticality,
    Effectiveness,
    Responsibility,
    ResponsibilityKind,
    StaffMember,
    System,
    Tag,
    Threat,
    ThreatCategory,
    ThreatFeed,
    ThreatScoreChange,
    ThreatSearchTerm,
    ThreatSource,
    ThreatStateChange,
    ThreatStatus,
    Treatment,
    User,
)
from app.models.audit import AuditEntry, to_json_value
from app.models.base import utcnow
from app.models.catalogues import CountermeasureMapping, Library, LibraryKind, ThreatMapping
from app.models.countermeasures import countermeasure_threats
from app.models.threats import StateChangeKind, threat_systems, threat_tags
from app.threats import queries as threat_queries
from app.threats.checks import References, check_new_threat
from app.threats.risk import backfill_state_history, method_rules, risk_matrix
from app.threats.search import terms_of
from app.transfer import cells as c
from app.transfer.csv_format import CellError, Column, ParsedRow
from app.transfer.sql import joined
from app.validation import InputError

CHUNK = 5000


class Lookups:
    """Names and emails of existing records, loaded once per import (not once per row)."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}
        self.matrix = risk_matrix()

    def _load(self, key, query, many=False):
        if key not in self._cache:
            if many:
                found: dict[str, list[int]] = defaultdict(list)
                for name, object_id in db.session.execute(query):
                    found[name.casefold()].append(object_id)
                self._cache[key] = found
            else:
                self._cache[key] = {
                    name.casefold(): object_id for name, object_id in db.session.execute(query)
                }
        return self._cache[key]

    def systems(self):
        return self._load("systems", select(System.name, System.id))

    def users(self):
        return self._load("users", select(User.email, User.id))

    def staff(self):
        return self._load("staff", select(StaffMember.name, StaffMember.id), many=True)

    def threats(self):
        return self._load("threats", select(Threat.title, Threat.id), many=True)

    def categories(self) -> dict[str, ThreatCategory]:
        if "categories" not in self._cache:
            self._cache["categories"] = {
                c.name.casefold(): c for c in db.session.scalars(select(ThreatCategory))
            }
        return self._cache["categories"]

    def feeds(self):
        return self._load("feeds", select(ThreatFeed.name, ThreatFeed.id))

    def catalogues(self) -> CatalogueRefs:
        if "catalogues" not in self._cache:
            self._cache["catalogues"] = CatalogueRefs()
        return self._cache["catalogues"]


# A feed the file names that the import will create: the threat rules see it as existing.
NEW_FEED = -1


class ImportReferences(References):
    """The threat register's rules, fed from what the import loaded once for the file."""

    def __init__(self, lookups: Lookups) -> None:
        super().__init__()
        self.matrix = lookups.matrix
        self._categories = {c.id: c for c in lookups.categories().values()}
        self._feeds = set(lookups.feeds().values()) | {NEW_FEED}
        self._users = {u.id: u for u in db.session.scalars(select(User))}
        self._systems = set(lookups.systems().values())

    def category(self, category_id):
        return self._categories.get(category_id)

    def feed_exists(self, feed_id) -> bool:
        return feed_id in self._feeds

    def user(self, user_id):
        return self._users.get(user_id)

    def systems_found(self, system_ids) -> int:
        return sum(1 for system_id in system_ids if system_id in self._systems)


def _actor() -> tuple[int | None, str]:
    from app.models.audit import _actor as audit_actor

    return audit_actor()


def _audit(model, ids: list[int], rows: list[dict], summary_key: str) -> None:
    """One audit row per imported record, in bulk: the flush listener never sees them."""
    user_id, actor = _actor()
    now = utcnow()
    _insert(
        AuditEntry.__table__,
        [
            {
                "at": now,
                "user_id": user_id,
                "actor": actor,
                "action": "import",
                "entity_type": model.__name__,
                "entity_id": str(object_id),
                "summary": str(row.get(summary_key, ""))[:300],
                "old_values": None,
                "new_values": {
                    k: to_json_value(v)
                    for k, v in row.items()
                    if k not in ("created_at", "updated_at", "version")
                },
            }
            for object_id, row in zip(ids, rows, strict=True)
        ],
    )


def _user_email(raw: str, lookups: Lookups) -> int | None:
    email = raw.strip()
    if not email:
        return None
    user_id = lookups.users().get(email.casefold())
    if user_id is None:
        raise ValueError(f"No user with email {email}.")
    return user_id


def _system_ids(raw: str, lookups: Lookups) -> list[int]:
    ids, unknown = [], []
    for name in c.names_list(raw):
        system_id = lookups.systems().get(name.casefold())
        (ids.append(system_id) if system_id else unknown.append(name))
    if unknown:
        raise ValueError(f"Unknown system(s): {', '.join(unknown)}. Import systems first.")
    return ids


def _one_of(found: dict[str, list[int]], name: str, what: str) -> int:
    ids = found.get(name.casefold(), [])
    if not ids:
        raise ValueError(f"No {what} named “{name}”.")
    if len(ids) > 1:
        raise ValueError(f"{len(ids)} {what}s are named “{name}”; rename one first.")
    return ids[0]


def _staff_id(raw: str, lookups: Lookups) -> int:
    return _one_of(lookups.staff(), raw.strip(), "staff member")


def _system_id(raw: str, lookups: Lookups) -> int:
    system_id = lookups.systems().get(raw.strip().casefold())
    if system_id is None:
        raise ValueError(f"No system named “{raw.strip()}”. Import systems first.")
    return system_id


def _threat_ids(raw: str, lookups: Lookups) -> list[int]:
    return [_one_of(lookups.threats(), title, "threat") for title in c.names_list(raw)]


def _one(outer, model, value, key):
    """The related row's ``value`` (its id in ``key``), as a correlated scalar subquery; an
    alias, so the outer query may join the same table itself (e.g. to sort by owner)."""
    related = aliased(model)
    return (
        select(getattr(related, value.key))
        .where(related.id == key)
        .correlate(outer)
        .scalar_subquery()
    )


def _email_of(outer, key):
    return _one(outer, User, User.email, key)


def _rule_errors(row: ParsedRow, refused: InputError, columns: dict) -> list[CellError]:
    """The messages of a register rule, each on the column its field comes from (``columns``:
    field -> (row key, header)); a rule about a cell that could not be read is not repeated."""
    errors = []
    for name, message in refused.errors.items():
        key, header = columns.get(name, (None, ""))
        if key is None or key in row.values:
            errors.append(CellError(row.line, header, message))
    return errors


class FilterError(ValueError):
    """A filter value the list page itself refuses (400), e.g. an impossible date."""


@dataclass
class EntityFormat:
    name: str
    label: str
    columns: list[Column]
    # The list page's own query (filters and sort from a query string, no page): the export
    # writes exactly the rows the page lists, in its order.
    list_query: Callable[[Mapping], Any]
    write: Any = None
    check: Any = None
    # The query string of "every record" (the command line's export, the round trip): the
    # list's filters that show everything, sorted so that a re-import keeps the order.
    everything: dict = field(default_factory=dict)

    @property
    def importable(self) -> bool:
        return self.write is not None

    def export_query(self, args: Mapping | None = None):
        """The list's SELECT for this query string (``None``: every record) as plain rows,
        one value per column, related names gathered in SQL; raises FilterError where the
        list answers 400."""
        query = self.list_query(self.everything if args is None else args)
        return query.with_only_columns(
            *[column.value() for column in self.columns], maintain_column_froms=True
        )


def _threat_list(args: Mapping):
    try:
        return threat_queries.list_query(args)
    except ValueError as error:
        raise FilterError(str(error)) from None


def _countermeasure_list(args: Mapping):
    # A value the list ignores (it says so on the page) is ignored here too.
    query, _filters, _problems = countermeasure_queries.list_query(args)
    return query


def _system_list(args: Mapping):
    as_of, error = coverage_queries.as_of_from(args)
    if error:
        raise FilterError(error)
    return coverage_queries.systems_list_query(args, as_of)


def _staff_list(args: Mapping):
    return coverage_queries.staff_list_query(args, fiscal.today())


def _responsibility_list(args: Mapping):
    """No page lists responsibilities: the API's filters (``/api/v1/responsibilities``)."""
    try:
        loaded = api_schemas.ResponsibilityArgs().load(
            {k: v for k, v in args.items() if k not in ("page", "per_page")}, unknown="exclude"
        )
    except ValidationError as error:
        raise FilterError(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in error.normalized_messages().items())
        ) from None
    return resources.responsibilities_query(loaded)


def _stamp(values: dict) -> dict:
    now = utcnow()
    return {**values, "created_at": now, "updated_at": now, "version": 1}


def _insert_returning_ids(model, rows: list[dict]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        result = db.session.execute(
            insert(model).returning(model.id, sort_by_parameter_order=True), chunk
        )
        ids.extend(result.scalars().all())
    return ids


def _insert(table, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        if rows[start : start + CHUNK]:
            db.session.execute(insert(table), rows[start : start + CHUNK])


# ---- systems ---------------------------------------------------------------------------

SYSTEM_COLUMNS = [
    Column("Name", "name", lambda: System.name, c.text(160), required=True),
    Column("Description", "description", lambda: System.description, c.text(20000, strip=False)),
    Column("Team", "team", lambda: System.team, c.text(120)),
    Column(
        "Criticality",
        "criticality",
        lambda: System.criticality,
        c.enum_of(Criticality, Criticality.MEDIUM),
        kind="enum",
    ),
    Column(
        "In production",
        "in_production",
        lambda: System.in_production,
        c.boolean(True),
        kind="bool",
    ),
    Column("Retired on", "retired_on", lambda: System.retired_on, c.day, kind="date"),
]


class CoverageReferences(checks.References):
    """The coverage rules' look-ups, loaded once for the file; they also see the file's
    earlier rows, so a name used twice or two overlapping periods in one file are refused
    like a clash with the register."""

    def __init__(self, lookups: Lookups) -> None:
        super().__init__()
        self._lookups = lookups
        self._names = {name: checks.Existing() for name in lookups.systems()}
        self._links: dict[int, str] | None = None
        self._id_sets: dict[str, set[int]] = {}
        self._periods: dict[tuple, list] | None = None

    def system_named(self, name, exclude_id=None):
        return self._names.get(name.casefold())

    def remember_system(self, name: str, line: int) -> None:
        self._names.setdefault(name.casefold(), checks.Existing(line=line))

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
                self._periods[(person, system, k)].append(checks.Existing(since=since, until=until))
        return self._periods

    def responsibilities(self, staff_id, system_id, kind, exclude_id=None):
        return self._responsibility_periods().get((staff_id, system_id, kind), [])

    def remember_responsibility(self, clean: dict, line: int) -> None:
        key = (clean["staff_member_id"], clean["system_id"], clean["kind"])
        self._responsibility_periods()[key].append(
            checks.Existing(line=line, since=clean["since"], until=clean["until"])
        )


def _check_rows(rows, rule, refs, columns, values=lambda v: v, remember=None):
    """Each row through a register rule (``check_new_*``): its clean values are kept on
    the row for the writer; ``remember(row, clean)`` lets later rows see earlier ones."""
    errors = []
    for row in rows:
        clean = None
        try:
            clean = row.values["__clean__"] = rule(values(row.values), refs)
        except InputError as refused:
            errors += _rule_errors(row, refused, columns)
        if remember is not None:
            remember(row, clean)
    return errors


SYSTEM_FIELD_COLUMNS = {
    "name": ("name", "Name"),
    "description": ("description", "Description"),
    "team": ("team", "Team"),
    "criticality": ("criticality", "Criticality"),
    "in_production": ("in_production", "In production"),
    "retired_on": ("retired_on", "Retired on"),
}


def check_systems(rows: list[ParsedRow], lookups: Lookups) -> list[CellError]:
    """``check_new_system`` for each row; a name is refused if the register or an earlier
    line of the file has it."""
    refs = CoverageReferences(lookups)

    def remember(row, clean):
        if row.values.get("name"):
            refs.remember_system(row.values["name"], row.line)

    return _check_rows(
        rows, coverage_systems.check_new_system, refs, SYSTEM_FIELD_COLUMNS, remember=remember
    )


def write_systems(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    values = [_stamp(row.values["__clean__"]) for row in rows]
    _audit(System, _insert_returning_ids(System, values), values, "name")
    return len(rows)


# ---- staff -----------------------------------------------------------------------------


def _still_here():
    """SQL of StaffMember.active: no leaving date, or one not passed yet."""
    left_on = StaffMember.left_on
    return type_coerce(or_(left_on.is_(None), left_on >= fiscal.today()), Boolean)


STAFF_COLUMNS = [
    Column("Name", "name", lambda: StaffMember.name, c.text(160), required=True),
    Column("Email", "email", lambda: StaffMember.email, c.optional_text(254)),
    Column("Team", "team", lambda: StaffMember.team, c.text(120)),
    Column("Active", "active", lambda: _still_here(), c.boolean(True), kind="bool"),
    Column("Left on", "left_on", lambda: StaffMember.left_on, c.day, kind="date"),
]


STAFF_FIELD_COLUMNS = {
    "name": ("name", "Name"),
    "email": ("email", "Email"),
    "team": ("team", "Team"),
    "active": ("active", "Active"),
    "left_on": ("left_on", "Left on"),
}


def check_staff(rows: list[ParsedRow], lookups: Lookups) -> list[CellError]:
    """``check_new_staff_member`` for each row (``Active`` "no" without a date: leaving today)."""
    refs = CoverageReferences(lookups)
    return _check_rows(rows, coverage_staff.check_new_staff_member, refs, STAFF_FIELD_COLUMNS)


def write_staff(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    values = [_stamp(row.values["__clean__"]) for row in rows]
    _audit(StaffMember, _insert_returning_ids(StaffMember, values), values, "name")
    return len(rows)


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
    Column(
        "Kind",
        "kind",
        lambda: Responsibility.kind,
        c.enum_of(ResponsibilityKind, ResponsibilityKind.PRIMARY),
        kind="enum",
    ),
    Column("Since", "since", lambda: Responsibility.since, c.day, required=True, kind="date"),
    Column("Until", "until", lambda: Responsibility.until, c.day, kind="date"),
]


RESPONSIBILITY_FIELD_COLUMNS = {
    "staff_member_id": ("staff_member_id", "Staff member"),
    "system_id": ("system_id", "System"),
    "kind": ("kind", "Kind"),
    "since": ("since", "Since"),
    "until": ("until", "Until"),
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
        coverage_responsibilities.check_new_responsibility,
        refs,
        RESPONSIBILITY_FIELD_COLUMNS,
        remember=remember,
    )


def write_responsibilities(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    values = [_stamp(row.values["__clean__"]) for row in rows]
    _audit(Responsibility, _insert_returning_ids(Responsibility, values), values, "since")
    return len(rows)


# ---- threats ---------------------------------------------------------------------------


def _score_cell(attr: str, label: str, model=Threat, required: bool = True):
    def parse(raw: str, lookups: Lookups) -> int | None:
        if not required and not raw.strip():
            return None  # worked out from the scoring method's inputs
        high = lookups.matrix.max_likelihood if "likelihood" in attr else lookups.matrix.max_impact
        return c.whole_number(1, high)(raw)

    return Column(label, attr, lambda: getattr(model, attr), parse, required=required, kind="int")


def _method_columns(model) -> list[Column]:
    """The scoring method of an assessment: imported (method, inputs) and exported only
    (the method's own score and rating)."""
    return [
        Column(
            "Scoring method",
            "scoring_method",
            lambda: model.scoring_method,
            c.text(10),
            help="matrix (empty), cvss, owasp or dread",
            may_be_absent=True,
        ),
        Column(
            "Scoring inputs",
            "scoring_inputs",
            lambda: model.scoring_inputs,
            c.text(1000),
            help="The CVSS vector, or the OWASP or DREAD factors as JSON",
            may_be_absent=True,
        ),
        Column("Method score", "method_score", lambda: model.method_score, None),
        Column("Method rating", "method_rating", lambda: model.method_rating, None),
    ]


THREAT_COLUMNS = [
    Column("Title", "title", lambda: Threat.title, c.text(200), required=True),
    Column("Description", "description", lambda: Threat.description, c.text(20000, strip=False)),
    Column(
        "Category",
        "category",
        lambda: _one(Threat, ThreatCategory, ThreatCategory.name, Threat.category_id),
        c.text(120),
    ),
    Column(
        "Source",
        "source",
        lambda: Threat.source,
        c.enum_of(ThreatSource, ThreatSource.INTERNAL),
        kind="enum",
    ),
    Column(
        "Feed",
        "feed",
        lambda: _one(Threat, ThreatFeed, ThreatFeed.name, Threat.feed_id),
        c.text(160),
    ),
    Column("Owner email", "owner_id", lambda: _email_of(Threat, Threat.owner_id), _user_email),
    Column(
        "Status",
        "status",
        lambda: Threat.status,
        c.enum_of(ThreatStatus, ThreatStatus.IDENTIFIED),
        kind="enum",
    ),
    Column("Treatment", "treatment", lambda: Threat.treatment, c.enum_of(Treatment), kind="enum"),
    Column(
        "Treatment rationale",
        "treatment_rationale",
        lambda: Threat.treatment_rationale,
        c.text(20000, strip=False),
    ),
    Column(
        "Identified on", "identified_on", lambda: Threat.identified_on, c.day, True, kind="date"
    ),
    Column("Next review on", "next_review_on", lambda: Threat.next_review_on, c.day, kind="date"),
    _score_cell("inherent_likelihood", "Inherent likelihood", required=False),
    _score_cell("inherent_impact", "Inherent impact", required=False),
    _score_cell("residual_likelihood", "Residual likelihood"),
    _score_cell("residual_impact", "Residual impact"),
    *_method_columns(Threat),
    Column(
        "Systems",
        "system_ids",
        lambda: joined(
            System.name,
            threat_systems.c.threat_id == Threat.id,
            System.id == threat_systems.c.system_id,
            order_by=[System.name],
            outer=Threat,
        ),
        _system_ids,
    ),
    Column(
        "Tags",
        "tags",
        lambda: joined(
            Tag.name,
            threat_tags.c.threat_id == Threat.id,
            Tag.id == threat_tags.c.tag_id,
            order_by=[Tag.name],
            outer=Threat,
        ),
        lambda r, _: c.names_list(r),
    ),
    Column(
        "Acceptance approver email",
        "acceptance_approver_id",
        lambda: _email_of(Threat, Threat.acceptance_approver_id),
        _user_email,
    ),
    Column(
        "Acceptance expires on",
        "acceptance_expires_on",
        lambda: Threat.acceptance_expires_on,
        c.day,
        kind="date",
    ),
    # Exported only (an import links threats from the countermeasures' file).
    Column(
        "Countermeasure ids",
        "countermeasure_ids",
        lambda: _threat_countermeasures(Countermeasure.id),
        None,
    ),
    Column(
        "Countermeasures",
        "countermeasures",
        lambda: _threat_countermeasures(Countermeasure.title),
        None,
    ),
    Column(
        "ATT&CK techniques",
        "techniques",
        lambda: _mapped_refs(ThreatMapping, ThreatMapping.threat_id, Threat, LibraryKind.ATTACK),
        lambda raw, lookups: _refs(raw, lookups, LibraryKind.ATTACK),
        may_be_absent=True,
    ),
]


def _refs(raw: str, lookups: Lookups, kind: LibraryKind) -> list[tuple[int, str]]:
    """A cell of catalogue references as the export writes them ("T1078; T1566")."""
    return lookups.catalogues().resolve(c.names_list(raw), kind) if raw.strip() else []


def _mapped_refs(model, subject, outer, kind: LibraryKind):
    """The entries of one kind of catalogue a record is mapped to today. An import maps
    the new record to them from the day it starts (see ``_write_mappings``)."""
    return joined(
        model.ref,
        subject == outer.id,
        *in_force(model, fiscal.today()),
        model.library_id.in_(select(Library.id).where(Library.kind == kind)),
        order_by=[model.ref],
        outer=outer,
    )


def _threat_countermeasures(value):
    """A threat's countermeasures (ids or titles, the same order for both columns)."""
    return joined(
        value,
        countermeasure_threats.c.threat_id == Threat.id,
        Countermeasure.id == countermeasure_threats.c.countermeasure_id,
        order_by=[Countermeasure.title, Countermeasure.id],
        outer=Threat,
    )


# Where the threat register's rules (app.threats.service) name a field, the file has a column.
THREAT_FIELD_COLUMNS = {
    "title": ("title", "Title"),
    "description": ("description", "Description"),
    "category_id": ("category", "Category"),
    "source": ("source", "Source"),
    "feed_id": ("feed", "Feed"),
    "owner_id": ("owner_id", "Owner email"),
    "status": ("status", "Status"),
    "treatment": ("treatment", "Treatment"),
    "treatment_rationale": ("treatment_rationale", "Treatment rationale"),
    "acceptance_approver_id": ("acceptance_approver_id", "Acceptance approver email"),
    "acceptance_expires_on": ("acceptance_expires_on", "Acceptance expires on"),
    "identified_on": ("identified_on", "Identified on"),
    "scored_on": ("identified_on", "Identified on"),
    "next_review_on": ("next_review_on", "Next review on"),
    "inherent_likelihood": ("inherent_likelihood", "Inherent likelihood"),
    "inherent_impact": ("inherent_impact", "Inherent impact"),
    "residual_likelihood": ("residual_likelihood", "Residual likelihood"),
    "residual_impact": ("residual_impact", "Residual impact"),
    "scoring_method": ("scoring_method", "Scoring method"),
    "scoring_inputs": ("scoring_inputs", "Scoring inputs"),
    "system_ids": ("system_ids", "Systems"),
    "tags": ("tags", "Tags"),
}


def _threat_values(v: dict, lookups: Lookups) -> dict:
    """A row as the threat register's service takes it (names resolved to ids)."""
    values = {k: v[k] for k in THREAT_FIELD_COLUMNS if k in v}
    if v.get("category"):
        category = lookups.categories().get(v["category"].casefold())
        values["category_id"] = category.id if category else None  # a new one is created
    if v.get("feed"):
        values["feed_id"] = lookups.feeds().get(v["feed"].casefold(), NEW_FEED)
    return values


def check_threats(rows: list[ParsedRow], lookups: Lookups) -> list[CellError]:
    """Each row through the register's own rules (``check_new_threat``), plus what only
    a file can get wrong; a rule about a cell that could not be read is not repeated."""
    errors = []
    refs = ImportReferences(lookups)
    for row in rows:
        v = row.values
        if v.get("source") == ThreatSource.THREAT_INTEL and not v.get("feed"):
            errors.append(
                CellError(row.line, "Feed", "A threat-intelligence threat names its feed.")
            )
        try:
            v["__clean__"] = check_new_threat(_threat_values(v, lookups), refs)
        except InputError as refused:
            errors += _rule_errors(row, refused, THREAT_FIELD_COLUMNS)
    return errors


def _ids_by_name(model, names: set[str]) -> dict[str, int]:
    """Existing rows by name, creating the missing ones (categories, feeds, tags)."""
    found = {
        name.casefold(): object_id
        for name, object_id in db.session.execute(select(model.name, model.id))
    }
    missing = {}
    for name in names:
        if name.casefold() not in found and name.casefold() not in missing:
            missing[name.casefold()] = name
    if missing:
        extra = (
            {"created_at": utcnow(), "updated_at": utcnow()} if hasattr(model, "created_at") else {}
        )
        _insert(model, [{"name": name, **extra} for name in missing.values()])
        found = {
            name.casefold(): object_id
            for name, object_id in db.session.execute(select(model.name, model.id))
        }
    return found


THREAT_FIELDS = (
    "title",
    "description",
    "source",
    "owner_id",
    "status",
    "treatment",
    "treatment_rationale",
    "acceptance_approver_id",
    "acceptance_expires_on",
    "identified_on",
    "next_review_on",
    "inherent_likelihood",
    "inherent_impact",
    "residual_likelihood",
    "residual_impact",
)


METHOD_KEYS = ("scoring_method", "scoring_inputs", "method_score", "method_rating")


def _method_values(assessment) -> dict:
    if assessment is None:
        return {"scoring_method": "matrix", "scoring_inputs": "", "method_score": None,
                "method_rating": ""}  # fmt: skip
    return {
        "scoring_method": assessment.method.value,
        "scoring_inputs": assessment.inputs,
        "method_score": assessment.method_score,
        "method_rating": assessment.rating,
    }


def write_threats(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    """Rows already checked by the register's rules: their clean values, written in bulk."""
    matrix = lookups.matrix
    categories = _ids_by_name(
        ThreatCategory, {r.values["category"] for r in rows if r.values["category"]}
    )
    feeds = _ids_by_name(ThreatFeed, {r.values["feed"] for r in rows if r.values["feed"]})
    cleans = [row.values["__clean__"] for row in rows]
    tags = _ids_by_name(Tag, {t for clean in cleans for t in clean["tags"]})
    threat_rows = []
    for row, clean in zip(rows, cleans, strict=True):
        v = row.values
        threat_rows.append(
            _stamp(
                {
                    **{key: clean[key] for key in THREAT_FIELDS},
                    "category_id": categories[v["category"].casefold()] if v["category"] else None,
                    "feed_id": feeds[v["feed"].casefold()] if v["feed"] else None,
                    "inherent_score": score(
                        clean["inherent_likelihood"], clean["inherent_impact"], matrix
                    ),
                    "residual_score": score(
                        clean["residual_likelihood"], clean["residual_impact"], matrix
                    ),
                    **_method_values(clean["assessment"]),
                }
            )
        )
    ids = _insert_returning_ids(Threat, threat_rows)
    # The imported scores start each threat's history, dated the day it was identified.
    _insert(
        ThreatScoreChange,
        [
            {
                "threat_id": threat_id,
                "changed_on": t["identified_on"],
                "inherent_likelihood": t["inherent_likelihood"],
                "inherent_impact": t["inherent_impact"],
                "residual_likelihood": t["residual_likelihood"],
                "residual_impact": t["residual_impact"],
                "inherent_score": t["inherent_score"],
                "residual_score": t["residual_score"],
                "author_id": user_id,
                "note": "Imported from CSV",
                **{key: t[key] for key in METHOD_KEYS},
                "method_explanation": clean["assessment"].explanation[:300]
                if clean["assessment"]
                else "",
            }
            for threat_id, t, clean in zip(ids, threat_rows, cleans, strict=True)
        ],
    )
    # Their status, treatment and next review: dated facts from the day each was identified.
    backfill_state_history(ids)
    _insert(
        threat_systems,
        [
            {"threat_id": threat_id, "system_id": system_id}
            for threat_id, clean in zip(ids, cleans, strict=True)
            for system_id in clean["system_ids"]
        ],
    )
    _insert(
        threat_tags,
        [
            {"threat_id": threat_id, "tag_id": tag_id}
            for threat_id, clean in zip(ids, cleans, strict=True)
            for tag_id in dict.fromkeys(tags[t.casefold()] for t in clean["tags"])
        ],
    )
    # The words the register's search looks in (app.threats.search), as reindex() stores them.
    _insert(
        ThreatSearchTerm,
        [
            {"term": term, "threat_id": threat_id}
            for threat_id, t in zip(ids, threat_rows, strict=True)
            for term in terms_of(t["title"], t["description"])
        ],
    )
    _audit(
        Threat,
        ids,
        [
            {**t, "system_ids": clean["system_ids"], "tags": clean["tags"]}
            for t, clean in zip(threat_rows, cleans, strict=True)
        ],
        "title",
    )
    # A threat's techniques are in force from the day it was identified.
    _write_mappings(
        ThreatMapping,
        "threat_id",
        [
            (threat_id, pair, t["identified_on"])
            for threat_id, t, row in zip(ids, threat_rows, rows, strict=True)
            for pair in row.values.get("techniques", [])
        ],
        user_id,
    )
    return len(ids)


def _write_mappings(model, subject_column: str, facts, user_id) -> None:
    """The rows' catalogue references as dated mappings, with the import's audit rows."""
    ids, values = insert_mappings(
        model,
        subject_column,
        [(subject_id, library_id, ref, day) for subject_id, (library_id, ref), day in facts],
        user_id,
    )
    _audit(model, ids, values, "ref")


# ---- countermeasures -------------------------------------------------------------------

COUNTERMEASURE_COLUMNS = [
    Column("Title", "title", lambda: Countermeasure.title, c.text(200), required=True),
    Column(
        "Description",
        "description",
        lambda: Countermeasure.description,
        c.text(20000, strip=False),
    ),
    Column(
        "Type",
        "type",
        lambda: Countermeasure.type,
        c.enum_of(CountermeasureType, CountermeasureType.PREVENTIVE),
        kind="enum",
    ),
    Column(
        "Status",
        "status",
        lambda: Countermeasure.status,
        c.enum_of(CountermeasureStatus, CountermeasureStatus.PLANNED),
        kind="enum",
    ),
    Column(
        "Owner email",
        "owner_id",
        lambda: _email_of(Countermeasure, Countermeasure.owner_id),
        _user_email,
    ),
    Column(
        "Target quarter",
        "target_quarter_start",
        lambda: Countermeasure.target_quarter_start,
        c.quarter_start,
        kind="quarter",
    ),
    Column("Planned on", "planned_on", lambda: Countermeasure.planned_on, c.day, kind="date"),
    Column("Deployed on", "deployed_on", lambda: Countermeasure.deployed_on, c.day, kind="date"),
    Column("Retired on", "retired_on", lambda: Countermeasure.retired_on, c.day, kind="date"),
    Column("Evidence", "evidence", lambda: Countermeasure.evidence, c.text(20000, strip=False)),
    Column("Verified on", "verified_on", lambda: Countermeasure.verified_on, c.day, kind="date"),
    Column(
        "Effectiveness",
        "effectiveness",
        lambda: Countermeasure.effectiveness,
        c.enum_of(Effectiveness),
        kind="enum",
    ),
    Column(
        "Threats",
        "threat_ids",
        lambda: joined(
            Threat.title,
            countermeasure_threats.c.countermeasure_id == Countermeasure.id,
            Threat.id == countermeasure_threats.c.threat_id,
            order_by=[Threat.title],
            outer=Countermeasure,
        ),
        _threat_ids,
    ),
    Column(
        "Techniques mitigated",
        "techniques",
        lambda: _mapped_refs(
            CountermeasureMapping,
            CountermeasureMapping.countermeasure_id,
            Countermeasure,
            LibraryKind.ATTACK,
        ),
        lambda raw, lookups: _refs(raw, lookups, LibraryKind.ATTACK),
        may_be_absent=True,
    ),
    Column(
        "Controls implemented",
        "controls",
        lambda: _mapped_refs(
            CountermeasureMapping,
            CountermeasureMapping.countermeasure_id,
            Countermeasure,
            LibraryKind.FRAMEWORK,
        ),
        lambda raw, lookups: _refs(raw, lookups, LibraryKind.FRAMEWORK),
        may_be_absent=True,
    ),
]


class ThreatRef(NamedTuple):
    id: int
    title: str
    archived_at: Any


class CountermeasureReferences(countermeasures_checks.References):
    """The countermeasure rules' look-ups (users, threats), loaded once for the file."""

    def __init__(self, lookups: Lookups) -> None:
        super().__init__()
        self._lookups = lookups
        self._users = set(lookups.users().values())
        self._threat_ids = {i for ids in lookups.threats().values() for i in ids}
        archived = select(Threat.id, Threat.title, Threat.archived_at)
        self._archived = {
            row.id: ThreatRef(*row)
            for row in db.session.execute(archived.where(Threat.archived_at.is_not(None)))
        }

    def user_exists(self, user_id) -> bool:
        return user_id in self._users

    def threats(self, ids):
        return {
            i: self._archived.get(i) or ThreatRef(i, "", None) for i in ids if i in self._threat_ids
        }


COUNTERMEASURE_FIELD_COLUMNS = {
    "title": ("title", "Title"),
    "description": ("description", "Description"),
    "type": ("type", "Type"),
    "status": ("status", "Status"),
    "owner_id": ("owner_id", "Owner email"),
    "target_quarter": ("target_quarter_start", "Target quarter"),
    "planned_on": ("planned_on", "Planned on"),
    "deployed_on": ("deployed_on", "Deployed on"),
    "retired_on": ("retired_on", "Retired on"),
    "evidence": ("evidence", "Evidence"),
    "verified_on": ("verified_on", "Verified on"),
    "effectiveness": ("effectiveness", "Effectiveness"),
    "threat_ids": ("threat_ids", "Threats"),
}


def _countermeasure_values(v: dict) -> dict:
    """A row as the countermeasure rules take it (the quarter as a quarter, not its day)."""
    values = {k: v[k] for k in COUNTERMEASURE_FIELD_COLUMNS if k in v}
    if v.get("target_quarter_start"):
        values["target_quarter"] = fiscal.quarter_starting(v["target_quarter_start"])
    return values


def check_countermeasures(rows: list[ParsedRow], lookups: Lookups) -> list[CellError]:
    """``check_recorded_countermeasure`` for each row: the rules of creating one, and of
    the retirement and verification the row records."""
    return _check_rows(
        rows,
        countermeasure_rules.check_recorded_countermeasure,
        CountermeasureReferences(lookups),
        COUNTERMEASURE_FIELD_COLUMNS,
        values=_countermeasure_values,
    )


COUNTERMEASURE_FIELDS = (
    "title",
    "description",
    "type",
    "status",
    "owner_id",
    "target_quarter_start",
    "planned_on",
    "deployed_on",
    "retired_on",
    "evidence",
    "verified_on",
    "effectiveness",
)


def write_countermeasures(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    cleans = [row.values["__clean__"] for row in rows]
    values = [{k: clean[k] for k in COUNTERMEASURE_FIELDS} for clean in cleans]
    ids = _insert_returning_ids(Countermeasure, [_stamp(v) for v in values])
    _audit(
        Countermeasure,
        ids,
        [{**v, "threat_ids": clean["threat_ids"]} for v, clean in zip(values, cleans, strict=True)],
        "title",
    )
    _insert(
        countermeasure_threats,
        [
            {"countermeasure_id": cm_id, "threat_id": threat_id}
            for cm_id, clean in zip(ids, cleans, strict=True)
            for threat_id in clean["threat_ids"]
        ],
    )
    _insert(
        CountermeasureStatusChange,
        [
            {
                "countermeasure_id": cm_id,
                "status": v["status"],
                "changed_on": v["retired_on"] or v["deployed_on"] or v["planned_on"],
                "user_id": user_id,
            }
            for cm_id, v in zip(ids, values, strict=True)
        ],
    )
    # The target quarter in force from the plan date ("slipped" reads it as of a day).
    _insert(
        CountermeasureTargetPeriod,
        [
            {
                "countermeasure_id": cm_id,
                "target_quarter_start": v["target_quarter_start"],
                "valid_from": v["planned_on"],
                "user_id": user_id,
            }
            for cm_id, v in zip(ids, values, strict=True)
            if v["target_quarter_start"] is not None
        ],
    )
    # Its techniques and controls are in force from the day it was planned (the rules
    # give every countermeasure one); coverage still counts it only once deployed.
    facts = [
        (cm_id, pair, v["planned_on"])
        for cm_id, v, row in zip(ids, values, rows, strict=True)
        for key in ("techniques", "controls")
        for pair in row.values.get(key, [])
    ]
    _write_mappings(CountermeasureMapping, "countermeasure_id", facts, user_id)
    return len(ids)


# ---- threat score history (the second threats file) ---------------------------------------
# One row per assessment, oldest first per threat. Import the threats first (their file
# holds each threat's current scores), then this file: its rows are added to each threat's
# history in order, dated "Assessed on"; each is a re-score (and a review) as on the form.

THREAT_SCORE_COLUMNS = [
    Column("Threat id", "threat_ref", lambda: ThreatScoreChange.threat_id, None, kind="int"),
    Column(
        "Threat",
        "threat_id",
        lambda: _one(ThreatScoreChange, Threat, Threat.title, ThreatScoreChange.threat_id),
        lambda r, lk: _threat_id(r, lk),
        required=True,
    ),
    Column(
        "Assessed on",
        "changed_on",
        lambda: ThreatScoreChange.changed_on,
        c.day,
        required=True,
        kind="date",
    ),
    Column(
        "Superseded on",
        "superseded_on",
        lambda: ThreatScoreChange.superseded_on,
        None,
        kind="date",
    ),
    _score_cell("inherent_likelihood", "Inherent likelihood", ThreatScoreChange, False),
    _score_cell("inherent_impact", "Inherent impact", ThreatScoreChange, False),
    Column(
        "Inherent score",
        "inherent_score",
        lambda: ThreatScoreChange.inherent_score,
        None,
        kind="int",
    ),
    _score_cell("residual_likelihood", "Residual likelihood", ThreatScoreChange),
    _score_cell("residual_impact", "Residual impact", ThreatScoreChange),
    Column(
        "Residual score",
        "residual_score",
        lambda: ThreatScoreChange.residual_score,
        None,
        kind="int",
    ),
    Column(
        "Author email",
        "author",
        lambda: _email_of(ThreatScoreChange, ThreatScoreChange.author_id),
        None,
    ),
    Column("Note", "note", lambda: ThreatScoreChange.note, c.text(300)),
    *_method_columns(ThreatScoreChange),
]


def _threat_id(raw: str, lookups: Lookups) -> int:
    return _one_of(lookups.threats(), raw.strip(), "threat")


def _threat_history_list(model):
    """The list of a threat history file (``model``: score or state changes): oldest first
    per threat; ``threat=<id>``: one threat's, ``archived=1``: those of archived threats too."""

    def query_of(args: Mapping):
        query = select(model)
        threat_id = threat_queries.int_arg(args, "threat")
        if threat_id is not None:
            query = query.where(model.threat_id == threat_id)
        if args.get("archived") != "1":
            query = query.where(
                model.threat_id.in_(select(Threat.id).where(Threat.archived_at.is_(None)))
            )
        return query.order_by(model.threat_id, model.changed_on, model.id)

    return query_of


_threat_score_list = _threat_history_list(ThreatScoreChange)


def _dated_in_order(
    rows: list[ParsedRow], date_key: str, column: str, what: str, latest_of
) -> list[CellError]:
    """Each row's date: not in the future, not before its threat was identified, and in
    order after the threat's latest recorded fact and the file's earlier rows for it.

    ``latest_of(chunk of threat ids)`` yields (threat id, identified on, latest fact date).
    """
    errors = []
    threat_ids = sorted({r.values["threat_id"] for r in rows if r.values.get("threat_id")})
    known = {}
    for chunk in _chunks(threat_ids):
        known.update({tid: (first, last) for tid, first, last in latest_of(chunk)})
    today = fiscal.today()
    previous: dict[int, tuple[date, int]] = {}
    for row in rows:
        tid, day = row.values.get("threat_id"), row.values.get(date_key)
        if tid is None or day is None or tid not in known:
            continue
        identified, last = known[tid]
        message = None
        if day > today:
            message = "It is in the future."
        elif day < identified:
            message = f"Before the threat was identified ({identified.isoformat()})."
        elif tid in previous and day < previous[tid][0]:
            before_day, before_line = previous[tid]
            message = (
                f"Out of order: before line {before_line}'s {what} of the same threat "
                f"({before_day.isoformat()}); list each threat's rows oldest first."
            )
        elif tid not in previous and last is not None and day < last:
            message = (
                f"Out of order: before the threat's last recorded {what} ({last.isoformat()})."
            )
        if message:
            errors.append(CellError(row.line, column, message))
        else:  # the next row of the threat follows this one
            previous[tid] = (day, row.line)
    return errors


def _latest_score(chunk):
    return db.session.execute(
        select(Threat.id, Threat.identified_on, func.max(ThreatScoreChange.changed_on))
        .outerjoin(ThreatScoreChange, ThreatScoreChange.threat_id == Threat.id)
        .where(Threat.id.in_(chunk))
        .group_by(Threat.id, Threat.identified_on)
    )


def check_threat_scores(rows: list[ParsedRow], lookups: Lookups) -> list[CellError]:
    """Each row: scores the register accepts, dated in order after what the threat holds."""
    errors = _dated_in_order(rows, "changed_on", "Assessed on", "assessment", _latest_score)
    rules = method_rules(lookups.matrix)
    for row in rows:
        v = row.values
        errors += _history_method(row, rules)
        axes = [v.get(k) for k in ("inherent_likelihood", "inherent_impact")]
        axes += [v.get(k) for k in ("residual_likelihood", "residual_impact")]
        il, ii, rl, ri = axes
        if (
            il is not None
            and ii is not None
            and rl is not None
            and ri is not None
            and (rl * ri > il * ii)
        ):
            errors.append(
                CellError(
                    row.line,
                    "Residual impact",
                    f"The residual score ({rl * ri}) cannot exceed the inherent score ({il * ii}).",
                )
            )
    return errors


def _history_method(row: ParsedRow, rules) -> list[CellError]:
    """A history row's scoring method: its inputs must read; an empty inherent cell is
    worked out from them, a filled one is kept as recorded (the rules may have changed
    since). ``row.values["__assessment__"]`` is what the writer keeps."""
    v = row.values
    if "scoring_method" not in v or "scoring_inputs" not in v:
        return []  # a cell that could not be read is already reported
    try:
        method = parse_method(v["scoring_method"])
    except MethodError as error:
        return [CellError(row.line, "Scoring method", error.message)]
    cells = {"inherent_likelihood": "Inherent likelihood", "inherent_impact": "Inherent impact"}
    if method is Method.MATRIX:
        missing = [h for k, h in cells.items() if k in v and v[k] is None]
        return [CellError(row.line, h, "Required; the cell is empty.") for h in missing]
    try:
        assessment = assess(method, v["scoring_inputs"], rules)
    except MethodError as error:
        return [CellError(row.line, "Scoring inputs", error.message)]
    given = (v.get("inherent_likelihood"), v.get("inherent_impact"))
    if given[0] is None:
        v["inherent_likelihood"] = assessment.likelihood
    if given[1] is None:
        v["inherent_impact"] = assessment.impact
    cell = (v["inherent_likelihood"], v["inherent_impact"])
    if cell != (assessment.likelihood, assessment.impact):
        assessment = replace(
            assessment,
            likelihood=cell[0],
            impact=cell[1],
            explanation=f"Imported as {cell[0]} × {cell[1]}; "
            f"the rules at import gave {assessment.likelihood} × {assessment.impact}. "
            + assessment.explanation,
        )
    v["__assessment__"] = assessment
    return []


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write_threat_scores(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    """Add each row to its threat's history, in file order, as the form's re-score does."""
    from app.domain.scoring import level_for, next_review_date
    from app.threats.risk import rescore_threat, review_intervals

    intervals = review_intervals()
    threats = _threats_with_history(sorted({r.values["threat_id"] for r in rows}))
    for row in rows:
        v = row.values
        residual = (v["residual_likelihood"], v["residual_impact"])
        inherent = (v["inherent_likelihood"], v["inherent_impact"])
        level = level_for(residual[0] * residual[1], lookups.matrix)
        rescore_threat(
            threats[v["threat_id"]],
            inherent=inherent,
            residual=residual,
            changed_on=v["changed_on"],
            author_id=user_id,
            note=v.get("note") or "Imported from CSV",
            next_review_on=next_review_date(v["changed_on"], level, intervals),
            assessment=v.get("__assessment__")
            or Assessment(Method.MATRIX, "", *inherent, None, "", ""),
        )
    db.session.flush()
    return len(rows)


# ---- threat state history (the third threats file) -------------------------------------
# One row per dated state: status, archival, treatment, acceptance expiry, next review, in
# force from "From". Imported after the threats (and their scores): each row is added in
# order as a dated change, as the edit form's "changed on" date does.

THREAT_STATE_COLUMNS = [
    Column("Threat id", "threat_ref", lambda: ThreatStateChange.threat_id, None, kind="int"),
    Column(
        "Threat",
        "threat_id",
        lambda: _one(ThreatStateChange, Threat, Threat.title, ThreatStateChange.threat_id),
        lambda r, lk: _threat_id(r, lk),
        required=True,
    ),
    Column("From", "changed_on", lambda: ThreatStateChange.changed_on, c.day, True, kind="date"),
    Column(
        "Superseded on", "superseded_on", lambda: ThreatStateChange.superseded_on, None, kind="date"
    ),
    Column(
        "What",
        "kind",
        lambda: ThreatStateChange.kind,
        c.enum_of(StateChangeKind, StateChangeKind.STATUS),
        kind="enum",
    ),
    Column(
        "Status",
        "status",
        lambda: ThreatStateChange.status,
        c.enum_of(ThreatStatus, ThreatStatus.IDENTIFIED),
        kind="enum",
    ),
    Column(
        "Archived", "archived", lambda: ThreatStateChange.archived, c.boolean(False), kind="bool"
    ),
    Column(
        "Treatment",
        "treatment",
        lambda: ThreatStateChange.treatment,
        c.enum_of(Treatment),
        kind="enum",
    ),
    Column(
        "Acceptance expires on",
        "acceptance_expires_on",
        lambda: ThreatStateChange.acceptance_expires_on,
        c.day,
        kind="date",
    ),
    Column(
        "Next review on",
        "next_review_on",
        lambda: ThreatStateChange.next_review_on,
        c.day,
        kind="date",
    ),
    Column("Note", "note", lambda: ThreatStateChange.note, c.text(500)),
]


_threat_state_list = _threat_history_list(ThreatStateChange)


def _latest_fact(chunk):
    """Per threat: identified on, and its latest score or state change."""
    latest_score = (
        select(func.max(ThreatScoreChange.changed_on))
        .where(ThreatScoreChange.threat_id == Threat.id)
        .scalar_subquery()
    )
    latest_state = (
        select(func.max(ThreatStateChange.changed_on))
        .where(ThreatStateChange.threat_id == Threat.id)
        .scalar_subquery()
    )
    for tid, identified, score_day, state_day in db.session.execute(
        select(Threat.id, Threat.identified_on, latest_score, latest_state).where(
            Threat.id.in_(chunk)
        )
    ):
        yield tid, identified, max((d for d in (score_day, state_day) if d), default=None)


def check_threat_states(rows: list[ParsedRow], lookups: Lookups) -> list[CellError]:
    """Each row dated in order after what the threat holds; an acceptance has its expiry."""
    errors = _dated_in_order(rows, "changed_on", "From", "change", _latest_fact)
    for row in rows:
        v = row.values
        if v.get("treatment") is Treatment.ACCEPT and not v.get("acceptance_expires_on"):
            errors.append(
                CellError(row.line, "Acceptance expires on", "An accepted risk has an expiry.")
            )
    return errors


def write_threat_states(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    """Add each row to its threat's state history, in file order."""
    from app.threats.risk import STATE_FIELDS, record_state

    threats = _threats_with_history(sorted({r.values["threat_id"] for r in rows}))
    for row in rows:
        v = row.values
        record_state(
            threats[v["threat_id"]],
            v["changed_on"],
            v["kind"],
            user_id,
            note=v.get("note") or "Imported from CSV",
            **{name: v[name] for name in STATE_FIELDS},
        )
    db.session.flush()
    return len(rows)


def _threats_with_history(ids: list[int]) -> dict[int, Threat]:
    threats = {}
    for chunk in _chunks(ids):
        threats.update(
            {
                t.id: t
                for t in db.session.scalars(
                    select(Threat)
                    .where(Threat.id.in_(chunk))
                    .options(selectinload(Threat.score_changes), selectinload(Threat.state_changes))
                )
            }
        )
    return threats


FORMATS: dict[str, EntityFormat] = {
    f.name: f
    for f in (
        EntityFormat(
            "threats",
            "Threats",
            THREAT_COLUMNS,
            _threat_list,
            write_threats,
            check_threats,
            everything={"sort": "title"},
        ),
        EntityFormat(
            "threat-scores",
            "Threat score history",
            THREAT_SCORE_COLUMNS,
            _threat_score_list,
            write_threat_scores,
            check_threat_scores,
            everything={"archived": "1"},
        ),
        EntityFormat(
            "threat-states",
            "Threat status and review history",
            THREAT_STATE_COLUMNS,
            _threat_state_list,
            write_threat_states,
            check_threat_states,
            everything={"archived": "1"},
        ),
        EntityFormat(
            "systems",
            "Systems",
            SYSTEM_COLUMNS,
            _system_list,
            write_systems,
            check_systems,
            everything={"show": "all", "sort": "name"},
        ),
        EntityFormat(
            "staff",
            "Staff",
            STAFF_COLUMNS,
            _staff_list,
            write_staff,
            check_staff,
            everything={"status": "all", "sort": "name"},
        ),
        EntityFormat(
            "responsibilities",
            "Responsibilities",
            RESPONSIBILITY_COLUMNS,
            _responsibility_list,
            write_responsibilities,
            check_responsibilities,
        ),
        EntityFormat(
            "countermeasures",
            "Countermeasures",
            COUNTERMEASURE_COLUMNS,
            _countermeasure_list,
            write_countermeasures,
            check_countermeasures,
            everything={"sort": "title"},
        ),
    )
}


def count_rows(fmt: EntityFormat, args: Mapping | None = None) -> int:
    query = fmt.list_query(fmt.everything if args is None else args).order_by(None)
    return db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
