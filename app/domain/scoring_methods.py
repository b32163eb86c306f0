"""Scoring methods besides likelihood × impact: CVSS, OWASP Risk Rating and DREAD.

Every method ends on the configured risk matrix, so each figure and heat map keeps
reading likelihood × impact. A method turns its inputs into two figures, a likelihood
figure and an impact figure, each on the method's own scale; each figure becomes a
step of the matrix's axis by cut points (``Bands``): a figure at or above the k-th cut
is at least step k + 1. With a five-step axis there are four cuts.

The rules (also in the README, "Scoring methods"):

- CVSS 3.x (``CVSS:3.0/…``, ``CVSS:3.1/…``): likelihood figure = the exploitability
  subscore (0–3.9), impact figure = the impact subscore (0–6.1, 0 when negative), both
  rounded to one decimal. Method score: the base score, with its severity.
- CVSS 4.0 (``CVSS:4.0/…``) has no subscores: the same two figures are computed from its
  base metrics with the CVSS 3.1 weights (AV N .85 A .62 L .55 P .2; complexity .77 when
  AC:L and AT:N, else .44; PR N .85 L .62 H .27; UI N .85, P or A .62; exploitability =
  8.22 × AV × complexity × PR × UI), and for confidentiality, integrity and availability
  the higher of the vulnerable and the subsequent system's rating (H .56, L .22, N 0;
  impact = 6.42 × (1 − (1 − C)(1 − I)(1 − A))). Modified (environmental) metrics count
  when given. Method score: the CVSS 4.0 score, with its severity.
- OWASP Risk Rating: sixteen factors of 0–9. Likelihood figure = the mean of the eight
  likelihood factors; impact figure = the higher of the mean of the four technical and the
  mean of the four business impact factors. OWASP gives no single number: its overall
  severity (Note to Critical, from its own 0–3–6 bands) is kept as the rating.
- DREAD: five factors of 0–10. Likelihood figure = the mean of reproducibility,
  exploitability and discoverability; impact figure = the mean of damage and affected
  users. Method score: the mean of the five.

OWASP and DREAD figures are rounded to two decimals before they are banded.

Default cuts split each scale evenly over the axis (for five steps on 0–9: 1.8, 3.6,
5.4, 7.2); an admin may set others. A change applies to assessments recorded after it:
each assessment keeps the likelihood and impact it was given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import cvss  # type: ignore[import-untyped]
from cvss.exceptions import CVSSError  # type: ignore[import-untyped]

from app.domain.scoring import RiskMatrix
from app.domain.words import Labelled

__all__ = [
    "DREAD_FACTORS",
    "OWASP_FACTORS",
    "OWASP_IMPACT",
    "OWASP_LIKELIHOOD",
    "Assessment",
    "Bands",
    "Method",
    "MethodError",
    "MethodRules",
    "assess",
    "band",
    "check_cuts",
    "default_bands",
    "inputs_for_reading",
    "parse_inputs",
    "parse_method",
    "rules_from_settings",
]


class Method(Labelled):
    MATRIX = "matrix", "Likelihood × impact"
    CVSS = "cvss", "CVSS 3.1 or 4.0 vector"
    OWASP = "owasp", "OWASP Risk Rating"
    DREAD = "dread", "DREAD"

    @property
    def short(self) -> str:
        """The method's name in a narrow column or a message: the others go by their initials."""
        return "L × I" if self is Method.MATRIX else self.value.upper()


