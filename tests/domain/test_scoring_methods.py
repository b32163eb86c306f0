"""Scoring methods as plain functions: inputs -> (likelihood, impact, method score, how)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.scoring import DEFAULT_MATRIX, RiskMatrix
from app.domain.scoring_methods import (
    DREAD_FACTORS,
    OWASP_FACTORS,
    Bands,
    Method,
    MethodError,
    MethodRules,
    assess,
    band,
    check_cuts,
    default_bands,
    inputs_for_reading,
    parse_method,
    rules_from_settings,
)

RULES = rules_from_settings(None, DEFAULT_MATRIX)
CRITICAL_31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def D(text: str) -> Decimal:  # noqa: N802
    return Decimal(text)


def test_default_cut_points_split_each_scale_evenly_over_the_matrix():
    assert RULES.of(Method.CVSS) == Bands(
        likelihood=(D("0.8"), D("1.6"), D("2.3"), D("3.1")),
        impact=(D("1.2"), D("2.4"), D("3.7"), D("4.9")),
    )
    assert RULES.of(Method.OWASP).likelihood == (D("1.8"), D("3.6"), D("5.4"), D("7.2"))
    assert RULES.of(Method.DREAD).impact == (D("2.0"), D("4.0"), D("6.0"), D("8.0"))
    three = RiskMatrix(
        likelihood_labels=("Low", "Mid", "High"),
        impact_labels=("Low", "Mid", "High"),
        thresholds=DEFAULT_MATRIX.thresholds[:2],
    )
    assert default_bands(Method.DREAD, three).likelihood == (D("3.3"), D("6.7"))


def test_critical_cvss_31_vector_is_the_top_cell_with_its_base_score():
    result = assess(Method.CVSS, CRITICAL_31, RULES)
    # Exploitability 8.22 x .85 x .77 x .85 x .85 = 3.887 -> 3.9 >= 3.1: likelihood 5;
    # impact 6.42 x (1 - .44^3) = 5.873 -> 5.9 >= 4.9: impact 5.
    assert (result.likelihood, result.impact) == (5, 5)
    assert result.method_score == 9.8 and result.rating == "Critical"
    assert result.inputs == CRITICAL_31
    assert "exploitability 3.9 → likelihood 5" in result.explanation
    assert "impact subscore 5.9 → impact 5" in result.explanation


def test_low_cvss_31_vector_hand_computed():
    result = assess(Method.CVSS, "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", RULES)
    # Exploitability 8.22 x .55 x .44 x .27 x .62 = 0.333 -> 0.3 (below 0.8): likelihood 1;
    # impact 6.42 x .22 = 1.412 -> 1.4 (1.2 <= 1.4 < 2.4): impact 2.
    assert (result.likelihood, result.impact) == (1, 2)
    assert result.method_score == 1.8 and result.rating == "Low"


def test_cvss_without_impact_is_the_lowest_impact_step():
    # Scope changed with no C/I/A impact gives a negative subscore: counted as 0.
    result = assess(Method.CVSS, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:N", RULES)
    assert (result.likelihood, result.impact, result.method_score) == (5, 1, 0.0)


def test_cvss_40_vectors_hand_computed():
    top = assess(
        Method.CVSS, "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", RULES
    )
    assert (top.likelihood, top.impact) == (5, 5)
    assert top.method_score == 9.3 and top.rating == "Critical"
    assert top.explanation.startswith("CVSS 4.0 base 9.3")
    low = assess(
        Method.CVSS, "CVSS:4.0/AV:L/AC:H/AT:P/PR:L/UI:A/VC:L/VI:N/VA:N/SC:H/SI:N/SA:N", RULES
    )
    # 8.22 x .55 x .44 (AC:H) x .62 x .62 = 0.765 -> 0.8 (= the first cut): likelihood 2;
    # confidentiality: the higher of VC:L and SC:H (.56): 6.42 x .56 = 3.595 -> 3.6: impact 3.
    assert (low.likelihood, low.impact) == (2, 3)


def test_cvss_40_modified_metrics_count():
    base = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    result = assess(Method.CVSS, base + "/MAV:P", RULES)
    # 8.22 x .2 x .77 x .85 x .85 = 0.915 -> 0.9: likelihood 2.
    assert result.likelihood == 2


@pytest.mark.parametrize(
    "vector",
    [
        "",
        "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # no prefix
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  # a metric missing
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:2.0/AV:N/AC:L/Au:N/C:C/I:C/A:C",
        "CVSS:4.0/AV:N/AC:L",
        "CVSS:3.1/" + "A" * 500,
    ],
)
def test_bad_vectors_are_refused_with_a_message(vector):
    with pytest.raises(MethodError) as refused:
        assess(Method.CVSS, vector, RULES)
    assert refused.value.message
    assert "Not a valid CVSS vector: Not a valid" not in refused.value.message


OWASP_EXAMPLE = dict(
    zip(OWASP_FACTORS, [5, 2, 7, 1, 3, 6, 9, 2, 7, 5, 1, 7, 1, 2, 1, 5], strict=True)
)


def test_owasp_hand_computed():
    result = assess(Method.OWASP, OWASP_EXAMPLE, RULES)
    # Likelihood: 35 / 8 = 4.375 -> 4.38 (3.6 <= 4.38 < 5.4): 3. Impact: technical
    # 20 / 4 = 5.00, business 9 / 4 = 2.25; the higher, 5.00 (3.6 <= 5 < 5.4): 3.
    assert (result.likelihood, result.impact) == (3, 3)
    # OWASP's own bands: 4.38 medium x 5 medium = Medium; no single number.
    assert result.rating == "Medium" and result.method_score is None
    assert "4.38" in result.explanation and "technical 5 and business 2.25" in result.explanation
    # The inputs are kept as JSON and read back the same.
    assert inputs_for_reading(Method.OWASP, result.inputs) == OWASP_EXAMPLE
    assert assess(Method.OWASP, result.inputs, RULES) == result


def test_owasp_extremes():
    high = assess(Method.OWASP, dict.fromkeys(OWASP_FACTORS, 9), RULES)
    low = assess(Method.OWASP, dict.fromkeys(OWASP_FACTORS, 0), RULES)
    assert (high.likelihood, high.impact, high.rating) == (5, 5, "Critical")
    assert (low.likelihood, low.impact, low.rating) == (1, 1, "Note")


def test_dread_hand_computed():
    factors = {
        "damage": 8,
        "reproducibility": 6,
        "exploitability": 7,
        "affected_users": 9,
        "discoverability": 4,
    }
    result = assess(Method.DREAD, factors, RULES)
    # Likelihood: (6 + 7 + 4) / 3 = 5.67 (4 <= 5.67 < 6): 3; impact (8 + 9) / 2 = 8.5: 5.
    assert (result.likelihood, result.impact) == (3, 5)
    assert result.method_score == 6.8  # 34 / 5


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        ({**dict.fromkeys(DREAD_FACTORS, 5), "damage": 11}, "Damage must be a whole number"),
        ({k: 5 for k in list(DREAD_FACTORS)[:4]}, "Discoverability must be"),
        ({**dict.fromkeys(DREAD_FACTORS, 5), "stealth": 1}, "Unknown DREAD factor 'stealth'"),
        ({**dict.fromkeys(DREAD_FACTORS, 5), "damage": True}, "Damage must be"),
        ("{not json", "as JSON"),
        ([1, 2, 3], "by name"),
    ],
)
def test_bad_factors_are_refused(factors, message):
    with pytest.raises(MethodError) as refused:
        assess(Method.DREAD, factors, RULES)
    assert message in refused.value.message


def test_a_figure_on_a_cut_is_the_next_step():
    cuts = (D("1"), D("2"))
    assert [band(D(x), cuts) for x in ("0", "0.99", "1", "1.5", "2", "9")] == [1, 1, 2, 2, 3, 3]


def test_adjusted_cut_points_change_the_cell():
    strict = MethodRules(
        {
            **RULES.bands,
            Method.CVSS: Bands(
                likelihood=(D("3.0"), D("3.5"), D("3.8"), D("3.89")),
                impact=(D("5"), D("5.5"), D("6"), D("6.05")),
            ),
        }
    )
    result = assess(Method.CVSS, CRITICAL_31, strict)
    # Exploitability 3.9 still reaches the last cut; impact 5.9 now only the second.
    assert (result.likelihood, result.impact) == (5, 3)
    assert result.method_score == 9.8  # the method's own score does not move


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1, 2, 3", "Give 4 likelihood cut points"),
        ("1, 3, 2, 3.5", "must increase"),
        ("0, 1, 2, 3", "above 0 and at most 3.9"),
        ("1, 2, 3, 4", "above 0 and at most 3.9"),
        ("1, 2, 3, 3.123", "two decimals"),
        ("1, 2, x, 3", "not a number"),
        ("1, 2, nan, 3", "two decimals"),
    ],
)
def test_bad_cut_points_are_refused(value, message):
    with pytest.raises(MethodError) as refused:
        check_cuts(value, 4, D("3.9"), "likelihood")
    assert message in refused.value.message


def test_stored_cut_points_that_no_longer_fit_fall_back_to_even_bands():
    stored = {"cvss": {"likelihood": ["1", "2", "3", "3.5"], "impact": ["1", "2"]}}
    rules = rules_from_settings(stored, DEFAULT_MATRIX)
    assert rules.of(Method.CVSS).likelihood == (D("1"), D("2"), D("3"), D("3.5"))
    assert rules.of(Method.CVSS).impact == default_bands(Method.CVSS, DEFAULT_MATRIX).impact


def test_method_names():
    assert parse_method("CVSS") is Method.CVSS and parse_method("") is Method.MATRIX
    assert parse_method(None) is Method.MATRIX
    with pytest.raises(MethodError, match="Unknown scoring method"):
        parse_method("stride")
    with pytest.raises(MethodError):
        assess(Method.MATRIX, "", RULES)


_DREAD = st.fixed_dictionaries({name: st.integers(0, 10) for name in DREAD_FACTORS})


@settings(max_examples=30, deadline=None)
@given(_DREAD, st.sampled_from(list(DREAD_FACTORS)))
def test_raising_a_factor_never_lowers_the_cell(factors, name):
    before = assess(Method.DREAD, factors, RULES)
    after = assess(Method.DREAD, {**factors, name: min(10, factors[name] + 1)}, RULES)
    assert 1 <= before.likelihood <= after.likelihood <= DEFAULT_MATRIX.max_likelihood
    assert 1 <= before.impact <= after.impact <= DEFAULT_MATRIX.max_impact


_METRICS = {
    "AV": "NALP",
    "AC": "LH",
    "PR": "NLH",
    "UI": "NR",
    "S": "UC",
    "C": "NLH",
    "I": "NLH",
    "A": "NLH",
}


@settings(max_examples=30, deadline=None)
@given(st.fixed_dictionaries({k: st.sampled_from(v) for k, v in _METRICS.items()}))
def test_every_cvss_31_vector_lands_in_the_matrix(metrics):
    vector = "CVSS:3.1/" + "/".join(f"{k}:{v}" for k, v in metrics.items())
    result = assess(Method.CVSS, vector, RULES)
    assert 1 <= result.likelihood <= 5 and 1 <= result.impact <= 5
    assert 0 <= result.method_score <= 10
