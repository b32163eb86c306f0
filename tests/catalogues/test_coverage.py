"""Coverage as of a date: the ATT&CK matrix and the share of framework controls."""

from __future__ import annotations

from datetime import date

from app.catalogues.figures import (
    attack_coverage_on,
    controls_implemented_percent,
    exposed_techniques,
    framework_coverage_on,
    tactics_uncovered,
)
from app.catalogues.mappings import map_threat
from app.extensions import db

Q2_END = date(2020, 12, 31)  # FY20-21 Q2 (the fiscal year starts in July)


def _cells(coverage) -> dict:
    return {
        cell.ref: (cell.threats, cell.worst_residual, cell.countermeasures)
        for column in coverage.columns
        for cell in column.cells
        if cell.threats or cell.countermeasures
    }


def test_attack_coverage_at_the_q2_end_equals_the_hand_computed_figures(register):
    coverage = attack_coverage_on(register, Q2_END)
    # T1566: A (through its sub-technique, 16) and B (6); the sandbox deployed in November.
    # T1486: B (6) and F (20 then); C mapped in January, the backups deployed in January.
    # T1110: D closed in November, the lockout retired in December. T1190: unmapped.
    assert _cells(coverage) == {"T1566": (2, 16, 1), "T1486": (2, 20, 0)}
    assert (coverage.threatened, coverage.covered, coverage.exposed) == (2, 1, 1)
    assert coverage.covered_percent == 50
    assert coverage.tactics_uncovered == ("TA0002", "TA0003", "TA0006", "TA0011", "TA0040")
    assert coverage.techniques == 18
    assert exposed_techniques(register, Q2_END) == 1
    assert tactics_uncovered(register, Q2_END) == 5
    phishing = next(c for c in coverage.columns[0].cells if c.ref == "T1566")
    assert phishing.sub_techniques == 2 and phishing.state == "covered"


def test_later_facts_move_no_figure_of_an_earlier_day(register):
    before = _cells(attack_coverage_on(register, Q2_END))
    # Today: C is mapped (25), F re-scored to 9, the backups deployed.
    assert _cells(attack_coverage_on(register, date(2021, 1, 15))) == {
        "T1566": (2, 16, 1),
        "T1486": (3, 25, 1),
    }
    assert exposed_techniques(register, date(2021, 1, 15)) == 0
    assert _cells(attack_coverage_on(register, Q2_END)) == before
    # A quarter earlier: D still open, E still mapped, the lockout deployed, B not yet on
    # T1486, the sandbox not yet deployed.
    assert _cells(attack_coverage_on(register, date(2020, 9, 30))) == {
        "T1566": (2, 16, 0),
        "T1486": (1, 20, 0),
        "T1110": (1, 9, 1),
        "T1190": (1, 12, 0),
    }


def test_the_matrix_page_shows_the_quarter_end_and_links_the_cells(register, client_as):
    from app.models.user import Role

    client = client_as(Role.VIEWER)
    page = client.get(f"/catalogues/{register}/matrix?quarter=FY20-21 Q2")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-testid="exposed">1<' in text and "2020-12-31" in text
    assert 'data-ref="T1486" data-state="exposed"' in text
    assert "/threats?technique=T1486&amp;as_of=2020-12-31" in text
    listed = client.get("/threats?technique=T1486&as_of=2020-12-31").get_data(as_text=True)
    assert "Link phishing and ransomware" in listed and "Backup encryption" in listed
    assert "Ransomware via supplier" not in listed
    cms = client.get("/countermeasures?technique=T1566&as_of=2020-12-31").get_data(as_text=True)
    assert "Mail attachment sandbox" in cms and "Offline backups" not in cms
    assert client.get(f"/catalogues/{register}/matrix?quarter=FY29-30 Q1").status_code == 400
    assert client.get("/attack").status_code == 302


def test_the_matrix_page_query_count_does_not_grow_with_the_register(
    app, register, client_as, make_threat
):
    from app import figure_cache
    from app.models.user import Role
    from bench.harness import count_queries

    client = client_as(Role.VIEWER)
    url = f"/catalogues/{register}/matrix?quarter=FY20-21 Q2"

    def queries() -> int:
        figure_cache.clear()
        with count_queries(app) as counter:
            assert client.get(url).status_code == 200
        return counter["n"]

    small = queries()
    for n in range(30):
        threat = make_threat(f"Extra {n}", (2, 2))
        map_threat(
            threat.id, register, ["T1059", "T1204", "T1566.002"][n % 3], date(2020, 9, 1), None
        )
    db.session.commit()
    assert queries() == small


def test_framework_coverage_per_quarter_end_follows_deployments_and_retirements(framework):
    q1 = framework_coverage_on(framework, date(2020, 9, 30))
    assert (q1.implemented, q1.controls, q1.percent) == (2, 21, 10)  # the lockout's two
    assert q1.implemented_refs == ("A.5.15", "A.5.17")
    q2 = framework_coverage_on(framework, Q2_END)  # the lockout retired, the sandbox deployed
    assert (q2.implemented, q2.implemented_refs) == (1, ("A.8.7",))
    assert controls_implemented_percent(framework, Q2_END) == 5
    now = framework_coverage_on(framework, date(2021, 1, 15))
    assert now.implemented_refs == ("A.8.7", "A.8.13")
    groups = {g.ref: (g.implemented, g.controls) for g in now.groups}
    assert groups == {"A.5": (0, 7), "A.6": (0, 2), "A.7": (0, 2), "A.8": (2, 10)}


def test_the_framework_page_has_a_row_per_quarter(framework, client_as):
    from app.models.user import Role

    page = client_as(Role.VIEWER).get(f"/catalogues/{framework}/coverage?year=FY20-21")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-quarter="FY20-21 Q1">10%' in text
    assert 'data-quarter="FY20-21 Q2">5%' in text
    assert 'data-quarter="FY20-21 Q3">10%' in text
    assert 'data-quarter="FY20-21 Q4">—' in text
    listed = client_as(Role.VIEWER).get("/countermeasures?control=A.5.15&as_of=2020-09-30")
    assert "Account lockout" in listed.get_data(as_text=True)


def test_the_matrix_lays_out_the_library_version_in_force_on_the_day(import_fixture, client_as):
    from app.catalogues.figures import attack_coverage_on
    from app.models.user import Role

    library = import_fixture("enterprise-attack-v1.json", on=date(2020, 7, 1)).library
    import_fixture("enterprise-attack-v2.json", on=date(2021, 1, 5))

    def names(day: date) -> dict[str, str]:
        coverage = attack_coverage_on(library.id, day)
        return {cell.ref: cell.name for column in coverage.columns for cell in column.cells}

    before, after = names(date(2020, 12, 31)), names(date(2021, 1, 5))
    assert before["T1003"] == "Credential Dumping" and "T1656" not in before
    assert after["T1003"] == "OS Credential Dumping" and "T1656" in after
    assert names(date(2019, 1, 1)) == before  # before any version: the first one
    assert attack_coverage_on(library.id, date(2020, 12, 31)).version != (
        attack_coverage_on(library.id, date(2021, 1, 5)).version
    )
    page = client_as(Role.VIEWER).get(f"/catalogues/{library.id}/matrix?quarter=FY20-21 Q2")
    assert 'data-testid="layout-version"' in page.get_data(as_text=True)
