"""The demo tells the deck's story: 4 countermeasures deployed by the Q2 review, goal 6."""

from __future__ import annotations

from app.countermeasures import figures
from app.domain.quarters import parse_quarter
from app.models.user import Role
from app.seed import load_demo
from tests.conftest import sign_in


def test_demo_fy20_21_q2_shows_four_deployed_to_date_against_six(app):
    context = load_demo()
    q1, q2, q3 = (parse_quarter(f"FY20-21 Q{n}") for n in (1, 2, 3))
    assert figures.countermeasures_deployed(q1) == 0
    assert figures.countermeasures_deployed(q2) == 4
    assert figures.countermeasures_deployed_to_date(q2) == 4
    assert figures.yearly_goal() == 6 and figures.quarter_target() == 2
    top = figures.top_threats_treated(q2, 2)
    assert len(top) == 2 and all(row.treated for row in top)
    reductions = [figures.residual_reduction(cm) for cm in figures.deployed_in_quarter(q2)]
    assert all(r >= 0 for r in reductions) and sum(reductions) > 0
    assert len(figures.slipped_countermeasures(q2)) == 1
    assert len(figures.slipped_countermeasures(q3)) == 2  # planned for Q3, not deployed yet

    client = app.test_client()
    viewer = context["users"][Role.VIEWER]
    sign_in(client, viewer.email, context["passwords"][viewer.email])
    page = client.get("/quarters/FY20-21 Q2").get_data(as_text=True)
    to_date = page.split('data-testid="deployed-to-date">', 1)[1].split("</div>", 1)[0]
    assert to_date == '4 <span class="fs-5 text-muted">of 6</span>'
    assert "yearly goal: 6 countermeasures deployed" in page
