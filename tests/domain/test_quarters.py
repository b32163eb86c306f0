from datetime import date, timedelta

import pytest

from app.domain.quarters import (
    Quarter,
    QuarterError,
    fiscal_year_label,
    fiscal_year_of,
    parse_fiscal_year,
    parse_quarter,
    quarter_of,
    quarters_of_fiscal_year,
    validate_start_month,
)

# (quarter number, first day, last day) for FY20-21 with a July start.
JULY_FY2020 = [
    (1, date(2020, 7, 1), date(2020, 9, 30)),
    (2, date(2020, 10, 1), date(2020, 12, 31)),
    (3, date(2021, 1, 1), date(2021, 3, 31)),
    (4, date(2021, 4, 1), date(2021, 6, 30)),
]
JANUARY_FY2021 = [
    (1, date(2021, 1, 1), date(2021, 3, 31)),
    (2, date(2021, 4, 1), date(2021, 6, 30)),
    (3, date(2021, 7, 1), date(2021, 9, 30)),
    (4, date(2021, 10, 1), date(2021, 12, 31)),
]


class TestQuarterDates:
    @pytest.mark.parametrize(("number", "first", "last"), JULY_FY2020)
    def test_july_start_bounds(self, number, first, last):
        q = Quarter(2020, number)
        assert (q.first_day, q.last_day) == (first, last)

    @pytest.mark.parametrize(("number", "first", "last"), JANUARY_FY2021)
    def test_january_start_bounds(self, number, first, last):
        q = Quarter(2021, number, start_month=1)
        assert (q.first_day, q.last_day) == (first, last)

    @pytest.mark.parametrize(("number", "first", "last"), JULY_FY2020)
    def test_quarter_of_every_july_boundary_day(self, number, first, last):
        expected = Quarter(2020, number)
        assert quarter_of(first) == expected
        assert quarter_of(last) == expected
        assert quarter_of(first - timedelta(days=1)) == expected.previous()
        assert quarter_of(last + timedelta(days=1)) == expected.next()

    @pytest.mark.parametrize(("number", "first", "last"), JANUARY_FY2021)
    def test_quarter_of_every_january_boundary_day(self, number, first, last):
        expected = Quarter(2021, number, 1)
        assert quarter_of(first, 1) == expected
        assert quarter_of(last, 1) == expected
        assert quarter_of(first - timedelta(days=1), 1) == expected.previous()
        assert quarter_of(last + timedelta(days=1), 1) == expected.next()

    def test_new_year_is_mid_fiscal_year_for_july_start(self):
        assert quarter_of(date(2020, 12, 31)).label == "FY20-21 Q2"
        assert quarter_of(date(2021, 1, 1)).label == "FY20-21 Q3"

    def test_new_year_is_new_fiscal_year_for_january_start(self):
        assert quarter_of(date(2020, 12, 31), 1).label == "FY2020 Q4"
        assert quarter_of(date(2021, 1, 1), 1).label == "FY2021 Q1"

    def test_june_july_is_new_fiscal_year_for_july_start(self):
        assert quarter_of(date(2021, 6, 30)).label == "FY20-21 Q4"
        assert quarter_of(date(2021, 7, 1)).label == "FY21-22 Q1"
        assert fiscal_year_of(date(2021, 6, 30)) == 2020
        assert fiscal_year_of(date(2021, 7, 1)) == 2021

    def test_june_july_is_mid_year_for_january_start(self):
        assert quarter_of(date(2021, 6, 30), 1).label == "FY2021 Q2"
        assert quarter_of(date(2021, 7, 1), 1).label == "FY2021 Q3"

    def test_leap_day(self):
        assert quarter_of(date(2020, 2, 29)).label == "FY19-20 Q3"
        assert quarter_of(date(2020, 2, 29), start_month=1).label == "FY2020 Q1"
        assert Quarter(2019, 3).contains(date(2020, 2, 29))
        assert Quarter(2020, 1, 1).last_day == date(2020, 3, 31)

    def test_every_day_of_a_leap_year_lands_in_exactly_one_quarter(self):
        quarters = quarters_of_fiscal_year(2019)  # 1 Jul 2019 - 30 Jun 2020, includes 29 Feb
        d = date(2019, 7, 1)
        while d <= date(2020, 6, 30):
            assert [q.contains(d) for q in quarters].count(True) == 1
            assert quarter_of(d) in quarters
            d += timedelta(days=1)
        assert sum((q.last_day - q.first_day).days + 1 for q in quarters) == 366

    def test_other_start_month(self):
        q = quarter_of(date(2021, 3, 31), start_month=4)
        assert q == Quarter(2020, 4, 4)
        assert (q.first_day, q.last_day) == (date(2021, 1, 1), date(2021, 3, 31))
        assert quarter_of(date(2021, 4, 1), start_month=4).label == "FY21-22 Q1"

    def test_contains(self):
        q = Quarter(2020, 2)
        assert q.contains(date(2020, 10, 1))
        assert q.contains(date(2020, 12, 31))
        assert not q.contains(date(2020, 9, 30))
        assert not q.contains(date(2021, 1, 1))


