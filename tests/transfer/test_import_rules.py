"""Imported rows go through the same rules as the forms and the API (the areas' services),
checked against the register and against the file's earlier rows; nothing is written when
a single row is refused."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import fiscal
from app.extensions import db
from app.models import (
    Countermeasure,
    CountermeasureStatus,
    CountermeasureStatusChange,
    Effectiveness,
    Responsibility,
    StaffMember,
    System,
)
from app.models.audit import AuditEntry
from app.models.user import Role
from app.transfer.service import ImportRefusedError, check_file, import_file
from bench.harness import count_queries
from tests.api import factories as f

SYSTEMS = "Name,Description,Team,Criticality,In production,Retired on\n"
STAFF = "Name,Email,Team,Active,Left on\n"
RESPONSIBILITIES = "Staff member,System,Kind,Since,Until\n"
COUNTERMEASURES = (
    "Title,Description,Type,Status,Owner email,Target quarter,Planned on,Deployed on,Retired on,"
    "Evidence,Verified on,Effectiveness,Threats\n"
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def refused(entity: str, text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(ImportRefusedError) as error:
        import_file(entity, text.encode(), None)
    db.session.rollback()
    return [(e.line, e.column, e.message) for e in error.value.errors]


def imports() -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "import")
    )


# ---- systems ---------------------------------------------------------------------------


def test_system_names_are_unique_in_the_register_and_in_the_file():
    f.system("Billing")
    db.session.commit()
    errors = refused("systems", SYSTEMS + "Wiki,,,,,\nCRM,,,,,\nwiki,,,,,\nbilling,,,,,\n")
    assert errors == [
        (4, "Name", 'A system named "wiki" is also on line 2.'),
        (5, "Name", 'A system named "billing" already exists.'),
    ]
    assert count(System) == 1 and imports() == 0


# ---- staff -----------------------------------------------------------------------------


def test_staff_active_no_without_a_date_records_leaving_today(users):
    import_file(
        "staff",
        (STAFF + "Ada,,SRE,yes,2020-06-30\nBob,,SRE,yes,2999-01-01\nCy,,SRE,no,\n").encode(),
        None,
    )
    db.session.commit()
    left_on = dict(db.session.execute(select(StaffMember.name, StaffMember.left_on)).all())
    # There is no "inactive" without a date: "no" records the person gone from the day of
    # the import (the day before was their last).
    yesterday = fiscal.today() - timedelta(days=1)
    assert left_on == {"Ada": date(2020, 6, 30), "Bob": date(2999, 1, 1), "Cy": yesterday}
    active = {p.name: p.active for p in db.session.scalars(select(StaffMember))}
    assert active == {"Ada": False, "Bob": True, "Cy": False}


# ---- responsibilities ------------------------------------------------------------------


def _people_and_systems():
    ada, bob = f.staff("Ada"), f.staff("Bob")
    billing, wiki = f.system("Billing"), f.system("Wiki")
    f.responsibility(ada, billing, since=date(2020, 1, 1), until=date(2020, 6, 30))
    db.session.commit()
    return ada, bob, billing, wiki


def test_responsibilities_may_not_overlap_the_register_or_each_other():
    _people_and_systems()
    errors = refused(
        "responsibilities",
        RESPONSIBILITIES
        # overlaps Ada's Billing responsibility already in the register
        + "Ada,Billing,Primary,2020-06-01,\n"
        # after it: fine
        + "Ada,Billing,Primary,2020-07-01,2020-12-31\n"
        # overlaps the line above
        + "Ada,Billing,Primary,2020-12-01,\n"
        # another kind, another person, another system: no overlap
        + "Ada,Billing,Backup,2020-12-01,\nBob,Billing,Primary,2020-12-01,\n"
        + "Ada,Wiki,Primary,2020-12-01,\n"
        # ends before it starts
        + "Bob,Wiki,Primary,2020-12-01,2020-11-30\n",
    )
    assert errors == [
        (
            2,
            "Since",
            "This person already has a primary responsibility for this system from "
            "2020-01-01 to 2020-06-30; change that one instead.",
        ),
        (
            4,
            "Since",
            "This person already has a primary responsibility for this system from "
            "2020-07-01 to 2020-12-31 (line 3 of this file); change that one instead.",
        ),
        (8, "Until", "The end date must be on or after the start date (2020-12-01)."),
    ]
    assert count(Responsibility) == 1 and imports() == 0


def test_a_responsibility_row_with_an_unknown_person_is_named_once():
    _people_and_systems()
    errors = refused("responsibilities", RESPONSIBILITIES + "Zed,Billing,Primary,2021-01-01,\n")
    assert errors == [(2, "Staff member", "No staff member named “Zed”.")]


def test_rule_checks_do_not_query_per_row(app):
    """References are loaded once per file: 400 rows cost the queries of 20."""
    _people_and_systems()

    def queries(rows: int) -> int:
        lines = [
            f"Ada,Wiki,Primary,{date(2000 + i, 1, 1)},{date(2000 + i, 6, 30)}" for i in range(rows)
        ]
        data = (RESPONSIBILITIES + "\n".join(lines) + "\n").encode()
        with count_queries(app) as counter:
            checked, _ = check_file("responsibilities", data)
        assert checked.ok, checked.errors
        return counter["n"]

    assert queries(400) == queries(20)


# ---- countermeasures -------------------------------------------------------------------


def test_countermeasure_rows_go_through_the_countermeasure_rules(users):
    live, old = f.threat("Phishing"), f.threat("Old worm")
    old.archived_at = datetime(2020, 9, 1)
    db.session.commit()
    errors = refused(
        "countermeasures",
        COUNTERMEASURES
        # deployed in the future
        + "A,,Preventive,Deployed,,,,2999-01-01,,,,,Phishing\n"
        # deployed without a date
        + "B,,Preventive,Deployed,,,,,,,,,\n"
        # planned with a deployment date
        + "C,,Preventive,Planned,,,,2020-08-01,,,,,\n"
        # linked to an archived threat
        + "D,,Preventive,Planned,,,,,,,,,Old worm\n"
        # retired before it was deployed
        + "E,,Preventive,Retired,,,,2020-08-01,2020-07-01,,,,\n"
        # verified before it was deployed, without effectiveness
        + "F,,Preventive,Deployed,,,,2020-08-01,,,2020-07-01,,\n"
        # fine: dropped before deployment, and deployed then verified
        + "G,,Preventive,Retired,,,,,2020-09-01,,,,\n"
        + "H,,Detective,Deployed,,,,2020-08-01,,,2020-09-01,Effective,Phishing\n"
        # deployed before it was planned; planned in the future
        + "I,,Preventive,Deployed,,,2020-09-01,2020-08-01,,,,,\n"
        + "J,,Preventive,Planned,,,2999-01-01,,,,,,\n",
    )
    assert [(line, column) for line, column, _ in errors] == [
        (2, "Deployed on"),
        (3, "Deployed on"),
        (4, "Deployed on"),
        (5, "Threats"),
        (6, "Retired on"),
        (7, "Effectiveness"),
        (7, "Verified on"),
        (10, "Deployed on"),
        (11, "Planned on"),
    ]
    messages = dict(((line, column), message) for line, column, message in errors)
    assert messages[(2, "Deployed on")].startswith("The deployment date cannot be in the future")
    assert messages[(3, "Deployed on")] == "A deployed countermeasure needs its deployment date."
    assert messages[(10, "Deployed on")].startswith("It was planned on 2020-09-01;")
    assert messages[(11, "Planned on")].startswith("The plan date cannot be in the future")
    assert "archived" in messages[(5, "Threats")]
    assert count(Countermeasure) == 0 and count(CountermeasureStatusChange) == 0
    assert live.archived_at is None


def test_recorded_countermeasures_are_written_with_their_history(users):
    f.threat("Phishing")
    db.session.commit()
    import_file(
        "countermeasures",
        (
            COUNTERMEASURES
            + "G,,Preventive,Retired,,,,,2020-09-01,,,,\n"
            + "H,,Detective,Deployed,,FY20-21 Q2,,2020-08-01,,,2020-09-01,Effective,Phishing\n"
        ).encode(),
        users[Role.ADMIN].id,
    )
    db.session.commit()
    g, h = db.session.scalars(select(Countermeasure).order_by(Countermeasure.title)).all()
    assert g.status == CountermeasureStatus.RETIRED and g.deployed_on is None
    assert [c.changed_on for c in g.status_changes] == [date(2020, 9, 1)]
    # Recorded after the fact: planned, at the latest, when it was deployed or dropped.
    assert (g.planned_on, h.planned_on) == (date(2020, 9, 1), date(2020, 8, 1))
    assert [(p.target_quarter_start, p.valid_from) for p in h.target_periods] == [
        (date(2020, 10, 1), date(2020, 8, 1))
    ]
    assert h.effectiveness == Effectiveness.YES and [t.title for t in h.threats] == ["Phishing"]
    assert h.target_quarter_start is not None
    assert [c.changed_on for c in h.status_changes] == [date(2020, 8, 1)]