class MethodError(ValueError):
    """Inputs a method cannot read; ``factor`` names the one at fault, if one is."""

    def __init__(self, message: str, factor: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.factor = factor


# name -> label, in the order OWASP lists them.
OWASP_LIKELIHOOD: dict[str, str] = {
    "skill_level": "Skill level",
    "motive": "Motive",
    "opportunity": "Opportunity",
    "size": "Size",
    "ease_of_discovery": "Ease of discovery",
    "ease_of_exploit": "Ease of exploit",
    "awareness": "Awareness",
    "intrusion_detection": "Intrusion detection",
}
OWASP_TECHNICAL: dict[str, str] = {
    "loss_of_confidentiality": "Loss of confidentiality",
    "loss_of_integrity": "Loss of integrity",
    "loss_of_availability": "Loss of availability",
    "loss_of_accountability": "Loss of accountability",
}
OWASP_BUSINESS: dict[str, str] = {
    "financial_damage": "Financial damage",
    "reputation_damage": "Reputation damage",
    "non_compliance": "Non-compliance",
    "privacy_violation": "Privacy violation",
}
OWASP_IMPACT: dict[str, str] = {**OWASP_TECHNICAL, **OWASP_BUSINESS}
OWASP_FACTORS: dict[str, str] = {**OWASP_LIKELIHOOD, **OWASP_IMPACT}
DREAD_FACTORS: dict[str, str] = {
    "damage": "Damage",
    "reproducibility": "Reproducibility",
    "exploitability": "Exploitability",
    "affected_users": "Affected users",
    "discoverability": "Discoverability",
}
FACTOR_MAX = {Method.OWASP: 9, Method.DREAD: 10}
FACTORS = {Method.OWASP: OWASP_FACTORS, Method.DREAD: DREAD_FACTORS}

# The top of each method's (likelihood figure, impact figure) scales.
SCALES: dict[Method, tuple[Decimal, Decimal]] = {
    Method.CVSS: (Decimal("3.9"), Decimal("6.1")),
    Method.OWASP: (Decimal(9), Decimal(9)),
    Method.DREAD: (Decimal(10), Decimal(10)),
}
FIGURE_NAMES: dict[Method, tuple[str, str]] = {
    Method.CVSS: ("exploitability", "impact subscore"),
    Method.OWASP: ("likelihood factors' mean", "impact factors' mean"),
    Method.DREAD: ("mean of R, E, D", "mean of D, A"),
}
VECTOR_MAX_LENGTH = 400


def _round(value: float | Decimal, places: int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def show(value: Decimal) -> str:
    """A figure without trailing zeros: 5.00 -> 5, 6.80 -> 6.8."""
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class Bands:
    """Cut points of one method: ``likelihood`` (axis size − 1 ascending figures) and
    ``impact`` likewise."""

    likelihood: tuple[Decimal, ...]
    impact: tuple[Decimal, ...]


def band(figure: Decimal, cuts: tuple[Decimal, ...]) -> int:
    """The axis step of ``figure``: 1 plus the number of cuts it reaches."""
    return 1 + sum(1 for cut in cuts if figure >= cut)


def _even_cuts(top: Decimal, steps: int) -> tuple[Decimal, ...]:
    return tuple(_round(top * k / steps, 1) for k in range(1, steps))


def default_bands(method: Method, matrix: RiskMatrix) -> Bands:
    top_l, top_i = SCALES[method]
    return Bands(
        likelihood=_even_cuts(top_l, matrix.max_likelihood),
        impact=_even_cuts(top_i, matrix.max_impact),
    )


def check_cuts(values: object, count: int, top: Decimal, what: str) -> tuple[Decimal, ...]:
    """Cut points from a list or comma-separated text: ``count`` numbers, strictly
    increasing, above 0 and at most ``top``, two decimals at most. Raises MethodError."""
    if isinstance(values, str):
        items: list[object] = [v for v in values.replace(";", ",").split(",") if v.strip()]
    elif isinstance(values, list | tuple):
        items = list(values)
    else:
        raise MethodError(f"Give the {what} cut points as a list of numbers.")
    cuts: list[Decimal] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float | str | Decimal):
            raise MethodError(f"{item!r} is not a number.")
        try:
            cut = Decimal(str(item).strip())
        except ArithmeticError:
            raise MethodError(f"{str(item)[:20]!r} is not a number.") from None
        if not cut.is_finite() or cut != _round(cut, 2):
            raise MethodError(f"{str(item)[:20]} is not a number with at most two decimals.")
        if not 0 < cut <= top:
            raise MethodError(f"Each {what} cut point is above 0 and at most {top}; not {cut}.")
        if cuts and cut <= cuts[-1]:
            raise MethodError(f"The {what} cut points must increase: {cut} follows {cuts[-1]}.")
        cuts.append(cut)
    if len(cuts) != count:
        raise MethodError(
            f"Give {count} {what} cut point{'s' if count != 1 else ''} "
            f"(one fewer than the matrix's {count + 1} steps), not {len(cuts)}."
        )
    return tuple(cuts)


@dataclass(frozen=True)
class MethodRules:
    """The cut points in use for each method on one matrix."""

    bands: Mapping[Method, Bands]

    def of(self, method: Method) -> Bands:
        return self.bands[method]


def rules_from_settings(stored: Mapping[str, Any] | None, matrix: RiskMatrix) -> MethodRules:
    """Stored cut points ({"cvss": {"likelihood": [...], "impact": [...]}, ...}), each set
    that no longer fits the matrix (its size changed since) replaced by the even default."""
    bands: dict[Method, Bands] = {}
    for method in SCALES:
        default = default_bands(method, matrix)
        entry = (stored or {}).get(method.value) or {}
        top_l, top_i = SCALES[method]
        try:
            likelihood = check_cuts(
                entry.get("likelihood"), matrix.max_likelihood - 1, top_l, "likelihood"
            )
        except MethodError:
            likelihood = default.likelihood
        try:
            impact = check_cuts(entry.get("impact"), matrix.max_impact - 1, top_i, "impact")
        except MethodError:
            impact = default.impact
        bands[method] = Bands(likelihood=likelihood, impact=impact)
    return MethodRules(bands)


@dataclass(frozen=True)
class Assessment:
    """What a method made of its inputs: the matrix cell, its own score and how."""

    method: Method
    inputs: str  # canonical: the vector, or the factors as JSON
    likelihood: int
    impact: int
    method_score: float | None
    rating: str
    explanation: str


# ---- CVSS


_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_PR = {"N": 0.85, "L": 0.62, "H": 0.27}
_UI4 = {"N": 0.85, "P": 0.62, "A": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0, "S": 0.56}  # S: safety, on modified SI and SA


def _cvss4_figures(metrics: Mapping[str, str]) -> tuple[float, float]:
    def m(name: str) -> str:
        # cvss fills each modified metric with its base value unless the vector sets it.
        return metrics.get("M" + name) or metrics[name]

    complexity = 0.77 if m("AC") == "L" and m("AT") == "N" else 0.44
    exploitability = 8.22 * _AV[m("AV")] * complexity * _PR[m("PR")] * _UI4[m("UI")]
    remaining = 1.0
    for vulnerable, subsequent in (("VC", "SC"), ("VI", "SI"), ("VA", "SA")):
        remaining *= 1 - max(_CIA[m(vulnerable)], _CIA[m(subsequent)])
    return exploitability, 6.42 * (1 - remaining)


def _assess_cvss(vector: str, bands: Bands) -> Assessment:
    text = vector.strip()
    if not text:
        raise MethodError("Give a CVSS vector, e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H.")
    if len(text) > VECTOR_MAX_LENGTH:
        raise MethodError(f"A CVSS vector has at most {VECTOR_MAX_LENGTH} characters.")
    try:
        if text.startswith("CVSS:4.0/"):
            parsed4 = cvss.CVSS4(text)
            exploitability, impact = _cvss4_figures(parsed4.metrics)
            base, severity, clean = float(parsed4.base_score), parsed4.severity, parsed4.vector
        elif text.startswith(("CVSS:3.0/", "CVSS:3.1/")):
            parsed3 = cvss.CVSS3(text)
            exploitability, impact = float(parsed3.esc), float(parsed3.isc)
            base, severity = float(parsed3.base_score), parsed3.severities()[0]
            clean = parsed3.clean_vector()
        else:
            raise MethodError(
                f"A CVSS vector starts with CVSS:3.1/, CVSS:3.0/ or CVSS:4.0/ (got {text[:20]!r})."
            )
    except MethodError:
        raise
    except CVSSError as error:
        raise MethodError(f"Not a valid CVSS vector: {error}") from None
    except (KeyError, ValueError) as error:  # a metric the rules above do not know
        raise MethodError(f"Not a valid CVSS vector: {error}") from None
    e_fig = _round(exploitability, 1)
    i_fig = _round(max(impact, 0.0), 1)
    likelihood, impact_step = band(e_fig, bands.likelihood), band(i_fig, bands.impact)
    version = clean.split("/", 1)[0].removeprefix("CVSS:")
    explanation = (
        f"CVSS {version} base {base:.1f} ({severity}): exploitability {show(e_fig)} → "
        f"likelihood {likelihood}; impact subscore {show(i_fig)} → impact {impact_step}"
    )
    return Assessment(Method.CVSS, clean, likelihood, impact_step, base, str(severity), explanation)


# ---- factor methods


def _factors(method: Method, raw: object) -> dict[str, int]:
    names = FACTORS[method]
    top = FACTOR_MAX[method]
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise MethodError(
                f'Give the {method.short} factors as JSON, e.g. {{"{next(iter(names))}": 5}}.'
            ) from None
    if not isinstance(raw, Mapping):
        raise MethodError(f"Give the {method.short} factors by name, each 0 to {top}.")
    unknown = sorted(str(k) for k in raw if k not in names)
    if unknown:
        raise MethodError(
            f"Unknown {method.short} factor {unknown[0][:40]!r}; the factors are "
            + ", ".join(names)
            + ".",
            factor=None,
        )
    factors: dict[str, int] = {}
    for name, label in names.items():
        value = raw.get(name)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            raise MethodError(f"{label} must be a whole number from 0 to {top}.", factor=name)
        factors[name] = value
    return factors


def _mean(factors: Mapping[str, int], names: Mapping[str, str]) -> Decimal:
    return _round(Decimal(sum(factors[n] for n in names)) / len(names), 2)


def _owasp_level(figure: Decimal) -> str:
    # OWASP's own bands: 0 to < 3 low, 3 to < 6 medium, 6 to 9 high.
    return "low" if figure < 3 else "medium" if figure < 6 else "high"


_OWASP_SEVERITY = {
    ("low", "low"): "Note",
    ("low", "medium"): "Low",
    ("low", "high"): "Medium",
    ("medium", "low"): "Low",
    ("medium", "medium"): "Medium",
    ("medium", "high"): "High",
    ("high", "low"): "Medium",
    ("high", "medium"): "High",
    ("high", "high"): "Critical",
}


def _assess_owasp(raw: object, bands: Bands) -> Assessment:
    factors = _factors(Method.OWASP, raw)
    l_fig = _mean(factors, OWASP_LIKELIHOOD)
    technical, business = _mean(factors, OWASP_TECHNICAL), _mean(factors, OWASP_BUSINESS)
    i_fig = max(technical, business)
    likelihood, impact = band(l_fig, bands.likelihood), band(i_fig, bands.impact)
    severity = _OWASP_SEVERITY[(_owasp_level(l_fig), _owasp_level(i_fig))]
    explanation = (
        f"OWASP {severity}: likelihood factors' mean {show(l_fig)} → likelihood "
        f"{likelihood}; impact (higher of technical {show(technical)} and business "
        f"{show(business)}) {show(i_fig)} → impact {impact}"
    )
    return Assessment(
        Method.OWASP, json.dumps(factors), likelihood, impact, None, severity, explanation
    )


def _assess_dread(raw: object, bands: Bands) -> Assessment:
    factors = _factors(Method.DREAD, raw)
    l_fig = _mean(factors, {"reproducibility": "", "exploitability": "", "discoverability": ""})
    i_fig = _mean(factors, {"damage": "", "affected_users": ""})
    total = _mean(factors, DREAD_FACTORS)
    likelihood, impact = band(l_fig, bands.likelihood), band(i_fig, bands.impact)
    explanation = (
        f"DREAD {show(total)}: mean of reproducibility, exploitability, discoverability "
        f"{show(l_fig)} → likelihood {likelihood}; mean of damage, affected users "
        f"{show(i_fig)} → impact {impact}"
    )
    return Assessment(
        Method.DREAD, json.dumps(factors), likelihood, impact, float(total), "", explanation
    )


def parse_method(value: object) -> Method:
    """A method from its value or name ("cvss", "CVSS"); raises MethodError."""
    if isinstance(value, Method):
        return value
    text = "" if value is None else str(value).strip().lower()
    if not text:
        return Method.MATRIX
    for method in Method:
        if text in (method.value, method.name.lower()):
            return method
    raise MethodError(
        f"Unknown scoring method {text[:30]!r}; choose one of "
        + ", ".join(m.value for m in Method)
        + "."
    )


def parse_inputs(method: Method, raw: object) -> object:
    """The inputs as ``assess`` takes them: a vector string, or a factors mapping."""
    if method is Method.CVSS:
        if not isinstance(raw, str):
            raise MethodError("Give the CVSS vector as text.")
        return raw
    return raw


def assess(method: Method, inputs: object, rules: MethodRules) -> Assessment:
    """The matrix cell, method score and explanation of ``inputs`` (MethodError if they
    cannot be read). Not for ``Method.MATRIX``, whose cell is given as it is."""
    if method is Method.CVSS:
        return _assess_cvss(str(parse_inputs(method, inputs)), rules.of(method))
    if method is Method.OWASP:
        return _assess_owasp(inputs, rules.of(method))
    if method is Method.DREAD:
        return _assess_dread(inputs, rules.of(method))
    raise MethodError("Likelihood × impact takes its cell as it is given.")


def inputs_for_reading(method: Method, stored: str) -> object:
    """Stored inputs as the API answers them: the vector text, or the factors object."""
    if method in (Method.OWASP, Method.DREAD) and stored:
        try:
            return json.loads(stored)
        except ValueError:
            return stored
    return stored or None
