from __future__ import annotations

from datetime import date

import pytest

from app.coverage import figures
from app.extensions import db
from app.models.user import Role
from bench.harness import count_queries


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date": "2021-02-30"}, "&#34;2021-02-30&#34; is not a valid date"),
        ({"date": "yesterday"}, "is not a valid date"),
        ({"quarter": "FY20-21 Q7"}, "Q"),
        ({"quarter": "next quarter"}, ""),
    ],
)
def test_bad_picker_input_is_a_clear_message_not_a_500(client_as, query, message):
    response = client_as(Role.VIEWER).get("/coverage", query_string=query)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'data-testid="picker-error"' in html and message in html


def test_coverage_page_lists_sole_people_and_uncovered_louder(client_as, make):
    ana, bea = make.person("Ana"), make.person("Bea")
    mail, dns, web = make.system("Mail"), make.system("DNS"), make.system("Web")
    make.resp(ana, mail)
    make.resp(ana, dns, until=date(2020, 12, 31))
    make.resp(ana, web)
    make.resp(bea, web)
    db.session.commit()
    html = client_as(Role.VIEWER).get("/coverage").get_data(as_text=True)
    sole = html.split('data-testid="sole-responsible"')[1].split("</table>")[0]
    assert "Ana" in sole and "Mail" in sole and "Bea" not in sole
    assert "DNS" in html.split('data-testid="uncovered-list"')[1]
    html = client_as(Role.VIEWER).get("/coverage?date=2020-12-31").get_data(as_text=True)
    assert 'data-testid="uncovered-list"' not in html


def test_figures_use_a_fixed_number_of_queries(app, make):
    people = [make.person(f"P{i}") for i in range(5)]

    def measured():
        with count_queries(app) as counter:
            figures.coverage_on(date(2021, 1, 1))
            figures.coverage_trend_for_fiscal_year(2020)
            figures.hiring_summary(date(2021, 1, 1))
        return counter["n"]

    make.resp(people[0], make.system("S0"))
    db.session.commit()
    small = measured()
    for i in range(1, 30):
        make.resp(people[i % 5], make.system(f"S{i}"))
    db.session.commit()
    # 3 fact queries per figure, 1 fingerprint query per remembered figure, hiring.
    assert measured() == small <= 10
    # Remembered until the facts change: then only the fingerprints are read.
    assert measured() <= 4
