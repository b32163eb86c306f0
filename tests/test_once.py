"""A form saved once is not saved again when the same page is sent a second time."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.extensions import db
from app.models.systems import System
from app.models.user import Role


def _token(html: str) -> str:
    return re.search(r'name="_once" value="([^"]+)"', html).group(1)


def _systems() -> int:
    return db.session.scalar(select(func.count()).select_from(System))


def test_the_same_form_sent_twice_saves_once_and_leads_to_the_first_result(client_as):
    manager = client_as(Role.MANAGER)
    token = _token(manager.get("/systems/new").get_data(as_text=True))
    data = {"name": "DNS", "team": "SRE", "in_production": "y", "_once": token}
    first = manager.post("/systems/new", data=data)
    assert first.status_code == 302 and _systems() == 1
    again = manager.post("/systems/new", data=data)
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert _systems() == 1
    page = manager.get(again.headers["Location"]).get_data(as_text=True)
    assert "already saved" in page


def test_a_refused_form_keeps_its_token_for_the_corrected_send(client_as):
    manager = client_as(Role.MANAGER)
    token = _token(manager.get("/systems/new").get_data(as_text=True))
    refused = manager.post("/systems/new", data={"name": "", "_once": token})
    assert refused.status_code == 200 and _systems() == 0
    saved = manager.post("/systems/new", data={"name": "DNS", "team": "SRE", "_once": token})
    assert saved.status_code == 302 and _systems() == 1


def test_two_forms_opened_separately_save_two_records(client_as):
    manager = client_as(Role.MANAGER)
    for name in ("DNS", "Swift"):
        token = _token(manager.get("/systems/new").get_data(as_text=True))
        assert manager.post("/systems/new", data={"name": name, "_once": token}).status_code == 302
    assert _systems() == 2
