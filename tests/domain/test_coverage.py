from datetime import date, timedelta

import pytest

from app.domain.coverage import (
    POSITION_STATUSES,
    CoverageError,
    CoverageState,
    PositionStatusChange,
    ResponsibilityFact,
    StaffFact,
    SystemCoverage,
    SystemFact,
    coverage_as_of,
    coverage_on_days,
    coverage_trend,
    departure_impact,
    percent_of_goal,
    pipeline_as_of,
    responsibility_end_impact,
)

D = date(2024, 6, 15)
BEFORE = D - timedelta(days=1)
AFTER = D + timedelta(days=1)
LONG_AGO = date(2020, 1, 1)

SYS = SystemFact(1, "Payroll", in_production=True)
ALICE = StaffFact(10, "Alice")
BOB = StaffFact(11, "Bob")


def resp(staff, system=SYS, since=LONG_AGO, until=None, kind="primary"):
    return ResponsibilityFact(staff.id, system.id, since, until, kind)


def state(systems, staff, responsibilities, as_of=D):
    c = coverage_as_of(systems, staff, responsibilities, as_of)
    return {entry.system.id: entry.state for entry in c.systems}


class TestResponsibilityDates:
    def test_ending_the_day_before_is_not_counted(self):
        assert state([SYS], [ALICE], [resp(ALICE, until=BEFORE)]) == {1: "uncovered"}

    def test_ending_on_the_date_is_counted(self):
        assert state([SYS], [ALICE], [resp(ALICE, until=D)]) == {1: "spof"}

    def test_starting_on_the_date_is_counted(self):
        assert state([SYS], [ALICE], [resp(ALICE, since=D)]) == {1: "spof"}

    def test_starting_the_day_after_is_not_counted(self):
        assert state([SYS], [ALICE], [resp(ALICE, since=AFTER)]) == {1: "uncovered"}


class TestProductionFlag:
    def test_flag_before_the_first_change_is_its_opposite(self):
        went_live = SystemFact(1, "Web", True, None, ((D, True),))
        assert not went_live.counts_on(BEFORE)
        assert went_live.counts_on(D) and went_live.counts_on(AFTER)

    def test_taken_out_of_production_counts_until_the_day_before(self):
        out = SystemFact(1, "Web", False, None, ((D, False),))
        assert out.counts_on(BEFORE)
        assert not out.counts_on(D) and not out.counts_on(AFTER)

    def test_several_changes(self):
        system = SystemFact(1, "Web", True, None, ((BEFORE, False), (AFTER, True)))
        assert [system.counts_on(d) for d in (BEFORE - timedelta(1), D, AFTER)] == [
            True,
            False,
            True,
        ]


class TestStaff:
    def test_left_before_the_date(self):
        gone = StaffFact(10, "Alice", left_on=BEFORE)
        assert state([SYS], [gone], [resp(gone)]) == {1: "uncovered"}

    def test_left_on_the_date_still_counts(self):
        leaving = StaffFact(10, "Alice", left_on=D)
        assert state([SYS], [leaving], [resp(leaving)]) == {1: "spof"}

    def test_leaving_after_the_date_counts_even_if_gone_today(self):
        # Historical view: someone who has left since was still there on D.
        later = StaffFact(10, "Alice", left_on=AFTER)
        assert state([SYS], [later], [resp(later)]) == {1: "spof"}

    def test_no_leaving_date_counts_on_every_day(self):
        # There is no "inactive" without a date: a person counts until their leaving date.
        staying = StaffFact(10, "Alice")
        assert state([SYS], [staying], [resp(staying)]) == {1: "spof"}

    def test_unknown_staff_is_ignored(self):
        ghost = StaffFact(99, "Ghost")
        assert state([SYS], [ALICE], [resp(ghost)]) == {1: "uncovered"}


