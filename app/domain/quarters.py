"""Fiscal calendar: quarters and fiscal years for a configurable start month.

A fiscal year is identified by the calendar year in which it starts, so with a July start
FY20-21 is 2020. With a January start the fiscal year is simply the calendar year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

__all__ = [
    "DEFAULT_START_MONTH",
    "Quarter",
    "QuarterError",
    "fiscal_year_label",
    "fiscal_year_of",
    "parse_fiscal_year",
    "parse_quarter",
    "quarter_of",
    "quarters_of_fiscal_year",
    "validate_start_month",
]

DEFAULT_START_MONTH = 7


class QuarterError(ValueError):
    """A quarter, fiscal year or start month that cannot be understood."""


def validate_start_month(month: int) -> int:
    """Return ``month`` if it is a usable fiscal-year start month (1-12)."""
    # bool is an int subclass; True would otherwise pass as January.
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise QuarterError(f"Fiscal year start month must be 1-12, got {month!r}.")
    return month


def _example_quarter(start_month: int) -> str:
    return "FY2021 Q2" if start_month == 1 else "FY20-21 Q2"


def _example_year(start_month: int) -> str:
    return "FY2021" if start_month == 1 else "FY20-21"


def fiscal_year_label(fy: int, start_month: int = DEFAULT_START_MONTH) -> str:
    """Label such as FY20-21 (split calendar years) or FY2021 (January start)."""
    validate_start_month(start_month)
    if start_month == 1:
        return f"FY{fy:04d}"
    return f"FY{fy % 100:02d}-{(fy + 1) % 100:02d}"


@dataclass(frozen=True, order=True)
class Quarter:
    fiscal_year: int
    number: int
    # Excluded from comparison so quarters sort and hash on (fiscal_year, number) only.
    start_month: int = field(default=DEFAULT_START_MONTH, compare=False)

    def __post_init__(self) -> None:
        validate_start_month(self.start_month)
        if isinstance(self.number, bool) or not isinstance(self.number, int):
            raise QuarterError(f"Quarter number must be 1-4, got {self.number!r}.")
        if not 1 <= self.number <= 4:
            raise QuarterError(f"Quarter number must be 1-4, got {self.number}.")
        if isinstance(self.fiscal_year, bool) or not isinstance(self.fiscal_year, int):
            raise QuarterError(f"Fiscal year must be a whole number, got {self.fiscal_year!r}.")

    @property
    def first_day(self) -> date:
        months = (self.start_month - 1) + 3 * (self.number - 1)
        return date(self.fiscal_year + months // 12, months % 12 + 1, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    @property
    def fiscal_year_label(self) -> str:
        return fiscal_year_label(self.fiscal_year, self.start_month)

    @property
    def label(self) -> str:
        return f"{self.fiscal_year_label} Q{self.number}"

    @property
    def slug(self) -> str:
        return f"{self.fiscal_year_label}-Q{self.number}"

    def __str__(self) -> str:
        return self.label

    def next(self) -> Quarter:
        if self.number == 4:
            return Quarter(self.fiscal_year + 1, 1, self.start_month)
        return Quarter(self.fiscal_year, self.number + 1, self.start_month)

    def previous(self) -> Quarter:
        if self.number == 1:
            return Quarter(self.fiscal_year - 1, 4, self.start_month)
        return Quarter(self.fiscal_year, self.number - 1, self.start_month)

    def contains(self, d: date) -> bool:
        return self.first_day <= d <= self.last_day


def fiscal_year_of(d: date, start_month: int = DEFAULT_START_MONTH) -> int:
    validate_start_month(start_month)
    return d.year if d.month >= start_month else d.year - 1


def quarter_of(d: date, start_month: int = DEFAULT_START_MONTH) -> Quarter:
    validate_start_month(start_month)
    months_in = (d.month - start_month) % 12
    return Quarter(fiscal_year_of(d, start_month), months_in // 3 + 1, start_month)


def quarters_of_fiscal_year(fy: int, start_month: int = DEFAULT_START_MONTH) -> list[Quarter]:
    return [Quarter(fy, n, start_month) for n in range(1, 5)]


# Two-digit pair ("FY20-21") for split years, four digits ("FY2021") for a January start.
_SPLIT_YEAR = r"FY\s*(?P<y1>\d{2})\s*-\s*(?P<y2>\d{2})"
_WHOLE_YEAR = r"FY\s*(?P<year>\d{4})"
_QUARTER_SUFFIX = r"(?:\s*[-_]\s*|\s+)Q\s*(?P<q>\d+)"


def _match_year(text: str, start_month: int, suffix: str) -> tuple[int, re.Match[str]] | None:
    pattern = _WHOLE_YEAR if start_month == 1 else _SPLIT_YEAR
    m = re.fullmatch(r"\s*" + pattern + suffix + r"\s*", text, flags=re.IGNORECASE)
    if m is None:
        return None
    if start_month == 1:
        return int(m["year"]), m
    y1, y2 = int(m["y1"]), int(m["y2"])
    if (y1 + 1) % 100 != y2:
        return None
    # Two-digit labels are read as 2000-2099; labels outside that range are not expected.
    return 2000 + y1, m


def parse_fiscal_year(text: str, start_month: int = DEFAULT_START_MONTH) -> int:
    """Parse "FY20-21" (or "FY2021" with a January start) into the starting calendar year."""
    validate_start_month(start_month)
    found = _match_year(text, start_month, "") if isinstance(text, str) else None
    if found is None:
        shown = text.strip() if isinstance(text, str) else text
        raise QuarterError(
            f'Unknown fiscal year "{shown}": expected a label like {_example_year(start_month)}.'
        )
    return found[0]


def parse_quarter(text: str, start_month: int = DEFAULT_START_MONTH) -> Quarter:
    """Parse "FY20-21 Q2" (also lower case, "-" or "_" separators, or "FY2021 Q2" for January)."""
    validate_start_month(start_month)
    found = _match_year(text, start_month, _QUARTER_SUFFIX) if isinstance(text, str) else None
    if found is None or not 1 <= int(found[1]["q"]) <= 4:
        shown = text.strip() if isinstance(text, str) else text
        raise QuarterError(
            f'Unknown quarter "{shown}": expected a label like {_example_quarter(start_month)}.'
        )
    fy, m = found
    return Quarter(fy, int(m["q"]), start_month)
