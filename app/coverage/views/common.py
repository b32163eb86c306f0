"""What the coverage pages share: the as-of date from the query string, the audit trail, the
version a form read, the warning about published reports, the choices of the forms, and a
record's new and edit pages (``FormPages``, ``save_confirmed``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from flask import flash, redirect, render_template, request
from sqlalchemy import select

from app.coverage import queries
from app.domain.coverage import CoverageState
from app.extensions import db
from app.models.audit import AuditEntry, audit_trail
from app.models.systems import StaffMember, System
from app.reports.corrections import correction_warning
from app.validation import save_submitted

T = TypeVar("T")
PER_PAGE = 25
LIST_LIMIT = 200  # people or systems listed in full on the coverage page
STATES = {state.value: state.label for state in CoverageState}


# Helpers.


def as_of_from_args() -> tuple[date, str | None]:
    """The ``date`` query argument or today; a readable error for an impossible date."""
    return queries.as_of_from(request.args)


def history_page(entity_type: str, entity_id: int, limit: int = 20) -> list[AuditEntry]:
    return audit_trail(entity_type, [entity_id], limit)


def edit_form(form_class, record, **shown):
    """An edit page's form: on GET the record's values (``shown`` for fields the record
    holds differently, an enum's name or ids) and the version read; after a POST, what
    was sent."""
    if request.method != "GET":
        return form_class()
    form = form_class(obj=record)
    for name, value in shown.items():
        getattr(form, name).data = value
    form.version.data = str(record.version)
    return form


def form_values(form, names: tuple[str, ...]) -> dict:
    """The values of the fields ``names`` as sent, for the input schema to read."""
    return {name: form[name].data for name in names}


def save_confirmed(
    form, update: Callable[..., T], record, names: tuple[str, ...], saved, valid=None
):
    """An edit whose impact may need confirming: ``update`` of ``record`` with the version
    the form read, its fields ``names`` and its confirmation box (``save_submitted``)."""
    return save_submitted(
        form,
        lambda: update(
            record,
            version=version_of(form),
            confirm_impact=form.confirm_impact.data,
            **form_values(form, names),
        ),
        saved,
        valid=valid,
    )


@dataclass(frozen=True)
class FormPages:
    """A record's new and edit pages, declared by what differs: the template, the record's
    name in it, the page a save lands on, and the model whose teams the form suggests."""

    template: str
    record: str
    landing: Callable[[Any], str]
    teams: Any = None

    def page(self, form, record, status: int = 200, **more):
        """The form page (``record`` None: a new one), answering ``status``."""
        if self.teams is not None:
            more["teams"] = team_names(self.teams)
        return render_template(self.template, form=form, **{self.record: record}, **more), status

    def new(self, form, create: Callable[..., T], names: tuple[str, ...], saved, **given):
        """A new record's page: once ``create`` made it from the valid form's fields
        ``names`` (and ``given``), ``saved(record)`` flashed and a redirect to its landing;
        otherwise the form."""
        _, record = save_submitted(form, lambda: create(**form_values(form, names), **given), saved)
        return self.page(form, None) if record is None else redirect(self.landing(record))


def version_of(form) -> int | None:
    try:
        return int(form.version.data) if form.version.data else None
    except ValueError:
        return None


def warn_if_published(day) -> None:
    """After saving: name the published reports a change effective on ``day`` makes differ."""
    message = correction_warning(day)
    if message:
        flash(message, "warning")


def day_after(day):
    return day + timedelta(days=1) if day else None


def team_names(model) -> list[str]:
    return list(
        db.session.scalars(
            select(model.team).where(model.team != "").distinct().order_by(model.team)
        )
    )


def staff_choices(include_blank: str | None = None) -> list[tuple]:
    rows = db.session.execute(
        select(StaffMember.id, StaffMember.name, StaffMember.team).order_by(StaffMember.name)
    )
    choices = [(r.id, f"{r.name} ({r.team})" if r.team else r.name) for r in rows]
    return ([("", include_blank)] if include_blank else []) + choices


def system_choices(include_blank: str | None = None) -> list[tuple]:
    rows = db.session.execute(select(System.id, System.name).order_by(System.name))
    choices = [(r.id, r.name) for r in rows]
    return ([("", include_blank)] if include_blank else []) + choices


# Coverage.
