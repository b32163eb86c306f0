"""Helpers for the OKR tests: register figures given explicitly, a reader for the KR tables."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from types import SimpleNamespace

from app.metrics import RegisterFigures


@dataclass
class FakeFigures:
    """Register figures as plain values, with a log of what was asked."""

    spof_staff: dict = field(default_factory=dict)  # date -> count, else `spof_default`
    spof_default: int = 8
    uncovered: int = 1
    filled: dict = field(default_factory=dict)  # date -> count (0 otherwise)
    hiring: int = 4
    final: int = 0
    goal: int = 4
    deployed: dict = field(default_factory=dict)  # quarter number -> deployed in it
    target: int = 2
    treated: tuple = (True, False)
    critical: int = 3
    overdue: int = 2
    calls: list = field(default_factory=list)

    def _log(self, name, *args):
        self.calls.append((name, *args))

    def register_figures(self) -> RegisterFigures:
        def spof_staff_count(as_of: date) -> int:
            self._log("spof_staff_count", as_of)
            return self.spof_staff.get(as_of, self.spof_default)

        def positions_filled(as_of: date) -> int:
            self._log("positions_filled", as_of)
            return self.filled.get(as_of, 0)

        def deployed_in(quarter) -> int:
            self._log("countermeasures_deployed", quarter)
            return self.deployed.get(quarter.number, 0)

        def deployed_to_date(quarter) -> int:
            self._log("countermeasures_deployed_to_date", quarter)
            return sum(n for q, n in self.deployed.items() if q <= quarter.number)

        def top_threats_treated(quarter, n):
            self._log("top_threats_treated", quarter, n)
            return [SimpleNamespace(treated=t) for t in self.treated[:n]]

        return RegisterFigures(
            spof_staff_count=spof_staff_count,
            uncovered_systems_count=lambda as_of: self.uncovered,
            positions_filled=positions_filled,
            positions_in_active_hiring=lambda as_of: self.hiring,
            positions_in_final_stages=lambda as_of: self.final,
            spof_positions_goal=lambda: self.goal,
            countermeasures_deployed=deployed_in,
            countermeasures_deployed_to_date=deployed_to_date,
            top_threats_treated=top_threats_treated,
            quarter_target=lambda: self.target,
            open_critical_risks=lambda as_of: self.critical,
            overdue_reviews=lambda as_of: self.overdue,
        )

    def give_to(self, app, monkeypatch) -> FakeFigures:
        """The app reads these figures instead of the register's, for this test."""
        monkeypatch.setitem(app.config, "REGISTER_FIGURES", self.register_figures())
        return self


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class _TableReader(HTMLParser):
    """Reads every ``table[data-objective]``: row code -> column -> deck text and register."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
        self.table = self.row = self.cell = None
        self.kind_stack: list[str | None] = []
        self.buffers: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-objective" in attrs:
            self.table = self.tables.setdefault(attrs["data-objective"], {})
        elif tag == "tr" and self.table is not None and "data-code" in attrs:
            self.row = self.table.setdefault(attrs["data-code"], {})
        elif tag == "td" and self.row is not None and "data-cell" in attrs:
            self.cell = attrs["data-cell"]
            self.buffers = {"deck": [], "register": [], "baseline": [], "all": []}
        if self.cell is not None:
            classes = attrs.get("class", "") or ""
            kind = None
            if "deck-text" in classes:
                kind = "deck"
            elif attrs.get("data-testid") == "register-value":
                kind = "register"
            elif attrs.get("data-testid") == "baseline-register":
                kind = "baseline"
            self.kind_stack.append(kind)

    def handle_endtag(self, tag):
        if self.cell is not None and tag == "td":
            self.row[self.cell] = {k: _squash("".join(v)) for k, v in self.buffers.items()}
            self.cell = None
            self.kind_stack = []
            return
        if self.cell is not None and self.kind_stack:
            self.kind_stack.pop()
        if tag == "tr":
            self.row = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell is None:
            return
        self.buffers["all"].append(data)
        for kind in self.kind_stack:
            if kind:
                self.buffers[kind].append(data)


def read_kr_tables(html: str) -> dict[str, dict[str, dict[str, dict[str, str]]]]:
    """{objective title: {KR code: {"kr"|"goal"|"q1".."q4": {"deck", "register", ...}}}}"""
    reader = _TableReader()
    reader.feed(html)
    return reader.tables


def squash(text: str) -> str:
    return _squash(text)