class TestSystems:
    def test_retired_before_the_date_is_not_counted(self):
        retired = SystemFact(1, "Payroll", True, retired_on=BEFORE)
        assert state([retired], [ALICE], [resp(ALICE)]) == {}

    def test_retired_on_the_date_is_not_counted(self):
        retired = SystemFact(1, "Payroll", True, retired_on=D)
        assert state([retired], [ALICE], [resp(ALICE)]) == {}

    def test_retired_after_the_date_is_counted(self):
        retiring = SystemFact(1, "Payroll", True, retired_on=AFTER)
        assert state([retiring], [ALICE], [resp(ALICE)]) == {1: "spof"}

    def test_non_production_system_is_not_counted(self):
        test_env = SystemFact(1, "Payroll test", in_production=False)
        c = coverage_as_of([test_env], [ALICE], [resp(ALICE, test_env)], D)
        assert c.systems == []
        assert (c.spof_staff_count, c.spof_system_count, c.uncovered_count) == (0, 0, 0)


class TestStates:
    def test_same_person_twice_is_still_spof(self):
        rows = [resp(ALICE), resp(ALICE, kind="backup"), resp(ALICE, since=date(2023, 1, 1))]
        c = coverage_as_of([SYS], [ALICE], rows, D)
        assert c.systems == [SystemCoverage(SYS, (10,))]
        assert c.systems[0].state == "spof"

    def test_primary_and_backup_is_covered(self):
        rows = [resp(ALICE), resp(BOB, kind="backup")]
        c = coverage_as_of([SYS], [ALICE, BOB], rows, D)
        assert c.systems[0].staff_ids == (10, 11)
        assert c.systems[0].state == "covered"
        assert c.covered_count == 1
        assert c.spof_staff_count == 0

    def test_backup_only_is_spof(self):
        assert state([SYS], [BOB], [resp(BOB, kind="backup")]) == {1: "spof"}

    def test_uncovered(self):
        c = coverage_as_of([SYS], [ALICE], [], D)
        assert c.uncovered_systems == [SYS]
        assert c.uncovered_count == 1
        assert c.spof_systems == []
        assert c.sole_responsible == []

    def test_each_counted_system_has_its_state(self):
        c = coverage_as_of([SYS], [ALICE], [resp(ALICE)], D)
        assert [(e.system.id, e.state) for e in c.systems] == [(SYS.id, CoverageState.SPOF)]
        assert CoverageState.SPOF == "spof" and CoverageState.SPOF.badge == "SPOF"
        assert [CoverageState.of(n) for n in (0, 1, 2, 5)] == [
            CoverageState.UNCOVERED,
            CoverageState.SPOF,
            CoverageState.COVERED,
            CoverageState.COVERED,
        ]


class TestSummary:
    def build(self):
        erp = SystemFact(1, "ERP", True)
        crm = SystemFact(2, "crm", True)
        web = SystemFact(3, "Website", True)
        mail = SystemFact(4, "Mail", True)
        dns = SystemFact(5, "DNS", True)
        old = SystemFact(6, "Old intranet", True, retired_on=date(2024, 1, 1))
        carol = StaffFact(12, "Carol")
        systems = [erp, crm, web, mail, dns, old]
        staff = [BOB, ALICE, carol]
        rows = [
            resp(ALICE, erp),
            resp(ALICE, crm),
            resp(BOB, web),
            resp(carol, web, kind="backup"),
            resp(carol, mail),
            resp(BOB, old),  # retired system: never makes Bob a SPOF
        ]
        return systems, staff, rows

    def test_figures(self):
        systems, staff, rows = self.build()
        c = coverage_as_of(systems, staff, rows, D)
        assert c.as_of == D
        # Alice is the only one on ERP and CRM: counted once for KR2.
        assert c.spof_staff_count == 2
        assert c.spof_system_count == 3
        assert c.uncovered_count == 1
        assert c.covered_count == 1
        assert len(c.systems) == 5

    def test_sorting(self):
        systems, staff, rows = self.build()
        c = coverage_as_of(systems, staff, rows, D)
        assert [e.system.name for e in c.systems] == ["crm", "DNS", "ERP", "Mail", "Website"]
        assert [s.name for s in c.spof_systems] == ["crm", "ERP", "Mail"]
        assert [s.name for s in c.uncovered_systems] == ["DNS"]
        assert [(p.name, [s.name for s in owned]) for p, owned in c.sole_responsible] == [
            ("Alice", ["crm", "ERP"]),
            ("Carol", ["Mail"]),
        ]

    def test_accepts_generators(self):
        systems, staff, rows = self.build()
        c = coverage_as_of(iter(systems), iter(staff), iter(rows), D)
        assert c.spof_staff_count == 2


