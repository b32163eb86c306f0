"""The full-register appendix: every threat in force at the quarter end, highest residual
score first, on landscape pages.

Built to stay fast and small at any size: the rows are read as plain tuples, a partition
at a time (``yield_per``), each partition's countermeasures in one more query, and turned
into ``RegisterRows`` blocks of plain strings that draw themselves as text lines (no
Paragraph or table cell objects per value). The document asks for the next block only when
it has laid out the previous one, so at most one partition is in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from reportlab.lib import colors
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, Spacer
from sqlalchemy import func, select

from app.domain.scoring import RiskMatrix, level_for
from app.extensions import db
from app.reports.typefaces import FALLBACK, SANS, SANS_BOLD, runs

PARTITION = 1000  # rows fetched per round trip
BLOCK = 250  # rows per flowable block
FONT_SIZE = 7
LEADING = 8.6
PAD = 2.5
MAX_LINES = 4  # a longer cell is cut with "…"

COLUMNS: tuple[tuple[str, float], ...] = (
    ("ID", 38),
    ("Threat", 205),
    ("Category", 80),
    ("Owner", 82),
    ("Inherent", 54),
    ("Residual", 58),
    ("Treatment", 56),
    ("Countermeasures", 126),
    ("Next review", 56),
)

HEADER_BG = colors.HexColor("#243b53")
RULE = colors.HexColor("#cbd2d9")
INK = colors.HexColor("#1f2933")


def register_query(as_of: date):
    """Every open threat in the register on ``as_of`` with its scores, treatment and next
    review in force that day, as plain columns, highest residual score first (the
    register's ranking order)."""
    from app.models.threats import Threat, ThreatCategory, ThreatStateChange
    from app.models.user import User
    from app.threats.as_of import scores_as_of_query, state_in_force_on

    # Driven from the score changes: read in the ranking index's order, no sort of the
    # whole register before the first row comes.
    query, changes = scores_as_of_query(as_of, from_changes=True)
    state = ThreatStateChange.__table__.alias("appendix_state")
    return (
        query.with_only_columns(
            Threat.id,
            Threat.title,
            ThreatCategory.name,
            User.name,
            changes.c.inherent_score,
            changes.c.residual_score,
            state.c.treatment,
            state.c.next_review_on,
        )
        .join(state, state.c.threat_id == Threat.id)
        .where(*state_in_force_on(as_of, state))
        .outerjoin(ThreatCategory, ThreatCategory.id == Threat.category_id)
        .outerjoin(User, User.id == Threat.owner_id)
        .order_by(
            changes.c.residual_score.desc(),
            changes.c.inherent_score.desc(),
            Threat.identified_on,
            Threat.id,
        )
    )


def register_count(as_of: date) -> int:
    """The number of rows ``register_query`` gives: the threats identified by ``as_of``
    with a score in force then and on the register that day.

    Counted against the register's ids gathered once (one pass over the state index)
    rather than by a state lookup per threat, as the listing does: at 100,000 threats the
    lookups cost four times as much (0.4 s on SQLite, 1 s on PostgreSQL) for a count the
    appendix needs before its first row.
    """
    from app.models.threats import Threat, ThreatScoreChange
    from app.threats.as_of import in_force_on, register_ids_on

    query = (
        select(func.count())
        .select_from(ThreatScoreChange)
        # "+ 0": SQLite probes each change's threat by primary key, not the other way.
        .join(Threat, Threat.id == ThreatScoreChange.threat_id + 0)
        .where(
            *in_force_on(as_of),
            Threat.identified_on <= as_of,
            ThreatScoreChange.threat_id.in_(register_ids_on(as_of)),
        )
    )
    return db.session.scalar(query) or 0


def _countermeasures_of(threat_ids: list[int]) -> dict[int, list[str]]:
    from app.models.countermeasures import Countermeasure, countermeasure_threats

    link = countermeasure_threats.c
    found: dict[int, list[str]] = {}
    rows = db.session.execute(
        select(link.threat_id, Countermeasure.title)
        .join(Countermeasure, Countermeasure.id == link.countermeasure_id)
        .where(link.threat_id.in_(threat_ids))
        .order_by(link.threat_id, Countermeasure.title, Countermeasure.id)
    )
    for threat_id, title in rows:
        found.setdefault(threat_id, []).append(title)
    return found


def _treatment_label(treatment) -> str:
    return treatment.label if treatment is not None else "Not decided"


def register_rows(
    as_of: date, matrix: RiskMatrix, limit: int | None = None
) -> Iterator[list[tuple[str, ...]]]:
    """The appendix rows as plain strings, one partition of ``PARTITION`` rows at a time
    (``limit``: the first rows only, for benchmarks)."""
    query = register_query(as_of)
    if limit is not None:
        query = query.limit(limit)
    result = db.session.execute(query.execution_options(yield_per=PARTITION))
    for partition in result.partitions():
        treated = _countermeasures_of([row[0] for row in partition])
        yield [
            (
                str(tid),
                title,
                category or "-",
                owner or "-",
                f"{inherent} {level_for(inherent, matrix).label}",
                f"{residual} {level_for(residual, matrix).label}",
                _treatment_label(treatment),
                ", ".join(treated.get(tid, ())) or "-",
                review.isoformat() if review else "-",
            )
            for tid, title, category, owner, inherent, residual, treatment, review in partition
        ]


def _lines(text: str, width: float) -> list[str]:
    """The cell's lines: one when it fits, wrapped (at most ``MAX_LINES``) when it does not."""
    if stringWidth(text, SANS, FONT_SIZE) <= width and "\n" not in text:
        return [text]
    lines = simpleSplit(text, SANS, FONT_SIZE, width)
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES]
        lines[-1] = lines[-1][: max(1, len(lines[-1]) - 1)] + "…"
    return lines or [""]


