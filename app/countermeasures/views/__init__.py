"""Pages of the countermeasures, one module per group of pages; importing them registers
their routes on the area's blueprint (and the ``evidence_links`` template filter)."""

from app.countermeasures.views import quarters, register, status  # noqa: F401