class TestNavigation:
    def test_next_and_previous_across_fiscal_year(self):
        assert Quarter(2020, 4).next() == Quarter(2021, 1)
        assert Quarter(2021, 1).previous() == Quarter(2020, 4)
        assert Quarter(2020, 4).next().first_day == date(2021, 7, 1)
        assert Quarter(2021, 1).previous().last_day == date(2021, 6, 30)

    def test_next_and_previous_across_calendar_year_with_january_start(self):
        assert Quarter(2020, 4, 1).next() == Quarter(2021, 1, 1)
        assert Quarter(2021, 1, 1).previous().label == "FY2020 Q4"

    def test_navigation_keeps_start_month(self):
        assert Quarter(2020, 4, 1).next().start_month == 1
        assert Quarter(2020, 1, 1).previous().start_month == 1

    def test_within_year(self):
        assert Quarter(2020, 2).next() == Quarter(2020, 3)
        assert Quarter(2020, 3).previous() == Quarter(2020, 2)

    def test_consecutive_quarters_have_no_gap(self):
        q = Quarter(2018, 1)
        for _ in range(20):
            assert q.next().first_day == q.last_day + timedelta(days=1)
            assert q.next().previous() == q
            q = q.next()

    def test_ordering(self):
        assert Quarter(2020, 4) < Quarter(2021, 1) < Quarter(2021, 2)
        assert sorted([Quarter(2021, 1), Quarter(2020, 3), Quarter(2020, 4)]) == [
            Quarter(2020, 3),
            Quarter(2020, 4),
            Quarter(2021, 1),
        ]

    def test_quarters_of_fiscal_year(self):
        assert [q.label for q in quarters_of_fiscal_year(2020)] == [
            "FY20-21 Q1",
            "FY20-21 Q2",
            "FY20-21 Q3",
            "FY20-21 Q4",
        ]
        assert [q.first_day.month for q in quarters_of_fiscal_year(2021, 1)] == [1, 4, 7, 10]


class TestLabels:
    def test_labels_and_slugs(self):
        q = Quarter(2020, 2)
        assert q.label == "FY20-21 Q2"
        assert str(q) == "FY20-21 Q2"
        assert q.fiscal_year_label == "FY20-21"
        assert q.slug == "FY20-21-Q2"

    def test_january_labels(self):
        q = Quarter(2021, 2, start_month=1)
        assert q.label == "FY2021 Q2"
        assert q.fiscal_year_label == "FY2021"
        assert q.slug == "FY2021-Q2"

    def test_century_wrap_label(self):
        assert fiscal_year_label(2099) == "FY99-00"
        assert fiscal_year_label(2009) == "FY09-10"
        assert fiscal_year_label(2021, 1) == "FY2021"

    @pytest.mark.parametrize("start_month", [1, 4, 7, 10])
    def test_label_and_slug_round_trip(self, start_month):
        q = Quarter(2000, 1, start_month)
        for _ in range(4 * 60):
            assert parse_quarter(q.label, start_month) == q
            assert parse_quarter(q.slug, start_month) == q
            assert parse_fiscal_year(q.fiscal_year_label, start_month) == q.fiscal_year
            q = q.next()

    def test_start_month_not_part_of_equality(self):
        assert Quarter(2020, 1, 7) == Quarter(2020, 1, 1)
        assert hash(Quarter(2020, 1, 7)) == hash(Quarter(2020, 1, 1))


