"""The catalogue part of the API: libraries, a record's mappings (read and write), and the
coverage figures as of a date, from the same functions the pages use."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort
from flask.views import MethodView
from flask_login import current_user
from marshmallow import Schema, fields, validate

from app import fiscal
from app.api.errors import register_api_errors
from app.api.schemas import Day
from app.api.strict import Blueprint, refuse_unknown_arguments
from app.catalogues import figures, queries
from app.catalogues import mappings as catalogues_mappings
from app.extensions import db
from app.models.catalogues import CountermeasureMapping, Library, LibraryKind, ThreatMapping
from app.models.countermeasures import Countermeasure
from app.models.threats import Threat
from app.models.user import Role
from app.security import readable, roles
from app.validation import MAX_ID

catalogues = Blueprint(
    "api_catalogues",
    __name__,
    url_prefix="",
    description="ATT&CK and control-framework catalogues, mappings and coverage",
)
register_api_errors(catalogues)
catalogues.before_request(refuse_unknown_arguments)


class LibrarySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.Function(lambda lib: lib.kind.value, metadata={"type": "string"})
    description = fields.String()


class MappingSchema(Schema):
    id = fields.Integer()
    library = fields.String()
    library_id = fields.Integer()
    ref = fields.String()
    name = fields.String(metadata={"description": "Empty when the current version lacks it"})
    relation = fields.String(metadata={"description": "mitigates or implements"})
    mapped_on = fields.Date()
    unmapped_on = fields.Date(allow_none=True)
    revoked = fields.Boolean()
    deprecated = fields.Boolean()
    removed = fields.Boolean(metadata={"description": "Not in the library's current version"})


class MappingWrite(Schema):
    class Meta:
        unknown = "raise"

    refs = fields.List(
        fields.String(validate=validate.Length(max=200)),
        required=True,
        validate=validate.Length(max=500),
        metadata={
            "description": "Every entry mapped from ``on``: T1566, A.5.15, or “library: ref” "
            "when two libraries hold the ref. Mappings left out end on ``on``."
        },
    )
    on = Day(allow_none=True, metadata={"description": "Effective on (default today)"})


class AsOfArgs(Schema):
    date = Day(metadata={"description": "As of this date (default: today)"})


class CellSchema(Schema):
    ref = fields.String()
    name = fields.String()
    threats = fields.Integer()
    worst_residual = fields.Integer(allow_none=True)
    countermeasures = fields.Integer()
    state = fields.String(metadata={"description": "covered, exposed or quiet"})
    revoked = fields.Boolean()
    deprecated = fields.Boolean()


class ColumnSchema(Schema):
    ref = fields.String()
    name = fields.String()
    cells = fields.List(fields.Nested(CellSchema))


class AttackCoverageSchema(Schema):
    as_of = fields.Date()
    techniques = fields.Integer()
    threatened = fields.Integer()
    covered = fields.Integer()
    exposed = fields.Integer()
    tactics_uncovered = fields.List(fields.String())
    columns = fields.List(fields.Nested(ColumnSchema))


class GroupSchema(Schema):
    ref = fields.String()
    name = fields.String()
    controls = fields.Integer()
    implemented = fields.Integer()
    percent = fields.Integer()


class FrameworkCoverageSchema(Schema):
    as_of = fields.Date()
    controls = fields.Integer()
    implemented = fields.Integer()
    percent = fields.Integer()
    implemented_refs = fields.List(fields.String())
    groups = fields.List(fields.Nested(GroupSchema))


def _library(library_id: int, kind: LibraryKind) -> Library:
    library = db.session.get(Library, library_id) if 1 <= library_id <= MAX_ID else None
    if library is None or library.kind != kind:
        abort(404, f"No {kind.label} library with id {library_id}.")
    return library


def _record(model, record_id: int):
    record = db.session.get(model, record_id) if 1 <= record_id <= MAX_ID else None
    if record is None:
        abort(404, f"No {model.__name__} with id {record_id}.")
    return record


@catalogues.route("/catalogues")
class Libraries(MethodView):
    @readable
    @catalogues.response(200, LibrarySchema(many=True))
    def get(self):
        """Every imported library (its entries are those of its latest version)."""
        return figures.libraries()


@catalogues.route("/catalogues/<int:library_id>/attack-coverage")
class AttackCoverage(MethodView):
    @readable
    @catalogues.arguments(AsOfArgs, location="query")
    @catalogues.response(200, AttackCoverageSchema)
    def get(self, args, library_id):
        """The ATT&CK matrix on a date: per technique the open threats mapped to it, their
        worst residual score and the deployed countermeasures mitigating it."""
        library = _library(library_id, LibraryKind.ATTACK)
        as_of = args.get("date") or fiscal.today()
        coverage = figures.attack_coverage_on(library.id, as_of)
        return {
            "as_of": as_of,
            "techniques": coverage.techniques,
            "threatened": coverage.threatened,
            "covered": coverage.covered,
            "exposed": coverage.exposed,
            "tactics_uncovered": list(coverage.tactics_uncovered),
            "columns": coverage.columns,
        }


@catalogues.route("/catalogues/<int:library_id>/framework-coverage")
class FrameworkCoverage(MethodView):
    @readable
    @catalogues.arguments(AsOfArgs, location="query")
    @catalogues.response(200, FrameworkCoverageSchema)
    def get(self, args, library_id):
        """The share of a framework's controls implemented by a deployed countermeasure."""
        library = _library(library_id, LibraryKind.FRAMEWORK)
        as_of = args.get("date") or fiscal.today()
        coverage = figures.framework_coverage_on(library.id, as_of)
        return {
            "as_of": as_of,
            "controls": coverage.controls,
            "implemented": coverage.implemented,
            "percent": coverage.percent,
            "implemented_refs": list(coverage.implemented_refs),
            "groups": coverage.groups,
        }


