"""Business rules of the threat register: create, edit, score, treat, archive, purge.

Every function takes plain values (the forms, the API and the CSV import all call
them), checks them, changes the session, flushes, and raises
``app.validation.InputError({field: message})`` when something is wrong, before
anything is changed. The caller commits (or rolls back on error).

Accepted keys of ``values`` (create: missing keys take the default shown; update:
missing keys keep the threat's current value):

- ``title`` (str, required, at most 200 characters)
- ``description`` (str, at most 20,000 characters; default "")
- ``category_id`` (int or None)
- ``source`` (``ThreatSource`` or its name/value, e.g. "incident"; default internal)
- ``feed_id`` (int or None; only for source ``threat_intel``)
- ``owner_id`` (int or None: an active user)
- ``status`` (``ThreatStatus`` or name/value; default identified)
- ``treatment`` (``Treatment`` or name/value, or None/"" for undecided)
- ``treatment_rationale`` (str, at most 5,000 characters)
- ``acceptance_approver_id`` (int; required for ``accept``: a manager or admin)
- ``acceptance_expires_on`` (date or ISO text; required for ``accept``)
- ``identified_on`` (date or ISO text; default today; not in the future)
- ``next_review_on`` (date or ISO text; None or "" = identified date (create) or today
  (update) plus the review interval of the residual level)
- ``inherent_likelihood``, ``inherent_impact``, ``residual_likelihood``,
  ``residual_impact`` (int or digit text, 1..size of the matrix; required on create).
  A change to any of them records a score change (history) dated ``scored_on``.
- ``scored_on`` (date or ISO text; default: identified date on create, today on update;
  not before the last assessment, not in the future)
- ``score_note`` (str, at most 300 characters: why the scores changed)
- ``status_changed_on`` (date or ISO text; default today): the day a change of status,
  treatment, acceptance or next review took effect; not in the future, not before the
  threat's latest dated fact. Each such change is a dated fact (``ThreatStateChange``).
- ``scoring_method`` ("matrix" (default), "cvss", "owasp" or "dread"; update: default
  the threat's current method) and ``scoring_inputs`` (the CVSS vector, or the factors
  as a mapping or JSON text): a method other than the matrix gives the inherent
  likelihood and impact (``app.domain.scoring_methods``); given as well, they must agree.
  The residual risk stays on the matrix (countermeasures' effect is judged there).
- ``system_ids`` (list of int: the affected systems)
- ``tags`` (list of str, or one comma-separated str; at most 20 tags of 60 characters)
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, select, update

from app import fiscal
from app.domain.scoring import Level, level_for, next_review_date
from app.domain.scoring_methods import Assessment, Method, MethodError, assess, parse_method
from app.domain.threat_history import refusal_for_date
from app.extensions import db
from app.models.base import utcnow
from app.models.countermeasures import Countermeasure, countermeasure_threats
from app.models.systems import System
from app.models.threats import (
    Tag,
    Threat,
    ThreatCategory,
    ThreatFeed,
    ThreatSearchTerm,
    ThreatSource,
    ThreatStatus,
    Treatment,
)
from app.models.user import Role, User
from app.risk import (
    StateChangeKind,
    last_fact_on,
    method_rules,
    record_state,
    rescore_threat,
    review_intervals,
    risk_matrix,
)
from app.threats import search
from app.validation import ConflictError, InputError, check_date_range

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 20_000
RATIONALE_MAX_LENGTH = 5_000
NOTE_MAX_LENGTH = 300
TAG_MAX_LENGTH = 60
MAX_TAGS = 20
SCORE_FIELDS = ("inherent_likelihood", "inherent_impact", "residual_likelihood", "residual_impact")
APPROVER_ROLES = (Role.MANAGER, Role.ADMIN)
# Statuses that only make sense once a treatment has been decided.
NEEDS_TREATMENT = (ThreatStatus.IN_TREATMENT, ThreatStatus.MONITORING)


# ---------------------------------------------------------------- parsing plain values


def _enum(cls: type[enum.Enum], value, field: str, errors: dict, label: str):
    if value is None or value == "":
        return None
    if isinstance(value, cls):
        return value
    text = str(value).strip()
    for member in cls:
        if text.lower() in (member.name.lower(), str(member.value).lower()):
            return member
    choices = ", ".join(str(m.value) for m in cls)
    errors[field] = f"Unknown {label} {text[:40]!r}; choose one of {choices}."
    return None


def _date(value, field: str, errors: dict) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        try:
            check_date_range(field, value)
        except InputError as error:
            errors.update(error.errors)
            return None
        return value
    try:
        return fiscal.parse_date_or_none(str(value)[:40])
    except ValueError as error:
        errors[field] = str(error)
        return None


def _optional_int(value, field: str, errors: dict, label: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors[field] = f"Choose a valid {label}."
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.isdigit() and len(text) < 10:
        return int(text)
    errors[field] = f"Choose a valid {label}."
    return None


def _score_axis(value, field: str, maximum: int, errors: dict, label: str) -> int | None:
    message = f"{label} must be a whole number from 1 to {maximum}."
    if value is None or value == "" or isinstance(value, bool):
        errors[field] = message
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not (text.isdigit() and len(text) < 4):
            errors[field] = message
            return None
        number = int(text)
    if not 1 <= number <= maximum:
        errors[field] = message
        return None
    return number


def _text(value, field: str, maximum: int, errors: dict, label: str) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > maximum:
        errors[field] = f"{label} is too long: {len(text):,} characters, at most {maximum:,}."
    return text


def _tags(value, errors: dict) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in items:
        name = " ".join(str(item).split()).lower()
        if not name:
            continue
        if len(name) > TAG_MAX_LENGTH:
            errors["tags"] = f"Each tag may have at most {TAG_MAX_LENGTH} characters."
            return []
        if name not in names:
            names.append(name)
    if len(names) > MAX_TAGS:
        errors["tags"] = f"At most {MAX_TAGS} tags per threat."
        return []
    return names


def _system_ids(value, errors: dict) -> list[int]:
    if value is None or value == "":
        return []
    items = [value] if isinstance(value, int | str) else list(value)
    ids: list[int] = []
    for item in items:
        number = _optional_int(item, "system_ids", errors, "system")
        if number is None:
            errors["system_ids"] = "Choose systems from the list."
            return []
        if number not in ids:
            ids.append(number)
    return ids


# ---------------------------------------------------------------- the rules


def _current_values(threat: Threat) -> dict:
    return {
        "title": threat.title,
        "description": threat.description,
        "category_id": threat.category_id,
        "source": threat.source,
        "feed_id": threat.feed_id,
        "owner_id": threat.owner_id,
        "status": threat.status,
        "treatment": threat.treatment,
        "treatment_rationale": threat.treatment_rationale,
        "acceptance_approver_id": threat.acceptance_approver_id,
        "acceptance_expires_on": threat.acceptance_expires_on,
        "identified_on": threat.identified_on,
        "next_review_on": threat.next_review_on,
        "inherent_likelihood": threat.inherent_likelihood,
        "inherent_impact": threat.inherent_impact,
        "residual_likelihood": threat.residual_likelihood,
        "residual_impact": threat.residual_impact,
        "scoring_method": threat.scoring_method or Method.MATRIX.value,
        "scoring_inputs": threat.scoring_inputs or "",
        "system_ids": [s.id for s in threat.systems],
        "tags": [t.name for t in threat.tags],
    }


class References:
    """What the rules look up: today, the risk matrix, categories, feeds, users, systems.

    One of these reads the database as each rule needs it; the CSV import hands the rules
    one loaded once for the whole file (``app.transfer.entities``), so checking 100,000
    rows runs the same rules without a query per row.
    """

    def __init__(self) -> None:
        self.today = fiscal.today()
        self.matrix = risk_matrix()
        self._intervals = None
        self._method_rules = None

    @property
    def method_rules(self):
        if self._method_rules is None:
            self._method_rules = method_rules(self.matrix)
        return self._method_rules

    @property
    def intervals(self):
        if self._intervals is None:
            self._intervals = review_intervals()
        return self._intervals

    def category(self, category_id: int):
        """The category (``.name``, ``.active``) or None."""
        return db.session.get(ThreatCategory, category_id)

    def feed_exists(self, feed_id: int) -> bool:
        return db.session.get(ThreatFeed, feed_id) is not None

    def user(self, user_id: int):
        """The user (``.role``, ``.is_active_account``) or None."""
        return db.session.get(User, user_id)

    def systems_found(self, system_ids: list[int]) -> int:
        return (
            db.session.scalar(
                select(func.count()).select_from(System).where(System.id.in_(system_ids))
            )
            or 0
        )


def _method_assessment(values: dict, refs: References, errors: dict) -> Assessment | None:
    """What the scoring method makes of its inputs (None for the matrix, or when refused)."""
    try:
        method = parse_method(values.get("scoring_method"))
    except MethodError as error:
        errors["scoring_method"] = error.message
        return None
    if method is Method.MATRIX:
        return None
    try:
        return assess(method, values.get("scoring_inputs"), refs.method_rules)
    except MethodError as error:
        errors["scoring_inputs"] = error.message
        return None


def assess_inputs(method, inputs, refs: References | None = None) -> Assessment | None:
    """What ``method`` makes of ``inputs`` with today's rules, nothing written (the form's
    "work out the cell"); None for the matrix. Raises InputError."""
    errors: dict[str, str] = {}
    assessment = _method_assessment(
        {"scoring_method": method, "scoring_inputs": inputs}, refs or References(), errors
    )
    if errors:
        raise InputError(errors)
    return assessment


def _check(
    values: dict,
    threat: Threat | None,
    refs: References | None = None,
    given: dict | None = None,
) -> dict:
    """Parse and check every value; returns clean values or raises InputError.

    ``given``: the values the caller named (an update merges them into the threat's
    current ones): an inherent likelihood or impact given beside a scoring method must
    agree with it.
    """
    given = values if given is None else given
    errors: dict[str, str] = {}
    refs = refs or References()
    today = refs.today
    matrix = refs.matrix
    clean: dict = {}

    clean["title"] = _text(values.get("title"), "title", TITLE_MAX_LENGTH, errors, "The title")
    if not clean["title"] and "title" not in errors:
        errors["title"] = "Give the threat a title."
    clean["description"] = _text(
        values.get("description"), "description", DESCRIPTION_MAX_LENGTH, errors, "The description"
    )

    category_id = _optional_int(values.get("category_id"), "category_id", errors, "category")
    if category_id is not None:
        category = refs.category(category_id)
        if category is None:
            errors["category_id"] = "Choose a category from the list."
        elif not category.active and (threat is None or threat.category_id != category_id):
            errors["category_id"] = f"The category {category.name} is no longer in use."
    clean["category_id"] = category_id

    source = _enum(ThreatSource, values.get("source"), "source", errors, "source")
    clean["source"] = source or ThreatSource.INTERNAL
    feed_id = _optional_int(values.get("feed_id"), "feed_id", errors, "feed")
    if feed_id is not None:
        if clean["source"] is not ThreatSource.THREAT_INTEL:
            errors["feed_id"] = "A feed applies only to threats from a threat-intelligence feed."
        elif not refs.feed_exists(feed_id):
            errors["feed_id"] = "Choose a feed from the list."
    clean["feed_id"] = feed_id

    owner_id = _optional_int(values.get("owner_id"), "owner_id", errors, "owner")
    if owner_id is not None:
        owner = refs.user(owner_id)
        if owner is None or (
            not owner.is_active_account and owner_id != getattr(threat, "owner_id", None)
        ):
            errors["owner_id"] = "Choose an active user as owner."
    clean["owner_id"] = owner_id

    status = _enum(ThreatStatus, values.get("status"), "status", errors, "status")
    clean["status"] = status or ThreatStatus.IDENTIFIED
    treatment = _enum(Treatment, values.get("treatment"), "treatment", errors, "treatment")
    clean["treatment"] = treatment
    clean["treatment_rationale"] = _text(
        values.get("treatment_rationale"),
        "treatment_rationale",
        RATIONALE_MAX_LENGTH,
        errors,
        "The rationale",
    )
    if clean["status"] in NEEDS_TREATMENT and treatment is None and "treatment" not in errors:
        errors["treatment"] = (
            f"Decide the treatment before setting the status to {clean['status'].label}."
        )

    identified_on = _date(values.get("identified_on"), "identified_on", errors)
    if identified_on is None and "identified_on" not in errors:
        identified_on = today if threat is None else threat.identified_on
    if identified_on is not None and identified_on > today:
        errors["identified_on"] = "The identified date cannot be in the future."
    clean["identified_on"] = identified_on

    approver_id = _optional_int(
        values.get("acceptance_approver_id"), "acceptance_approver_id", errors, "approver"
    )
    expires_on = _date(values.get("acceptance_expires_on"), "acceptance_expires_on", errors)
    if treatment is Treatment.ACCEPT:
        if not clean["treatment_rationale"] and "treatment_rationale" not in errors:
            errors["treatment_rationale"] = "Explain why the risk is accepted."
        if approver_id is None:
            errors.setdefault(
                "acceptance_approver_id", "Name the manager or admin who approves the acceptance."
            )
        else:
            approver = refs.user(approver_id)
            if approver is None or approver.role not in APPROVER_ROLES:
                errors["acceptance_approver_id"] = (
                    "The acceptance must be approved by a manager or an admin."
                )
        if expires_on is None:
            errors.setdefault(
                "acceptance_expires_on",
                "Give the date the acceptance expires (it is reviewed then).",
            )
        elif identified_on is not None and expires_on <= identified_on:
            errors["acceptance_expires_on"] = (
                "The acceptance must expire after the identified date."
            )
        clean["acceptance_approver_id"] = approver_id
        clean["acceptance_expires_on"] = expires_on
    else:
        clean["acceptance_approver_id"] = None
        clean["acceptance_expires_on"] = None

    labels = {
        "inherent_likelihood": ("Inherent likelihood", matrix.max_likelihood),
        "inherent_impact": ("Inherent impact", matrix.max_impact),
        "residual_likelihood": ("Residual likelihood", matrix.max_likelihood),
        "residual_impact": ("Residual impact", matrix.max_impact),
    }
    assessment = _method_assessment(values, refs, errors)
    method_refused = "scoring_method" in errors or "scoring_inputs" in errors
    clean["assessment"] = assessment
    # The method and canonical inputs this assessment is made with.
    clean["method_key"] = (
        (assessment.method.value, assessment.inputs) if assessment else (Method.MATRIX.value, "")
    )
    derived = {}
    method_name = assessment.method.short if assessment is not None else ""
    if assessment is not None:
        derived = {
            "inherent_likelihood": assessment.likelihood,
            "inherent_impact": assessment.impact,
        }
        if threat is not None and (assessment.method.value, assessment.inputs) == (
            threat.scoring_method,
            threat.scoring_inputs,
        ):
            # The same method and inputs: the cell they were given stands, even if the cut
            # points have changed since (a change of rules applies to new assessments).
            derived = {
                "inherent_likelihood": threat.inherent_likelihood,
                "inherent_impact": threat.inherent_impact,
            }
            clean["assessment"] = assessment = None
            clean["method_key"] = (threat.scoring_method, threat.scoring_inputs)
    for field in SCORE_FIELDS:
        label, maximum = labels[field]
        if field in derived:
            number = None
            if given.get(field) not in (None, ""):
                number = _score_axis(given[field], field, maximum, errors, label)
            if number is not None and number != derived[field]:
                errors[field] = (
                    f"{label} comes from the {method_name} inputs: "
                    f"{derived[field]}, not {number}. Leave it out or give {derived[field]}."
                )
            clean[field] = derived[field]
        elif method_refused and field.startswith("inherent_"):
            clean[field] = None  # the method's inputs are refused: no cell to check yet
        else:
            clean[field] = _score_axis(values.get(field), field, maximum, errors, label)
    errors.update(_residual_refusal(clean))

    clean["scored_on"] = _date(values.get("scored_on"), "scored_on", errors)
    clean["score_note"] = _text(
        values.get("score_note"), "score_note", NOTE_MAX_LENGTH, errors, "The note"
    )
    clean["status_changed_on"] = _date(values.get("status_changed_on"), "status_changed_on", errors)

    next_review_on = _date(values.get("next_review_on"), "next_review_on", errors)
    if next_review_on is not None and identified_on is not None and next_review_on < identified_on:
        errors["next_review_on"] = "The next review cannot be before the identified date."
    clean["next_review_on"] = next_review_on

    clean["system_ids"] = _system_ids(values.get("system_ids"), errors)
    if clean["system_ids"] and refs.systems_found(clean["system_ids"]) != len(clean["system_ids"]):
        errors["system_ids"] = "Choose systems from the list."
    clean["tags"] = _tags(values.get("tags"), errors)

    if errors:
        raise InputError(errors)
    return clean


def _residual_refusal(clean: dict) -> dict[str, str]:
    if any(clean[f] is None for f in SCORE_FIELDS):
        return {}
    inherent = clean["inherent_likelihood"] * clean["inherent_impact"]
    residual = clean["residual_likelihood"] * clean["residual_impact"]
    if residual > inherent:
        return {
            "residual_impact": (
                f"The residual score ({residual}) cannot exceed the inherent score ({inherent}): "
                "countermeasures lower a risk, they do not raise it."
            )
        }
    return {}


def _matrix_assessment(clean: dict) -> Assessment:
    return Assessment(
        Method.MATRIX, "", clean["inherent_likelihood"], clean["inherent_impact"], None, "", ""
    )


def _reassessed(threat: Threat, clean: dict) -> bool:
    """Whether the method or its inputs differ from the threat's latest assessment."""
    current = (threat.scoring_method or Method.MATRIX.value, threat.scoring_inputs or "")
    return clean["method_key"] != current