class TestParsing:
    @pytest.mark.parametrize(
        "text",
        [
            "FY20-21 Q2",
            "fy20-21 q2",
            "FY20-21-Q2",
            "FY20-21_Q2",
            "  FY20-21   Q2  ",
            "FY 20 - 21 Q 2",
        ],
    )
    def test_accepted_forms(self, text):
        q = parse_quarter(text)
        assert q == Quarter(2020, 2)
        assert q.start_month == 7

    @pytest.mark.parametrize("text", ["FY2021 Q2", "fy2021 q2", "FY2021-Q2", " FY2021_Q2 "])
    def test_accepted_forms_january(self, text):
        q = parse_quarter(text, start_month=1)
        assert q == Quarter(2021, 2, 1)
        assert q.start_month == 1

    @pytest.mark.parametrize(
        "text",
        [
            "FY20-21 Q7",
            "FY20-21 Q0",
            "FY20-21 Q5",
            "FY20-22 Q1",
            "FY21-20 Q1",
            "FY2021 Q2",
            "FY20-21",
            "20-21 Q2",
            "FY20-21Q2",
            "FY20-21 Q2 extra",
            "",
            "Q2 FY20-21",
        ],
    )
    def test_invalid_july_labels(self, text):
        with pytest.raises(QuarterError):
            parse_quarter(text)

    @pytest.mark.parametrize("text", ["FY20-21 Q2", "FY21 Q2", "FY2021 Q5", "FY2021"])
    def test_invalid_january_labels(self, text):
        with pytest.raises(QuarterError):
            parse_quarter(text, start_month=1)

    def test_error_message_is_human(self):
        with pytest.raises(QuarterError) as excinfo:
            parse_quarter("FY20-21 Q7")
        assert str(excinfo.value) == (
            'Unknown quarter "FY20-21 Q7": expected a label like FY20-21 Q2.'
        )
        with pytest.raises(QuarterError, match="expected a label like FY2021 Q2"):
            parse_quarter("FY20-21 Q1", start_month=1)

    def test_quarter_error_is_value_error(self):
        with pytest.raises(ValueError):
            parse_quarter("nonsense")

    def test_century_wrap(self):
        assert parse_quarter("FY99-00 Q1") == Quarter(2099, 1)

    def test_parse_fiscal_year(self):
        assert parse_fiscal_year("FY20-21") == 2020
        assert parse_fiscal_year(" fy20-21 ") == 2020
        assert parse_fiscal_year("FY2021", start_month=1) == 2021

    @pytest.mark.parametrize("text", ["FY20-22", "FY20-21 Q2", "FY2021", "2020", ""])
    def test_parse_fiscal_year_errors(self, text):
        with pytest.raises(QuarterError, match="expected a label like FY20-21"):
            parse_fiscal_year(text)

    def test_parse_fiscal_year_error_january(self):
        with pytest.raises(QuarterError, match="FY2021"):
            parse_fiscal_year("FY20-21", start_month=1)


class TestValidation:
    @pytest.mark.parametrize("month", [1, 7, 12])
    def test_valid_start_months(self, month):
        assert validate_start_month(month) == month

    @pytest.mark.parametrize("month", [0, 13, -1, True, "7", 7.0, None])
    def test_invalid_start_months(self, month):
        with pytest.raises(QuarterError):
            validate_start_month(month)

    @pytest.mark.parametrize("number", [0, 5, True, "1"])
    def test_invalid_quarter_number(self, number):
        with pytest.raises(QuarterError):
            Quarter(2020, number)

    def test_invalid_start_month_in_quarter_and_functions(self):
        with pytest.raises(QuarterError):
            Quarter(2020, 1, start_month=13)
        with pytest.raises(QuarterError):
            quarter_of(date(2020, 1, 1), start_month=0)
