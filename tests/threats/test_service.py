from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.domain.scoring import Level
from app.extensions import db
from app.models.audit import AuditEntry
from app.models.threats import (
    Tag,
    Threat,
    ThreatScoreChange,
    ThreatSearchTerm,
    ThreatStatus,
    Treatment,
)
from app.models.user import Role
from app.threats import archive, service, settings, states
from app.threats.risk import REVIEW_INTERVALS_KEY, RISK_MATRIX_KEY, review_intervals, risk_matrix
from app.validation import ConflictError, InputError


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_keeps_first_assessment_links_tags_and_default_review(register):
    threat = register.threat()
    assert threat.inherent_score == 16 and threat.residual_score == 9
    assert [c.changed_on for c in threat.score_changes] == [date(2020, 7, 15)]
    assert [s.name for s in threat.systems] == ["Edge caching (ATS/Varnish)"]
    assert [t.name for t in threat.tags] == ["availability", "edge"]
    # Residual 9 is medium: reviewed every 180 days from the identified date by default.
    assert threat.next_review_on == date(2020, 7, 15) + timedelta(days=180)
    assert threat.status is ThreatStatus.IDENTIFIED
    creates = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "Threat")).all()
    assert [e.action for e in creates] == ["create"]
    assert creates[0].new_values["residual_score"] == 9


def test_update_rescore_keeps_history_and_supersedes_the_previous_change(register, users):
    threat = register.threat()
    service.update_threat(
        threat,
        residual_likelihood=2,
        residual_impact=2,
        scored_on=date(2020, 10, 5),
        author_id=users[Role.SECURITY].id,
        version=threat.version,
    )
    db.session.commit()
    first, second = threat.score_changes
    assert (first.residual_score, first.superseded_on) == (9, date(2020, 10, 5))
    assert (second.residual_score, second.superseded_on) == (4, None)
    assert threat.residual_score == 4


def test_update_without_score_change_adds_no_history(register, users):
    threat = register.threat()
    service.update_threat(threat, title="DDoS on the edge", author_id=users[Role.SECURITY].id)
    db.session.commit()
    assert len(threat.score_changes) == 1
    assert (
        db.session.scalar(
            select(func.count()).where(
                ThreatSearchTerm.term == "the", ThreatSearchTerm.threat_id == threat.id
            )
        )
        == 1
    )


def test_stale_version_is_a_conflict_and_nothing_is_written(register, users):
    threat = register.threat()
    stale = threat.version
    service.update_threat(
        threat, title="Changed by Alice", author_id=users[Role.SECURITY].id, version=stale
    )
    db.session.commit()
    with pytest.raises(ConflictError):
        service.update_threat(
            threat, title="Changed by Bob", author_id=users[Role.ADMIN].id, version=stale
        )
    db.session.rollback()
    assert db.session.get(Threat, threat.id).title == "Changed by Alice"


@pytest.mark.parametrize("value", [0, 6, "high", "", None, True, "3.5", "-1"])
def test_likelihood_outside_the_matrix_is_refused(register, value):
    with pytest.raises(InputError) as error:
        service.create_threat(author_id=None, **register.values(inherent_likelihood=value))
    assert error.value.errors["inherent_likelihood"] == (
        "Inherent likelihood must be a whole number from 1 to 5."
    )
    db.session.rollback()
    assert _count(Threat) == 0 and _count(ThreatScoreChange) == 0


def test_residual_above_inherent_is_refused(register):
    with pytest.raises(InputError) as error:
        service.create_threat(
            author_id=None, **register.values(residual_likelihood=5, residual_impact=5)
        )
    assert "cannot exceed the inherent score" in error.value.errors["residual_impact"]


def test_acceptance_needs_rationale_approver_and_expiry(register, users):
    values = register.values(treatment="accept", treatment_rationale="")
    with pytest.raises(InputError) as error:
        service.create_threat(author_id=None, **values)
    assert set(error.value.errors) == {
        "treatment_rationale",
        "acceptance_approver_id",
        "acceptance_expires_on",
    }
    # A security user may not approve an acceptance: a manager or admin must.
    values.update(
        treatment_rationale="Cheaper to accept",
        acceptance_approver_id=users[Role.SECURITY].id,
        acceptance_expires_on="2021-06-30",
    )
    with pytest.raises(InputError) as error:
        service.create_threat(author_id=None, **values)
    assert error.value.errors == {
        "acceptance_approver_id": "The acceptance must be approved by a manager or an admin."
    }
    db.session.rollback()
    assert _count(Threat) == 0
    values["acceptance_approver_id"] = users[Role.MANAGER].id
    threat = service.create_threat(author_id=None, **values)
    assert threat.treatment is Treatment.ACCEPT
    assert threat.acceptance_expires_on == date(2021, 6, 30)
    assert not states.acceptance_needs_decision(threat, date(2021, 6, 30))
    assert states.acceptance_needs_decision(threat, date(2021, 7, 1))


