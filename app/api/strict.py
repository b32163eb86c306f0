"""Query strings read strictly: an argument the endpoint does not know answers 422 naming
it (``/api/v1/threats?top=2``), instead of being ignored and answering something else."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, request
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser

from app.validation import InputError


class StrictParser(FlaskParser):
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = StrictParser()


def _reads_query(view, method: str) -> bool:
    handler = getattr(getattr(view, "view_class", None), method.lower(), None) or view
    parameters = getattr(handler, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(p.get("in") == "query" for p in parameters)


def refuse_unknown_arguments():
    """For an endpoint that takes no query string at all (its schema refuses the others)."""
    if not request.args or request.method == "OPTIONS":
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and not _reads_query(view, request.method):
        raise InputError({name: "Unknown argument." for name in request.args})