class TestTrend:
    def test_trend_over_dates(self):
        erp = SystemFact(1, "ERP", True)
        crm = SystemFact(2, "CRM", True, retired_on=date(2024, 5, 1))
        carol = StaffFact(12, "Carol", left_on=date(2024, 3, 31))
        rows = [
            resp(ALICE, erp, since=date(2024, 2, 1)),
            resp(BOB, erp, since=date(2024, 4, 1)),
            resp(carol, crm),
        ]
        dates = [
            date(2024, 1, 1),
            date(2024, 2, 1),
            date(2024, 3, 31),
            date(2024, 4, 1),
            date(2024, 5, 1),
        ]
        assert coverage_trend([erp, crm], [ALICE, BOB, carol], rows, dates) == [
            (date(2024, 1, 1), 1, 1, 1),  # ERP uncovered, Carol sole on CRM
            (date(2024, 2, 1), 2, 2, 0),  # Alice now sole on ERP
            (date(2024, 3, 31), 2, 2, 0),  # Carol's last day
            (date(2024, 4, 1), 0, 0, 1),  # Bob joins ERP; CRM loses Carol
            (date(2024, 5, 1), 0, 0, 0),  # CRM retired
        ]

    def test_trend_matches_single_date(self):
        rows = [resp(ALICE, since=date(2024, 2, 1))]
        dates = [date(2024, 1, 1), date(2024, 3, 1)]
        trend = coverage_trend([SYS], [ALICE], iter(rows), dates)
        for d, spof_staff, spof_systems, uncovered in trend:
            c = coverage_as_of([SYS], [ALICE], rows, d)
            assert (spof_staff, spof_systems, uncovered) == (
                c.spof_staff_count,
                c.spof_system_count,
                c.uncovered_count,
            )