def _mappings_of(
    rule: str,
    name: str,
    *,
    model: type,
    mapping: type,
    key: str,
    lines: Callable[[int], list],
    attack_only: bool,
    listed: str,
    set_doc: str,
) -> None:
    """A record's mappings: read (current and ended, each dated) and set from a date, the
    mappings left out ending then; answered as they now stand."""

    def get(self, **ids):
        (record_id,) = ids.values()
        return lines(_record(model, record_id).id)

    def put(self, body, **ids):
        (record_id,) = ids.values()
        record = _record(model, record_id)
        wanted = catalogues_mappings.resolve_refs(body["refs"], "refs", attack_only=attack_only)
        on = body.get("on") or fiscal.today()
        catalogues_mappings.set_mappings(mapping, key, record.id, wanted, on, current_user.id)
        db.session.commit()
        return lines(record.id)

    get.__doc__, put.__doc__ = listed, set_doc  # before the decorators copy them
    answer = catalogues.response(200, MappingSchema(many=True))
    methods = {
        "get": readable(answer(get)),
        "put": roles(Role.SECURITY)(catalogues.arguments(MappingWrite)(answer(put))),
    }
    catalogues.route(rule)(type(name, (MethodView,), methods))


_mappings_of(
    "/threats/<int:threat_id>/techniques",
    "ThreatTechniques",
    model=Threat,
    mapping=ThreatMapping,
    key="threat_id",
    lines=queries.threat_mappings,
    attack_only=True,
    listed="The threat's ATT&CK mappings, current and ended, each dated.",
    set_doc="Set the techniques the threat is mapped to from ``on`` (the others end then).",
)
_mappings_of(
    "/countermeasures/<int:countermeasure_id>/mappings",
    "CountermeasureEntries",
    model=Countermeasure,
    mapping=CountermeasureMapping,
    key="countermeasure_id",
    lines=queries.countermeasure_mappings,
    attack_only=False,
    listed="The techniques the countermeasure mitigates and the controls it implements.",
    set_doc="Set the techniques and controls the countermeasure is mapped to from ``on``.",
)