def test_leaving_acceptance_clears_approver_and_expiry(register, users):
    threat = register.threat(
        treatment="accept",
        treatment_rationale="ok",
        acceptance_approver_id=users[Role.MANAGER].id,
        acceptance_expires_on=date(2021, 3, 1),
    )
    service.update_threat(threat, treatment="mitigate", author_id=None)
    assert threat.acceptance_approver_id is None and threat.acceptance_expires_on is None


def test_review_date_before_identified_date_is_refused(register):
    with pytest.raises(InputError) as error:
        service.create_threat(author_id=None, **register.values(next_review_on=date(2020, 7, 1)))
    assert error.value.errors == {
        "next_review_on": "The next review cannot be before the identified date."
    }
    db.session.rollback()
    assert _count(Threat) == 0


def test_description_too_long_is_refused(register):
    with pytest.raises(InputError) as error:
        service.create_threat(author_id=None, **register.values(description="x" * 1_048_576))
    assert error.value.errors["description"] == (
        "The description is too long: 1,048,576 characters, at most 20,000."
    )


def test_status_in_treatment_needs_a_treatment(register):
    with pytest.raises(InputError) as error:
        service.create_threat(author_id=None, **register.values(status="in_treatment"))
    assert "Decide the treatment" in error.value.errors["treatment"]


def test_rescore_cannot_go_back_before_the_last_assessment_or_into_the_future(register):
    threat = register.threat()
    with pytest.raises(InputError) as error:
        service.update_threat(threat, residual_impact=2, scored_on=date(2020, 7, 1), author_id=None)
    assert "before the last one (2020-07-15)" in error.value.errors["scored_on"]
    with pytest.raises(InputError) as error:
        service.update_threat(threat, residual_impact=2, scored_on=date(2021, 2, 1), author_id=None)
    assert "future" in error.value.errors["scored_on"]


def test_unknown_systems_category_and_enum_values_are_refused(register):
    with pytest.raises(InputError) as error:
        service.create_threat(
            author_id=None,
            **register.values(system_ids=[999], category_id=999, status="bogus", source="x"),
        )
    assert set(error.value.errors) == {"system_ids", "category_id", "status", "source"}


def test_tags_are_normalised_and_reused(register):
    first = register.threat(tags="Edge,  availability ,edge")
    second = register.threat(title="Other", tags=["EDGE"])
    assert [t.name for t in first.tags] == ["availability", "edge"]
    assert second.tags[0].id == first.tags[1].id
    assert _count(Tag) == 2


def test_archive_restore_and_purge(register, users):
    threat = register.threat()
    with pytest.raises(InputError):
        archive.purge_threat(threat)
    archive.archive_threat(threat)
    db.session.commit()
    assert threat.archived_at is not None
    with pytest.raises(InputError):
        archive.archive_threat(threat)
    archive.restore_threat(threat)
    archive.archive_threat(threat)
    threat_id = threat.id
    archive.purge_threat(threat)
    db.session.commit()
    assert db.session.get(Threat, threat_id) is None
    assert _count(ThreatScoreChange) == 0 and _count(ThreatSearchTerm) == 0
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "Threat", AuditEntry.entity_id == str(threat_id))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["create", "update", "update", "update", "delete"]


def test_category_names_are_unique_ignoring_case(register):
    with pytest.raises(InputError) as error:
        settings.save_category("ddos")
    assert "already exists" in error.value.errors["name"]
    assert settings.save_category("Supply chain").active


def test_risk_settings_are_validated_and_stored(register):
    intervals = {Level.LOW: 300, Level.MEDIUM: 120, Level.HIGH: 60, Level.CRITICAL: 14}
    with pytest.raises(InputError) as error:
        settings.save_risk_settings(
            "A\nB\nC\nD\nE",
            "A\nB\nC\nD\nE",
            {Level.MEDIUM: 10, Level.HIGH: 8, Level.CRITICAL: 20},
            intervals,
        )
    assert "strictly increase" in error.value.errors["threshold_critical"]
    with pytest.raises(InputError) as error:
        settings.save_risk_settings(
            "A\nB\nC\nD\nE", "A\nB\nC\nD\nE", {Level.CRITICAL: 30}, intervals
        )
    assert "maximum score 25" in error.value.errors["threshold_critical"]
    register.threat()  # scored with likelihood 4: the scale cannot shrink below it
    with pytest.raises(InputError) as error:
        settings.save_risk_settings("Low\nHigh", "Low\nMid\nHigh", {Level.HIGH: 4}, intervals)
    assert "keep at least 4 labels" in error.value.errors["likelihood_labels"]
    db.session.rollback()
    assert risk_matrix().max_likelihood == 5
    settings.save_risk_settings(
        "R\nU\nP\nL\nA\nX", "N\nM\nMo\nMa\nS", {Level.MEDIUM: 6, Level.HIGH: 12}, intervals
    )
    db.session.commit()
    matrix = risk_matrix()
    assert matrix.max_likelihood == 6 and matrix.levels == (Level.LOW, Level.MEDIUM, Level.HIGH)
    assert review_intervals()[Level.CRITICAL] == 14
    assert RISK_MATRIX_KEY and REVIEW_INTERVALS_KEY
