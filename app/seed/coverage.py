"""Systems, staff, responsibilities and SPOF positions: the demo story and synthetic data.

The demo follows KR2 of the deck's Front Line Defenses objective: at the start of FY20-21
(2020-07-01) 8 staff members are each the only person responsible for at least one
production system; five SPOF positions are opened; at the end of Q1 one hiring process is
in final stages; at the end of Q2 that position is filled (its hire takes over MediaWiki and
Kubernetes, so 7 remain solely responsible) and the other four are in active hiring. In Q3
the only maintainer of Thumbor leaves, leaving it uncovered.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from app.coverage.figures import SPOF_POSITIONS_GOAL_KEY
from app.extensions import db
from app.models.setting import set_setting
from app.models.systems import (
    Criticality,
    Position,
    PositionStatus,
    PositionStatusChange,
    Responsibility,
    ResponsibilityKind,
    StaffMember,
    System,
)
from app.models.user import Role, User

C = Criticality
SRE_SO = "SRE Service Ops"
DP = "Data Persistence"
TRAFFIC = "Traffic"
IF = "Infrastructure Foundations"
O11Y = "Observability"
SEARCH = "Search Platform"
SEC = "Security"
DCOPS = "Data Center Operations"

# name, team, criticality, description
PRODUCTION_SYSTEMS = [
    ("MediaWiki application servers", SRE_SO, C.CRITICAL, "App and API servers running MediaWiki."),
    ("Kubernetes production clusters", SRE_SO, C.CRITICAL, "Wikikube clusters for services."),
    ("Core MariaDB databases", DP, C.CRITICAL, "Primary and replica MariaDB sections."),
    ("Parser cache", DP, C.HIGH, "MariaDB-backed cache of rendered pages."),
    ("Edge caching (ATS/Varnish)", TRAFFIC, C.CRITICAL, "CDN layers in every data center."),
    ("DNS and GeoDNS", TRAFFIC, C.CRITICAL, "Authoritative DNS and geographic routing."),
    ("LVS load balancers", TRAFFIC, C.CRITICAL, "Layer-4 load balancing in front of services."),
    ("CirrusSearch (Elasticsearch)", SEARCH, C.HIGH, "On-wiki search clusters."),
    ("Swift media storage", DP, C.HIGH, "Object storage for uploaded media."),
    ("Puppet configuration management", IF, C.HIGH, "Configuration of every host."),
    ("etcd", IF, C.HIGH, "Configuration store behind confctl and service discovery."),
    ("Kafka event platform", IF, C.HIGH, "Event streams between services."),
    ("Orchestrator database monitoring", DP, C.MEDIUM, "Replication topology and failover."),
    ("Backups (Bacula)", DP, C.HIGH, "Database and file backups."),
    ("Identity provider (SSO)", SEC, C.CRITICAL, "Single sign-on for staff tools."),
    ("Gerrit code review", IF, C.MEDIUM, "Code review and source hosting."),
    ("Logstash logging pipeline", O11Y, C.MEDIUM, "Log shipping, processing and search."),
    ("Prometheus monitoring", O11Y, C.HIGH, "Metrics collection and alerting."),
    ("Wikidata Query Service", SEARCH, C.HIGH, "SPARQL endpoint over Wikidata."),
    ("Thumbor image scaling", SRE_SO, C.MEDIUM, "Thumbnail rendering for media."),
]
OTHER_SYSTEMS = [
    # name, team, criticality, description, in_production, retired_on
    ("Beta Cluster (staging)", SRE_SO, C.LOW, "Staging copy of the wikis.", False, None),
    ("Puppet compiler", IF, C.LOW, "Compiles catalogs to review changes.", False, None),
    ("Performance test bed", O11Y, C.LOW, "Synthetic page-load tests.", False, None),
    ("Ganglia monitoring", O11Y, C.LOW, "Replaced by Prometheus.", True, date(2020, 5, 31)),
]

# name, team, left_on
STAFF = [
    ("Alexandros Petrou", SRE_SO, None),
    ("Janis Okafor", SRE_SO, date(2021, 1, 8)),
    ("Clara Lindqvist", SRE_SO, None),
    ("Mateo Rinaldi", SRE_SO, None),
    ("Manuel Ortega", DP, None),
    ("Ines Kowalski", DP, None),
    ("Tomasz Berg", DP, None),
    ("Valentin Dubois", TRAFFIC, None),
    ("Brandon Hale", TRAFFIC, None),
    ("Emma Sato", TRAFFIC, None),
    ("Riccardo Conti", IF, None),
    ("Moritz Keller", IF, None),
    ("Daniel Novak", IF, None),
    ("Aisha Bello", IF, None),
    ("Nadia Farouk", IF, date(2020, 3, 31)),
    ("Filippo Greco", O11Y, None),
    ("Keith Mwangi", O11Y, None),
    ("Cole Whitaker", O11Y, None),
    ("David Cohen", SEARCH, None),
    ("Erik Johansson", SEARCH, None),
    ("Ryan Brooks", SEARCH, None),
    ("Sofia Marquez", SEC, None),
    ("Chris Papadakis", DCOPS, None),
    ("Rob Halvorsen", DCOPS, None),
]
HIRE = ("Priya Raman", SRE_SO)

P, B = ResponsibilityKind.PRIMARY, ResponsibilityKind.BACKUP
# system -> [(person, kind, since, until)]
RESPONSIBILITIES: dict[str, list[tuple[str, ResponsibilityKind, date, date | None]]] = {
    # Solely responsible at the start of FY20-21 (8 people):
    "MediaWiki application servers": [("Alexandros Petrou", P, date(2017, 3, 1), None)],
    "Kubernetes production clusters": [("Alexandros Petrou", P, date(2018, 9, 1), None)],
    "Orchestrator database monitoring": [("Manuel Ortega", P, date(2019, 2, 1), None)],
    "DNS and GeoDNS": [("Valentin Dubois", P, date(2016, 5, 1), None)],
    "etcd": [("Riccardo Conti", P, date(2018, 1, 15), None)],
    "Logstash logging pipeline": [
        ("Filippo Greco", P, date(2017, 6, 1), None),
        ("Nadia Farouk", P, date(2017, 6, 1), date(2020, 3, 31)),
    ],
    "Wikidata Query Service": [("David Cohen", P, date(2019, 4, 1), None)],
    "Identity provider (SSO)": [("Sofia Marquez", P, date(2019, 10, 1), None)],
    "Thumbor image scaling": [("Janis Okafor", P, date(2018, 6, 1), None)],
    # Covered by two people or more:
    "Core MariaDB databases": [
        ("Manuel Ortega", P, date(2015, 11, 1), None),
        ("Ines Kowalski", P, date(2017, 2, 1), None),
        ("Tomasz Berg", B, date(2019, 9, 1), None),
    ],
    "Parser cache": [
        ("Ines Kowalski", P, date(2018, 3, 1), None),
        ("Tomasz Berg", B, date(2019, 9, 1), None),
    ],
    "Backups (Bacula)": [
        ("Tomasz Berg", P, date(2019, 9, 1), None),
        ("Rob Halvorsen", B, date(2019, 11, 1), None),
    ],
    "Swift media storage": [
        ("Clara Lindqvist", P, date(2018, 4, 1), None),
        ("Tomasz Berg", P, date(2019, 9, 1), None),
        ("Chris Papadakis", B, date(2019, 1, 1), None),
    ],
    "Edge caching (ATS/Varnish)": [
        ("Brandon Hale", P, date(2016, 8, 1), None),
        ("Emma Sato", P, date(2018, 2, 1), None),
        ("Valentin Dubois", B, date(2016, 5, 1), None),
    ],
    "LVS load balancers": [
        ("Brandon Hale", P, date(2016, 8, 1), None),
        ("Emma Sato", B, date(2018, 2, 1), None),
    ],
    "CirrusSearch (Elasticsearch)": [
        ("Erik Johansson", P, date(2016, 1, 1), None),
        ("Ryan Brooks", P, date(2018, 7, 1), None),
        ("David Cohen", B, date(2019, 4, 1), None),
    ],
    "Puppet configuration management": [
        ("Moritz Keller", P, date(2015, 6, 1), None),
        ("Daniel Novak", P, date(2017, 1, 1), None),
        ("Riccardo Conti", B, date(2018, 1, 15), None),
    ],
    "Kafka event platform": [
        ("Aisha Bello", P, date(2018, 10, 1), None),
        ("Keith Mwangi", B, date(2019, 5, 1), None),
    ],
    "Gerrit code review": [
        ("Daniel Novak", P, date(2017, 1, 1), None),
        ("Clara Lindqvist", B, date(2019, 3, 1), None),
    ],
    "Prometheus monitoring": [
        ("Keith Mwangi", P, date(2018, 1, 1), None),
        ("Cole Whitaker", P, date(2019, 8, 1), None),
    ],
    # Not production: never counted, whoever looks after them.
    "Beta Cluster (staging)": [("Mateo Rinaldi", P, date(2019, 1, 1), None)],
    "Puppet compiler": [("Moritz Keller", P, date(2018, 5, 1), None)],
    "Performance test bed": [("Cole Whitaker", P, date(2019, 8, 1), None)],
    "Ganglia monitoring": [("Filippo Greco", P, date(2014, 1, 1), date(2020, 5, 31))],
}

FILL_DATE = date(2020, 11, 16)
# title, team, systems, [(status, date)]
POSITIONS = [
    (
        "SRE, Service Operations (MediaWiki and Kubernetes)",
        SRE_SO,
        ["MediaWiki application servers", "Kubernetes production clusters"],
        [
            (PositionStatus.PLANNED, date(2020, 7, 1)),
            (PositionStatus.ACTIVE_HIRING, date(2020, 7, 20)),
            (PositionStatus.FINAL_STAGES, date(2020, 9, 14)),
            (PositionStatus.FILLED, FILL_DATE),
        ],
    ),
    (
        "Database reliability engineer",
        DP,
        ["Orchestrator database monitoring", "Core MariaDB databases"],
        [
            (PositionStatus.PLANNED, date(2020, 7, 1)),
            (PositionStatus.ACTIVE_HIRING, date(2020, 8, 17)),
        ],
    ),
    (
        "SRE, Observability (logging)",
        O11Y,
        ["Logstash logging pipeline"],
        [
            (PositionStatus.PLANNED, date(2020, 7, 1)),
            (PositionStatus.ACTIVE_HIRING, date(2020, 9, 1)),
        ],
    ),
    (
        "SRE, Traffic (DNS)",
        TRAFFIC,
        ["DNS and GeoDNS"],
        [
            (PositionStatus.PLANNED, date(2020, 7, 1)),
            (PositionStatus.ACTIVE_HIRING, date(2020, 10, 5)),
        ],
    ),
    (
        "Security engineer, identity and access",
        SEC,
        ["Identity provider (SSO)"],
        [
            (PositionStatus.PLANNED, date(2020, 7, 1)),
            (PositionStatus.ACTIVE_HIRING, date(2020, 11, 2)),
        ],
    ),
]


def _email(name: str) -> str:
    first, last = name.lower().split(" ", 1)
    return f"{first[0]}{last.replace(' ', '')}@frontline.example"


def load(context: dict) -> None:
    users = context.get("users", {})
    manager = users.get(Role.MANAGER)
    security_user = users.get(Role.SECURITY)
    systems = _demo_systems()
    staff = _demo_staff(security_user)
    _demo_responsibilities(systems, staff, security_user)
    hire_name, hire_team = HIRE
    hire = StaffMember(name=hire_name, team=hire_team, email=_email(hire_name))
    staff[hire_name] = hire
    db.session.add(hire)
    _demo_positions(systems, hire, manager)
    set_setting(SPOF_POSITIONS_GOAL_KEY, 4)
    context["systems"] = systems
    context["staff"] = staff


def _demo_systems() -> dict[str, System]:
    systems: dict[str, System] = {}
    for name, team, criticality, description in PRODUCTION_SYSTEMS:
        systems[name] = System(
            name=name, team=team, criticality=criticality, description=description
        )
    for name, team, criticality, description, in_production, retired_on in OTHER_SYSTEMS:
        systems[name] = System(
            name=name,
            team=team,
            criticality=criticality,
            description=description,
            in_production=in_production,
            retired_on=retired_on,
        )
    db.session.add_all(systems.values())
    return systems


def _demo_staff(security_user: User | None) -> dict[str, StaffMember]:
    staff: dict[str, StaffMember] = {}
    for name, team, left_on in STAFF:
        staff[name] = StaffMember(name=name, team=team, email=_email(name), left_on=left_on)
    if security_user is not None:
        # The security demo user is a staff member too: the threats they own show up in
        # the departure impact on their page.
        staff[security_user.name] = StaffMember(
            name=security_user.name, team=SEC, email=security_user.email, user=security_user
        )
    db.session.add_all(staff.values())
    return staff


def _demo_responsibilities(
    systems: dict[str, System], staff: dict[str, StaffMember], security_user: User | None
) -> None:
    for system_name, rows in RESPONSIBILITIES.items():
        for person, kind, since, until in rows:
            db.session.add(
                Responsibility(
                    staff_member=staff[person],
                    system=systems[system_name],
                    kind=kind,
                    since=since,
                    until=until,
                )
            )
    if security_user is not None:
        db.session.add(
            Responsibility(
                staff_member=staff[security_user.name],
                system=systems["Gerrit code review"],
                kind=B,
                since=date(2020, 2, 1),
            )
        )


def _demo_positions(systems: dict[str, System], hire: StaffMember, manager: User | None) -> None:
    """The SPOF positions of the story, each with its dated steps; the filled one hands the
    hire its systems."""
    for title, team, system_names, changes in POSITIONS:
        status, opened_on = changes[0]
        position = Position(
            title=title,
            team=team,
            opened_on=opened_on,
            status=changes[-1][0],
            systems=[systems[n] for n in system_names],
            notes="Opened to remove a single point of failure (KR2).",
        )
        for status, changed_on in changes:
            position.status_changes.append(
                PositionStatusChange(
                    status=status,
                    changed_on=changed_on,
                    user_id=manager.id if manager else None,
                    note="Opened" if changed_on == opened_on else "",
                )
            )
            if status == PositionStatus.FILLED:
                position.hire = hire
                position.filled_on = changed_on
                for system_name in system_names:
                    db.session.add(
                        Responsibility(
                            staff_member=hire, system=systems[system_name], kind=P, since=changed_on
                        )
                    )
        db.session.add(position)


# Synthetic data at size.

TEAMS = [
    SRE_SO,
    DP,
    TRAFFIC,
    IF,
    O11Y,
    SEARCH,
    SEC,
    DCOPS,
    "Data Engineering",
    "Release Engineering",
]
SYSTEM_WORDS = [
    "api", "cache", "queue", "db", "search", "auth", "proxy", "store", "index", "gateway",
    "scheduler", "metrics", "logs", "cdn", "mail", "backup", "dns", "registry", "events", "jobs",
]  # fmt: skip
FIRST_NAMES = [
    "Alex", "Sam", "Jordan", "Maria", "Chen", "Fatima", "Lars", "Priya", "Kofi", "Elena",
    "Yuki", "Omar", "Ingrid", "Diego", "Aroha", "Mina", "Tariq", "Ana", "Jonas", "Leila",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Garcia", "Nguyen", "Okafor", "Jensen", "Rossi", "Kim", "Haddad", "Novak", "Silva",
    "Tanaka", "Müller", "Dubois", "Kowalski", "Andersson", "Mensah", "Costa", "Singh", "Berg",
]  # fmt: skip


def _max_id(model) -> int:
    return db.session.scalar(select(func.coalesce(func.max(model.id), 0)))


def synthetic(context: dict, sizes: dict) -> None:
    rng = context["rng"]
    start, span = date(2015, 1, 1), (date(2021, 6, 30) - date(2015, 1, 1)).days

    def some_day(after: date = start) -> date:
        return after + timedelta(days=rng.randrange(max(1, (start + timedelta(span) - after).days)))

    # The calls keep their order: the seeded random numbers are drawn in it.
    system_ids = _synthetic_systems(rng, sizes.get("systems") or 0, some_day)
    staff_ids = _synthetic_staff(rng, sizes.get("staff") or 0, some_day)
    _synthetic_responsibilities(
        rng, sizes.get("responsibilities") or 0, system_ids, staff_ids, some_day
    )
    _synthetic_positions(rng, sizes.get("positions") or 0, system_ids, some_day)


def _synthetic_systems(rng, count: int, some_day) -> list[int]:
    """``count`` more systems; the ids of the new ones (of every system when none is new)."""
    import click

    from app.coverage.systems import create_systems

    offset = db.session.execute(select(func.count()).select_from(System)).scalar_one()
    criticalities = list(Criticality)
    system_rows = []
    for i in range(offset, offset + count):
        words = rng.sample(SYSTEM_WORDS, 2)
        retired = rng.random() < 0.03
        system_rows.append(
            {
                "name": f"{words[0]}-{words[1]}-{i:05d}",
                "description": f"Synthetic {words[0]} {words[1]} service.",
                "team": rng.choice(TEAMS),
                "criticality": rng.choices(criticalities, weights=(2, 5, 3, 1))[0],
                "in_production": rng.random() < 0.85,
                "retired_on": some_day() if retired else None,
            }
        )
    click.echo(f"{'systems':<18} {len(system_rows)}")
    return create_systems(system_rows, audited=False) or list(db.session.scalars(select(System.id)))


def _synthetic_staff(rng, count: int, some_day) -> list[int]:
    """``count`` more staff members; the ids of the new ones (of everyone when none is new)."""
    import click

    from app.coverage.staff import create_staff_members

    first_staff = _max_id(StaffMember)
    staff_rows = []
    for i in range(count):
        left = rng.random() < 0.06
        left_on = some_day() if left else None
        staff_rows.append(
            {
                "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {first_staff + i + 1}",
                "email": f"staff{first_staff + i + 1}@synthetic.example",
                "team": rng.choice(TEAMS),
                "left_on": left_on,
            }
        )
    click.echo(f"{'staff':<18} {len(staff_rows)}")
    return create_staff_members(staff_rows, audited=False) or list(
        db.session.scalars(select(StaffMember.id))
    )


def _synthetic_responsibilities(
    rng, count: int, system_ids: list[int], staff_ids: list[int], some_day
) -> None:
    import click

    from app.coverage.responsibilities import add_responsibilities

    resp_rows = []
    if system_ids and staff_ids:
        # Most systems get one person first, then the rest spread unevenly: a realistic mix
        # of covered systems, SPOFs and a few uncovered ones.
        first_pass = rng.sample(system_ids, min(len(system_ids), int(count * 0.45)))
        targets = first_pass + [
            system_ids[min(len(system_ids) - 1, int(rng.paretovariate(1.2)) - 1)]
            if rng.random() < 0.1
            else rng.choice(system_ids)
            for _ in range(max(0, count - len(first_pass)))
        ]
        for system_id in targets:
            since = some_day()
            ended = rng.random() < 0.12
            resp_rows.append(
                {
                    "staff_member_id": rng.choice(staff_ids),
                    "system_id": system_id,
                    "kind": P if rng.random() < 0.7 else B,
                    "since": since,
                    "until": some_day(since) if ended else None,
                }
            )
    click.echo(f"{'responsibilities':<18} {len(resp_rows)}")
    add_responsibilities(resp_rows, audited=False)


def _synthetic_positions(rng, count: int, system_ids: list[int], some_day) -> None:
    """``count`` more positions, each with its steps so far and one to three systems."""
    import click

    from app.coverage.positions import create_positions

    first_position = _max_id(Position)
    statuses = list(PositionStatus)
    positions = [
        {
            "title": f"SPOF position {first_position + i + 1}",
            "team": rng.choice(TEAMS),
            "status": rng.choice(statuses),
            "opened_on": some_day(date(2019, 1, 1)),
            "notes": "",
        }
        for i in range(count)
    ]
    order = [PositionStatus.PLANNED, PositionStatus.ACTIVE_HIRING, PositionStatus.FINAL_STAGES]
    for position in positions:
        status = position["status"]
        path = order[: order.index(status) + 1] if status in order else [*order[:2], status]
        day, position["history"] = position["opened_on"], []
        for step in path:
            position["history"].append((step, day, ""))
            day += timedelta(days=rng.randrange(10, 60))
        position["system_ids"] = rng.sample(system_ids, min(len(system_ids), rng.randrange(1, 4)))
    click.echo(f"{'positions':<18} {count}")
    create_positions(positions, None, audited=False)
