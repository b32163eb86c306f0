"""The demo's catalogues: the shipped ATT&CK and Annex A fixtures, and the mappings that
make the coverage pages tell the deck's story.

ATT&CK 8.0 is imported at the start of FY20-21 and 9.0 in January (T1193 revoked, the
finance phishing threat still mapped to it, marked). The Q2 end shows ransomware exposed
(the off-site backups are still in progress) and T1190 exposed since the legacy IDS was
retired in November; the MFA roll-out covers the account-takeover techniques and takes
Annex A from 5% at the Q1 end to 24% at the Q2 end.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from app.catalogues.libraries import import_library
from app.catalogues.mappings import map_countermeasure, map_threat
from app.extensions import db
from app.models.countermeasures import Countermeasure
from app.models.threats import Threat

FIXTURES = Path(__file__).resolve().parent / "catalogues"
ANNEX_A = "ISO/IEC 27001:2022 Annex A"
YEAR_START = date(2020, 7, 1)

# Threat title -> ATT&CK techniques it is framed by.
THREAT_TECHNIQUES = {
    "Account takeover of privileged accounts": ["T1078", "T1110"],
    "Credential stuffing against reader and editor accounts": ["T1110"],
    "Ransomware on internal infrastructure": ["T1486", "T1490"],
    "Exploitation of an unpatched MediaWiki core vulnerability": ["T1190"],
    "Leaked deployment credentials in a public repository": ["T1078"],
    "Targeted phishing of finance staff (wire fraud)": ["T1566.002", "T1193"],
    "DDoS on edge caching (ATS/Varnish)": ["T1498"],
    "Cryptocurrency mining on compromised CI runners": ["T1105"],
    "Contractor retains access after contract end": ["T1078", "T1136"],
    "Kubernetes cluster misconfiguration exposes services": ["T1133"],
    "Legacy ticketing system without 2FA": ["T1110"],
}
# Countermeasure title -> (techniques it mitigates, Annex A controls it implements).
COUNTERMEASURE_ENTRIES = {
    "Phishing-resistant MFA for administrators": (
        ["T1078", "T1110", "T1566"],
        ["A.8.5", "A.5.17"],
    ),
    "Impossible-travel and credential-stuffing alerts": (["T1110", "T1078"], ["A.8.16"]),
    "Runbooks and cross-training for single-maintainer systems": ([], ["A.5.30"]),
    "Escalation paths for SPOF systems in the on-call rota": ([], ["A.5.24"]),
    "Off-site encrypted backups with restore tests": (["T1486", "T1490"], ["A.8.13"]),
    "Brand and domain impersonation monitoring": ([], ["A.5.7"]),
    "Legacy IDS signature set": (["T1190", "T1071"], ["A.8.16"]),
}


def _file(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def load(context: dict) -> None:
    attack = import_library(
        _file("enterprise-attack-v1.json"), "enterprise-attack-v1.json", on=YEAR_START
    ).library
    annex = import_library(
        _file("iso27001-2022-annex-a.csv"),
        "iso27001-2022-annex-a.csv",
        name=ANNEX_A,
        version="2022",
        on=YEAR_START,
    ).library
    import_library(_file("cis-controls-v8.yaml"), "cis-controls-v8.yaml", on=YEAR_START)
    threats = {
        t.title: t
        for t in db.session.scalars(select(Threat).where(Threat.title.in_(THREAT_TECHNIQUES)))
    }
    for title, refs in THREAT_TECHNIQUES.items():
        threat = threats.get(title)
        if threat is None:
            continue
        for ref in refs:
            map_threat(threat.id, attack.id, ref, max(threat.identified_on, YEAR_START), None)
    countermeasures = {
        c.title: c
        for c in db.session.scalars(
            select(Countermeasure).where(Countermeasure.title.in_(COUNTERMEASURE_ENTRIES))
        )
    }
    for title, (techniques, controls) in COUNTERMEASURE_ENTRIES.items():
        cm = countermeasures.get(title)
        if cm is None:
            continue
        on = max(cm.planned_on, YEAR_START)
        for ref in techniques:
            map_countermeasure(cm.id, attack.id, ref, on, None)
        for ref in controls:
            map_countermeasure(cm.id, annex.id, ref, on, None)
    # ATT&CK 9.0 arrives in January: mappings carry over, T1193 is now revoked.
    import_library(
        _file("enterprise-attack-v2.json"), "enterprise-attack-v2.json", on=date(2021, 1, 5)
    )
    monitoring = countermeasures.get("Brand and domain impersonation monitoring")
    if monitoring is not None:
        map_countermeasure(monitoring.id, attack.id, "T1656", date(2021, 1, 8), None)
    context["catalogues"] = {"attack": attack, "annex_a": annex}
