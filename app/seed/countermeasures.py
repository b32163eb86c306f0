"""Countermeasures in the demo (FY20-21 as in the deck) and at size for benchmarks.

The deck's key result 3: set up a threat identification and risk treatment program in Q1,
then deploy effective countermeasures for the top 2 threats per quarter; goal 6 deployed in
the year, 4 deployed by the Q2 review. The top threats are read from the register as it
stood on 2020-10-01, so the story follows whatever the threat register holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from app.countermeasures import service
from app.countermeasures import status as countermeasures_status
from app.countermeasures.figures import (
    DEFAULT_QUARTER_TARGET,
    DEFAULT_YEARLY_GOAL,
    QUARTER_TARGET_KEY,
    YEARLY_GOAL_KEY,
)
from app.domain.scoring import DEFAULT_MATRIX, DEFAULT_REVIEW_INTERVALS
from app.extensions import db
from app.models.countermeasures import (
    Countermeasure,
    CountermeasureStatus,
    CountermeasureType,
    Effectiveness,
)
from app.models.setting import get_setting, set_setting
from app.models.threats import Threat, ThreatFeed, ThreatScoreChange, ThreatSource, ThreatStatus
from app.models.user import Role, User
from app.threats.as_of import top_threats_as_of
from app.threats.risk import (
    REVIEW_INTERVALS_KEY,
    RISK_MATRIX_KEY,
    rescore_threat,
)

Q2_START = date(2020, 10, 1)
Q3_START = date(2021, 1, 1)

P, D, C = CountermeasureType.PREVENTIVE, CountermeasureType.DETECTIVE, CountermeasureType.CORRECTIVE

# Countermeasures a security team would deploy, by a word found in the threat's title.
PLAYBOOK: list[tuple[tuple[str, ...], list[tuple[str, CountermeasureType, str]]]] = [
    (
        ("ddos", "denial"),
        [
            (
                "Upstream DDoS scrubbing contract",
                P,
                "Traffic diverted through the transit provider's scrubbing centre on attack.",
            ),
            (
                "Edge rate limiting and origin shielding",
                P,
                "Per-client rate limits at the CDN; origins reachable only from the CDN.",
            ),
            (
                "DDoS runbook and quarterly drill",
                C,
                "Who switches what, in which order; drilled with the provider.",
            ),
        ],
    ),
    (
        ("disinformation", "impersonat", "fake"),
        [
            (
                "Brand and domain impersonation monitoring",
                D,
                "Look-alike domains and fake accounts reported daily.",
            ),
            (
                "Rapid takedown and public correction procedure",
                C,
                "Agreed takedown channels and a pre-approved correction template.",
            ),
            (
                "Signed official statements",
                P,
                "Official statements signed and listed on one verified page.",
            ),
        ],
    ),
    (
        ("data center", "data-center", "datacenter", "site loss"),
        [
            (
                "Off-site encrypted backups with restore tests",
                C,
                "Nightly backups to a second region; restores tested monthly.",
            ),
            (
                "Cold-standby environment in a second region",
                C,
                "Infrastructure as code able to rebuild production elsewhere.",
            ),
            (
                "Power and cooling monitoring with alerts",
                D,
                "Facility alarms routed to the on-call rota.",
            ),
        ],
    ),
    (
        ("account takeover", "credential", "phishing", "password"),
        [
            (
                "Phishing-resistant MFA for administrators",
                P,
                "Hardware keys for every administrative account.",
            ),
            (
                "Impossible-travel and credential-stuffing alerts",
                D,
                "Sign-in anomalies alerted to the security channel.",
            ),
            (
                "Session revocation runbook",
                C,
                "Revoke sessions and rotate secrets within the hour.",
            ),
        ],
    ),
    (
        ("sole maintainer", "spof", "single point", "staff unavailab", "on-call"),
        [
            (
                "Runbooks and cross-training for single-maintainer systems",
                P,
                "Each SPOF system has a reviewed runbook and a trained second person.",
            ),
            (
                "Escalation paths for SPOF systems in the on-call rota",
                C,
                "Pages for SPOF systems escalate to a named team, not one person.",
            ),
            (
                "Alert on systems left with one responsible person",
                D,
                "Weekly check of the coverage register; new SPOFs are reported.",
            ),
        ],
    ),
    (
        ("ransomware", "malware"),
        [
            ("Immutable backups", C, "Write-once backup storage with a 30-day lock."),
            ("Endpoint detection and response rollout", D, "EDR on every server and laptop."),
            (
                "Application allow-listing on servers",
                P,
                "Only signed packages run on production hosts.",
            ),
        ],
    ),
]


def _playbook_for(threat_title: str) -> list[tuple[str, CountermeasureType, str]]:
    lowered = threat_title.lower()
    for words, entries in PLAYBOOK:
        if any(word in lowered for word in words):
            return entries
    short = threat_title if len(threat_title) <= 60 else threat_title[:57] + "…"
    return [
        (
            f"Hardening against {short}",
            P,
            "Configuration baseline and access review for the systems concerned.",
        ),
        (
            f"Detection rules for {short}",
            D,
            "Alerts in the SIEM for the indicators of this threat.",
        ),
        (f"Response runbook for {short}", C, "Who does what, in which order; rehearsed once."),
    ]


# Plausible threats for a register that holds none (the countermeasure step on its own).
FALLBACK_THREATS = [
    ("DDoS against the public website and API", date(2020, 7, 6), (4, 5), (4, 4)),
    ("Disinformation campaign impersonating the organisation", date(2020, 7, 13), (4, 4), (4, 4)),
    ("Loss of the single EU data center", date(2020, 7, 20), (2, 5), (2, 5)),
    ("Account takeover of an administrator", date(2020, 8, 3), (3, 5), (3, 3)),
]


def _ensure_threats(author_id: int | None) -> None:
    if db.session.scalar(select(func.count(Threat.id))):
        return
    for title, identified_on, inherent, residual in FALLBACK_THREATS:
        threat = Threat(
            title=title,
            description="",
            identified_on=identified_on,
            status=ThreatStatus.ASSESSED,
            source=ThreatSource.INTERNAL,
            owner_id=author_id,
        )
        db.session.add(threat)
        rescore_threat(
            threat,
            inherent=inherent,
            residual=residual,
            changed_on=identified_on + timedelta(days=7),
            author_id=author_id,
            note="First assessment",
        )
    db.session.flush()


def _program_setup() -> None:
    """Q1 items of the key result: a threat-intelligence feed, the risk settings, targets."""
    feeds = [
        (
            "CERT-EU security advisories",
            "rss",
            "https://cert.europa.eu/publications/security-advisories",
        ),
        (
            "CISA Known Exploited Vulnerabilities",
            "json",
            "https://www.cisa.gov/known-exploited-vulnerabilities-catalog",
        ),
    ]
    for name, kind, url in feeds:
        if db.session.scalar(select(ThreatFeed.id).where(ThreatFeed.name == name)) is None:
            db.session.add(
                ThreatFeed(name=name, kind=kind, url=url, description="Registered in FY20-21 Q1.")
            )
    if get_setting(RISK_MATRIX_KEY) is None:
        set_setting(
            RISK_MATRIX_KEY,
            {
                "likelihood_labels": list(DEFAULT_MATRIX.likelihood_labels),
                "impact_labels": list(DEFAULT_MATRIX.impact_labels),
                "thresholds": [
                    [level.value, minimum] for level, minimum in DEFAULT_MATRIX.thresholds
                ],
            },
        )
    if get_setting(REVIEW_INTERVALS_KEY) is None:
        set_setting(
            REVIEW_INTERVALS_KEY,
            {level.value: days for level, days in DEFAULT_REVIEW_INTERVALS.items()},
        )
    if get_setting(QUARTER_TARGET_KEY) is None:
        set_setting(QUARTER_TARGET_KEY, DEFAULT_QUARTER_TARGET)
    if get_setting(YEARLY_GOAL_KEY) is None:
        set_setting(YEARLY_GOAL_KEY, DEFAULT_YEARLY_GOAL)


def _last_scored_on(threat_id: int) -> date | None:
    return db.session.scalar(
        select(func.max(ThreatScoreChange.changed_on)).where(
            ThreatScoreChange.threat_id == threat_id
        )
    )


def _lowered(threat: Threat, kind: CountermeasureType) -> tuple[int, int]:
    likelihood, impact = threat.residual_likelihood, threat.residual_impact
    if kind == CountermeasureType.PREVENTIVE and likelihood > 1:
        return likelihood - 1, impact
    if impact > 1:
        return likelihood, impact - 1
    return max(1, likelihood - 1), impact


def _deploy(cm: Countermeasure, deployed_on: date, user_id: int | None, evidence: str) -> None:
    # Deploy after the threats' latest assessment when that is still inside the quarter, so
    # the new residual scores can be recorded in order.
    latest = [d for d in (_last_scored_on(t.id) for t in cm.threats) if d is not None]
    if latest and deployed_on < max(latest) <= Q3_START - timedelta(days=1):
        deployed_on = max(latest)
    residuals = {}
    for threat in cm.threats:
        last = _last_scored_on(threat.id)
        # A deployment dated before a later re-assessment keeps the threat's score as it is.
        if threat.archived_at is None and (last is None or last <= deployed_on):
            residuals[threat.id] = _lowered(threat, cm.type)
    countermeasures_status.deploy_countermeasure(
        cm, deployed_on=deployed_on, residuals=residuals, user_id=user_id, evidence=evidence
    )
    db.session.flush()


def load(context: dict) -> None:
    security = context["users"][Role.SECURITY]
    admin = context["users"][Role.ADMIN]
    manager = context["users"].get(Role.MANAGER, admin)
    db.session.flush()
    _program_setup()
    _ensure_threats(security.id)
    db.session.flush()

    top = top_threats_as_of(Q2_START, 3)
    if len(top) < 2:
        raise RuntimeError("The demo needs at least two scored open threats on 2020-10-01.")
    threats = {t.id: db.session.get_one(Threat, t.id) for t in top}
    first, second = threats[top[0].id], threats[top[1].id]
    third = threats[top[2].id] if len(top) > 2 else second

    def plan(threat, index, *, planned_on, target=Q2_START, owner=security, extra=()):
        title, kind, description = _playbook_for(threat.title)[index]
        cm = service.create_countermeasure(
            title=title,
            description=description,
            type=kind,
            threat_ids=[threat.id, *extra],
            owner_id=owner.id,
            target_quarter=context_quarter(target),
            planned_on=planned_on,
            user_id=security.id,
        )
        db.session.flush()
        return cm

    def start(cm, on):
        countermeasures_status.change_status(
            cm, CountermeasureStatus.IN_PROGRESS, changed_on=on, user_id=security.id
        )
        db.session.flush()

    # Q1 (program set-up): countermeasures planned for Q2 against the top threats.
    q2 = [
        plan(first, 0, planned_on=date(2020, 9, 21)),
        plan(first, 1, planned_on=date(2020, 9, 21)),
        plan(second, 0, planned_on=date(2020, 9, 24)),
        plan(second, 1, planned_on=date(2020, 9, 24)),
    ]
    slipping = plan(third, 2, planned_on=date(2020, 9, 28), owner=manager)
    # Q2: four deployed, each recording the treated threats' new residual scores.
    for cm, (started_on, deployed_on, evidence) in zip(q2, Q2_DEPLOYMENTS, strict=True):
        start(cm, started_on)
        _deploy(cm, deployed_on, security.id, evidence)
    countermeasures_status.verify_countermeasure(
        q2[0],
        verified_on=date(2020, 11, 20),
        verified_by_id=security.id,
        effectiveness=Effectiveness.YES,
    )
    countermeasures_status.verify_countermeasure(
        q2[2],
        verified_on=date(2021, 1, 8),
        verified_by_id=admin.id,
        effectiveness=Effectiveness.PARTLY,
    )
    start(slipping, date(2020, 11, 9))

    # Q3: planned against the top threats as the quarter began.
    q3_top = top_threats_as_of(Q3_START, 2)
    for index, scored in enumerate(q3_top):
        threat = db.session.get_one(Threat, scored.id)
        used = {c.title for c in q2}
        options = [i for i, entry in enumerate(_playbook_for(threat.title)) if entry[0] not in used]
        cm = plan(
            threat, options[0] if options else 2, planned_on=date(2020, 12, 21), target=Q3_START
        )
        if index == 0:
            start(cm, date(2021, 1, 11))

    legacy = _retired_legacy(first, security.id)
    context["countermeasures"] = {cm.title: cm for cm in [*q2, slipping, legacy]}


# The Q2 deployments of the story: (started on, deployed on, evidence).
Q2_DEPLOYMENTS = [
    (
        date(2020, 10, 5),
        date(2020, 10, 26),
        "Provider contract and failover test report: https://wiki.example.org/sec/ddos-failover-2020-10",
    ),
    (
        date(2020, 10, 12),
        date(2020, 11, 16),
        "Change ticket CHG-2207; configuration in the edge repository.",
    ),
    (
        date(2020, 10, 19),
        date(2020, 12, 7),
        "Monitoring dashboard https://monitoring.example.org/brand and weekly report.",
    ),
    (
        date(2020, 11, 2),
        date(2020, 12, 18),
        "Procedure approved by communications; tabletop exercise on 2020-12-15.",
    ),
]


def _retired_legacy(threat: Threat, user_id: int) -> Countermeasure:
    """A countermeasure from the year before, retired when its replacement was deployed."""
    legacy = service.create_countermeasure(
        title="Legacy IDS signature set",
        description="Network IDS with vendor signatures; replaced by the edge rate limiting.",
        type=CountermeasureType.DETECTIVE,
        threat_ids=[threat.id],
        owner_id=user_id,
        status=CountermeasureStatus.DEPLOYED,
        deployed_on=date(2019, 11, 14),
        planned_on=date(2019, 11, 14),
        user_id=user_id,
        evidence="Deployed before the register existed.",
    )
    db.session.flush()
    countermeasures_status.change_status(
        legacy, CountermeasureStatus.RETIRED, changed_on=date(2020, 11, 30), user_id=user_id
    )
    db.session.flush()
    return legacy


def context_quarter(first_day: date):
    from app import fiscal

    return fiscal.quarter_starting(first_day)


# --- synthetic data at size -----------------------------------------------------------


def synthetic(context: dict, sizes: dict) -> None:
    """``seed-synthetic --countermeasures N``: bulk rows linked to random existing threats,
    statuses and dates spread over FY17-18 to FY21-22."""
    import click

    from app import fiscal
    from app.domain.quarters import quarter_of

    count = int(sizes.get("countermeasures") or 0)
    if count <= 0:
        return
    rng = context["rng"]
    start_month = fiscal.start_month()
    threat_ids = list(db.session.scalars(select(Threat.id)))
    user_ids = list(db.session.scalars(select(User.id)))
    first_id = (db.session.scalar(select(func.max(Countermeasure.id))) or 0) + 1
    start, span = date(2017, 7, 1), (date(2022, 6, 30) - date(2017, 7, 1)).days
    kinds = list(CountermeasureType)
    cms: list[dict] = []
    credited = []
    for offset in range(count):
        cm_id = first_id + offset
        planned = start + timedelta(days=rng.randrange(span))
        target = quarter_of(planned, start_month).next().first_day
        life = _synthetic_life(rng, planned)
        history = life.history
        status, deployed_on, verified_on = history[-1][0], life.deployed_on, life.verified_on
        cm = {
            "id": cm_id,
            "planned_on": planned,
            "title": f"{rng.choice(SYNTHETIC_VERBS)} {rng.choice(SYNTHETIC_OBJECTS)} #{cm_id}",
            "description": "Synthetic countermeasure.",
            "type": rng.choice(kinds),
            "status": status,
            "owner_id": rng.choice(user_ids) if user_ids else None,
            "target_quarter_start": target if rng.random() < 0.9 else None,
            "deployed_on": deployed_on,
            "retired_on": life.retired_on,
            "evidence": "",
            "verified_on": verified_on,
            "verified_by_id": rng.choice(user_ids) if verified_on and user_ids else None,
            "effectiveness": life.effectiveness,
            "history": history,
            "threat_ids": [],
        }
        cms.append(cm)
        if threat_ids:
            cm["threat_ids"] = rng.sample(threat_ids, min(len(threat_ids), rng.randint(1, 3)))
        if deployed_on is not None and cm["threat_ids"] and rng.random() < 0.6:
            credited.append((cm_id, cm["threat_ids"][-1], deployed_on))
    click.echo(f"{'countermeasures':<18} {count}")
    # Written by the register's own bulk path; synthetic data leaves no audit trail.
    service.create_countermeasures(cms, None, audited=False)
    _credit_deployments(credited)


SYNTHETIC_VERBS = [
    "Harden",
    "Monitor",
    "Segment",
    "Patch",
    "Back up",
    "Rotate",
    "Restrict",
    "Drill",
    "Encrypt",
    "Log",
]
SYNTHETIC_OBJECTS = [
    "edge routers",
    "VPN",
    "admin accounts",
    "CI runners",
    "DNS",
    "mail gateway",
    "object storage",
    "HR laptops",
    "payment API",
    "backups",
]


@dataclass
class _Life:
    """A synthetic countermeasure's dated statuses, from planned on."""

    history: list[tuple[CountermeasureStatus, date]]
    deployed_on: date | None = None
    retired_on: date | None = None
    verified_on: date | None = None
    effectiveness: Effectiveness | None = None


