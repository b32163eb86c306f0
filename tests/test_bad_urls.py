"""Numbers and dates no one would type on purpose answer a clear page, never a 500."""

from __future__ import annotations

import pytest

from app.models.user import Role

HUGE = "99999999999999999999"  # past any database integer


@pytest.mark.parametrize(
    "path",
    [
        f"/threats/{HUGE}",
        f"/countermeasures/{HUGE}",
        f"/systems/{HUGE}",
        f"/staff/{HUGE}/edit",
        f"/positions/{HUGE}",
        f"/okrs/{HUGE}",
        f"/key-results/{HUGE}",
        f"/feeds/{HUGE}",
        f"/admin/users/{HUGE}/edit",
    ],
)
def test_a_huge_id_in_the_path_is_not_found(client_as, path):
    response = client_as(Role.ADMIN).get(path)
    assert response.status_code == 404
    assert 'data-testid="error-page"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        f"/threats?page={HUGE}",
        f"/countermeasures?page={HUGE}",
        f"/systems?page={HUGE}",
        f"/staff?page={HUGE}",
        f"/admin/users?page={HUGE}",
        f"/admin/audit?page={HUGE}",
        f"/countermeasures?owner={HUGE}",
        f"/countermeasures?threat={HUGE}",
        f"/admin/audit?user={HUGE}",
        "/admin/audit?start=0001-01-01&end=9999-12-31",
    ],
)
def test_huge_numbers_and_far_dates_in_lists_still_answer(client_as, path):
    assert client_as(Role.ADMIN).get(path).status_code == 200


def test_a_huge_objective_id_for_a_report_is_a_clear_page(client_as):
    response = client_as(Role.VIEWER).get(f"/reports/download?objective={HUGE}&quarter=FY20-21 Q2")
    assert response.status_code == 404
    assert "There is no objective with id" in response.get_data(as_text=True)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_date_outside_the_calendar_on_the_coverage_page_says_so(client_as, day):
    response = client_as(Role.VIEWER).get(f"/coverage?date={day}")
    assert response.status_code == 400
    assert "is out of range: give a date from 1900 to 2999." in response.get_data(as_text=True)
