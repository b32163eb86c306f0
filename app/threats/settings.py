"""The register's settings: threat categories, the risk matrix's labels, levels and review
intervals, and the scoring methods' bands."""

from __future__ import annotations

from sqlalchemy import func, select

from app.domain.scoring import Level
from app.domain.scoring_methods import MethodError
from app.extensions import db
from app.inputs import read
from app.models.threats import ThreatCategory
from app.threats.inputs import CategoryInput
from app.threats.risk import risk_matrix
from app.validation import InputError

# ---------------------------------------------------------------- categories


def save_category(name: str, category: ThreatCategory | None = None) -> ThreatCategory:
    read_in, errors = read(CategoryInput(), {"name": name})
    clean = read_in.get("name", "")
    if not clean and not errors:
        errors["name"] = "Give the category a name."
    if not errors:
        clash = db.session.scalar(
            select(ThreatCategory.id).where(func.lower(ThreatCategory.name) == clean.lower())
        )
        if clash is not None and (category is None or clash != category.id):
            errors["name"] = f"A category named {clean} already exists."
    if errors:
        raise InputError(errors)
    if category is None:
        category = ThreatCategory(name=clean, active=True)
        db.session.add(category)
    else:
        category.name = clean
    db.session.flush()
    return category


# ---------------------------------------------------------------- risk settings

MAX_SCALE = 10
LABEL_MAX_LENGTH = 40


def _labels(value, field: str, errors: dict, axis: str) -> list[str]:
    items = value.splitlines() if isinstance(value, str) else list(value or [])
    labels = [" ".join(str(item).split()) for item in items]
    labels = [label for label in labels if label]
    if not labels:
        errors[field] = f"Give at least one {axis} label."
    elif len(labels) > MAX_SCALE:
        errors[field] = f"At most {MAX_SCALE} {axis} labels."
    elif any(len(label) > LABEL_MAX_LENGTH for label in labels):
        errors[field] = f"Each label may have at most {LABEL_MAX_LENGTH} characters."
    elif len({label.lower() for label in labels}) != len(labels):
        errors[field] = f"The {axis} labels must differ from one another."
    return labels


def save_risk_settings(likelihood_labels, impact_labels, thresholds: dict, intervals: dict) -> None:
    """Store the risk matrix and review intervals (admin settings), after checking them.

    ``thresholds``: {Level: minimum score or None (level not used)}; low always starts
    at 1. ``intervals``: {Level: days between reviews}. Raises InputError; the matrix
    may not shrink below a score already recorded.
    """
    from app.domain.scoring import RiskMatrix, ScoringError
    from app.models.setting import set_setting
    from app.models.threats import ThreatScoreChange
    from app.threats.risk import REVIEW_INTERVALS_KEY, RISK_MATRIX_KEY

    errors: dict[str, str] = {}
    likelihoods = _labels(likelihood_labels, "likelihood_labels", errors, "likelihood")
    impacts = _labels(impact_labels, "impact_labels", errors, "impact")
    pairs = [(Level.LOW, 1)]
    for level in (Level.MEDIUM, Level.HIGH, Level.CRITICAL):
        minimum = thresholds.get(level)
        if minimum is not None:
            pairs.append((level, minimum))
    days: dict[str, int] = {}
    for level in Level:
        value = intervals.get(level)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3650:
            errors[f"interval_{level.value}"] = "From 1 to 3650 days."
        else:
            days[level.value] = value
    if not errors:
        try:
            matrix = RiskMatrix(
                likelihood_labels=tuple(likelihoods),
                impact_labels=tuple(impacts),
                thresholds=tuple(pairs),
            )
        except ScoringError as error:
            errors["threshold_critical"] = str(error)
    if not errors:
        c = ThreatScoreChange
        row = db.session.execute(
            select(
                func.max(c.inherent_likelihood),
                func.max(c.residual_likelihood),
                func.max(c.inherent_impact),
                func.max(c.residual_impact),
            )
        ).one()
        used_l = max(row[0] or 0, row[1] or 0)
        used_i = max(row[2] or 0, row[3] or 0)
        if used_l and used_l > matrix.max_likelihood:
            errors["likelihood_labels"] = (
                f"Threats are already scored with likelihood {used_l}: "
                f"keep at least {used_l} labels."
            )
        if used_i and used_i > matrix.max_impact:
            errors["impact_labels"] = (
                f"Threats are already scored with impact {used_i}: keep at least {used_i} labels."
            )
    if errors:
        raise InputError(errors)
    set_setting(
        RISK_MATRIX_KEY,
        {
            "likelihood_labels": list(likelihoods),
            "impact_labels": list(impacts),
            "thresholds": [[level.value, minimum] for level, minimum in pairs],
        },
    )
    set_setting(REVIEW_INTERVALS_KEY, days)
    db.session.flush()


def save_method_bands(cuts: dict[str, str | list | None]) -> None:
    """Store the cut points of the scoring methods (admin settings), after checking them.

    ``cuts``: {"cvss_likelihood": "0.8, 1.6, 2.3, 3.1", ...}; empty or None: the even
    default for that figure. Each set has one cut fewer than its matrix axis has steps,
    strictly increasing, above 0 and at most the top of the method's scale. Applies to
    assessments recorded from now on; recorded ones keep their cells.
    """
    from app.domain.scoring_methods import SCALES, check_cuts
    from app.models.setting import set_setting
    from app.threats.risk import SCORING_METHODS_KEY

    matrix = risk_matrix()
    errors: dict[str, str] = {}
    stored: dict[str, dict[str, list[str]]] = {}
    for method, (top_l, top_i) in SCALES.items():
        entry: dict[str, list[str]] = {}
        for axis, top, steps in (
            ("likelihood", top_l, matrix.max_likelihood),
            ("impact", top_i, matrix.max_impact),
        ):
            key = f"{method.value}_{axis}"
            raw = cuts.get(key)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            try:
                values = check_cuts(raw, steps - 1, top, axis)
            except MethodError as error:
                errors[key] = error.message
                continue
            # Kept as text: exact decimals, whatever the JSON column does with floats.
            entry[axis] = [str(v) for v in values]
        if entry:
            stored[method.value] = entry
    if errors:
        raise InputError(errors)
    set_setting(SCORING_METHODS_KEY, stored)
    db.session.flush()
