from datetime import date

import pytest

from app.domain.scoring import (
    DEFAULT_MATRIX,
    DEFAULT_REVIEW_INTERVALS,
    Level,
    RankedThreat,
    RiskMatrix,
    ScoreChange,
    ScoringError,
    heatmap_counts,
    level_for,
    next_review_date,
    rank_top_threats,
    score,
    score_as_of,
)

SMALL = RiskMatrix(
    likelihood_labels=("Low", "Medium", "High"),
    impact_labels=("Low", "Medium", "High"),
    thresholds=((Level.LOW, 1), (Level.HIGH, 3), (Level.CRITICAL, 7)),
)
WIDE = RiskMatrix(
    likelihood_labels=("L1", "L2", "L3", "L4"),
    impact_labels=("I1", "I2", "I3", "I4", "I5", "I6"),
    thresholds=((Level.LOW, 1), (Level.MEDIUM, 6), (Level.HIGH, 12), (Level.CRITICAL, 20)),
)


class TestLevel:
    def test_labels_and_css(self):
        assert [lvl.label for lvl in Level] == ["Low", "Medium", "High", "Critical"]
        assert [lvl.css for lvl in Level] == ["success", "warning", "orange", "danger"]

    def test_rank_orders_by_severity(self):
        assert [lvl.rank for lvl in Level] == [1, 2, 3, 4]

    def test_round_trips_from_stored_value(self):
        assert Level("critical") is Level.CRITICAL


class TestDefaultMatrix:
    def test_shape(self):
        assert DEFAULT_MATRIX.max_likelihood == 5
        assert DEFAULT_MATRIX.max_impact == 5
        assert DEFAULT_MATRIX.max_score == 25
        assert DEFAULT_MATRIX.likelihood_labels[0] == "Rare"
        assert DEFAULT_MATRIX.likelihood_labels[-1] == "Almost certain"
        assert DEFAULT_MATRIX.impact_labels == (
            "Negligible",
            "Minor",
            "Moderate",
            "Major",
            "Severe",
        )
        assert RiskMatrix() == DEFAULT_MATRIX

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (1, Level.LOW),
            (4, Level.LOW),
            (5, Level.MEDIUM),
            (9, Level.MEDIUM),
            (10, Level.HIGH),
            (15, Level.HIGH),
            (16, Level.CRITICAL),
            (25, Level.CRITICAL),
        ],
    )
    def test_bands_at_and_below_each_threshold(self, value, expected):
        assert level_for(value) is expected

    def test_score_range(self):
        assert DEFAULT_MATRIX.score_range(Level.LOW) == (1, 4)
        assert DEFAULT_MATRIX.score_range(Level.HIGH) == (10, 15)
        assert DEFAULT_MATRIX.score_range(Level.CRITICAL) == (16, 25)

    def test_every_cell_has_a_level(self):
        for likelihood in range(1, 6):
            for impact in range(1, 6):
                assert isinstance(level_for(score(likelihood, impact)), Level)


class TestScore:
    def test_multiplies(self):
        assert score(1, 1) == 1
        assert score(3, 4) == 12
        assert score(5, 5) == 25

    @pytest.mark.parametrize("bad", [0, 6, -1, "high", "3", True, False, 2.0, None])
    def test_invalid_likelihood(self, bad):
        with pytest.raises(ScoringError, match="Likelihood must be a whole number from 1 to 5"):
            score(bad, 3)

    @pytest.mark.parametrize("bad", [0, 6, "high", True])
    def test_invalid_impact(self, bad):
        with pytest.raises(ScoringError, match="Impact must be a whole number from 1 to 5"):
            score(3, bad)

    def test_error_message_shows_the_value(self):
        with pytest.raises(ScoringError) as excinfo:
            score("high", 3)
        assert str(excinfo.value) == "Likelihood must be a whole number from 1 to 5, got 'high'."

    def test_scoring_error_is_value_error(self):
        with pytest.raises(ValueError):
            score(0, 0)

    @pytest.mark.parametrize("bad", [0, 26, True, "5"])
    def test_level_for_rejects_out_of_range(self, bad):
        with pytest.raises(ScoringError):
            level_for(bad)


