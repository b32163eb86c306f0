"""The API's list of deleted records, for clients that keep a copy in step."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from app.api import schemas as s
from app.api.paging import paginate
from app.api.resources import register
from app.models import (
    Deletion,
)
from app.security import readable

# ---- deletions ----------------------------------------------------------------------


@register.route("/deletions")
class Deletions(MethodView):
    @readable
    @register.arguments(s.DeletionArgs, location="query")
    @register.response(200, s.DeletionPage)
    def get(self, args):
        """Records deleted for good from the lists (a purged threat, for instance), oldest
        first: which list each left, its id, when and by whom.

        A sync reads each list with ``updated_since`` (created, changed and, with
        include_archived=1, archived records) and this one with the same ``updated_since``
        (deleted records): together, everything that happened since. A record deleted from
        one list is also gone from the lists that name it (a countermeasure's ``threats``);
        those records are listed as changed."""
        query = select(Deletion)
        if args.get("entity"):
            query = query.where(Deletion.entity == args["entity"])
        return paginate(query.order_by(Deletion.id), args, Deletion, changed_at=Deletion.deleted_at)
