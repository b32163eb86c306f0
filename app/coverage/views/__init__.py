"""Pages for systems, staff, responsibilities, SPOF coverage and SPOF hiring positions, one
module per group of pages; importing them registers their routes on the area's blueprint."""

from app.coverage.views import (  # noqa: F401
    coverage,
    positions,
    responsibilities,
    staff,
    systems,
)
