"""Pages of the threat register, one module per group of pages; importing them registers
their routes on the area's blueprint. Views parse and render; the rules live in the area's
rule modules (``service``, ``states``, ``archive``, ``settings``)."""

from app.threats.views import (  # noqa: F401
    actions,
    corrections,
    editing,
    heatmap,
    register,
    settings,
)
