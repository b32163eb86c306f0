"""The API's schemas for quarter reports: query strings, answers and request bodies."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from app.api.schemas import Id, Text, ThreatRef

# ---- reports ---------------------------------------------------------------------------


class ReportArgs(ma.Schema):
    objective = Id(
        metadata={"description": "Objective id (default: the fiscal year's main objective)"}
    )
    quarter = Text(
        required=True,
        metadata={"description": "A started quarter, e.g. FY20-21 Q2"},
    )


class PublicationSchema(ma.Schema):
    id = fields.Integer(required=True)
    published_at = fields.AwareDateTime()
    published_by_id = fields.Integer(allow_none=True)
    generated_on = fields.Date()
    reason = fields.String()
    current = fields.Function(
        lambda p: p.superseded_by_id is None,
        metadata={"type": "boolean", "description": "The copy a download answers"},
    )


class ReportSchema(ma.Schema):
    objective = fields.Nested(ThreatRef)
    quarter = fields.String(required=True)
    published = fields.Boolean(
        metadata={"description": "A published copy exists: the PDF is that frozen copy"}
    )
    pdf = fields.String(metadata={"description": "Where to GET the PDF (application/pdf)"})
    publications = fields.List(
        fields.Nested(PublicationSchema), metadata={"description": "Newest first"}
    )