def _default_review(base: date, residual_score: int, refs: References | None = None) -> date:
    refs = refs or References()
    level = level_for(residual_score, refs.matrix)
    return next_review_date(base, level, refs.intervals)


def check_new_threat(values: dict, refs: References | None = None) -> dict:
    """Every rule ``create_threat`` applies, without writing: the clean values, with the
    date of the first assessment (``scored_on``) and the next review filled in, or
    InputError. The CSV import calls it for each row."""
    refs = refs or References()
    clean = _check(values, None, refs)
    scored_on = clean["scored_on"] or clean["identified_on"]
    errors: dict[str, str] = {}
    if scored_on < clean["identified_on"]:
        errors["scored_on"] = "The assessment cannot be dated before the threat was identified."
    if scored_on > refs.today:
        errors["scored_on"] = "The assessment cannot be dated in the future."
    if errors:
        raise InputError(errors)
    clean["scored_on"] = scored_on
    if clean["next_review_on"] is None:
        residual = clean["residual_likelihood"] * clean["residual_impact"]
        clean["next_review_on"] = _default_review(clean["identified_on"], residual, refs)
    return clean


def _tags_named(names: list[str]) -> list[Tag]:
    if not names:
        return []
    existing = {t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    tags = []
    for name in names:
        tag = existing.get(name)
        if tag is None:
            tag = Tag(name=name)
            db.session.add(tag)
        tags.append(tag)
    return tags


STATE_KEYS = ("status", "treatment", "acceptance_expires_on")


def _apply(threat: Threat, clean: dict, state: bool = True) -> None:
    """Set the threat's plain fields; its state (``STATE_KEYS``) too unless ``state`` is
    False (an update records the state as a dated fact instead)."""
    keys = [
        "title",
        "description",
        "category_id",
        "source",
        "feed_id",
        "owner_id",
        "treatment_rationale",
        "acceptance_approver_id",
        "identified_on",
    ]
    if state:
        keys += STATE_KEYS
    for key in keys:
        if getattr(threat, key) != clean[key]:
            setattr(threat, key, clean[key])
    wanted = clean["system_ids"]
    if sorted(s.id for s in threat.systems) != sorted(wanted):
        threat.systems = list(db.session.scalars(select(System).where(System.id.in_(wanted))))
    if sorted(t.name for t in threat.tags) != sorted(clean["tags"]):
        threat.tags = _tags_named(clean["tags"])


def create_threat(values: dict, author_id: int | None) -> Threat:
    """Add a threat with its first assessment; see the module docstring for the keys."""
    clean = check_new_threat(values)
    scored_on = clean["scored_on"]
    # One flush at the end, so the audit log holds one "create" row with the final values.
    with db.session.no_autoflush:
        threat = Threat(title=clean["title"], identified_on=clean["identified_on"])
        _apply(threat, clean)
        rescore_threat(
            threat,
            inherent=(clean["inherent_likelihood"], clean["inherent_impact"]),
            residual=(clean["residual_likelihood"], clean["residual_impact"]),
            changed_on=scored_on,
            author_id=author_id,
            note=clean["score_note"] or "First assessment",
            review=False,
            assessment=clean["assessment"] or _matrix_assessment(clean),
        )
        threat.next_review_on = clean["next_review_on"]
        record_state(
            threat, clean["identified_on"], StateChangeKind.CREATED, author_id, note="Identified"
        )
        db.session.add(threat)
    db.session.flush()
    search.reindex(threat)
    return threat


def update_threat(
    threat: Threat, values: dict, author_id: int | None, expected_version: int | None = None
) -> Threat:
    """Change a threat; missing keys keep their value. A score change is kept in the history.

    Raises ConflictError when ``expected_version`` (the version the editor read) is not
    the threat's current version: someone else saved in between; nothing is changed.
    """
    if expected_version is not None and expected_version != threat.version:
        raise ConflictError(
            "Someone else changed this threat since you opened it. "
            "Nothing was saved: reload it to see their changes, then edit again."
        )
    if threat.archived_at is not None:
        raise InputError("Restore the threat before editing it.")
    merged = _current_values(threat)
    merged.update(values)
    if "next_review_on" not in values:
        merged["next_review_on"] = threat.next_review_on
    clean = _check(merged, threat, given=values)
    reassessed = _reassessed(threat, clean)
    today = fiscal.today()
    first = min((c.changed_on for c in threat.score_changes), default=None)
    if first is not None and clean["identified_on"] > first:
        raise InputError(
            {
                "identified_on": f"The threat was first assessed on {first.isoformat()}; "
                "it cannot have been identified after that."
            }
        )
    new_scores = tuple(clean[f] for f in SCORE_FIELDS)
    old_scores = tuple(getattr(threat, f) for f in SCORE_FIELDS)
    rescored = new_scores != old_scores or reassessed
    if rescored:
        scored_on = clean["scored_on"] or today
        last = max((c.changed_on for c in threat.score_changes), default=None)
        errors: dict[str, str] = {}
        if scored_on > today:
            errors["scored_on"] = "The assessment cannot be dated in the future."
        elif last is not None and scored_on < last:
            errors["scored_on"] = (
                f"The assessment cannot be dated before the last one ({last.isoformat()})."
            )
        elif scored_on < clean["identified_on"]:
            errors["scored_on"] = "The assessment cannot be dated before the threat was identified."
        if errors:
            raise InputError(errors)
    # Status, treatment, acceptance and next review are dated facts: what changes, and when.
    state_changes = {k: clean[k] for k in STATE_KEYS if clean[k] != getattr(threat, k)}
    explicit_review = clean["next_review_on"]
    if explicit_review == threat.next_review_on:
        explicit_review = None  # left as it was: a re-score moves it by the level's interval
    status_on = clean["status_changed_on"] or today
    if not rescored:
        if explicit_review is not None:
            state_changes["next_review_on"] = explicit_review
        elif clean["next_review_on"] is None:
            state_changes["next_review_on"] = _default_review(status_on, threat.residual_score)
    elif explicit_review is not None and state_changes:
        state_changes["next_review_on"] = explicit_review
        explicit_review = None
    if state_changes:
        refusal = refusal_for_date(status_on, today, last_fact_on(threat), "change")
        if refusal is None and status_on < clean["identified_on"]:
            refusal = "The change cannot be dated before the threat was identified."
        if refusal:
            raise InputError({"status_changed_on": refusal})
    text_changed = (clean["title"], clean["description"]) != (threat.title, threat.description)
    # Facts are recorded in date order (the earlier one first) so each snapshot is right.
    events = []
    if rescored:
        events.append((scored_on, 0))
    if state_changes:
        events.append((status_on, 1))
    # One flush at the end, so one edit is one "update" row in the audit log.
    with db.session.no_autoflush:
        _apply(threat, clean, state=False)
        for _on, what in sorted(events):
            if what == 0:
                rescore_threat(
                    threat,
                    inherent=new_scores[:2],
                    residual=new_scores[2:],
                    changed_on=scored_on,
                    author_id=author_id,
                    note=clean["score_note"],
                    next_review_on=explicit_review,
                    assessment=clean["assessment"] or _matrix_assessment(clean)
                    if reassessed
                    else None,
                )
            else:
                record_state(
                    threat,
                    status_on,
                    StateChangeKind.STATUS,
                    author_id,
                    note=_describe_state_change(threat, state_changes),
                    **state_changes,
                )
    db.session.flush()
    if text_changed:
        search.reindex(threat)
    return threat


def _describe_state_change(threat: Threat, changes: dict) -> str:
    parts = []
    if "status" in changes:
        parts.append(f"Status {threat.status.label} → {changes['status'].label}")
    if "treatment" in changes:
        old = threat.treatment.label if threat.treatment else "not decided"
        new = changes["treatment"].label if changes["treatment"] else "not decided"
        parts.append(f"treatment {old} → {new}")
    if "acceptance_expires_on" in changes and changes["acceptance_expires_on"]:
        parts.append(f"acceptance expires {changes['acceptance_expires_on'].isoformat()}")
    if "next_review_on" in changes and changes["next_review_on"]:
        parts.append(f"next review {changes['next_review_on'].isoformat()}")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def _now() -> datetime:
    # The business "today" (pinned in the demo) at the current time of day.
    return datetime.combine(fiscal.today(), datetime.now(UTC).time(), UTC)


def _dated(threat: Threat, on, field: str, what: str) -> date:
    """The date a change took effect (default today), or InputError {field: why not}."""
    errors: dict[str, str] = {}
    day = _date(on, field, errors)
    if errors:
        raise InputError(errors)
    today = fiscal.today()
    day = day or today
    refusal = refusal_for_date(day, today, last_fact_on(threat), what)
    if refusal is None and day < threat.identified_on:
        refusal = f"The {what} cannot be dated before the threat was identified."
    if refusal:
        raise InputError({field: refusal})
    return day


def archive_threat(threat: Threat, author_id: int | None = None, on=None) -> Threat:
    """Take a threat off the register (kept, restorable) from ``on`` (default today)."""
    if threat.archived_at is not None:
        raise InputError("This threat is already archived.")
    day = _dated(threat, on, "on", "archiving")
    today = fiscal.today()
    threat.archived_at = _now() if day == today else datetime.combine(day, datetime.min.time(), UTC)
    record_state(threat, day, StateChangeKind.ARCHIVED, author_id, note="Archived", archived=True)
    db.session.flush()
    return threat


def restore_threat(threat: Threat, author_id: int | None = None, on=None) -> Threat:
    """Put an archived threat back on the register from ``on`` (default today)."""
    if threat.archived_at is None:
        raise InputError("This threat is not archived.")
    day = _dated(threat, on, "on", "restoring")
    record_state(threat, day, StateChangeKind.RESTORED, author_id, note="Restored", archived=False)
    db.session.flush()
    return threat


def review_threat(
    threat: Threat,
    author_id: int | None,
    *,
    on=None,
    outcome: str = "",
    next_review_on=None,
) -> Threat:
    """Record a review: who, when (``on``, default today), its outcome and the next review
    date (default: the interval of the threat's residual level from the review)."""
    if threat.archived_at is not None:
        raise InputError("Restore the threat before reviewing it.")
    errors: dict[str, str] = {}
    text = _text(outcome, "outcome", NOTE_MAX_LENGTH, errors, "The outcome")
    next_day = _date(next_review_on, "next_review_on", errors)
    if errors:
        raise InputError(errors)
    day = _dated(threat, on, "reviewed_on", "review")
    if next_day is None:
        next_day = _default_review(day, threat.residual_score)
    elif next_day <= day:
        raise InputError({"next_review_on": "The next review must come after this one."})
    record_state(
        threat,
        day,
        StateChangeKind.REVIEW,
        author_id,
        note=text or "Reviewed",
        next_review_on=next_day,
    )
    db.session.flush()
    return threat


def purge_threat(threat: Threat, author_id: int | None = None) -> None:
    """Delete an archived threat and its history for good (the audit log keeps the trace)."""
    if threat.archived_at is None:
        raise InputError("Archive the threat before purging it.")
    db.session.execute(delete(ThreatSearchTerm).where(ThreatSearchTerm.threat_id == threat.id))
    # The countermeasures treating it lose it from their threats: changed, for a syncing
    # client (the purge itself is kept as a deletion, app/models/deletions.py).
    treating = select(countermeasure_threats.c.countermeasure_id).where(
        countermeasure_threats.c.threat_id == threat.id
    )
    db.session.execute(
        update(Countermeasure)
        .where(Countermeasure.id.in_(treating))
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.delete(threat)
    db.session.flush()


def acceptance_needs_decision(threat: Threat, today: date | None = None) -> bool:
    """An accepted risk whose acceptance has expired needs a decision again."""
    today = today or fiscal.today()
    return (
        threat.treatment is Treatment.ACCEPT
        and threat.acceptance_expires_on is not None
        and threat.acceptance_expires_on < today
    )


def review_overdue(threat: Threat, today: date | None = None) -> bool:
    today = today or fiscal.today()
    return (
        threat.archived_at is None
        and threat.status is not ThreatStatus.CLOSED
        and threat.next_review_on is not None
        and threat.next_review_on < today
    )


# ---------------------------------------------------------------- categories


def save_category(name: str, category: ThreatCategory | None = None) -> ThreatCategory:
    errors: dict[str, str] = {}
    clean = _text(name, "name", 120, errors, "The name")
    if not clean and not errors:
        errors["name"] = "Give the category a name."
    if not errors:
        clash = db.session.scalar(
            select(ThreatCategory.id).where(func.lower(ThreatCategory.name) == clean.lower())
        )
        if clash is not None and (category is None or clash != category.id):
            errors["name"] = f"A category named {clean} already exists."
    if errors:
        raise InputError(errors)
    if category is None:
        category = ThreatCategory(name=clean, active=True)
        db.session.add(category)
    else:
        category.name = clean
    db.session.flush()
    return category


# ---------------------------------------------------------------- risk settings

MAX_SCALE = 10
LABEL_MAX_LENGTH = 40


def _labels(value, field: str, errors: dict, axis: str) -> list[str]:
    items = value.splitlines() if isinstance(value, str) else list(value or [])
    labels = [" ".join(str(item).split()) for item in items]
    labels = [label for label in labels if label]
    if not labels:
        errors[field] = f"Give at least one {axis} label."
    elif len(labels) > MAX_SCALE:
        errors[field] = f"At most {MAX_SCALE} {axis} labels."
    elif any(len(label) > LABEL_MAX_LENGTH for label in labels):
        errors[field] = f"Each label may have at most {LABEL_MAX_LENGTH} characters."
    elif len({label.lower() for label in labels}) != len(labels):
        errors[field] = f"The {axis} labels must differ from one another."
    return labels


def save_risk_settings(likelihood_labels, impact_labels, thresholds: dict, intervals: dict) -> None:
    """Store the risk matrix and review intervals (admin settings), after checking them.

    ``thresholds``: {Level: minimum score or None (level not used)}; low always starts
    at 1. ``intervals``: {Level: days between reviews}. Raises InputError; the matrix
    may not shrink below a score already recorded.
    """
    from app.domain.scoring import RiskMatrix, ScoringError
    from app.models.setting import set_setting
    from app.models.threats import ThreatScoreChange
    from app.risk import REVIEW_INTERVALS_KEY, RISK_MATRIX_KEY

    errors: dict[str, str] = {}
    likelihoods = _labels(likelihood_labels, "likelihood_labels", errors, "likelihood")
    impacts = _labels(impact_labels, "impact_labels", errors, "impact")
    pairs = [(Level.LOW, 1)]
    for level in (Level.MEDIUM, Level.HIGH, Level.CRITICAL):
        minimum = thresholds.get(level)
        if minimum is not None:
            pairs.append((level, minimum))
    days: dict[str, int] = {}
    for level in Level:
        value = intervals.get(level)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3650:
            errors[f"interval_{level.value}"] = "From 1 to 3650 days."
        else:
            days[level.value] = value
    if not errors:
        try:
            matrix = RiskMatrix(
                likelihood_labels=tuple(likelihoods),
                impact_labels=tuple(impacts),
                thresholds=tuple(pairs),
            )
        except ScoringError as error:
            errors["threshold_critical"] = str(error)
    if not errors:
        c = ThreatScoreChange
        row = db.session.execute(
            select(
                func.max(c.inherent_likelihood),
                func.max(c.residual_likelihood),
                func.max(c.inherent_impact),
                func.max(c.residual_impact),
            )
        ).one()
        used_l = max(row[0] or 0, row[1] or 0)
        used_i = max(row[2] or 0, row[3] or 0)
        if used_l and used_l > matrix.max_likelihood:
            errors["likelihood_labels"] = (
                f"Threats are already scored with likelihood {used_l}: "
                f"keep at least {used_l} labels."
            )
        if used_i and used_i > matrix.max_impact:
            errors["impact_labels"] = (
                f"Threats are already scored with impact {used_i}: keep at least {used_i} labels."
            )
    if errors:
        raise InputError(errors)
    set_setting(
        RISK_MATRIX_KEY,
        {
            "likelihood_labels": list(likelihoods),
            "impact_labels": list(impacts),
            "thresholds": [[level.value, minimum] for level, minimum in pairs],
        },
    )
    set_setting(REVIEW_INTERVALS_KEY, days)
    db.session.flush()


def save_method_bands(cuts: dict[str, str | list | None]) -> None:
    """Store the cut points of the scoring methods (admin settings), after checking them.

    ``cuts``: {"cvss_likelihood": "0.8, 1.6, 2.3, 3.1", ...}; empty or None: the even
    default for that figure. Each set has one cut fewer than its matrix axis has steps,
    strictly increasing, above 0 and at most the top of the method's scale. Applies to
    assessments recorded from now on; recorded ones keep their cells.
    """
    from app.domain.scoring_methods import SCALES, check_cuts
    from app.models.setting import set_setting
    from app.risk import SCORING_METHODS_KEY

    matrix = risk_matrix()
    errors: dict[str, str] = {}
    stored: dict[str, dict[str, list[str]]] = {}
    for method, (top_l, top_i) in SCALES.items():
        entry: dict[str, list[str]] = {}
        for axis, top, steps in (
            ("likelihood", top_l, matrix.max_likelihood),
            ("impact", top_i, matrix.max_impact),
        ):
            key = f"{method.value}_{axis}"
            raw = cuts.get(key)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            try:
                values = check_cuts(raw, steps - 1, top, axis)
            except MethodError as error:
                errors[key] = error.message
                continue
            # Kept as text: exact decimals, whatever the JSON column does with floats.
            entry[axis] = [str(v) for v in values]
        if entry:
            stored[method.value] = entry
    if errors:
        raise InputError(errors)
    set_setting(SCORING_METHODS_KEY, stored)
    db.session.flush()
