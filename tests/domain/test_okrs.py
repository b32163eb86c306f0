from app.domain.okrs import format_number, progress_percent


def test_increase_from_zero():
    assert progress_percent(1, 4) == 25
    assert progress_percent(4, 6, baseline=0) == 67


def test_increase_from_a_baseline():
    assert progress_percent(1, 2, baseline=1) == 0
    assert progress_percent(2, 2, baseline=1) == 100


def test_decrease_needs_a_baseline_above_the_goal():
    assert progress_percent(6, 4, baseline=8, decreasing=True) == 50
    assert progress_percent(6, 4, decreasing=True) is None
    assert progress_percent(6, 8, baseline=4, decreasing=True) is None


def test_clamped_and_missing():
    assert progress_percent(9, 4) == 100
    assert progress_percent(-1, 4) == 0
    assert progress_percent(None, 4) is None
    assert progress_percent(3, None) is None
    assert progress_percent(3, 0) is None


def test_format_number():
    assert format_number(4.0) == "4"
    assert format_number(12.5) == "12.5"
    assert format_number(None) == ""
    assert format_number(-1.8) == "-1.8"
