"""``notify run`` against a real SMTP server on loopback, with the demo at 2021-01-15."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.coverage.staff import departure_preview
from app.extensions import db
from app.models import StaffMember, Threat, User
from app.models.notifications import DigestSent, NotificationRun, RunLock, SentNotification
from app.models.user import Role
from app.notifications.service import save_preference
from app.threats.figures import overdue_reviews, reviews_due
from app.threats.service import update_threat
from tests.conftest import TEST_PASSWORD
from tests.notifications.conftest import free_port

TODAY = date(2021, 1, 15)


def _run(runner, *args):
    return runner.invoke(args=["notify", "run", "--no-webhooks", *args])


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _departure_with_team_manager() -> tuple[User, StaffMember, list[str]]:
    """Ines Kowalski (Data Persistence) leaves on 2021-01-29; the team has its own manager."""
    manager = User(email="dp.manager@frontline.example", name="Dana Persistence", role=Role.MANAGER)
    manager.set_password(TEST_PASSWORD)
    db.session.add(manager)
    db.session.flush()
    db.session.add(StaffMember(name="Dana Persistence", team="Data Persistence", user=manager))
    ines = db.session.scalar(select(StaffMember).where(StaffMember.name == "Ines Kowalski"))
    impact = departure_preview(ines, date(2021, 1, 29))
    ines.left_on = date(2021, 1, 29)
    db.session.commit()
    return manager, ines, [s.name for s in impact.new_spof_systems]


def test_one_digest_per_owner_of_an_overdue_review_naming_their_threats(app, demo, smtp, runner):
    result = _run(runner)
    assert result.exit_code == 0, result.output
    groups = reviews_due(TODAY)  # the register's own list of overdue reviews, by owner
    assert sum(len(g.threats) for g in groups) == overdue_reviews(TODAY) >= 5
    for group in groups:
        mails = smtp.to(group.owner.email)
        assert len(mails) == 1, group.owner.email
        text, html = smtp.text_of(mails[0]), smtp.html_of(mails[0])
        for threat in group.threats:
            assert threat.title in text
            assert f"/threats/{threat.id}" in text and f"/threats/{threat.id}" in html
    # A threat owned by someone else is not in a digest.
    security, admin = smtp.to("security@frontline.example"), smtp.to("admin@frontline.example")
    admin_titles = {t.title for g in groups if g.owner.email.startswith("admin") for t in g.threats}
    for title in admin_titles:
        assert title not in smtp.text_of(security[0])
    assert len({m["X-Envelope-To"] for m in smtp.messages}) == len(smtp.messages)
    assert admin and security


def test_departure_that_makes_a_spof_goes_to_the_team_manager_and_the_admins(
    app, demo, smtp, runner
):
    manager, ines, spof_systems = _departure_with_team_manager()
    assert spof_systems == ["Parser cache"]
    assert _run(runner).exit_code == 0
    (mail,) = smtp.to(manager.email)
    text = smtp.text_of(mail)
    assert "Ines Kowalski (Data Persistence) leaves on 2021-01-29" in text
    assert "becomes a SPOF: Parser cache" in text
    assert f"/staff/{ines.id}" in text
    assert "Ines Kowalski" in smtp.text_of(smtp.to("admin@frontline.example")[0])
    # The manager of another team is not told about it.
    for other in smtp.to("manager@frontline.example"):
        assert "Ines Kowalski" not in smtp.text_of(other)


def test_a_second_run_the_same_day_sends_nothing(app, demo, smtp, runner):
    _departure_with_team_manager()
    assert _run(runner).exit_code == 0
    sent = len(smtp.messages)
    told = _count(SentNotification)
    assert sent >= 3 and told > 0
    result = _run(runner)
    assert result.exit_code == 0
    assert "0 digest(s) sent" in result.output
    assert len(smtp.messages) == sent
    assert _count(SentNotification) == told
    assert _count(NotificationRun) == 2


def test_a_rescore_that_clears_a_review_drops_it_from_the_next_digest(app, demo, smtp, runner):
    assert _run(runner).exit_code == 0
    (first,) = smtp.to("security@frontline.example")
    threat = db.session.scalar(select(Threat).where(Threat.title.like("Kubernetes cluster%")))
    assert threat.title in smtp.text_of(first)
    update_threat(threat, residual_likelihood=2, next_review_on=None, author_id=None)
    db.session.commit()
    assert threat.next_review_on > TODAY
    # A day later: nothing new. A week later, the still-overdue reviews are told again.
    assert _run(runner, "--today", "2021-01-16").exit_code == 0
    assert len(smtp.to("security@frontline.example")) == 1
    assert _run(runner, "--today", "2021-01-22").exit_code == 0
    second = smtp.to("security@frontline.example")[-1]
    text = smtp.text_of(second)
    assert threat.title not in text
    assert "Legacy ticketing system without 2FA" in text


def test_a_changed_event_is_told_again_the_next_day(app, demo, smtp, runner):
    assert _run(runner).exit_code == 0
    threat = db.session.scalar(select(Threat).where(Threat.title.like("Kubernetes cluster%")))
    update_threat(threat, next_review_on=date(2021, 1, 12), author_id=None)
    db.session.commit()
    assert _run(runner, "--today", "2021-01-16").exit_code == 0
    second = smtp.to("security@frontline.example")[-1]
    assert len(smtp.to("security@frontline.example")) == 2
    text = smtp.text_of(second)
    assert "overdue since 2021-01-12" in text
    assert "Legacy ticketing" not in text  # unchanged, told yesterday


def test_a_user_who_turned_reminders_off_gets_nothing(app, demo, smtp, runner):
    save_preference(_user("security@frontline.example").id, "off", ["review"])
    db.session.commit()
    assert _run(runner).exit_code == 0
    assert smtp.to("security@frontline.example") == []
    assert smtp.to("admin@frontline.example")


def test_a_muted_kind_is_left_out_and_weekly_waits_a_week(app, demo, smtp, runner):
    manager = _user("manager@frontline.example")
    save_preference(manager.id, "weekly", ["kr_status"])  # acceptance reminders off
    db.session.commit()
    assert _run(runner).exit_code == 0
    (mail,) = smtp.to(manager.email)
    assert "acceptance" not in smtp.text_of(mail).lower()
    threat = db.session.scalar(select(Threat).where(Threat.title.like("Legacy ticketing%")))
    update_threat(threat, treatment="accept", author_id=None)
    save_preference(manager.id, "weekly", ["kr_status", "acceptance"])
    db.session.commit()
    assert _run(runner, "--today", "2021-01-16").exit_code == 0
    assert len(smtp.to(manager.email)) == 1  # weekly: the next digest waits
    assert _run(runner, "--today", "2021-01-22").exit_code == 0
    assert len(smtp.to(manager.email)) == 2
    assert "Legacy ticketing" in smtp.text_of(smtp.to(manager.email)[-1])


def test_an_unreachable_mail_server_is_a_clear_error_and_nothing_is_recorded(app, demo, runner):
    port = free_port()  # nothing listens there
    saved = app.config["MAIL_SERVER"], app.config["MAIL_PORT"]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        result = _run(runner)
    finally:
        app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = saved
    assert result.exit_code != 0
    assert f"Could not use the mail server at 127.0.0.1:{port}" in result.output
    assert _count(SentNotification) == 0
    assert _count(DigestSent) == 0
    run = db.session.scalar(select(NotificationRun))
    assert run.status == "error" and "Could not use the mail server" in run.error


def test_a_run_under_way_stops_a_second_one(app, demo, smtp, runner):
    if db.engine.dialect.name == "postgresql":
        from app.notifications.lock import run_lock

        holder = run_lock("notify")
    else:
        holder = None
        db.session.add(RunLock(name="notify", holder="another run"))
        db.session.commit()
    if holder is not None:
        holder.__enter__()
    try:
        result = _run(runner)
    finally:
        if holder is not None:
            holder.__exit__(None, None, None)
    assert result.exit_code != 0
    assert "Another “notify” run is under way" in result.output
    assert smtp.messages == []
    assert _count(SentNotification) == 0


def test_the_unsubscribe_link_works_signed_out_for_that_user_only(app, demo, smtp, runner, client):
    assert _run(runner).exit_code == 0
    (mail,) = smtp.to("security@frontline.example")
    link = next(
        line.split(": ", 1)[1] for line in smtp.text_of(mail).splitlines() if "Stop these" in line
    )
    path = link.replace("http://localhost:5000", "")
    assert mail["List-Unsubscribe"].strip() == f"<{link}>"
    page = client.get(path)
    assert page.status_code == 200 and "security@frontline.example" in page.text
    done = client.post(path)
    assert done.status_code == 200 and "are off" in done.text
    assert db.session.get(User, _user("security@frontline.example").id)
    from app.notifications.service import preference_of

    assert preference_of(_user("security@frontline.example").id).cadence == "off"
    assert preference_of(_user("admin@frontline.example").id).cadence == "daily"
    # A tampered token is refused and changes nothing.
    assert client.post(path[:-3] + "abc").status_code == 404
    assert client.get("/reminders/unsubscribe/x").status_code == 404
    # The link opens nothing else: the register still wants a sign-in.
    assert client.get("/threats").status_code == 302


def test_the_admin_page_shows_the_last_run_and_its_counts(app, demo, smtp, runner, client):
    assert _run(runner).exit_code == 0
    from tests.conftest import sign_in

    assert sign_in(client, "admin@frontline.example").status_code == 302
    page = client.get("/admin/reminders")
    assert page.status_code == 200
    run = db.session.scalar(select(NotificationRun))
    assert run.status == "ok" and run.digests == len(smtp.messages) and run.events >= 7
    table = page.text.split('data-testid="runs"', 1)[1].split("</table>", 1)[0]
    assert f"<td>{run.events}</td><td>{run.digests}</td>" in table
    assert "2021-01-15" in table


def test_slipping_countermeasures_go_to_their_owners_near_the_quarter_end(app, demo, smtp, runner):
    from app.countermeasures.figures import slipped_countermeasures
    from app.domain.quarters import Quarter

    slipping = [
        c
        for c in slipped_countermeasures(Quarter(2020, 3))
        if c.owner is not None and c.status.name != "RETIRED"
    ]
    assert slipping
    assert _run(runner, "--today", "2021-01-15").exit_code == 0
    assert "slipping" not in " ".join(smtp.text_of(m) for m in smtp.messages).lower()
    assert _run(runner, "--today", "2021-03-25").exit_code == 0
    for cm in slipping:
        text = smtp.text_of(smtp.to(cm.owner.email)[-1])
        assert "Countermeasures slipping this quarter" in text
        assert cm.title in text and f"/countermeasures/{cm.id}" in text


def test_a_key_result_without_a_status_goes_to_the_managers(app, demo, smtp, runner):
    assert _run(runner).exit_code == 0
    (mail,) = smtp.to("manager@frontline.example")
    text = smtp.text_of(mail)
    assert "Key results without a status after their quarter" in text
    assert "no status for FY20-21 Q2, which ended 2020-12-31" in text


def _indicator(n: int, confidence: int) -> dict:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-00000000000{n}",
        "created": "2021-01-10T00:00:00.000Z",
        "modified": "2021-01-10T00:00:00.000Z",
        "name": f"Indicator {n} at {confidence}",
        "confidence": confidence,
        "pattern": "[domain-name:value = 'bad.example']",
        "pattern_type": "stix",
        "valid_from": "2021-01-10T00:00:00Z",
    }


def test_new_feed_candidates_above_the_level_go_to_the_security_team_once(app, users, smtp, runner):
    import json

    from app.feeds.service import import_bundle, register_feed
    from app.notifications.service import save_settings

    feed = register_feed("CERT", "stix")
    bundle = {
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-000000000001",
        "objects": [_indicator(1, 80), _indicator(2, 10)],
    }
    import_bundle(feed, json.dumps(bundle).encode())
    save_settings({}, "medium")
    db.session.commit()
    app.config["FRONTLINE_TODAY"] = "2021-01-15"
    try:
        assert _run(runner).exit_code == 0
        (mail,) = smtp.messages
        assert mail["X-Envelope-To"] == users[Role.SECURITY].email
        text = smtp.text_of(mail)
        assert "Indicator 1 at 80" in text and "confidence 80" in text
        assert "Indicator 2 at 10" not in text
        assert _run(runner, "--today", "2021-01-29").exit_code == 0
        assert len(smtp.messages) == 1  # news is told once
    finally:
        app.config["FRONTLINE_TODAY"] = None
