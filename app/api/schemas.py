"""What the API reads and answers (marshmallow); the OpenAPI document is built from these."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date
from typing import Any, NamedTuple

import marshmallow as ma
from marshmallow import fields, validate

from app import fiscal
from app.inputs import EARLIEST as EARLIEST
from app.inputs import LATEST as LATEST
from app.inputs import MAX_ID as MAX_ID
from app.inputs import QUARTER_PATTERN as QUARTER_PATTERN
from app.inputs import YEAR_PATTERN as YEAR_PATTERN
from app.inputs import Body
from app.inputs import Choice as Choice
from app.inputs import Day as Day
from app.inputs import FiscalYearLabel as FiscalYearLabel
from app.inputs import Id as Id
from app.inputs import LongText as LongText
from app.inputs import QuarterLabel as QuarterLabel
from app.inputs import Text as Text
from app.inputs import _no_nul as _no_nul
from app.models.deletions import TOMBSTONED

# The generic field types (text, ids, dates, enums, quarter labels, the request body) are
# ``app.inputs``'s, imported here for the areas' API schemas.


# The date rules of the forms, stated on every field they govern.
RETIRED_ON = (
    "The first day out of service (exclusive): in service up to the day before; null: in service"
)
LEFT_ON = "The last working day (inclusive): present that day, gone from the next; null: staying"
SINCE = "The first day held (inclusive)"
UNTIL = "The last day held (inclusive); null: still held"


# ---- query strings -----------------------------------------------------------------


def _plausible_instant(when) -> bool:
    if not EARLIEST.year < when.year < LATEST.year:
        raise ma.ValidationError("Use an instant between the years 1901 and 2998.")
    return True


class PageArgs(ma.Schema):
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=1_000_000),
        metadata={"description": "Numbered paging, in the list's sort (1 to 1,000,000)"},
    )
    per_page = fields.Integer(
        load_default=25,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "Items per page, 1 to 1,000 (default 25)"},
    )
    after = fields.Integer(
        validate=validate.Range(min=0, max=MAX_ID),
        metadata={
            "description": "Keyset paging: the items whose id is above this one, in id order "
            "(start with after=0, then follow the next link). As fast on the last page as on "
            "the first; rows added meanwhile come at the end, nothing repeats or is skipped. "
            "Not with page, before or sort."
        },
    )
    before = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Keyset paging backwards: the items whose id is below this one"},
    )
    updated_since = fields.DateTime(
        validate=_plausible_instant,
        metadata={
            "description": "Only what was created or changed at or after this instant "
            "(ISO 8601; UTC when no offset is given), archived or retired records included "
            "when include_archived=1; records deleted since are listed by /api/v1/deletions "
            "with the same updated_since. Start the next sync from the synced_at of the "
            "first page of this one."
        },
    )
    include_archived = fields.String(
        validate=validate.OneOf(["0", "1"]),
        metadata={
            "enum": ["0", "1"],
            "description": "1: archived threats, retired systems and staff who left are "
            "listed with the others (a sync sees archivals)",
        },
    )

    @ma.validates_schema(pass_original=True)
    def one_way_of_paging(self, data, original, **kwargs):
        keyset = [k for k in ("after", "before") if k in data]
        if len(keyset) == 2:
            raise ma.ValidationError("Use after or before, not both.", "before")
        if keyset and "page" in original:
            raise ma.ValidationError("Use page or after/before, not both.", "page")
        if keyset and original.get("sort"):
            raise ma.ValidationError("Keyset paging (after/before) walks in id order.", "sort")


# The list endpoints take the list pages' own query string (``app/*/queries.py`` reads it
# for the page, the CSV export and the API alike): these schemas document and check it,
# and the endpoints hand the request's query string itself to the page's query function.


class ListArgs(PageArgs):
    @ma.pre_load
    def drop_empty(self, data, **kwargs):
        # A page's form sends "Any" as an empty value (``?status=&category=``): no filter.
        return {key: value for key, value in data.items() if value != ""}


def Pick(values, description: str = "", any_case: bool = False) -> fields.String:  # noqa: N802
    """One of the page's values for a filter (``any_case``: as the page, case ignored)."""
    values = [str(v) for v in values]
    rule: Callable[[str], object]
    if any_case:
        wanted = {v.lower() for v in values}

        def check(text: str) -> bool:
            if text.strip().lower() not in wanted:
                raise ma.ValidationError(f"Must be one of: {', '.join(values)}.")
            return True

        rule = check
    else:
        rule = validate.OneOf(values)
    return fields.String(validate=rule, metadata={"enum": values, "description": description})


def PageSort(keys, default: str) -> fields.String:  # noqa: N802
    keys = list(keys)
    return Pick(
        keys + [f"-{k}" for k in keys],
        f"Sort key as on the list page (default {default}); a leading '-' sorts descending. "
        "Numbered pages only: keyset paging (after/before) walks in id order, and a sort "
        "with it is a 422.",
    )


