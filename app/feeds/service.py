"""Feeds and their candidates, with plain values in and InputError out (no Flask request)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import stix2
import stix2.exceptions
from sqlalchemy import func, select

from app.extensions import db
from app.feeds.inputs import FeedInput
from app.inputs import read
from app.models import CandidateStatus, Threat, ThreatCandidate, ThreatFeed, ThreatSource
from app.models.base import utcnow
from app.validation import InputError

# STIX object types that describe something to defend against; others (identities,
# relationships, sightings, ...) are context and are not proposed as threats.
CANDIDATE_TYPES = (
    "indicator",
    "attack-pattern",
    "threat-actor",
    "campaign",
    "malware",
    "vulnerability",
)
_FEED = FeedInput()


def register_feed(name: str, kind: str, url: str = "", description: str = "") -> ThreatFeed:
    values = {"name": name, "kind": kind, "url": url, "description": description}
    clean, refused = read(_FEED, values)
    if "name" not in refused and db.session.scalar(
        select(ThreatFeed.id).where(func.lower(ThreatFeed.name) == clean["name"].lower())
    ):
        refused["name"] = f"A feed named “{clean['name']}” already exists."
    if refused:
        raise InputError(refused)
    feed = ThreatFeed(**clean)
    db.session.add(feed)
    db.session.flush()
    return feed


@dataclass
class BundleSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    ignored: int = 0

    def __str__(self) -> str:
        return (
            f"{self.new} new candidate(s), {self.updated} updated, {self.unchanged} already "
            f"known, {self.ignored} other object(s) ignored"
        )


def _parse_bundle(data: bytes) -> list:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError({"file": "The file is not UTF-8 text; a STIX bundle is JSON."}) from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise InputError({"file": f"The file is not JSON ({where}: {error.msg})."}) from None
    if not isinstance(document, dict) or document.get("type") != "bundle":
        raise InputError({"file": "The JSON is not a STIX bundle (its type must be “bundle”)."})
    try:
        bundle = stix2.parse(document, allow_custom=True, version="2.1")
    except (stix2.exceptions.STIXError, ValueError) as error:
        raise InputError({"file": f"The bundle is not valid STIX 2.1: {error}"}) from None
    return list(getattr(bundle, "objects", None) or [])


def _labels(obj) -> list[str]:
    labels = list(obj.get("labels", []) or [])
    for key in ("indicator_types", "malware_types", "threat_actor_types"):
        labels += list(obj.get(key, []) or [])
    return sorted(set(labels))


def _description(obj) -> str:
    text = obj.get("description", "") or ""
    if obj["type"] == "indicator" and obj.get("pattern"):
        text = (text + "\n\n" if text else "") + f"Pattern: {obj['pattern']}"
    return text


def import_bundle(feed: ThreatFeed, data: bytes) -> BundleSummary:
    """Candidates from a STIX 2.1 bundle; a STIX id this feed already brought is not added again."""
    objects = _parse_bundle(data)
    summary = BundleSummary()
    existing = {
        c.stix_id: c
        for c in db.session.scalars(
            select(ThreatCandidate).where(ThreatCandidate.feed_id == feed.id)
        )
    }
    for obj in objects:
        if obj["type"] not in CANDIDATE_TYPES:
            summary.ignored += 1
            continue
        raw = json.loads(obj.serialize())
        values = {
            "stix_type": obj["type"],
            "name": str(obj.get("name") or obj["id"])[:300],
            "description": _description(obj),
            "labels": _labels(obj),
        }
        known = existing.get(obj["id"])
        if known is None:
            candidate = ThreatCandidate(feed_id=feed.id, stix_id=obj["id"], raw=raw, **values)
            db.session.add(candidate)
            existing[obj["id"]] = candidate
            summary.new += 1
        elif known.raw != raw and known.status == CandidateStatus.PENDING:
            for key, value in values.items():
                setattr(known, key, value)
            known.raw = raw
            summary.updated += 1
        else:
            summary.unchanged += 1
    db.session.flush()
    return summary


def _pending(candidate: ThreatCandidate) -> None:
    if candidate.status != CandidateStatus.PENDING:
        raise InputError(f"This candidate was already {candidate.status.label.lower()}.")


# The accept form asks one likelihood and impact (inherent = residual on arrival).
_ACCEPT_FIELDS = {
    "inherent_likelihood": "likelihood",
    "inherent_impact": "impact",
    "residual_likelihood": "likelihood",
    "residual_impact": "impact",
    "identified_on": "on",
}


def accept_candidate(
    candidate: ThreatCandidate,
    *,
    likelihood: int | None,
    impact: int | None,
    on,
    user_id: int | None,
) -> Threat:
    """Put a candidate into the register as a threat from its feed, through the threat
    register's own rules (``app.threats.service.create_threat``)."""
    from app.threats.inputs import DESCRIPTION_MAX_LENGTH, NOTE_MAX_LENGTH, TITLE_MAX_LENGTH
    from app.threats.service import create_threat

    _pending(candidate)
    values = {
        "title": candidate.name[:TITLE_MAX_LENGTH],
        "description": candidate.description[:DESCRIPTION_MAX_LENGTH],
        "source": ThreatSource.THREAT_INTEL,
        "feed_id": candidate.feed_id,
        "owner_id": user_id,
        "identified_on": on,
        "inherent_likelihood": likelihood,
        "inherent_impact": impact,
        "residual_likelihood": likelihood,
        "residual_impact": impact,
        "score_note": f"From feed candidate {candidate.stix_id}"[:NOTE_MAX_LENGTH],
    }
    try:
        threat = create_threat(author_id=user_id, **values)
    except InputError as error:
        errors: dict[str, str] = {}
        for key, message in error.errors.items():
            errors.setdefault(_ACCEPT_FIELDS.get(key, key), message)
        raise InputError(errors) from None
    candidate.threat_id = threat.id
    candidate.status = CandidateStatus.ACCEPTED
    candidate.decided_at, candidate.decided_by_id = utcnow(), user_id
    return threat


def dismiss_candidate(candidate: ThreatCandidate, user_id: int | None) -> None:
    _pending(candidate)
    candidate.status = CandidateStatus.DISMISSED
    candidate.decided_at, candidate.decided_by_id = utcnow(), user_id


@dataclass
class FeedCounts:
    pending: int = 0
    accepted: int = 0
    dismissed: int = 0
    threats: int = 0


def feed_counts() -> dict[int, FeedCounts]:
    """What came from each feed: candidates by status and threats in the register (2 queries)."""
    counts: dict[int, FeedCounts] = {}
    for feed_id, status, n in db.session.execute(
        select(ThreatCandidate.feed_id, ThreatCandidate.status, func.count()).group_by(
            ThreatCandidate.feed_id, ThreatCandidate.status
        )
    ):
        setattr(counts.setdefault(feed_id, FeedCounts()), status.value, n)
    for feed_id, n in db.session.execute(
        select(Threat.feed_id, func.count())
        .where(Threat.feed_id.is_not(None), Threat.archived_at.is_(None))
        .group_by(Threat.feed_id)
    ):
        counts.setdefault(feed_id, FeedCounts()).threats = n
    return counts
