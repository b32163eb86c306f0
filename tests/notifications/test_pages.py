"""The reminder pages: a user's choices, the admin's settings and webhooks."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models.notifications import NotificationPreference, Webhook
from app.models.setting import get_setting
from app.models.user import Role
from app.notifications.service import preference_of, reminder_days


def test_a_user_chooses_cadence_and_kinds_on_their_account_page(client_as, users):
    client = client_as(Role.VIEWER)
    page = client.get("/account/reminders")
    assert page.status_code == 200
    assert 'value="daily" checked' in page.text or "checked" in page.text
    response = client.post("/account/reminders", data={"cadence": "weekly", "kinds": ["review"]})
    assert response.status_code == 302
    pref = preference_of(users[Role.VIEWER].id)
    assert pref.cadence == "weekly"
    assert "review" not in pref.muted_kinds and "departure" in pref.muted_kinds
    # Other users keep their own choice.
    assert preference_of(users[Role.ADMIN].id).cadence == "daily"


def test_a_bad_choice_is_refused_beside_the_field_and_changes_nothing(client_as, users):
    client = client_as(Role.MANAGER)
    response = client.post("/account/reminders", data={"cadence": "hourly", "kinds": ["review"]})
    assert response.status_code == 422
    assert 'data-field-error="cadence"' in response.text
    response = client.post("/account/reminders", data={"cadence": "daily", "kinds": ["spam"]})
    assert response.status_code == 422
    assert 'data-field-error="kinds"' in response.text
    assert db.session.scalar(select(func.count()).select_from(NotificationPreference)) == 0


def test_admin_sets_days_per_rule(client_as):
    client = client_as(Role.ADMIN)
    assert client.get("/admin/reminders").status_code == 200
    data = {
        "days_review": "3",
        "days_acceptance": "20",
        "days_slipping": "10",
        "days_departure": "45",
        "days_kr_status": "5",
        "candidate_level": "high",
    }
    assert client.post("/admin/reminders/settings", data=data).status_code == 302
    assert reminder_days() == {
        "review": 3,
        "acceptance": 20,
        "slipping": 10,
        "departure": 45,
        "kr_status": 5,
    }
    bad = {**data, "days_review": "-1", "days_departure": "x"}
    response = client.post("/admin/reminders/settings", data=bad)
    assert response.status_code == 422
    assert 'data-field-error="days_review"' in response.text
    assert 'data-field-error="days_departure"' in response.text
    assert get_setting("reminder_days")["review"] == 3


def test_settings_page_links_reminders(client_as):
    assert "/admin/reminders" in client_as(Role.ADMIN).get("/admin/settings").text


def test_a_webhook_url_must_be_http_or_https(client_as):
    client = client_as(Role.ADMIN)
    for url in ("ftp://hooks.example/x", "file:///etc/passwd", "javascript:alert(1)", "hooks"):
        response = client.post("/admin/reminders/webhooks", data={"name": "Chat", "url": url})
        assert response.status_code == 422, url
        assert "Use an http:// or https:// address" in response.text
    assert db.session.scalar(select(func.count()).select_from(Webhook)) == 0
    response = client.post(
        "/admin/reminders/webhooks", data={"name": "Chat", "url": "https://hooks.example/x"}
    )
    assert response.status_code == 302
    hook = db.session.scalar(select(Webhook))
    assert hook.url == "https://hooks.example/x" and len(hook.secret) >= 32
    again = client.post(
        "/admin/reminders/webhooks", data={"name": "chat", "url": "https://hooks.example/y"}
    )
    assert again.status_code == 422 and "already exists" in again.text


def test_only_admins_see_the_reminders_admin_page(client_as):
    assert client_as(Role.SECURITY).get("/admin/reminders").status_code == 403
