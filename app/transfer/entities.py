"""Per entity: its CSV columns, the rows an export writes, and how an import writes rows.

Rows are checked cell by cell (``app.transfer.csv_format``), then across the file and
against the database (``check``), and only then written, in bulk, by ``write``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select

from app import fiscal
from app.api import resources
from app.api import schemas as api_schemas
from app.domain.scoring import score
from app.extensions import db
from app.models import (
    Countermeasure,
    CountermeasureStatus,
    CountermeasureStatusChange,
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
    ThreatStatus,
    Treatment,
    User,
)
from app.models.audit import AuditEntry, to_json_value
from app.models.base import utcnow
from app.models.countermeasures import countermeasure_threats
from app.models.threats import threat_systems, threat_tags
from app.risk import risk_matrix
from app.threats.search import terms_of
from app.threats.service import References, check_new_threat
from app.transfer import cells as c
from app.transfer.csv_format import CellError, Column, ParsedRow
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


def _email(user) -> str:
    return user.email if user else ""


@dataclass
class EntityFormat:
    name: str
    label: str
    columns: list[Column]
    args_schema: type
    query: Any
    loads: tuple = ()
    write: Any = None
    check: Any = None
    writer_roles: tuple = field(default_factory=tuple)

    def export_query(self, args: dict):
        return self.query(args).options(*self.loads)

    def parse_args(self, raw_args) -> dict:
        """The list page's filters from a query string (invalid ones are refused, 422)."""
        return self.args_schema().load(
            {k: v for k, v in raw_args.items() if k not in ("page", "per_page")},
            unknown="exclude",
        )


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
    Column("Name", "name", lambda s: s.name, c.text(160), required=True),
    Column("Description", "description", lambda s: s.description, c.text(20000, strip=False)),
    Column("Team", "team", lambda s: s.team, c.text(120)),
    Column(
        "Criticality",
        "criticality",
        lambda s: c.render_enum(s.criticality),
        c.enum_of(Criticality, Criticality.MEDIUM),
    ),
    Column(
        "In production", "in_production", lambda s: c.render_bool(s.in_production), c.boolean(True)
    ),
    Column("Retired on", "retired_on", lambda s: c.render_date(s.retired_on), c.day),
]


def check_systems(rows: list[ParsedRow], lookups: Lookups) -> list[CellError]:
    errors, seen = [], {}
    existing = lookups.systems()
    for row in rows:
        name = row.values.get("name")
        if not name:
            continue
        key = name.casefold()
        if key in existing:
            errors.append(CellError(row.line, "Name", f"A system named “{name}” already exists."))
        elif key in seen:
            errors.append(CellError(row.line, "Name", f"“{name}” is also on line {seen[key]}."))
        seen.setdefault(key, row.line)
    return errors


