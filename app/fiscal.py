"""The fiscal calendar as the running app sees it: configured start month, today's quarter.

Pure quarter arithmetic lives in ``app.domain.quarters``; this module binds it to the
app's settings and turns bad labels and dates in URLs into clear 404/400 answers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from flask import abort, current_app

from app.domain.quarters import Quarter, QuarterError, parse_fiscal_year, parse_quarter, quarter_of
from app.validation import FIRST_YEAR, LAST_YEAR

T = TypeVar("T")


def start_month() -> int:
    return int(current_app.config["FISCAL_YEAR_START_MONTH"])


def today() -> date:
    # One place to ask for "today", so tests and reports can pin it.
    pinned = current_app.config.get("FRONTLINE_TODAY")
    return date.fromisoformat(pinned) if pinned else date.today()


def current_quarter() -> Quarter:
    return quarter_of(today(), start_month())


def last_complete_quarter() -> Quarter:
    return current_quarter().previous()


def quarter_or_none(label: str | None) -> Quarter | None:
    if not label:
        return None
    return parse_quarter(label, start_month())


def _parsed_or_abort(parse: Callable[[str, int], T], label: str, status: int) -> T:
    # A label from a URL, read on the configured calendar; a clear answer when it is not one.
    try:
        return parse(label, start_month())
    except QuarterError as error:
        abort(status, str(error))


def quarter_or_404(label: str) -> Quarter:
    return _parsed_or_abort(parse_quarter, label, 404)


def quarter_of_date(d: date) -> Quarter:
    return quarter_of(d, start_month())


def quarter_starting(first_day: date) -> Quarter:
    """The quarter whose first day is stored in a ``*_quarter_start`` column."""
    return quarter_of(first_day, start_month())


def fiscal_year_or_400(label: str) -> int:
    return _parsed_or_abort(parse_fiscal_year, label, 400)


def parse_date_or_none(text: str | None) -> date | None:
    """An ISO date from a query string; ValueError with a readable message when invalid."""
    if not text:
        return None
    try:
        parsed = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f'"{text}" is not a valid date; use YYYY-MM-DD, e.g. 2020-12-31.'
        ) from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        # Quarter and trend arithmetic steps past the date: keep it well inside the calendar.
        raise ValueError(f'"{text}" is out of range: give a date from {FIRST_YEAR} to {LAST_YEAR}.')
    return parsed


__all__ = [
    "Quarter",
    "QuarterError",
    "current_quarter",
    "last_complete_quarter",
    "parse_date_or_none",
    "quarter_of_date",
    "quarter_or_404",
    "quarter_or_none",
    "quarter_starting",
    "start_month",
    "today",
]
