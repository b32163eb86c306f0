"""The OpenAPI document (JSON) and a page that shows it, both built from the code."""

from __future__ import annotations

import copy

from flask import jsonify, render_template

from app.api import API_PREFIX, bp, current_api
from app.security import readable
from app.threats.risk import risk_matrix

METHODS = ("get", "post", "put", "patch", "delete")


def _bound_scores(node, matrix) -> None:
    """Score fields state the configured risk matrix's bounds (it is a setting)."""
    if isinstance(node, dict):
        axis = node.get("x-matrix")
        if axis:
            high = matrix.max_likelihood if axis == "likelihood" else matrix.max_impact
            node.update(minimum=1, maximum=high)
            node["description"] = f"1 to {high} (the risk matrix's {axis} size)"
        for value in node.values():
            _bound_scores(value, matrix)
    elif isinstance(node, list):
        for value in node:
            _bound_scores(value, matrix)


def document() -> dict:
    spec = copy.deepcopy(current_api().spec.to_dict())
    _bound_scores(spec, risk_matrix())
    return spec


@bp.route(API_PREFIX + "/openapi.json")
@readable
def openapi_json():
    return jsonify(document())


def _schema_text(schema: dict | None) -> str:
    """A short human reading of a JSON schema: "integer", "array of Threat", "one of a, b"."""
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"] if v is not None)
    kind = schema.get("type", "object")
    if kind == "array":
        return "array of " + (_schema_text(schema.get("items")) or "values")
    if schema.get("format"):
        kind = f"{kind} ({schema['format']})"
    return kind


def _operations(spec: dict) -> list[dict]:
    operations = []
    for path, item in sorted(spec.get("paths", {}).items()):
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            parameters = [
                {
                    "name": p["name"],
                    "in": p["in"],
                    "required": p.get("required", False),
                    "type": _schema_text(p.get("schema")),
                    "description": p.get("description", "")
                    or p.get("schema", {}).get("description", ""),
                }
                for p in shared + op.get("parameters", [])
            ]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            responses = []
            for code, response in op.get("responses", {}).items():
                if "$ref" in response:
                    name = response["$ref"].rsplit("/", 1)[-1]
                    response = spec["components"]["responses"].get(name, {})
                content = response.get("content", {}).get("application/json", {})
                responses.append(
                    {
                        "code": code,
                        "description": response.get("description", ""),
                        "schema": _schema_text(content.get("schema")),
                    }
                )
            operations.append(
                {
                    "path": path,
                    "method": method.upper(),
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": parameters,
                    "body": _schema_text(body.get("schema")),
                    "responses": responses,
                }
            )
    return operations


def _schemas(spec: dict) -> list[dict]:
    schemas = []
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        schemas.append(
            {
                "name": name,
                "properties": [
                    {
                        "name": prop,
                        "type": _schema_text(detail),
                        "required": prop in required,
                        "nullable": detail.get("nullable", False),
                        "description": detail.get("description", ""),
                    }
                    for prop, detail in schema.get("properties", {}).items()
                ],
            }
        )
    return schemas


@bp.route("/api/docs")
@readable
def docs():
    spec = document()
    return render_template(
        "api/docs.html",
        spec=spec,
        operations=_operations(spec),
        schemas=_schemas(spec),
        prefix=API_PREFIX,
    )
