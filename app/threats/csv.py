"""The threats file: its CSV columns, the rows an export writes, and how an import checks
and writes rows."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from sqlalchemy import select

from app.bulk import ids_by_name
from app.extensions import db
from app.inputs import Date, Named, Words
from app.models import (
    Countermeasure,
    System,
    Tag,
    Threat,
    ThreatCategory,
    ThreatFeed,
    ThreatSource,
    ThreatStatus,
    User,
)
from app.models.catalogues import LibraryKind, ThreatMapping
from app.models.countermeasures import countermeasure_threats
from app.models.threats import threat_systems, threat_tags
from app.threats import queries as threat_queries
from app.threats.checks import References, check_new_threat
from app.threats.inputs import STORED_AS_READ, choices_of, input_field, max_length, title_of
from app.threats.service import create_threats
from app.transfer import cells as c
from app.transfer.bulk import (
    FilterError,
    Lookups,
    _cleans,
    _email_of,
    _one,
    _rule_errors,
    _system_ids,
    _user_email,
    _write_mappings,
    date_field,
    enum_field,
    refs_field,
)
from app.transfer.csv_format import CellError, Column, ParsedRow
from app.transfer.sql import joined, linked_names
from app.validation import InputError

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


def _threat_list(args: Mapping):
    try:
        return threat_queries.list_query(args)
    except ValueError as error:
        raise FilterError(str(error)) from None


# ---- threats ---------------------------------------------------------------------------


def _score_cell(attr: str, label: str, model=Threat, required: bool = True):
    def parse(raw: str, lookups: Lookups) -> int | None:
        if not required and not raw.strip():
            return None  # worked out from the scoring method's inputs
        high = lookups.matrix.max_likelihood if "likelihood" in attr else lookups.matrix.max_impact
        return c.whole_number(1, high)(raw)

    return Column(label, attr, lambda: getattr(model, attr), parse, required=required, kind="int")


def _text_cell(label: str, attr: str, strip: bool = True) -> Column:
    """A threat's text, as long as its input schema allows."""
    parse = c.text(max_length(attr), strip=strip)
    return Column(label, attr, lambda: getattr(Threat, attr), parse, required=attr == "title")


def _choice_cell(label: str, attr: str, default: Enum | None = None) -> Column:
    """A threat's choice, read as its input schema reads it (an empty cell is ``default``)."""
    return enum_field(label, Threat, attr, choices_of(attr), default)


def _column_of(model, attr: str, header: str, parse, **options) -> Column:
    """A column added after files were first written (a file without it reads empty)."""
    return Column(header, attr, lambda: getattr(model, attr), parse, may_be_absent=True, **options)


def _method_columns(model) -> list[Column]:
    """The scoring method of an assessment: imported (method, inputs) and exported only
    (the method's own score and rating)."""
    method_help = "matrix (empty), cvss, owasp or dread"
    inputs_help = "The CVSS vector, or the OWASP or DREAD factors as JSON"
    return [
        _column_of(model, "scoring_method", "Scoring method", c.text(10), help=method_help),
        _column_of(model, "scoring_inputs", "Scoring inputs", c.text(1000), help=inputs_help),
        Column("Method score", "method_score", lambda: model.method_score, None),
        Column("Method rating", "method_rating", lambda: model.method_rating, None),
    ]


THREAT_COLUMNS = [
    _text_cell("Title", "title"),
    _text_cell("Description", "description", strip=False),
    Column(
        "Category",
        "category",
        lambda: _one(Threat, ThreatCategory, ThreatCategory.name, Threat.category_id),
        c.text(120),
    ),
    _choice_cell("Source", "source", ThreatSource.INTERNAL),
    Column(
        "Feed",
        "feed",
        lambda: _one(Threat, ThreatFeed, ThreatFeed.name, Threat.feed_id),
        c.text(160),
    ),
    Column("Owner email", "owner_id", lambda: _email_of(Threat, Threat.owner_id), _user_email),
    _choice_cell("Status", "status", ThreatStatus.IDENTIFIED),
    _choice_cell("Treatment", "treatment"),
    Column(
        "Treatment rationale",
        "treatment_rationale",
        lambda: Threat.treatment_rationale,
        c.text(20000, strip=False),
    ),
    date_field("Identified on", Threat, "identified_on", required=True),
    date_field("Next review on", Threat, "next_review_on"),
    _score_cell("inherent_likelihood", "Inherent likelihood", required=False),
    _score_cell("inherent_impact", "Inherent impact", required=False),
    _score_cell("residual_likelihood", "Residual likelihood"),
    _score_cell("residual_impact", "Residual impact"),
    *_method_columns(Threat),
    Column(
        "Systems",
        "system_ids",
        lambda: linked_names(Threat, threat_systems, "threat_id", System, "system_id"),
        _system_ids,
    ),
    Column(
        "Tags",
        "tags",
        lambda: linked_names(Threat, threat_tags, "threat_id", Tag, "tag_id"),
        lambda r, _: c.names_list(r),
    ),
    Column(
        "Acceptance approver email",
        "acceptance_approver_id",
        lambda: _email_of(Threat, Threat.acceptance_approver_id),
        _user_email,
    ),
    date_field("Acceptance expires on", Threat, "acceptance_expires_on"),
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
    refs_field(
        "ATT&CK techniques",
        "techniques",
        ThreatMapping,
        ThreatMapping.threat_id,
        Threat,
        LibraryKind.ATTACK,
    ),
]


def _stored_cell(name: str) -> Column:
    """The column of a value the threat stores as read (``app.threats.inputs``) that the
    file does not lay out above: text, a date or a choice, under the field's title."""
    field, title = input_field(name), title_of(name)
    if isinstance(field, Named):
        return enum_field(title, Threat, name, field.enum_cls)
    if isinstance(field, Words):
        parse, kind = c.text(field.maximum), "text"
    elif isinstance(field, Date):
        parse, kind = c.day, "date"
    else:
        raise TypeError(f"Lay out the threats file's column for {name}.")
    return _column_of(Threat, name, title, parse, kind=kind)


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
# The other values a threat stores as read, at the end (a file without them still reads).
STORED_COLUMNS = [_stored_cell(name) for name in STORED_AS_READ if name not in THREAT_FIELD_COLUMNS]
THREAT_COLUMNS += STORED_COLUMNS
THREAT_FIELD_COLUMNS.update({column.key: (column.key, column.header) for column in STORED_COLUMNS})


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


def _named(model, rows: list[ParsedRow], key: str) -> dict[str, int]:
    """The ids of the categories (or feeds) the rows name, created when new."""
    return ids_by_name(model, {row.values[key] for row in rows if row.values[key]})


def write_threats(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    """Rows already checked by the register's rules, written by the register's bulk path
    with the categories and feeds they name (created when new) and their techniques."""
    categories = _named(ThreatCategory, rows, "category")
    feeds = _named(ThreatFeed, rows, "feed")
    cleans = [
        {
            **clean,
            "category_id": categories.get(row.values["category"].casefold()),
            "feed_id": feeds.get(row.values["feed"].casefold()),
        }
        for row, clean in zip(rows, _cleans(rows), strict=True)
    ]
    ids = create_threats(cleans, user_id)
    # A threat's techniques are in force from the day it was identified.
    _write_mappings(
        ThreatMapping,
        "threat_id",
        [
            (threat_id, pair, clean["identified_on"])
            for threat_id, clean, row in zip(ids, cleans, rows, strict=True)
            for pair in row.values.get("techniques", [])
        ],
        user_id,
    )
    return len(ids)