class PageDate(fields.String):
    """An ISO date read as the pages read it (``fiscal.parse_date_or_none``): 422 if not."""

    def __init__(self, **kwargs):
        metadata = {"format": "date", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            fiscal.parse_date_or_none(text)
        except ValueError as error:
            raise ma.ValidationError(str(error)) from None
        return text


def PageId(description: str) -> fields.Integer:  # noqa: N802
    return Id(metadata={"description": description})


FLAG = ["0", "1"]


class DeletionArgs(PageArgs):
    class Meta:
        exclude = ("include_archived",)

    updated_since = fields.DateTime(
        validate=_plausible_instant,
        metadata={
            "description": "Only deletions at or after this instant (ISO 8601; UTC when no "
            "offset is given): the updated_since a sync reads the lists with"
        },
    )
    entity = Pick(TOMBSTONED, "Only the records deleted from this list")


# ---- answers -----------------------------------------------------------------------


class Ref(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class ThreatRef(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)


def label_of_quarter(first_day: date | None) -> str | None:
    return fiscal.quarter_starting(first_day).label if first_day else None


def _mapped_today(kind: str):
    """The catalogue refs a record is mapped to today (its dated history and the write:
    /threats/<id>/techniques, /countermeasures/<id>/mappings)."""

    def read(record) -> list[str]:
        from app.catalogues.queries import mapped_refs_today

        return mapped_refs_today(kind, record.id)

    return read


class PublishedReportWarning(ma.Schema):
    objective = fields.String(required=True, metadata={"description": "The objective reported"})
    quarter = fields.String(required=True, metadata={"example": "FY20-21 Q2"})
    published_on = fields.Date(required=True)
    message = fields.String(required=True)


def Warnings() -> fields.List:  # noqa: N802 - a field factory, used like a class
    return fields.List(
        fields.Nested(PublishedReportWarning),
        attribute="published_warnings",
        dump_only=True,
        metadata={
            "description": (
                "In the answer to a write only: the published quarter reports this change "
                "makes differ from the live figures (a change dated on or before a published "
                "quarter's last day corrects it). Empty when it touches none. The change is "
                "saved either way; the reports page shows live now vs published."
            )
        },
    )


class RecordSchemas(NamedTuple):
    """A record's API schemas: its answer, a page of them, the list's query string, and the
    create and update bodies."""

    answer: Any
    page: Any
    args: Any
    create: Any
    update: Any


class RecordAnswer(ma.Schema):
    """What every answer about one changeable record carries: its id, the version to send
    back with a change, and the published reports the change made differ."""

    id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    warnings = Warnings()


class StatusChangeSchema(ma.Schema):
    status = fields.Function(lambda c: c.status.value, metadata={"type": "string"})
    changed_on = fields.Date()


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    return type(
        name,
        (ma.Schema,),
        {
            "items": fields.List(fields.Nested(item), required=True),
            "page": fields.Integer(
                allow_none=True, metadata={"description": "null with keyset paging"}
            ),
            "per_page": fields.Integer(required=True),
            "total": fields.Integer(
                allow_none=True,
                metadata={"description": "null on keyset pages after the first (after > 0)"},
            ),
            "pages": fields.Integer(allow_none=True),
            "next": fields.String(
                allow_none=True, metadata={"description": "The next page (also in Link)"}
            ),
            "prev": fields.String(
                allow_none=True, metadata={"description": "The previous page (also in Link)"}
            ),
            "synced_at": fields.AwareDateTime(
                metadata={"description": "When this page was read: updated_since of a next sync"}
            ),
        },
    )


class UtcDateTime(fields.AwareDateTime):
    """An instant stored as UTC, answered with its offset (SQLite gives it back without)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class DeletionSchema(ma.Schema):
    id = fields.Integer(
        required=True, metadata={"description": "The deletion's own number (keyset paging)"}
    )
    entity = fields.String(
        required=True,
        metadata={"enum": list(TOMBSTONED), "description": "The list the record left"},
    )
    entity_id = fields.Integer(
        required=True, metadata={"description": "The id the record had in that list"}
    )
    deleted_at = UtcDateTime(required=True)
    deleted_by_id = fields.Integer(
        allow_none=True, metadata={"description": "The user who deleted it; null: a command"}
    )


DeletionPage = page_schema(DeletionSchema, "DeletionPage")


# ---- request bodies ----------------------------------------------------------------
#
# These only read JSON into plain values (types, and bounds that keep a request from
# overflowing a column); every business rule is the service's, as for the web forms, and
# its refusals come back as 422 with a message per field. Fields a body leaves out take
# the service's default on create and keep their current value on update.


def Version() -> fields.Integer:  # noqa: N802
    return fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The version you read; 409 if the record changed since then."},
    )


class _Body(Body):
    """A request body (``app.inputs.Body``: an unknown field is a 422)."""