def _synthetic_life(rng, planned: date) -> _Life:
    roll = rng.random()
    life = _Life(history=[(CountermeasureStatus.PLANNED, planned)])
    if roll > 0.15:
        life.history.append(
            (CountermeasureStatus.IN_PROGRESS, planned + timedelta(days=rng.randrange(1, 30)))
        )
    if roll > 0.35:
        deployed_on = life.history[-1][1] + timedelta(days=rng.randrange(5, 120))
        life.deployed_on = deployed_on
        life.history.append((CountermeasureStatus.DEPLOYED, deployed_on))
        if rng.random() < 0.5:
            life.verified_on = deployed_on + timedelta(days=rng.randrange(1, 60))
            life.effectiveness = rng.choice(list(Effectiveness))
    if roll > 0.9:
        life.retired_on = life.history[-1][1] + timedelta(days=rng.randrange(30, 400))
        life.history.append((CountermeasureStatus.RETIRED, life.retired_on))
    return life


def _credit_deployments(credited: list[tuple[int, int, date]]) -> None:
    """Deployments credited in the threats' score history (at the threat's current scores,
    so the register's current columns stay what its history says)."""
    from app.threats.service import add_assessments

    current = {
        row[0]: ((row[1], row[2]), (row[3], row[4]))
        for row in db.session.execute(
            select(
                Threat.id,
                Threat.inherent_likelihood,
                Threat.inherent_impact,
                Threat.residual_likelihood,
                Threat.residual_impact,
            )
        )
    }
    add_assessments(
        [
            {
                "threat_id": threat_id,
                "changed_on": on,
                "inherent": current[threat_id][0],
                "residual": current[threat_id][1],
                "countermeasure_id": cm_id,
                "note": "Countermeasure deployed",
            }
            for cm_id, threat_id, on in credited
        ]
    )