class TestWhatIf:
    ERP = SystemFact(1, "ERP", True)
    CRM = SystemFact(2, "CRM", True)
    WEB = SystemFact(3, "Website", True)
    SYSTEMS = [ERP, CRM, WEB]

    def rows(self):
        return [
            resp(ALICE, self.ERP),
            resp(BOB, self.ERP, kind="backup"),
            resp(ALICE, self.CRM),
            resp(BOB, self.WEB),
        ]

    def test_departure_impact(self):
        impact = departure_impact(self.SYSTEMS, [ALICE, BOB], self.rows(), ALICE.id, D)
        assert impact.effective_on == AFTER
        assert impact.new_spof_systems == [self.ERP]
        assert impact.new_uncovered_systems == [self.CRM]
        assert impact.has_impact

    def test_departure_of_person_with_no_sole_systems_only_creates_spofs(self):
        impact = departure_impact(self.SYSTEMS, [ALICE, BOB], self.rows(), BOB.id, D)
        assert impact.new_spof_systems == [self.ERP]
        assert impact.new_uncovered_systems == [self.WEB]

    def test_departure_after_already_recorded_earlier_leaving_changes_nothing(self):
        leaving = StaffFact(10, "Alice", left_on=BEFORE)
        impact = departure_impact(self.SYSTEMS, [leaving, BOB], self.rows(), 10, D)
        assert not impact.has_impact

    def test_departure_does_not_touch_inputs(self):
        staff = [ALICE, BOB]
        departure_impact(self.SYSTEMS, staff, self.rows(), ALICE.id, D)
        assert staff == [ALICE, BOB]
        assert ALICE.left_on is None

    def test_departure_of_unknown_person(self):
        with pytest.raises(CoverageError):
            departure_impact(self.SYSTEMS, [ALICE], self.rows(), 99, D)

    def test_responsibility_end_by_index(self):
        rows = self.rows()
        impact = responsibility_end_impact(self.SYSTEMS, [ALICE, BOB], rows, 1, D)
        assert impact.effective_on == AFTER
        assert impact.new_spof_systems == [self.ERP]
        assert impact.new_uncovered_systems == []
        assert rows[1].until is None

    def test_responsibility_end_by_pair(self):
        impact = responsibility_end_impact(self.SYSTEMS, [ALICE, BOB], self.rows(), (10, 2), D)
        assert impact.new_spof_systems == []
        assert impact.new_uncovered_systems == [self.CRM]

    def test_responsibility_end_pair_covers_duplicate_rows(self):
        rows = [resp(ALICE, self.ERP), resp(ALICE, self.ERP, kind="backup")]
        impact = responsibility_end_impact([self.ERP], [ALICE], rows, (10, 1), D)
        assert impact.new_uncovered_systems == [self.ERP]

    def test_responsibility_already_ending_earlier_is_not_extended(self):
        rows = [resp(ALICE, self.CRM, until=BEFORE)]
        impact = responsibility_end_impact([self.CRM], [ALICE], rows, 0, AFTER)
        assert not impact.has_impact

    @pytest.mark.parametrize("which", [7, -1, (10, 3), True])
    def test_responsibility_not_found(self, which):
        with pytest.raises(CoverageError):
            responsibility_end_impact(self.SYSTEMS, [ALICE, BOB], self.rows(), which, D)


class TestPipeline:
    CHANGES = [
        PositionStatusChange(1, "planned", date(2024, 1, 1)),
        PositionStatusChange(1, "active_hiring", date(2024, 2, 1)),
        PositionStatusChange(1, "final_stages", date(2024, 3, 1)),
        PositionStatusChange(1, "filled", date(2024, 3, 1)),  # same day: later entry wins
        PositionStatusChange(2, "planned", date(2024, 1, 15)),
        PositionStatusChange(2, "cancelled", date(2024, 2, 15)),
        PositionStatusChange(3, "active_hiring", date(2024, 2, 1)),
    ]

    def test_pipeline_as_of(self):
        assert pipeline_as_of(self.CHANGES, date(2023, 12, 31)) == dict.fromkeys(
            POSITION_STATUSES, 0
        )
        assert pipeline_as_of(self.CHANGES, date(2024, 1, 20)) == {
            "planned": 2,
            "active_hiring": 0,
            "final_stages": 0,
            "filled": 0,
            "cancelled": 0,
        }
        assert pipeline_as_of(self.CHANGES, date(2024, 2, 15)) == {
            "planned": 0,
            "active_hiring": 2,
            "final_stages": 0,
            "filled": 0,
            "cancelled": 1,
        }
        assert pipeline_as_of(iter(self.CHANGES), date(2024, 3, 1)) == {
            "planned": 0,
            "active_hiring": 1,
            "final_stages": 0,
            "filled": 1,
            "cancelled": 1,
        }

    def test_pipeline_keys_in_order(self):
        assert list(pipeline_as_of([], D)) == [
            "planned",
            "active_hiring",
            "final_stages",
            "filled",
            "cancelled",
        ]

    def test_unknown_status(self):
        with pytest.raises(CoverageError, match='Unknown position status "hired"'):
            PositionStatusChange(1, "hired", D)

    @pytest.mark.parametrize(
        ("value", "goal", "expected"),
        [(0, 10, 0), (3, 10, 30), (1, 3, 33), (2, 3, 67), (1, 8, 13), (15, 10, 150), (5, 0, 0)],
    )
    def test_percent_of_goal(self, value, goal, expected):
        assert percent_of_goal(value, goal) == expected