class RegisterRows(Flowable):
    """A block of register rows drawn as text: header on every page, a rule under each
    row, split between pages at row boundaries.

    Only a block that starts a page draws the header (``headed``): the first block, the rest
    of a block split to the next page, and a block none of whose rows fit where the last one
    ended; a block that follows another on the same page continues its table without one.
    """

    def __init__(
        self,
        rows: list[tuple[float, list[list[str]], str]],
        state: AppendixState,
        headed: bool = True,
    ):
        super().__init__()
        self.rows = rows  # (height, lines per cell, residual level label)
        self.state = state
        self.headed = headed

    @property
    def header_height(self) -> float:
        return LEADING + 2 * PAD if self.headed else 0.0

    @classmethod
    def of(
        cls, rows: list[tuple[str, ...]], state: AppendixState, headed: bool = True
    ) -> RegisterRows:
        prepared = []
        widths = [w - 2 * PAD for _, w in COLUMNS]
        for row in rows:
            cells = [_lines(text, width) for text, width in zip(row, widths, strict=True)]
            height = max(len(lines) for lines in cells) * LEADING + 2 * PAD
            prepared.append((height, cells, row[5].split(" ", 1)[-1]))
        return cls(prepared, state, headed)

    def wrap(self, available_width, available_height):
        self.width = sum(w for _, w in COLUMNS)
        self.height = self.header_height + sum(h for h, _, _ in self.rows)
        return self.width, self.height

    def split(self, available_width, available_height):
        room = available_height - self.header_height
        used = 0.0
        fits = 0
        for height, _, _ in self.rows:
            if used + height > room:
                break
            used += height
            fits += 1
        if fits == 0:
            # Moved whole to the next page, where it starts the page's table.
            self.headed = True
            return []
        return [
            RegisterRows(self.rows[:fits], self.state, self.headed),
            RegisterRows(self.rows[fits:], self.state),
        ]

    def draw(self):
        canvas = self.canv
        top = self.height
        canvas.saveState()
        if self.headed:
            self._draw_header(canvas, top)
        text = canvas.beginText()
        text.setFillColor(INK)
        text.setFont(SANS, FONT_SIZE)
        path = canvas.beginPath()
        y = top - self.header_height
        for height, cells, level in self.rows:
            if level != self.state.level:
                # An outline entry where each residual level starts.
                self.state.level = level
                self.state.bookmarks += 1
                key = f"register-{self.state.bookmarks}"
                canvas.bookmarkHorizontal(key, 0, y)
                canvas.addOutlineEntry(f"Residual {level}", key, level=1, closed=True)
            x = 0.0
            for lines, (_, width) in zip(cells, COLUMNS, strict=True):
                line_y = y - PAD - FONT_SIZE
                for line in lines:
                    text.setTextOrigin(x + PAD, line_y)
                    if line.isascii():
                        text.textOut(line)
                    else:
                        for fallback, run in runs(line):
                            text.setFont(FALLBACK if fallback else SANS, FONT_SIZE)
                            text.textOut(run)
                        text.setFont(SANS, FONT_SIZE)
                    line_y -= LEADING
                x += width
            y -= height
            path.moveTo(0, y)
            path.lineTo(self.width, y)
        canvas.drawText(text)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.3)
        x = 0.0
        for _, width in COLUMNS[:-1]:
            x += width
            path.moveTo(x, y)
            path.lineTo(x, top - self.header_height)
        canvas.drawPath(path, stroke=1, fill=0)
        canvas.restoreState()

    def _draw_header(self, canvas, top: float) -> None:
        canvas.setFillColor(HEADER_BG)
        canvas.rect(0, top - self.header_height, self.width, self.header_height, 0, 1)
        text = canvas.beginText()
        text.setFillColor(colors.white)
        text.setFont(SANS_BOLD, FONT_SIZE)
        x = 0.0
        baseline = top - PAD - FONT_SIZE
        for label, width in COLUMNS:
            text.setTextOrigin(x + PAD, baseline)
            text.textOut(label)
            x += width
        canvas.drawText(text)


@dataclass
class AppendixState:
    level: str = ""
    bookmarks: int = 0


@dataclass
class RegisterAppendix:
    """The appendix of a report: the register on ``as_of``, streamed when laid out."""

    as_of: date
    matrix: RiskMatrix
    total: int
    state: AppendixState = field(default_factory=AppendixState)
    limit: int | None = None

    def flowables(self) -> Iterator[list]:
        from app.reports.pdf.layout import STYLES, _heading, _long_date

        yield [
            _heading(f"Appendix — the full register on {_long_date(self.as_of)}"),
            Paragraph(
                f"{self.total:,} open threats in the register on {_long_date(self.as_of)}, "
                "highest residual score first (then inherent score, then the oldest). "
                "Scores, treatment and next review are those in force on that day; "
                "category, owner and countermeasures as the register held them on the day "
                "this document was generated (page footer).",
                STYLES["note"],
            ),
            Spacer(1, 4),
        ]
        first = True
        for partition in register_rows(self.as_of, self.matrix, self.limit):
            for start in range(0, len(partition), BLOCK):
                yield [RegisterRows.of(partition[start : start + BLOCK], self.state, first)]
                first = False


def register_appendix(as_of: date, limit: int | None = None) -> RegisterAppendix:
    from app.threats.risk import risk_matrix

    total = register_count(as_of)
    if limit is not None:
        total = min(total, limit)
    return RegisterAppendix(as_of=as_of, matrix=risk_matrix(), total=total, limit=limit)
