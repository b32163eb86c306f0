"""The shared parsers of plain values: each area's messages passed in, one behaviour."""

from app.models.okrs import Rating
from app.models.systems import Criticality, PositionStatus
from app.validation import FieldErrors, parse_enum, parse_text, plain_text


def test_text_is_stripped_and_refused_when_empty_or_too_long():
    errors = FieldErrors()
    assert parse_text("  a  ", "name", errors, max_length=5) == "a"
    assert plain_text(None) == "" and plain_text(7) == "7"
    parse_text("", "name", errors, max_length=5, missing="Enter a name.")
    parse_text("abcdefg", "team", errors, max_length=5, too_long="{length} > {max_length:,}")
    assert errors == {"name": "Enter a name.", "team": "7 > 5"}


def test_a_choice_is_a_member_its_name_its_value_or_its_label():
    errors: dict[str, str] = {}
    for given in (Criticality.HIGH, "HIGH", "high", " High "):
        assert parse_enum(Criticality, given, "c", errors, refusal="x") is Criticality.HIGH
    assert (
        parse_enum(Rating, "on track", "r", errors, refusal="x", by_label=True) is Rating.ON_TRACK
    )
    assert parse_enum(Rating, "on track", "r", errors, refusal="{text}") is None
    assert errors == {"r": "on track"}


def test_an_empty_choice_takes_the_default_or_is_refused():
    errors: dict[str, str] = {}
    default = Criticality.MEDIUM
    assert parse_enum(Criticality, "", "c", errors, refusal="x", default=default) is default
    assert parse_enum(Criticality, None, "k", errors, refusal="x", missing="Choose one.") is None
    assert errors == {"k": "Choose one."}


def test_a_refusal_names_the_text_and_the_choices():
    errors: dict[str, str] = {}
    parse_enum(PositionStatus, "x" * 50, "s", errors, refusal='"{text:.3}": {choices}.')
    parse_enum(Rating, "late", "r", errors, refusal="{choices}", by_label=True)
    assert errors["s"] == '"xxx": planned, active_hiring, final_stages, filled, cancelled.'
    assert errors["r"] == "on track, at risk, off track, done"
    assert PositionStatus.ACTIVE_HIRING.label == "Active hiring"