def test_scales_to_thousands_of_systems():
    systems = [SystemFact(i, f"System {i:05d}", True) for i in range(5000)]
    staff = [StaffFact(i, f"Person {i:04d}") for i in range(1000)]
    rows = [ResponsibilityFact(i % 1000, i % 5000, LONG_AGO) for i in range(20000)]
    rows += [ResponsibilityFact(j, 0, LONG_AGO) for j in range(3)]
    c = coverage_as_of(systems, staff, rows, D)
    # i % 1000 and i % 5000 pair up so each system gets exactly one distinct person,
    # except system 0, which gets three.
    assert c.spof_system_count == 4999
    assert c.covered_count == 1
    assert c.spof_staff_count == 1000


def test_trend_counts_agree_with_full_coverage_on_random_data():
    import random

    rng = random.Random(3)
    day0 = date(2020, 1, 1)
    systems = [
        SystemFact(
            i,
            f"S{i}",
            rng.random() < 0.8,
            day0 + timedelta(rng.randrange(400)) if rng.random() < 0.1 else None,
            ((day0 + timedelta(rng.randrange(400)), rng.random() < 0.5),)
            if rng.random() < 0.2
            else (),
        )
        for i in range(60)
    ]
    staff = [
        StaffFact(
            i,
            f"P{i}",
            day0 + timedelta(rng.randrange(400)) if rng.random() < 0.3 else None,
        )
        for i in range(25)
    ]
    rows = []
    for _ in range(150):
        since = day0 + timedelta(rng.randrange(300))
        until = since + timedelta(rng.randrange(200)) if rng.random() < 0.3 else None
        rows.append(ResponsibilityFact(rng.randrange(27), rng.randrange(62), since, until))
    dates = [day0 + timedelta(days=d) for d in range(0, 400, 17)]
    for d, spof_staff, spof_systems, uncovered in coverage_trend(systems, staff, rows, dates):
        c = coverage_as_of(systems, staff, rows, d)
        assert (spof_staff, spof_systems, uncovered) == (
            c.spof_staff_count,
            c.spof_system_count,
            c.uncovered_count,
        )


@pytest.mark.parametrize("seed", [1, 2, 5, 8])
def test_coverage_of_several_days_equals_each_days_own_coverage(seed):
    """``coverage_on_days`` reads the facts once for every day; each day's answer is the
    whole ``coverage_as_of`` of that day (lists, order and people), not only its counts."""
    import random

    rng = random.Random(seed)
    day0 = date(2020, 1, 1)
    systems = [
        SystemFact(
            i,
            rng.choice(["alpha", "Alpha", "beta", f"S{i}"]),  # equal names sort by id
            rng.random() < 0.8,
            day0 + timedelta(rng.randrange(400)) if rng.random() < 0.1 else None,
            ((day0 + timedelta(rng.randrange(400)), rng.random() < 0.5),)
            if rng.random() < 0.2
            else (),
        )
        for i in range(60)
    ]
    staff = [
        StaffFact(i, f"P{i}", day0 + timedelta(rng.randrange(400)) if rng.random() < 0.3 else None)
        for i in range(25)
    ]
    rows = []
    for _ in range(200):
        since = day0 + timedelta(rng.randrange(-50, 300))
        until = since + timedelta(rng.randrange(200)) if rng.random() < 0.3 else None
        rows.append(ResponsibilityFact(rng.randrange(27), rng.randrange(62), since, until))
    days = [day0 + timedelta(days=d) for d in rng.sample(range(0, 400), 5)]
    found = coverage_on_days(systems, staff, rows, days)
    assert sorted(found) == sorted(days)
    for d in days:
        assert found[d] == coverage_as_of(systems, staff, rows, d)
