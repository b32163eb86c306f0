"""Demo threat register of a large wiki-hosting organisation (FY20-21, Q2 reported).

About thirty threats across the categories, scored; several rescored during Q1 and Q2
(countermeasures lowering residual risk), a few with overdue reviews on 2021-01-15,
an accepted risk, an acceptance that has expired, and two archived threats.

Top 2 by residual score: on 2020-07-01 the EU data-center loss and the DDoS on edge
caching; on 2020-10-01 the privileged account takeover and the staff SPOF.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import select

from app.domain.scoring_methods import OWASP_FACTORS
from app.extensions import db
from app.models.systems import System
from app.models.threats import ThreatCategory
from app.models.user import Role
from app.threats import archive
from app.threats import service as threats_service
from app.threats.inputs import SCORE_FIELDS

CATEGORIES = [
    "DDoS",
    "Account takeover",
    "Disinformation campaign",
    "Insider",
    "Supply chain",
    "Data-center loss",
    "Vulnerability exploitation",
    "Staff unavailability",
]

SYSTEMS = [
    "MediaWiki application servers",
    "Kubernetes production clusters",
    "Core MariaDB databases",
    "Edge caching (ATS/Varnish)",
    "DNS and GeoDNS",
    "LVS load balancers",
    "Swift media storage",
    "Identity provider (SSO)",
    "Gerrit code review",
    "Puppet configuration management",
    "Backups (Bacula)",
]

# Short names for the systems above, to keep the table below readable.
MW, K8S, DB, EDGE, DNS, LVS, SWIFT, SSO, GERRIT, PUPPET, BACKUP = SYSTEMS
SEC, ADMIN = "security", "admin"
D = date

# title, category, identified, owner, status, treatment, (iL, iI, rL, rI), systems, tags,
# description, extra (source, next review, later score changes, acceptance, archived on)
THREATS: list[dict[str, Any]] = [
    dict(
        title="Loss of the single EU data center",
        category="Data-center loss",
        identified=D(2020, 6, 10),
        owner=ADMIN,
        status="in_treatment",
        treatment="mitigate",
        scores=(4, 5, 4, 5),
        systems=[EDGE, DNS, LVS],
        tags=["availability", "emea", "kr1"],
        description=(
            "Our only European caching data center could be lost to fire, power or a "
            "regional network cut. EMEA readers would fall back to US sites with much higher "
            "latency and the US sites would take the whole European load. KR1 plans a "
            "second EU data center by FY21/22 Q1."
        ),
        rationale="Plan and build a second EU data center (KR1); drill the failover meanwhile.",
        changes=[
            (
                D(2020, 9, 22),
                (4, 5, 3, 5),
                "Quarterly failover drill: EMEA drained to US in 6 minutes",
            )
        ],
        review=D(2021, 2, 15),
    ),
    dict(
        title="DDoS on edge caching (ATS/Varnish)",
        category="DDoS",
        identified=D(2020, 5, 18),
        owner=SEC,
        status="monitoring",
        treatment="mitigate",
        scores=(5, 4, 4, 4),
        systems=[EDGE, LVS, DNS],
        tags=["availability", "edge"],
        description=(
            "Volumetric and application-layer floods against the edge caches (cache-busting "
            "query strings, expensive uncached pages) saturate ATS/Varnish and the load "
            "balancers behind them."
        ),
        rationale="Edge rate limiting and an upstream scrubbing contract.",
        changes=[
            (D(2020, 8, 14), (5, 4, 3, 4), "Per-IP and per-path rate limits at the edge"),
            (D(2020, 9, 15), (5, 4, 3, 3), "Upstream scrubbing contract signed"),
        ],
        review=D(2021, 3, 1),
    ),
    dict(
        title="Sole maintainer of core systems unavailable (SPOF staff)",
        category="Staff unavailability",
        identified=D(2020, 6, 22),
        owner=ADMIN,
        status="in_treatment",
        treatment="mitigate",
        scores=(4, 4, 4, 4),
        systems=[DB, SWIFT, BACKUP],
        tags=["people", "kr2", "spof"],
        description=(
            "Eight production systems depend on a single staff member. Illness, leave or "
            "departure would leave outages and upgrades without anyone able to act."
        ),
        rationale="Hire for the SPOF positions (KR2) and write runbooks for each system.",
        changes=[
            (D(2020, 12, 15), (4, 4, 3, 4), "First SPOF position filled; runbooks for backups")
        ],
        review=D(2021, 1, 10),
    ),
    dict(
        title="Account takeover of privileged accounts",
        category="Account takeover",
        identified=D(2020, 7, 8),
        owner=SEC,
        status="in_treatment",
        treatment="mitigate",
        scores=(4, 5, 4, 5),
        systems=[SSO, GERRIT, PUPPET],
        tags=["identity", "privileged-access"],
        description=(
            "Phishing or credential stuffing against administrators, deployers and "
            "stewards gives an attacker shell, configuration or on-wiki admin rights."
        ),
        rationale="Mandatory hardware-backed 2FA for privileged groups; session review.",
        changes=[(D(2020, 11, 20), (4, 5, 2, 5), "2FA enforced for all shell and admin accounts")],
        review=D(2021, 2, 20),
    ),
    dict(
        title="Coordinated disinformation campaign on high-traffic articles",
        category="Disinformation campaign",
        identified=D(2020, 7, 20),
        owner=SEC,
        status="in_treatment",
        treatment="mitigate",
        scores=(4, 4, 4, 4),
        systems=[MW],
        tags=["disinformation", "elections", "trust"],
        description=(
            "State-backed or commercial actors run sock-puppet networks to insert false "
            "claims into articles on elections and public health, eroding public trust."
        ),
        rationale="Detection models for coordinated editing; support for community functionaries.",
        changes=[(D(2020, 12, 10), (4, 4, 3, 4), "Sock-puppet detection model in production")],
        review=D(2021, 2, 10),
    ),
    dict(
        title="Compromised third-party dependency in MediaWiki extensions",
        category="Supply chain",
        identified=D(2020, 7, 28),
        owner=SEC,
        status="assessed",
        treatment="mitigate",
        scores=(3, 5, 3, 4),
        method=(
            "owasp",
            dict(zip(OWASP_FACTORS, [5, 6, 4, 4, 3, 4, 4, 5, 9, 9, 5, 8, 6, 5, 4, 3], strict=True)),
        ),
        systems=[MW, GERRIT],
        tags=["dependencies", "supply-chain"],
        description=(
            "A malicious release of a Composer or npm package used by an extension runs "
            "attacker code on the application servers at the next deployment."
        ),
        rationale="Pin and review dependency updates; vendor libraries through review.",
        review=D(2020, 12, 31),
    ),
    dict(
        title="Insider misuse of production database access",
        category="Insider",
        identified=D(2020, 8, 5),
        owner=ADMIN,
        status="monitoring",
        treatment="mitigate",
        scores=(2, 5, 2, 4),
        systems=[DB],
        tags=["privacy", "privileged-access"],
        description=(
            "A staff member or volunteer with database access exports private data "
            "(IP addresses, private user data) outside any approved purpose."
        ),
        rationale="Query logging on replicas; access reviewed every quarter.",
        review=D(2021, 3, 31),
    ),
    dict(
        title="Exploitation of an unpatched MediaWiki core vulnerability",
        category="Vulnerability exploitation",
        identified=D(2020, 8, 12),
        owner=SEC,
        status="in_treatment",
        treatment="mitigate",
        scores=(4, 4, 3, 4),
        # Scored with the disclosed flaw's CVSS vector: it gives the inherent 4 x 4.
        method=("cvss", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:L/A:N"),
        systems=[MW],
        tags=["patching", "appsec"],
        description=(
            "A publicly disclosed flaw (XSS, SQL injection, remote code execution) is "
            "exploited before the security release reaches every wiki."
        ),
        rationale="Security patch SLA of 48 hours for critical issues; weekly train.",
        changes=[(D(2020, 10, 20), (4, 4, 2, 4), "Security patch SLA adopted and met for 8 weeks")],
        review=D(2021, 1, 5),
    ),
    dict(
        title="Ransomware on internal infrastructure",
        category="Vulnerability exploitation",
        identified=D(2020, 7, 15),
        owner=SEC,
        status="assessed",
        treatment="mitigate",
        scores=(3, 5, 2, 4),
        systems=[BACKUP, PUPPET],
        tags=["backups", "malware"],
        description=(
            "Ransomware spreading from a compromised laptop or bastion encrypts hosts "
            "and reachable backups."
        ),
        rationale="Offline backup copies; restore tests each quarter.",
        review=D(2021, 4, 15),
    ),
    dict(
        title="DNS provider outage or hijack",
        category="DDoS",
        identified=D(2020, 7, 22),
        owner=SEC,
        status="monitoring",
        treatment="mitigate",
        scores=(2, 5, 2, 3),
        systems=[DNS],
        tags=["availability", "dns"],
        description=(
            "Attack on the authoritative DNS servers or a registrar account hijack "
            "takes every project offline or redirects readers."
        ),
        rationale="Registry lock and anycast authoritative DNS across sites.",
        review=D(2021, 6, 30),
    ),
    dict(
        title="Credential stuffing against reader and editor accounts",
        category="Account takeover",
        identified=D(2020, 8, 19),
        owner=SEC,
        status="in_treatment",
        treatment="mitigate",
        scores=(5, 3, 4, 3),
        systems=[SSO, MW],
        tags=["identity", "abuse"],
        description=(
            "Leaked password lists are replayed at the login form; taken-over editor "
            "accounts are used for vandalism and spam."
        ),
        rationale="Login rate limits and breached-password checks.",
        changes=[(D(2020, 11, 5), (5, 3, 3, 3), "Breached-password check at login")],
        review=D(2021, 2, 5),
    ),
    dict(
        title="Malicious code merged through Gerrit review",
        category="Supply chain",
        identified=D(2020, 8, 26),
        owner=SEC,
        status="assessed",
        treatment="mitigate",
        scores=(2, 5, 2, 4),
        systems=[GERRIT, MW],
        tags=["supply-chain", "code-review"],
        description=(
            "A contributor account with +2 rights merges a backdoor that reaches "
            "production with the weekly deployment train."
        ),
        rationale="Two-person review on deploy branches; audit of +2 grants.",
        review=D(2021, 3, 15),
    ),
    dict(
        title="Puppet compromise pushes configuration fleet-wide",
        category="Vulnerability exploitation",
        identified=D(2020, 9, 2),
        owner=ADMIN,
        status="assessed",
        treatment="mitigate",
        scores=(2, 5, 2, 5),
        systems=[PUPPET],
        tags=["configuration", "privileged-access"],
        description=(
            "An attacker with access to the Puppet master can run code as root on "
            "every production host."
        ),
        rationale="Signed commits on the private repository; master access limited to SRE.",
        review=D(2021, 2, 28),
    ),
    dict(
        title="Kubernetes cluster misconfiguration exposes services",
        category="Vulnerability exploitation",
        identified=D(2020, 9, 8),
        owner=SEC,
        status="identified",
        treatment=None,
        scores=(3, 4, 3, 4),
        systems=[K8S],
        tags=["kubernetes", "configuration"],
        description=(
            "Network policies or RBAC left too open on the production clusters let one "
            "compromised service reach others."
        ),
        review=D(2021, 1, 8),
    ),
    dict(
        title="Database replication failure loses recent edits",
        category="Data-center loss",
        identified=D(2020, 9, 14),
        owner=ADMIN,
        status="monitoring",
        treatment="mitigate",
        scores=(2, 4, 2, 3),
        systems=[DB, BACKUP],
        tags=["data-integrity", "backups"],
        description=(
            "A primary database fails while replicas lag; edits made in the last "
            "minutes are lost on failover."
        ),
        rationale="Semi-synchronous replication on core sections; lag alerting.",
        review=D(2021, 5, 1),
    ),
    dict(
        title="Swift media storage single-region replication",
        category="Data-center loss",
        identified=D(2020, 9, 18),
        owner=ADMIN,
        status="monitoring",
        treatment="accept",
        scores=(2, 4, 2, 4),
        systems=[SWIFT, BACKUP],
        tags=["media", "backups"],
        description=(
            "Media originals are replicated between two US data centers only; a "
            "simultaneous loss of both would lose uploads not yet backed up."
        ),
        rationale=(
            "Accepted until the second EU data center exists: a simultaneous loss of both "
            "US sites is very unlikely and offline backups cover all but the last day."
        ),
        accept=(D(2021, 6, 30)),
        review=D(2021, 6, 30),
    ),
    dict(
        title="Legacy ticketing system without 2FA",
        category="Account takeover",
        identified=D(2020, 8, 1),
        owner=SEC,
        status="monitoring",
        treatment="accept",
        scores=(3, 3, 3, 2),
        systems=[SSO],
        tags=["identity", "legacy"],
        description=(
            "The volunteer response team's ticketing system does not support 2FA; "
            "a taken-over agent account exposes correspondence."
        ),
        rationale="Accepted until the migration to the new ticketing platform planned for Q3.",
        accept=(D(2021, 1, 10)),
        review=D(2021, 1, 10),
    ),
    dict(
        title="Load balancer failure during traffic peaks",
        category="DDoS",
        identified=D(2020, 9, 25),
        owner=SEC,
        status="monitoring",
        treatment="mitigate",
        scores=(2, 4, 1, 4),
        systems=[LVS, EDGE],
        tags=["availability"],
        description=(
            "A failing LVS pair during a breaking-news peak drops a share of reader "
            "traffic until manual failover."
        ),
        rationale="Automatic failover tested monthly.",
        review=D(2021, 4, 1),
    ),
    dict(
        title="Doxxing of staff and functionaries",
        category="Disinformation campaign",
        identified=D(2020, 8, 28),
        owner=SEC,
        status="in_treatment",
        treatment="mitigate",
        scores=(3, 4, 3, 3),
        systems=[MW],
        tags=["trust", "privacy", "people"],
        description=(
            "Harassment campaigns publish private details of staff and volunteer "
            "functionaries to intimidate them out of moderation work."
        ),
        rationale="Suppression tooling and a rapid response agreement with Trust & Safety.",
        review=D(2021, 3, 20),
    ),
    dict(
        title="Security team single on-call engineer",
        category="Staff unavailability",
        identified=D(2020, 7, 30),
        owner=ADMIN,
        status="in_treatment",
        treatment="mitigate",
        scores=(3, 4, 3, 3),
        systems=[SSO, GERRIT],
        tags=["people", "spof", "incident-response"],
        description=(
            "Security incidents outside office hours reach a single engineer; holidays "
            "leave the rota uncovered."
        ),
        rationale="Second on-call engineer trained; rota across two time zones.",
        changes=[(D(2020, 11, 30), (3, 4, 2, 3), "Second engineer joined the rota")],
        review=D(2021, 5, 30),
    ),
    dict(
        title="Abuse of open proxies for mass vandalism",
        category="DDoS",
        identified=D(2020, 8, 9),
        owner=SEC,
        status="monitoring",
        treatment="mitigate",
        scores=(4, 2, 3, 2),
        systems=[MW, EDGE],
        tags=["abuse"],
        description=(
            "Botnets and open proxies flood recent changes with vandalism faster than "
            "patrollers revert it."
        ),
        rationale="Automatic blocking of known proxy ranges.",
        review=D(2021, 6, 1),
    ),
    dict(
        title="Leaked deployment credentials in a public repository",
        category="Insider",
        identified=D(2020, 9, 29),
        owner=SEC,
        status="assessed",
        treatment="mitigate",
        scores=(3, 4, 2, 4),
        systems=[GERRIT, PUPPET],
        tags=["secrets", "supply-chain"],
        description=(
            "An API key or private key committed by mistake to a public repository is found "
            "by scanners within minutes."
        ),
        rationale="Secret scanning on every push; keys rotated on detection.",
        review=D(2021, 3, 29),
    ),
    dict(
        title="Backup restore fails when needed",
        category="Data-center loss",
        identified=D(2020, 10, 6),
        owner=ADMIN,
        status="in_treatment",
        treatment="mitigate",
        scores=(3, 4, 3, 3),
        systems=[BACKUP, DB],
        tags=["backups"],
        description=(
            "Backups have not been restored end to end in months; a real restore may fail or "
            "take days."
        ),
        rationale="Quarterly restore test of one core section.",
        changes=[(D(2020, 12, 18), (3, 4, 2, 3), "First full restore test passed in 5 hours")],
        review=D(2021, 3, 18),
    ),
    dict(
        title="Third-party analytics script injection",
        category="Supply chain",
        identified=D(2020, 10, 14),
        owner=SEC,
        status="closed",
        treatment="avoid",
        scores=(2, 4, 1, 1),
        systems=[MW],
        tags=["privacy", "supply-chain"],
        description=(
            "A proposed third-party script on donation pages could leak reader data or be hijacked."
        ),
        rationale="Avoided: the script will not be used; first-party measurement only.",
        review=D(2021, 10, 14),
    ),
    dict(
        title="Targeted phishing of finance staff (wire fraud)",
        category="Account takeover",
        identified=D(2020, 10, 21),
        owner=SEC,
        status="in_treatment",
        treatment="transfer",
        scores=(3, 4, 2, 3),
        systems=[SSO],
        tags=["phishing", "identity"],
        description=(
            "Business e-mail compromise tricks finance staff into paying fraudulent invoices."
        ),
        rationale=(
            "Transferred in part: cyber-insurance policy covers wire fraud; call-back procedure."
        ),
        review=D(2021, 4, 21),
    ),
    dict(
        title="Zero-day in the TLS termination layer",
        category="Vulnerability exploitation",
        identified=D(2020, 11, 3),
        owner=SEC,
        status="identified",
        treatment=None,
        scores=(2, 5, 2, 5),
        method=(
            "dread",
            {
                "damage": 9,
                "reproducibility": 3,
                "exploitability": 2,
                "affected_users": 8,
                "discoverability": 3,
            },
        ),
        systems=[EDGE],
        tags=["edge", "patching"],
        description=(
            "A remotely exploitable flaw in the TLS stack of the edge exposes reader sessions."
        ),
        review=D(2021, 2, 3),
    ),
    dict(
        title="Election-period surge of manipulated edits",
        category="Disinformation campaign",
        identified=D(2020, 9, 1),
        owner=SEC,
        status="monitoring",
        treatment="mitigate",
        scores=(4, 3, 3, 3),
        systems=[MW],
        tags=["disinformation", "elections"],
        description=(
            "Around national elections, coordinated edits push manipulated claims onto "
            "candidate articles."
        ),
        rationale="Temporary protection of candidate articles; monitoring dashboards.",
        changes=[(D(2020, 11, 10), (4, 3, 2, 3), "Election period over; protections held")],
        review=D(2020, 12, 20),
    ),
    dict(
        title="Contractor retains access after contract end",
        category="Insider",
        identified=D(2020, 11, 16),
        owner=ADMIN,
        status="assessed",
        treatment="mitigate",
        scores=(3, 3, 2, 3),
        systems=[SSO, PUPPET],
        tags=["identity", "offboarding"],
        description="Offboarding misses shell, Gerrit or cloud accounts of departing contractors.",
        rationale="Offboarding checklist tied to the identity provider.",
        review=D(2021, 2, 16),
    ),
    dict(
        title="Pandemic restricts data-center access for repairs",
        category="Staff unavailability",
        identified=D(2020, 7, 3),
        owner=ADMIN,
        status="monitoring",
        treatment="mitigate",
        scores=(3, 3, 2, 3),
        systems=[LVS, SWIFT],
        tags=["people", "data-center"],
        description="Travel and site restrictions delay hardware replacement; failures accumulate.",
        rationale="Remote hands contracts at each site; spare parts on site.",
        review=D(2021, 1, 3),
    ),
    dict(
        title="Cryptocurrency mining on compromised CI runners",
        category="Vulnerability exploitation",
        identified=D(2020, 7, 10),
        owner=SEC,
        status="closed",
        treatment="mitigate",
        scores=(3, 2, 1, 2),
        systems=[K8S, GERRIT],
        tags=["ci", "abuse"],
        description="Public CI jobs are abused to run miners, starving legitimate builds.",
        rationale="CI limited to trusted contributors; quotas per job.",
        review=D(2021, 7, 10),
        archived=D(2020, 11, 30),
    ),
    dict(
        title="Obsolete mail relay open to spoofing",
        category="Vulnerability exploitation",
        identified=D(2020, 7, 6),
        owner=SEC,
        status="closed",
        treatment="avoid",
        scores=(3, 2, 1, 1),
        systems=[],
        tags=["legacy", "email"],
        description=(
            "An old mail relay still accepted mail for our domains without SPF/DKIM checks."
        ),
        rationale="Relay decommissioned.",
        review=D(2021, 7, 6),
        archived=D(2020, 12, 20),
    ),
]


def _systems_by_name(context: dict) -> dict[str, System]:
    known = dict(context.get("systems", {}))
    missing = [name for name in SYSTEMS if name not in known]
    if missing:
        for system in db.session.scalars(select(System).where(System.name.in_(missing))):
            known[system.name] = system
    for name in SYSTEMS:
        if name not in known:
            system = System(name=name, in_production=True)
            db.session.add(system)
            known[name] = system
    db.session.flush()
    context.setdefault("systems", {}).update(known)
    return known


def load(context: dict) -> None:
    users = context["users"]
    owners = {SEC: users[Role.SECURITY], ADMIN: users[Role.ADMIN]}
    approver = users[Role.MANAGER]
    systems = _systems_by_name(context)
    categories = {}
    for name in CATEGORIES:
        category = db.session.scalar(select(ThreatCategory).where(ThreatCategory.name == name))
        if category is None:
            category = ThreatCategory(name=name, active=True)
            db.session.add(category)
        categories[name] = category
    db.session.flush()

    threats = {}
    for spec in THREATS:
        il, ii, rl, ri = spec["scores"]
        owner = owners[spec["owner"]]
        values = {
            "title": spec["title"],
            "description": spec["description"],
            "category_id": categories[spec["category"]].id,
            "source": spec.get("source", "internal"),
            "owner_id": owner.id,
            "status": spec["status"],
            "treatment": spec["treatment"],
            "treatment_rationale": spec.get("rationale", ""),
            "identified_on": spec["identified"],
            "next_review_on": spec["review"],
            "inherent_likelihood": il,
            "inherent_impact": ii,
            "residual_likelihood": rl,
            "residual_impact": ri,
            "scored_on": spec["identified"],
            "system_ids": [systems[name].id for name in spec["systems"]],
            "tags": spec["tags"],
        }
        if spec.get("method"):
            # The method must give the spec's inherent cell (the service checks they agree).
            values["scoring_method"], values["scoring_inputs"] = spec["method"]
        if spec.get("accept"):
            values["acceptance_approver_id"] = approver.id
            values["acceptance_expires_on"] = spec["accept"]
        threat = threats_service.create_threat(author_id=owner.id, **values)
        for changed_on, scores, note in spec.get("changes", []):
            threats_service.update_threat(
                threat,
                author_id=owner.id,
                scored_on=changed_on,
                score_note=note,
                **dict(zip(SCORE_FIELDS, scores, strict=True)),
            )
        if spec.get("archived"):
            archive.archive_threat(threat, owner.id, on=spec["archived"])
        threats[threat.title] = threat
    context["threats"] = threats
    context["threat_categories"] = categories


# ---------------------------------------------------------------- synthetic data at size

_ACTORS = [
    "botnet",
    "insider",
    "contractor",
    "state actor",
    "criminal group",
    "script kiddie",
    "hacktivist",
    "competitor",
    "vandal network",
    "ransomware crew",
    "phishing kit",
    "worm",
]
_ACTIONS = [
    "flood",
    "takeover",
    "exfiltration",
    "tampering",
    "outage",
    "misconfiguration",
    "credential theft",
    "injection",
    "hijack",
    "spoofing",
    "defacement",
    "denial of service",
]
_WORDS = (  # noqa: SIM905 - a word list reads better as text
    "attack traffic cache edge database replica primary failover latency outage credentials "
    "session token password phishing malware ransomware backup restore region datacenter "
    "network cable power fire flood storage media upload dependency package release build "
    "pipeline runner secret key certificate dns registrar proxy vandalism spam "
    "disinformation election article editor reader steward admin shell root kernel patch "
    "exploit zero-day xss sql injection rce deserialization configuration puppet kubernetes "
    "container image registry logging monitoring alerting oncall rota staff hiring leave "
    "illness departure privacy personal data leak retention deletion legal compliance audit "
    "finding incident review treatment countermeasure mitigation residual inherent "
    "likelihood impact severe "
).split()


def synthetic(context: dict, sizes: dict) -> None:
    """``seed-synthetic --threats N``: N threats with 1-2 score changes, systems and tags."""
    import click
    from sqlalchemy import text

    from app.threats.service import create_threats

    count = sizes.get("threats") or 0
    if not count:
        return
    refs = _synthetic_references()
    rng = context["rng"]
    now = datetime.now(UTC)
    threats = [_synthetic_threat(rng, refs, refs.first_id + n, now) for n in range(count)]
    click.echo(f"{'threats':<18} {count}")
    # Written by the register's own bulk path; synthetic data leaves no audit trail.
    create_threats(threats, None, note="", audited=False)
    if db.session.connection().dialect.name == "postgresql":
        db.session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('threats', 'id'), "
                "(SELECT max(id) FROM threats))"
            )
        )


def _synthetic_threat(rng, refs: _References, tid: int, now: datetime) -> dict:
    """One threat's checked values (as ``check_new_threat`` gives them), with its own id,
    its assessments and maybe an archive date."""
    from datetime import timedelta

    from app.domain.scoring import DEFAULT_REVIEW_INTERVALS, level_for
    from app.models.threats import ThreatSource, ThreatStatus, Treatment

    start = date(2019, 7, 1)
    identified = start + timedelta(days=rng.randrange((date(2021, 1, 10) - start).days))
    il, ii = rng.randint(1, 5), rng.randint(1, 5)
    rl, ri = rng.randint(1, il), rng.randint(1, ii)
    status = rng.choice(list(ThreatStatus))
    treatment = None
    if status not in (ThreatStatus.IDENTIFIED, ThreatStatus.ASSESSED) or rng.random() < 0.5:
        treatment = rng.choice(
            [Treatment.MITIGATE] * 6 + [Treatment.ACCEPT, Treatment.TRANSFER, Treatment.AVOID]
        )
    title = (
        f"{rng.choice(_ACTORS).capitalize()} {rng.choice(_ACTIONS)} on "
        f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} #{tid}"
    )
    description = " ".join(rng.choice(_WORDS) for _ in range(14)).capitalize() + "."
    scored = _synthetic_assessments(rng, identified, il, ii, rl, ri)
    last = scored[-1]
    accepted = treatment is Treatment.ACCEPT
    return {
        "id": tid,
        "title": title,
        "description": description,
        "category_id": rng.choice(refs.categories),
        "source": ThreatSource.INTERNAL,
        "feed_id": None,
        "owner_id": rng.choice(refs.owners),
        "status": status,
        "treatment": treatment,
        "treatment_rationale": "Synthetic rationale." if treatment else "",
        "acceptance_approver_id": rng.choice(refs.approvers) if accepted else None,
        "acceptance_expires_on": identified + timedelta(days=365) if accepted else None,
        "identified_on": identified,
        "next_review_on": last[0]
        + timedelta(days=DEFAULT_REVIEW_INTERVALS[level_for(last[3] * last[4])]),
        "inherent_likelihood": il,
        "inherent_impact": ii,
        "residual_likelihood": last[3],
        "residual_impact": last[4],
        "assessment": None,
        "history": [(on, ((a, b), (c, d))) for on, a, b, c, d in scored],
        "archived_at": now if rng.random() < 0.03 else None,
        "system_ids": rng.sample(refs.systems, k=min(len(refs.systems), rng.randint(0, 3))),
        "tags": rng.sample(refs.tags, k=rng.randint(0, 2)),
    }


Assessment = tuple[date, int, int, int, int]  # (on, inherent L, I, residual L, I)


class _References(NamedTuple):
    owners: list[int]
    approvers: list[int]
    systems: list[int]
    categories: list[int]
    tags: list[str]
    first_id: int


def _synthetic_references() -> _References:
    """What synthetic threats point at: owners, approvers, systems, categories and tags
    (the categories and tags created when missing), and the first free threat id."""
    from sqlalchemy import func, insert

    from app.models.threats import Tag, Threat
    from app.models.user import User

    user_rows = db.session.execute(select(User.id, User.role)).all()
    owners = [u.id for u in user_rows]
    approvers = [u.id for u in user_rows if u.role in (Role.MANAGER, Role.ADMIN)] or owners
    for name in CATEGORIES:
        if db.session.scalar(select(ThreatCategory.id).where(ThreatCategory.name == name)) is None:
            db.session.add(ThreatCategory(name=name, active=True))
    system_ids = [s.id for s in _systems_by_name({}).values()]
    tag_names = [f"tag-{word}" for word in _WORDS[:40]]
    existing_tags = set(db.session.scalars(select(Tag.name)))
    db.session.execute(
        insert(Tag), [{"name": n} for n in tag_names if n not in existing_tags]
    ) if set(tag_names) - existing_tags else None
    db.session.flush()
    return _References(
        owners=owners,
        approvers=approvers,
        systems=system_ids,
        categories=list(db.session.scalars(select(ThreatCategory.id))),
        tags=list(db.session.scalars(select(Tag.name).where(Tag.name.in_(tag_names)))),
        first_id=(db.session.scalar(select(func.max(Threat.id))) or 0) + 1,
    )


def _synthetic_assessments(
    rng, identified: date, il: int, ii: int, rl: int, ri: int
) -> list[Assessment]:
    """One or two assessments: the first on identification, maybe a later one lowering risk."""
    from datetime import timedelta

    scored = [(identified, il, ii, rl, ri)]
    if rng.random() < 0.6:
        later = identified + timedelta(days=rng.randint(1, 120))
        if later <= date(2021, 1, 14):
            rl2, ri2 = rng.randint(1, rl), rng.randint(1, ri)
            scored.append((later, il, ii, rl2, ri2))
    return scored