def write_systems(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    values = [_stamp(row.values) for row in rows]
    _audit(System, _insert_returning_ids(System, values), values, "name")
    return len(rows)


# ---- staff -----------------------------------------------------------------------------

STAFF_COLUMNS = [
    Column("Name", "name", lambda p: p.name, c.text(160), required=True),
    Column("Email", "email", lambda p: p.email or "", c.optional_text(254)),
    Column("Team", "team", lambda p: p.team, c.text(120)),
    Column("Active", "active", lambda p: c.render_bool(p.active), c.boolean(True)),
    Column("Left on", "left_on", lambda p: c.render_date(p.left_on), c.day),
]


def write_staff(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    values = [_stamp(row.values) for row in rows]
    _audit(StaffMember, _insert_returning_ids(StaffMember, values), values, "name")
    return len(rows)


# ---- responsibilities ------------------------------------------------------------------

RESPONSIBILITY_COLUMNS = [
    Column("Staff member", "staff_member_id", lambda r: r.staff_member.name, _staff_id, True),
    Column("System", "system_id", lambda r: r.system.name, _system_id, required=True),
    Column(
        "Kind",
        "kind",
        lambda r: c.render_enum(r.kind),
        c.enum_of(ResponsibilityKind, ResponsibilityKind.PRIMARY),
    ),
    Column("Since", "since", lambda r: c.render_date(r.since), c.day, required=True),
    Column("Until", "until", lambda r: c.render_date(r.until), c.day),
]


def check_responsibilities(rows: list[ParsedRow], lookups: Lookups) -> list[CellError]:
    return [
        CellError(row.line, "Until", "Must not be before “Since”.")
        for row in rows
        if row.values.get("since")
        and row.values.get("until")
        and row.values["until"] < row.values["since"]
    ]


def write_responsibilities(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    values = [_stamp(row.values) for row in rows]
    _audit(Responsibility, _insert_returning_ids(Responsibility, values), values, "since")
    return len(rows)


# ---- threats ---------------------------------------------------------------------------


def _score_cell(attr: str, label: str):
    def parse(raw: str, lookups: Lookups) -> int:
        high = lookups.matrix.max_likelihood if "likelihood" in attr else lookups.matrix.max_impact
        return c.whole_number(1, high)(raw)

    return Column(label, attr, lambda t: str(getattr(t, attr)), parse, required=True)


THREAT_COLUMNS = [
    Column("Title", "title", lambda t: t.title, c.text(200), required=True),
    Column("Description", "description", lambda t: t.description, c.text(20000, strip=False)),
    Column("Category", "category", lambda t: t.category.name if t.category else "", c.text(120)),
    Column(
        "Source",
        "source",
        lambda t: c.render_enum(t.source),
        c.enum_of(ThreatSource, ThreatSource.INTERNAL),
    ),
    Column("Feed", "feed", lambda t: t.feed.name if t.feed else "", c.text(160)),
    Column("Owner email", "owner_id", lambda t: _email(t.owner), _user_email),
    Column(
        "Status",
        "status",
        lambda t: c.render_enum(t.status),
        c.enum_of(ThreatStatus, ThreatStatus.IDENTIFIED),
    ),
    Column("Treatment", "treatment", lambda t: c.render_enum(t.treatment), c.enum_of(Treatment)),
    Column(
        "Treatment rationale",
        "treatment_rationale",
        lambda t: t.treatment_rationale,
        c.text(20000, strip=False),
    ),
    Column("Identified on", "identified_on", lambda t: c.render_date(t.identified_on), c.day, True),
    Column("Next review on", "next_review_on", lambda t: c.render_date(t.next_review_on), c.day),
    _score_cell("inherent_likelihood", "Inherent likelihood"),
    _score_cell("inherent_impact", "Inherent impact"),
    _score_cell("residual_likelihood", "Residual likelihood"),
    _score_cell("residual_impact", "Residual impact"),
    Column(
        "Systems", "system_ids", lambda t: c.render_list(s.name for s in t.systems), _system_ids
    ),
    Column(
        "Tags",
        "tags",
        lambda t: c.render_list(x.name for x in t.tags),
        lambda r, _: c.names_list(r),
    ),
    Column(
        "Acceptance approver email",
        "acceptance_approver_id",
        lambda t: _email(t.acceptance_approver),
        _user_email,
    ),
    Column(
        "Acceptance expires on",
        "acceptance_expires_on",
        lambda t: c.render_date(t.acceptance_expires_on),
        c.day,
    ),
]

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
            for field, message in refused.errors.items():
                key, header = THREAT_FIELD_COLUMNS.get(field, (None, ""))
                if key is None or key in v:
                    errors.append(CellError(row.line, header, message))
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
            }
            for threat_id, t in zip(ids, threat_rows, strict=True)
        ],
    )
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
    return len(ids)


# ---- countermeasures -------------------------------------------------------------------

