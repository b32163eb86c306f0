"""The quarterly report as a PDF: ReportLab platypus for the document, graphics for charts.

``build_report_pdf`` lays out a ``QuarterReport`` (values gathered elsewhere) and returns
the document's bytes. It computes nothing the dashboard would compute differently. The
output is reproducible: ReportLab's invariant mode plus a creation date taken from
``generated_on`` give the same bytes for the same report and date.

Text is printed in embedded TrueType fonts (``app.reports.typefaces``) so any script
reads back; every section heading is a bookmark in the PDF outline; "Page n of m" draws
the page count from one form filled in once the last page is known, so no page state is
kept or replayed.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, NextPageTemplate, PageBreak, PageTemplate

from app.reports.pdf.catalogues import _catalogues_section
from app.reports.pdf.countermeasures import _countermeasures_section
from app.reports.pdf.cover import SignOff, _cover, _key_results_section, _objective_section
from app.reports.pdf.coverage import _coverage_section
from app.reports.pdf.hiring import _hiring_section
from app.reports.pdf.layout import (
    FRAME_WIDTH,
    LANDSCAPE_WIDTH,
    MARGIN,
    MUTED,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    RULE,
    _fit,
)
from app.reports.pdf.risk import _risk_section
from app.reports.quarter_report.sections import CATALOGUES, COUNTERMEASURES, COVERAGE, HIRING, RISK
from app.reports.quarter_report.values import QuarterReport
from app.reports.typefaces import SANS, SANS_BOLD, draw_text

PAGE_COUNT_FORM = "page_count"


class ReportCanvas(Canvas):
    """A canvas whose initial font is embedded, and whose "of m" is one form XObject that
    every page refers to and that is drawn once the last page is known."""

    def __init__(self, *args, stamp: str = "", **kwargs):
        kwargs["initialFontName"] = kwargs.get("initialFontName") or SANS
        super().__init__(*args, **kwargs)
        if stamp:
            self.setDateFormatter(lambda *_: stamp)

    def save(self):
        self.beginForm(PAGE_COUNT_FORM)
        self.setFillColor(MUTED)
        self.setFont(SANS, 7.5)
        self.drawString(0, 0, str(self.getPageNumber() - 1))
        self.endForm()
        super().save()


class ReportDocument(BaseDocTemplate):
    """Portrait pages for the report, landscape pages for the register appendix; every
    heading marked with ``outline`` becomes a bookmark. ``more`` tops up the story while
    it is laid out (the appendix streams in chunks instead of being built up front)."""

    def __init__(self, *args, decorate, more: Iterable | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._more = iter(more) if more is not None else None
        self._bookmarks = 0
        portrait = Frame(
            MARGIN, 18 * mm, FRAME_WIDTH, PAGE_HEIGHT - 38 * mm, id="portrait", showBoundary=0
        )
        wide = Frame(
            MARGIN, 18 * mm, LANDSCAPE_WIDTH, PAGE_WIDTH - 38 * mm, id="landscape", showBoundary=0
        )
        self.addPageTemplates(
            [
                PageTemplate("portrait", [portrait], onPage=decorate, pagesize=A4),
                PageTemplate("landscape", [wide], onPage=decorate, pagesize=landscape(A4)),
            ]
        )

    def build(self, flowables, *args, **kwargs):
        self._story = flowables
        super().build(flowables, *args, **kwargs)

    def handle_flowable(self, flowables):
        # Only the story is topped up (ReportLab also passes its own lists through here).
        if self._more is not None and flowables is self._story and len(flowables) < 2:
            chunk = next(self._more, None)
            if chunk is None:
                self._more = None
            else:
                flowables.extend(chunk)
        super().handle_flowable(flowables)

    def afterFlowable(self, flowable):  # noqa: N802 - ReportLab API name
        outline = getattr(flowable, "outline", None)
        if outline is None:
            return
        title, level = outline
        self._bookmarks += 1
        key = f"section-{self._bookmarks}"
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(title, key, level=level, closed=False)


def _decorator(report: QuarterReport, generated_on: date, marking: str):
    header_left = f"{report.objective_title} — {report.quarter.label}"
    footer_left = f"Frontline · generated on {generated_on.isoformat()}"

    def decorate(canvas: Canvas, doc) -> None:
        # This page's own size (portrait or landscape); the reportlab stubs omit it.
        width, height = canvas._pagesize  # type: ignore[attr-defined]
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        top = height - 12 * mm
        canvas.line(MARGIN, top - 2, width - MARGIN, top - 2)
        canvas.line(MARGIN, 13 * mm, width - MARGIN, 13 * mm)
        canvas.setFillColor(MUTED)
        half = (width - 2 * MARGIN) / 2 - 6
        text, size = _fit(header_left, SANS, 7.5, half)
        draw_text(canvas, MARGIN, top + 2, text, SANS, size)
        text, size = _fit(marking, SANS_BOLD, 7.5, half)
        draw_text(canvas, width - MARGIN, top + 2, text, SANS_BOLD, size, anchor="end")
        draw_text(canvas, MARGIN, 9 * mm, footer_left, SANS, 7.5)
        label = f"Page {canvas.getPageNumber()} of "
        x = width - MARGIN - stringWidth("Page 99999 of 99999", SANS, 7.5)
        draw_text(canvas, x, 9 * mm, label, SANS, 7.5)
        canvas.translate(x + stringWidth(label, SANS, 7.5), 9 * mm)
        canvas.doForm(PAGE_COUNT_FORM)
        canvas.restoreState()

    return decorate


def build_report_pdf(
    report: QuarterReport,
    generated_on: date,
    marking: str,
    signoff: SignOff | None = None,
    appendix=None,
) -> bytes:
    """The quarter's report as PDF bytes; same report and date give the same bytes.

    ``appendix``: an ``app.reports.appendix.RegisterAppendix`` to add the full register
    on landscape pages after the report."""
    buffer = io.BytesIO()
    stamp = generated_on.strftime("D:%Y%m%d000000+00'00'")
    more = appendix.flowables() if appendix is not None else None
    doc = ReportDocument(
        buffer,
        decorate=_decorator(report, generated_on, marking),
        more=more,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=20 * mm,
        bottomMargin=18 * mm,
        title=f"{report.objective_title} — {report.quarter.label}",
        author="Frontline",
        subject=f"Quarterly report, {report.quarter.label}",
        creator="Frontline",
        invariant=1,
    )
    story = _cover(report, generated_on, marking, signoff or SignOff())
    story += _objective_section(report)
    story += _key_results_section(report)
    if report.shows(RISK):
        story += _risk_section(report, report.risk)
    if report.shows(COUNTERMEASURES):
        story += _countermeasures_section(report, report.countermeasures)
    if report.shows(COVERAGE):
        story += _coverage_section(report, report.coverage)
    if report.shows(HIRING):
        story += _hiring_section(report, report.coverage)
    if report.shows(CATALOGUES):
        story += _catalogues_section(report, report.catalogues)
    if appendix is not None:
        story += [NextPageTemplate("landscape"), PageBreak()]
    doc.build(story, canvasmaker=lambda *a, **k: ReportCanvas(*a, stamp=stamp, **k))
    return buffer.getvalue()
