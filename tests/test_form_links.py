"""Forms one click away: plan a countermeasure from a threat, fix a departure's gaps."""

from __future__ import annotations

import re
from datetime import date

from app.extensions import db
from app.models.systems import Responsibility, ResponsibilityKind, StaffMember, System
from app.models.threats import Threat
from app.models.user import Role
from app.threats.risk import rescore_threat


def test_a_threat_page_plans_a_countermeasure_for_it(client_as, users):
    threat = Threat(title="Cache-busting flood", identified_on=date(2021, 1, 4))
    db.session.add(threat)
    rescore_threat(
        threat, inherent=(5, 5), residual=(4, 4), changed_on=date(2021, 1, 4), author_id=None
    )
    db.session.commit()
    security = client_as(Role.SECURITY)
    page = security.get(f"/threats/{threat.id}").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" data-testid="plan-countermeasure"', page).group(1)
    assert link == f"/countermeasures/new?threat={threat.id}"
    form = security.get(link).get_data(as_text=True)
    threats = form[form.index('name="threat_ids"') :]
    threats = threats[: threats.index("</select>")]
    option = re.search(rf'<option[^>]*value="{threat.id}"[^>]*>', threats).group(0)
    assert "selected" in option
    # Readers see the threat, not the button.
    viewer = client_as(Role.VIEWER).get(f"/threats/{threat.id}").get_data(as_text=True)
    assert "plan-countermeasure" not in viewer


def test_a_departure_warning_offers_a_backup_and_a_position(client_as, users):
    dns = System(name="DNS", team="SRE", in_production=True)
    ana = StaffMember(name="Ana", team="SRE")
    bob = StaffMember(name="Bob", team="SRE")
    db.session.add_all([dns, ana, bob])
    db.session.flush()
    for person in (ana, bob):
        db.session.add(
            Responsibility(
                staff_member=person,
                system=dns,
                since=date(2019, 1, 1),
                kind=ResponsibilityKind.PRIMARY,
            )
        )
    db.session.commit()
    page = client_as(Role.MANAGER).get(f"/staff/{ana.id}").get_data(as_text=True)
    impact = page[page.index('data-testid="impact"') :]
    assert f'href="/responsibilities/new?system_id={dns.id}"' in impact
    assert f'href="/positions/new?system_id={dns.id}"' in impact
    viewer = client_as(Role.VIEWER).get(f"/staff/{ana.id}").get_data(as_text=True)
    assert "add-backup" not in viewer and "open-position" not in viewer