COUNTERMEASURE_COLUMNS = [
    Column("Title", "title", lambda m: m.title, c.text(200), required=True),
    Column("Description", "description", lambda m: m.description, c.text(20000, strip=False)),
    Column(
        "Type",
        "type",
        lambda m: c.render_enum(m.type),
        c.enum_of(CountermeasureType, CountermeasureType.PREVENTIVE),
    ),
    Column(
        "Status",
        "status",
        lambda m: c.render_enum(m.status),
        c.enum_of(CountermeasureStatus, CountermeasureStatus.PLANNED),
    ),
    Column("Owner email", "owner_id", lambda m: _email(m.owner), _user_email),
    Column(
        "Target quarter",
        "target_quarter_start",
        lambda m: c.render_quarter(m.target_quarter_start),
        c.quarter_start,
    ),
    Column("Deployed on", "deployed_on", lambda m: c.render_date(m.deployed_on), c.day),
    Column("Retired on", "retired_on", lambda m: c.render_date(m.retired_on), c.day),
    Column("Evidence", "evidence", lambda m: m.evidence, c.text(20000, strip=False)),
    Column("Verified on", "verified_on", lambda m: c.render_date(m.verified_on), c.day),
    Column(
        "Effectiveness",
        "effectiveness",
        lambda m: c.render_enum(m.effectiveness),
        c.enum_of(Effectiveness),
    ),
    Column(
        "Threats", "threat_ids", lambda m: c.render_list(t.title for t in m.threats), _threat_ids
    ),
]


def check_countermeasures(rows: list[ParsedRow], lookups: Lookups) -> list[CellError]:
    errors = []
    for row in rows:
        v = row.values
        status = v.get("status")
        if status in (CountermeasureStatus.DEPLOYED, CountermeasureStatus.RETIRED) and not v.get(
            "deployed_on"
        ):
            errors.append(
                CellError(row.line, "Deployed on", f"Required when the status is {status.label}.")
            )
        if status == CountermeasureStatus.RETIRED and not v.get("retired_on"):
            errors.append(CellError(row.line, "Retired on", "Required when the status is Retired."))
        if v.get("deployed_on") and v.get("retired_on") and v["retired_on"] < v["deployed_on"]:
            errors.append(CellError(row.line, "Retired on", "Must not be before “Deployed on”."))
    return errors


def write_countermeasures(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    values = [{k: v for k, v in row.values.items() if k != "threat_ids"} for row in rows]
    ids = _insert_returning_ids(Countermeasure, [_stamp(v) for v in values])
    _audit(
        Countermeasure,
        ids,
        [
            {**v, "threat_ids": row.values["threat_ids"]}
            for v, row in zip(values, rows, strict=True)
        ],
        "title",
    )
    _insert(
        countermeasure_threats,
        [
            {"countermeasure_id": cm_id, "threat_id": threat_id}
            for cm_id, row in zip(ids, rows, strict=True)
            for threat_id in dict.fromkeys(row.values["threat_ids"])
        ],
    )
    _insert(
        CountermeasureStatusChange,
        [
            {
                "countermeasure_id": cm_id,
                "status": v["status"],
                "changed_on": v["retired_on"] or v["deployed_on"] or fiscal.today(),
                "user_id": user_id,
            }
            for cm_id, v in zip(ids, values, strict=True)
        ],
    )
    return len(ids)


FORMATS: dict[str, EntityFormat] = {
    f.name: f
    for f in (
        EntityFormat(
            "threats",
            "Threats",
            THREAT_COLUMNS,
            api_schemas.ThreatArgs,
            resources.threats_query,
            resources.THREAT_LOADS,
            write_threats,
            check_threats,
        ),
        EntityFormat(
            "systems",
            "Systems",
            SYSTEM_COLUMNS,
            api_schemas.SystemArgs,
            resources.systems_query,
            (),
            write_systems,
            check_systems,
        ),
        EntityFormat(
            "staff",
            "Staff",
            STAFF_COLUMNS,
            api_schemas.StaffArgs,
            resources.staff_query,
            (),
            write_staff,
        ),
        EntityFormat(
            "responsibilities",
            "Responsibilities",
            RESPONSIBILITY_COLUMNS,
            api_schemas.ResponsibilityArgs,
            resources.responsibilities_query,
            resources.RESPONSIBILITY_LOADS,
            write_responsibilities,
            check_responsibilities,
        ),
        EntityFormat(
            "countermeasures",
            "Countermeasures",
            COUNTERMEASURE_COLUMNS,
            api_schemas.CountermeasureArgs,
            resources.countermeasures_query,
            resources.COUNTERMEASURE_LOADS,
            write_countermeasures,
            check_countermeasures,
        ),
    )
}


def count_rows(fmt: EntityFormat, args: dict) -> int:
    query = fmt.query(args).order_by(None)
    return db.session.scalar(select(func.count()).select_from(query.subquery()))