class TestOtherMatrices:
    def test_three_by_three(self):
        assert SMALL.max_score == 9
        assert score(3, 3, SMALL) == 9
        with pytest.raises(ScoringError, match="from 1 to 3"):
            score(4, 1, SMALL)
        assert [level_for(s, SMALL) for s in range(1, 10)] == [
            Level.LOW,
            Level.LOW,
            Level.HIGH,
            Level.HIGH,
            Level.HIGH,
            Level.HIGH,
            Level.CRITICAL,
            Level.CRITICAL,
            Level.CRITICAL,
        ]
        assert SMALL.levels == (Level.LOW, Level.HIGH, Level.CRITICAL)
        with pytest.raises(ScoringError):
            SMALL.score_range(Level.MEDIUM)

    def test_four_by_six(self):
        assert (WIDE.max_likelihood, WIDE.max_impact, WIDE.max_score) == (4, 6, 24)
        assert score(4, 6, WIDE) == 24
        with pytest.raises(ScoringError, match="Likelihood must be a whole number from 1 to 4"):
            score(5, 1, WIDE)
        with pytest.raises(ScoringError, match="Impact must be a whole number from 1 to 6"):
            score(1, 7, WIDE)
        assert level_for(5, WIDE) is Level.LOW
        assert level_for(6, WIDE) is Level.MEDIUM
        assert level_for(11, WIDE) is Level.MEDIUM
        assert level_for(12, WIDE) is Level.HIGH
        assert level_for(19, WIDE) is Level.HIGH
        assert level_for(20, WIDE) is Level.CRITICAL
        assert level_for(24, WIDE) is Level.CRITICAL
        # The default matrix would call 16 critical.
        assert level_for(16, WIDE) is Level.HIGH

    def test_lists_are_stored_as_tuples(self):
        m = RiskMatrix(["a", "b"], ["x", "y"], [[Level.LOW, 1], [Level.HIGH, 3]])
        assert m.likelihood_labels == ("a", "b")
        assert m.thresholds == ((Level.LOW, 1), (Level.HIGH, 3))
        hash(m)


class TestMatrixValidation:
    LABELS = ("a", "b", "c")

    def make(self, thresholds, likelihood=LABELS, impact=LABELS):
        return RiskMatrix(likelihood, impact, thresholds)

    def test_first_threshold_must_be_one(self):
        with pytest.raises(ScoringError, match="must start at score 1"):
            self.make(((Level.LOW, 2), (Level.HIGH, 5)))

    def test_thresholds_strictly_increasing(self):
        with pytest.raises(ScoringError, match="strictly increase"):
            self.make(((Level.LOW, 1), (Level.MEDIUM, 4), (Level.HIGH, 4)))
        with pytest.raises(ScoringError, match="strictly increase"):
            self.make(((Level.LOW, 1), (Level.MEDIUM, 5), (Level.HIGH, 3)))

    def test_levels_in_severity_order(self):
        with pytest.raises(ScoringError, match="increasing severity"):
            self.make(((Level.HIGH, 1), (Level.LOW, 5)))
        with pytest.raises(ScoringError, match="increasing severity"):
            self.make(((Level.LOW, 1), (Level.LOW, 5)))

    def test_last_threshold_within_max_score(self):
        self.make(((Level.LOW, 1), (Level.CRITICAL, 9)))  # exactly max is fine
        with pytest.raises(ScoringError, match="above the maximum score 9"):
            self.make(((Level.LOW, 1), (Level.CRITICAL, 10)))

    def test_empty_parts(self):
        with pytest.raises(ScoringError):
            self.make(())
        with pytest.raises(ScoringError):
            self.make(((Level.LOW, 1),), likelihood=())
        with pytest.raises(ScoringError):
            self.make(((Level.LOW, 1),), impact=())

    def test_malformed_threshold(self):
        with pytest.raises(ScoringError):
            self.make((("low", 1),))
        with pytest.raises(ScoringError):
            self.make(((Level.LOW, "1"),))

    def test_validate_on_valid_matrix(self):
        assert DEFAULT_MATRIX.validate() is None
        assert SMALL.validate() is None


def change(day, seq, il=3, ii=3, rl=2, ri=2, author=None):
    return ScoreChange(date(2024, 1, day), seq, il, ii, rl, ri, author)


class TestScoreAsOf:
    HISTORY = [
        change(10, 1, 4, 4, 3, 3),
        change(20, 2, 4, 4, 2, 3),
        change(20, 3, 4, 4, 1, 3, "second same-day edit"),
        change(25, 4, 5, 5, 5, 5),
    ]

    def test_scores(self):
        c = change(1, 1, 4, 5, 2, 3)
        assert (c.inherent_score, c.residual_score) == (20, 6)

    def test_before_first_assessment(self):
        assert score_as_of(self.HISTORY, date(2024, 1, 9)) is None
        assert score_as_of([], date(2024, 1, 9)) is None

    def test_on_the_day_of_a_change(self):
        assert score_as_of(self.HISTORY, date(2024, 1, 10)) is self.HISTORY[0]
        assert score_as_of(self.HISTORY, date(2024, 1, 25)) is self.HISTORY[3]

    def test_after_a_change(self):
        assert score_as_of(self.HISTORY, date(2024, 1, 15)) is self.HISTORY[0]
        assert score_as_of(self.HISTORY, date(2030, 1, 1)) is self.HISTORY[3]

    def test_same_day_highest_sequence_wins(self):
        found = score_as_of(self.HISTORY, date(2024, 1, 20))
        assert found is self.HISTORY[2]
        assert found.residual_score == 3

    def test_order_of_input_does_not_matter(self):
        shuffled = [self.HISTORY[2], self.HISTORY[3], self.HISTORY[0], self.HISTORY[1]]
        assert score_as_of(shuffled, date(2024, 1, 22)) is self.HISTORY[2]
        assert score_as_of(iter(shuffled), date(2024, 1, 12)) is self.HISTORY[0]


