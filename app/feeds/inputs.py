"""A feed's settings as the form gives them, declared once: their lengths and choices, with
the messages this area has always given. The rule that needs other records (a name used
once) is the service's."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from app.inputs import Checked, Text, Written

FEED_KINDS = {"stix": "STIX 2.1 bundle", "taxii": "TAXII 2.1 collection", "other": "Other"}
NAME_MAX = 160
URL_MAX = 500
DESCRIPTION_MAX = 5_000


class Kind(Checked):
    """One of ``FEED_KINDS`` by its key."""

    def check(self, value, errors):
        if value not in FEED_KINDS:
            errors["kind"] = f"Choose one of: {', '.join(FEED_KINDS.values())}."
        return value

    def json_field(self) -> fields.Field:
        return Text(metadata=self.metadata)


class FeedInput(ma.Schema):
    """A feed's name, kind, where its bundles come from and what it is."""

    name = Written(NAME_MAX, "Name the feed.")
    kind = Kind()
    url = Written(URL_MAX)
    description = Written(DESCRIPTION_MAX, too_long="Use at most {max_length:,} characters.")
