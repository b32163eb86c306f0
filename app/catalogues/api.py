"""The catalogue part of the API: libraries, a record's mappings (read and write), and the
coverage figures as of a date, from the same functions the pages use."""

from __future__ import annotations

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
from app.catalogues.inputs import MappingInput
from app.extensions import db
from app.inputs import body_of
from app.models.catalogues import Library, LibraryKind
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


class _Entry(Schema):
    """A library entry: its reference and its name."""

    ref = fields.String()
    name = fields.String()


class MappingSchema(_Entry):
    id = fields.Integer()
    library = fields.String()
    library_id = fields.Integer()
    name = fields.String(metadata={"description": "Empty when the current version lacks it"})
    relation = fields.String(metadata={"description": "mitigates or implements"})
    mapped_on = fields.Date()
    unmapped_on = fields.Date(allow_none=True)
    revoked = fields.Boolean()
    deprecated = fields.Boolean()
    removed = fields.Boolean(metadata={"description": "Not in the library's current version"})


MappingWrite = body_of(
    MappingInput,
    "MappingWrite",
    exclude=("library", "entry"),
    refs=fields.List(
        fields.String(validate=validate.Length(max=200)),
        required=True,
        validate=validate.Length(max=500),
        metadata={
            "description": "Every entry mapped from ``on``: T1566, A.5.15, or “library: ref” "
            "when two libraries hold the ref. Mappings left out end on ``on``."
        },
    ),
)


class AsOfArgs(Schema):
    date = Day(metadata={"description": "As of this date (default: today)"})


class CellSchema(_Entry):
    threats = fields.Integer()
    worst_residual = fields.Integer(allow_none=True)
    countermeasures = fields.Integer()
    state = fields.String(metadata={"description": "covered, exposed or quiet"})
    revoked = fields.Boolean()
    deprecated = fields.Boolean()


class ColumnSchema(_Entry):
    cells = fields.List(fields.Nested(CellSchema))


class _OnDate(Schema):
    as_of = fields.Date()


class AttackCoverageSchema(_OnDate):
    techniques = fields.Integer()
    threatened = fields.Integer()
    covered = fields.Integer()
    exposed = fields.Integer()
    tactics_uncovered = fields.List(fields.String())
    columns = fields.List(fields.Nested(ColumnSchema))


class _Implemented(Schema):
    """The share of controls implemented: of a framework, or of one of its groups."""

    controls = fields.Integer()
    implemented = fields.Integer()
    percent = fields.Integer()


class GroupSchema(_Entry, _Implemented):
    pass


class FrameworkCoverageSchema(_OnDate, _Implemented):
    implemented_refs = fields.List(fields.String())
    groups = fields.List(fields.Nested(GroupSchema))


def _found(model, record_id: int):
    return db.session.get(model, record_id) if 1 <= record_id <= MAX_ID else None


def _library(library_id: int, kind: LibraryKind) -> Library:
    library = _found(Library, library_id)
    if library is None or library.kind != kind:
        abort(404, f"No {kind.label} library with id {library_id}.")
    return library


def _record(model, record_id: int):
    record = _found(model, record_id)
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


# The coverage of each kind of library on a date: its answer, its figures, what it says.
_COVERAGE = {
    LibraryKind.ATTACK: (
        AttackCoverageSchema,
        figures.attack_coverage_on,
        """The ATT&CK matrix on a date: per technique the open threats mapped to it, their
        worst residual score and the deployed countermeasures mitigating it.""",
    ),
    LibraryKind.FRAMEWORK: (
        FrameworkCoverageSchema,
        figures.framework_coverage_on,
        "The share of a framework's controls implemented by a deployed countermeasure.",
    ),
}


def _coverage_of(kind: LibraryKind) -> None:
    """GET the coverage of a library of ``kind`` on a date (default today)."""
    schema, figure, doc = _COVERAGE[kind]
    names = [name for name in schema._declared_fields if name != "as_of"]

    def get(self, args, library_id):
        library = _library(library_id, kind)
        as_of = args.get("date") or fiscal.today()
        coverage = figure(library.id, as_of)
        return {"as_of": as_of} | {name: getattr(coverage, name) for name in names}

    get.__doc__ = doc  # before the decorators copy it
    get = catalogues.arguments(AsOfArgs, location="query")(catalogues.response(200, schema)(get))
    name = f"{kind.name.title()}Coverage"
    catalogues.route(f"/catalogues/<int:library_id>/{kind.value}-coverage")(
        type(name, (MethodView,), {"get": readable(get)})
    )


for _kind in LibraryKind:
    _coverage_of(_kind)


def _mappings_of(kind: str, rule: str, name: str, listed: str, set_doc: str) -> None:
    """A record's mappings: read (current and ended, each dated) and set from a date, the
    mappings left out ending then; answered as they now stand."""
    subject = catalogues_mappings.SUBJECTS[kind]

    def get(self, **ids):
        (record_id,) = ids.values()
        return queries.lines_of(kind, _record(subject.model, record_id).id)

    def put(self, body, **ids):
        (record_id,) = ids.values()
        record = _record(subject.model, record_id)
        wanted = catalogues_mappings.resolve_refs(
            body["refs"], "refs", attack_only=subject.attack_only
        )
        on = body.get("on") or fiscal.today()
        catalogues_mappings.set_mappings(
            subject.mapping, subject.column, record.id, wanted, on, current_user.id
        )
        db.session.commit()
        return queries.lines_of(kind, record.id)

    get.__doc__, put.__doc__ = listed, set_doc  # before the decorators copy them
    answer = catalogues.response(200, MappingSchema(many=True))
    methods = {
        "get": readable(answer(get)),
        "put": roles(Role.SECURITY)(catalogues.arguments(MappingWrite)(answer(put))),
    }
    catalogues.route(rule)(type(name, (MethodView,), methods))


# Each record's mappings: the path, the resource's name, what its GET and PUT say.
_MAPPINGS = {
    "threat": (
        "/threats/<int:threat_id>/techniques",
        "ThreatTechniques",
        "The threat's ATT&CK mappings, current and ended, each dated.",
        "Set the techniques the threat is mapped to from ``on`` (the others end then).",
    ),
    "countermeasure": (
        "/countermeasures/<int:countermeasure_id>/mappings",
        "CountermeasureEntries",
        "The techniques the countermeasure mitigates and the controls it implements.",
        "Set the techniques and controls the countermeasure is mapped to from ``on``.",
    ),
}
for _kind_of_record, (_rule, _name, _listed, _set_doc) in _MAPPINGS.items():
    _mappings_of(_kind_of_record, _rule, _name, _listed, _set_doc)