def threat(id, residual, inherent=10, identified=date(2024, 1, 1)):
    return RankedThreat(
        id=id, residual_score=residual, inherent_score=inherent, identified_on=identified
    )


class TestRanking:
    def test_residual_descending(self):
        ranked = rank_top_threats([threat(1, 5), threat(2, 20), threat(3, 12)])
        assert [t.id for t in ranked] == [2, 3, 1]

    def test_tie_on_residual_uses_inherent(self):
        ranked = rank_top_threats([threat(1, 12, inherent=16), threat(2, 12, inherent=25)])
        assert [t.id for t in ranked] == [2, 1]

    def test_tie_on_inherent_uses_older_first(self):
        ranked = rank_top_threats(
            [threat(1, 12, 16, date(2024, 3, 1)), threat(2, 12, 16, date(2023, 3, 1))]
        )
        assert [t.id for t in ranked] == [2, 1]

    def test_full_tie_uses_id(self):
        ranked = rank_top_threats([threat(9, 12), threat(3, 12), threat(5, 12)])
        assert [t.id for t in ranked] == [3, 5, 9]

    def test_top_n(self):
        threats = [threat(i, i) for i in range(1, 11)]
        assert [t.id for t in rank_top_threats(threats, 3)] == [10, 9, 8]
        assert len(rank_top_threats(threats)) == 10
        assert rank_top_threats(threats, 0) == []
        assert len(rank_top_threats(threats, 50)) == 10

    def test_negative_n(self):
        with pytest.raises(ScoringError):
            rank_top_threats([threat(1, 1)], -1)

    def test_accepts_any_object_with_the_attributes(self):
        class Row:
            def __init__(self, id, residual):
                self.id = id
                self.residual_score = residual
                self.inherent_score = 25
                self.identified_on = date(2024, 1, 1)

        rows = [Row(1, 4), Row(2, 9)]
        assert rank_top_threats(rows) == [rows[1], rows[0]]


class TestReviews:
    def test_default_intervals(self):
        start = date(2024, 1, 31)
        assert next_review_date(start, Level.CRITICAL) == date(2024, 3, 1)  # leap-year February
        assert next_review_date(start, Level.HIGH) == date(2024, 4, 30)
        assert next_review_date(start, Level.MEDIUM) == date(2024, 7, 29)
        assert next_review_date(start, Level.LOW) == date(2025, 1, 30)
        assert DEFAULT_REVIEW_INTERVALS[Level.CRITICAL] == 30

    def test_custom_intervals(self):
        assert next_review_date(date(2024, 1, 1), Level.HIGH, {Level.HIGH: 7}) == date(2024, 1, 8)

    def test_missing_interval(self):
        with pytest.raises(ScoringError, match="Critical"):
            next_review_date(date(2024, 1, 1), Level.CRITICAL, {Level.HIGH: 7})


class TestHeatmap:
    def test_all_cells_present(self):
        counts = heatmap_counts([])
        assert len(counts) == 25
        assert set(counts.values()) == {0}
        assert list(counts)[:2] == [(1, 1), (1, 2)]

    def test_counts(self):
        counts = heatmap_counts([(5, 5), (5, 5), (1, 3), (3, 1)])
        assert counts[(5, 5)] == 2
        assert counts[(1, 3)] == 1
        assert counts[(3, 1)] == 1
        assert counts[(1, 1)] == 0
        assert sum(counts.values()) == 4

    def test_other_matrix(self):
        counts = heatmap_counts([(4, 6), (1, 1)], WIDE)
        assert len(counts) == 24
        assert counts[(4, 6)] == 1 and counts[(1, 1)] == 1

    def test_out_of_range_pair(self):
        with pytest.raises(ScoringError):
            heatmap_counts([(6, 1)])
        with pytest.raises(ScoringError):
            heatmap_counts([(4, 1)], SMALL)
