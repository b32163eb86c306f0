"""Demo OKRs: the FY20-21 department objectives of the quarterly review deck.

Statements, goals and the Q1 and Q2 statuses are the deck's words; a cell the deck leaves
empty or marks "-" has no status. Where the deck's cell breaks a line, the text keeps
the break. Front Line Defenses KR2 and KR3 are linked to the register's metrics, so
their computed values stand beside the written statuses.
"""

from __future__ import annotations

from datetime import date

from app import fiscal
from app.domain.quarters import quarters_of_fiscal_year
from app.models.okrs import Rating
from app.models.user import Role
from app.okrs import service

FISCAL_YEAR = 2020  # FY20-21
DEPARTMENT = "Technology"
Q1_WRITTEN = date(2020, 10, 14)
Q2_WRITTEN = date(2021, 1, 12)

ON, RISK, OFF = Rating.ON_TRACK, Rating.AT_RISK, Rating.OFF_TRACK

PLATFORM_OVERVIEW = (
    "We are continuing to evolve our architecture by introducing more structured data and "
    "leveraging machine learning — this is unlocking new capabilities in our products to "
    "support our communities. By improving our code quality, automation and developer "
    "tooling, we are increasing our capacity to innovate, experiment, learn, and deliver. "
    "Supporting our diverse technical communities is resulting in growth and enables "
    "solutions that engage with our content and data, and also leverages Wikimedia data "
    "beyond the core wiki experience. In support of Content Integrity, we continue to build "
    "and expand our tools and knowledge.\n\n"
    "Great progress on the Machine Learning (ML) Platform: key infrastructure decisions were "
    "made, hardware procured, new ML Platform design published. Steady progress on content "
    "integrity including newly hired research scientist. US election task force delivering "
    "on it's program with no major incidents. First draft of Target Architecture has been "
    "created evolution of our architecture has been eased through continued improvements to "
    "developer tooling and increased testing."
)

# Each key result: code, statement, baseline, goal, Q1 (text, value, rating) or None,
# Q2 likewise, and the optional numeric goal and metric link.
OBJECTIVES: list[dict] = [
    {
        "title": "Content Integrity",
        "statement": (
            "The Wikimedia movement has the tools and knowledge to identify and respond to "
            "abuse, misinformation, and disinformation campaigns, in order to more efficiently "
            "and effectively improve the quality of content, defend the projects and retain "
            "the public's trust."
        ),
        "target_completion": "Q4 FY20-21",
        "narrative": (
            "Created models to detect inconsistencies between Wikidata and Wikipedia and "
            "understand the diffusion of content across Wikipedia communities.\n\n"
            "Designed the infrastructure for serving Machine Learning models to detect Abuse, "
            "misinformation, and disinformation.\n\n"
            "Hired for the Research Scientist - Disinformation role. Continue interviews for "
            "the Anti-Disinformation Director position."
        ),
        "key_results": [
            {
                "code": "KR1",
                "statement": (
                    "Develop 1 model to identify misinformation (by Q3) and deliver 4 "
                    "milestones towards 1 model to understand the diffusion of content on the "
                    "Wikimedia projects (by Q4)."
                ),
                "baseline_text": "0 milestones",
                "baseline_value": 0,
                "goal_text": "4",
                "goal_value": 4,
                "goal_unit": "milestones",
                "q1": ("1", 1, ON),
                "q2": ("2", 2, ON),
            },
            {
                "code": "KR2",
                "statement": (
                    "Complete 4 product integrations (e.g. link recommendations) of internally "
                    "built machine learning models and services for improving content integrity"
                ),
                "baseline_text": "0 models in the new ML platform",
                "baseline_value": 0,
                "goal_text": "4",
                "goal_value": 4,
                "goal_unit": "integrations",
                "q1": ("0", 0, RISK),
                "q2": ("0", 0, OFF),
            },
            {
                "code": "KR3",
                "statement": (
                    "Coordinate and report quarterly on the disinformation activities across "
                    "teams, establish a community support forum (by Q3), and participate in 10 "
                    "external relationships (by Q4) including academia and industry partners."
                ),
                "baseline_text": "0",
                "baseline_value": 0,
                "goal_text": "10",
                "goal_value": 10,
                "goal_unit": "external relationships",
                "q1": ("5", 5, ON),
                "q2": ("5", 5, ON),
            },
        ],
    },
    {
        "title": "Evolutionary Architecture",
        "statement": (
            "A new Wikimedia Knowledge Platform is defined, building upon our key technologies, "
            "enabling our development teams to deliver value independently, and empowering our "
            "communities to share the world's knowledge in the spaces and formats which reflect "
            "their values and cultures."
        ),
        "target_completion": "",
        "narrative": (
            "Design system-level target architecture that model the mission\n"
            "- Presented multiple, integrated models for a holistic approach\n"
            "- Initial model of platform with event-based interactions and study group formeds"
            "\n\n"
            "Deliver exploratory prototype demo'ed last quarter\n"
            "- Shared summary document cross-functionally to create understanding and "
            "alignment\n"
            "- Share demo for feedback\n\n"
            "Establishing architecture practice with other teams\n"
            "- Design and model an systems architecture repository with Abstract Wikipedia "
            "Team\n"
            "- Collaborate with Structured Data team to adopt patterns established by the "
            "prototype\n"
            "- Contributing architecture view to the overall Product Strategy Working Group"
        ),
        "key_results": [
            {
                "code": "KR1",
                "statement": (
                    "Reached level 3 of the Architecture Maturity Model (AMM) for at least 85% "
                    "of capabilities by Q4."
                ),
                "baseline_text": (
                    "4 capabilities at Level 1 (50%), 4 capabilities at Level 2 (50%)"
                ),
                "goal_text": "move 85% of capabilities to Level 3",
                "q1": ("37.5% at Level 1\n62.5% at Level 2", None, ON),
                "q2": ("100% at L2\n28.5% at L3", None, ON),
            },
            {
                "code": "KR2",
                "statement": (
                    "Engineers have an improved understanding of current architecture and target "
                    "architecture, enabled by the outputs of reaching level 3 for the AMM "
                    'Architecture Development capability, "Gap analysis, modeling and iterative '
                    'strategy for reaching a target architecture are completed", measured '
                    "quantitatively through surveys in Q1, Q2 and Q4."
                ),
                "baseline_text": "TBD in Q2",
                "goal_text": "Baseline TBD",
                "q1": ("Baseline survey pushed to 3rd week of October", None, RISK),
                "q2": ("Survey sent Jan 2021", None, RISK),
            },
            {
                "code": "KR3",
                "statement": (
                    "4 new service components in production delivering new capabilities, "
                    "enabling and adopting industry standard best practices for architecture, "
                    "engineering and deployment, allowing for the mitigation of risks for both "
                    "development teams and operational stakeholders, building trust in our "
                    "development processes. 1 service in be end of Q2, 2 by end of Q3, and 4 by "
                    "end of Q4"
                ),
                "baseline_text": "Zero services",
                "baseline_value": 0,
                "goal_text": "4 services decoupled",
                "goal_value": 4,
                "goal_unit": "services",
                "q1": ("50% (2 services)", 2, ON),
                "q2": ("50% (2 services)", 2, ON),
            },
        ],
    },
    {
        "title": "Front Line Defenses",
        "statement": (
            "Our infrastructure and data are staffed, secured and provisioned appropriately in "
            "each area to successfully prevent or handle malicious attacks, the unavailability "
            "of one system component, or the unavailability of a staff member."
        ),
        "target_completion": "Q1 FY21-22",
        "narrative": (
            "We've started planning for our 2nd EMEA data center and analyzed options for EU "
            "data center locations against requirements, and presented a shortlist of candidate "
            "cities for input and investigation by the Legal team.\n\n"
            "We've strengthened our MediaWiki & Kubernetes knowledge & capacity in the SRE "
            "Service Ops team; one SPOF staff member position filled, four additional SPOF "
            "positions are in active hiring.\n\n"
            "Continue to add maturity to our cybersecurity capabilities to address risk and "
            "threat stemming from disinformation. Security incident response, vulnerability "
            "management and privacy."
        ),
        "key_results": [
            {
                "code": "KR1",
                "statement": (
                    "We will plan (by end of Q3), build (Q4) a second EU data center, to better "
                    "serve EMEA users (by end of FY21/22 Q1)."
                ),
                "baseline_text": "one EU data center",
                "baseline_value": 1,
                "goal_text": "Two EU data centers",
                "goal_value": 2,
                "goal_unit": "EU data centers",
                "q1": ("1 EU data center (planning not started yet)", 1, ON),
                "q2": ("1 EU data center\nShortlist of cities prepared", 1, ON),
            },
            {
                "code": "KR2",
                "statement": (
                    "The number of staff members solely responsible for a system or piece of "
                    "software in production is reduced by 50%, from 8 to 4, by end of Q4."
                ),
                "baseline_text": "0 SPoF positions filled",
                "baseline_value": 0,
                "goal_text": "Hire for 4 SPoF positions",
                "goal_value": 4,
                "goal_unit": "positions",
                "goal_direction": "increase",
                "metric": "spof_positions_filled",
                "q1": ("0% filled\n1 hiring process in final stages", 0, ON),
                "q2": ("25% filled\n4 SPOF positions in active hiring", 1, RISK),
            },
            {
                "code": "KR3",
                "statement": (
                    "Implement a threat identification and risk treatment program (Q1) and "
                    "deploy effective countermeasures for the top 2 threats and risks per "
                    "quarter thereafter."
                ),
                "baseline_text": (
                    "Partial risk management policy and 0 threat intelligence feeds."
                ),
                "baseline_value": 0,
                "goal_text": "6 threat and risk countermeasures deployed",
                "goal_value": 6,
                "goal_unit": "countermeasures",
                "goal_direction": "increase",
                "metric": "countermeasures_deployed_to_date",
                # The programme is set up in Q1; two countermeasures a quarter thereafter.
                "baseline_quarter": 1,
                "q1": ("Completed Q1 items", None, ON),
                "q2": ("4 countermeasures deployed", 4, ON),
            },
        ],
    },
    {
        "title": "Technical Community Building",
        "statement": (
            "Our technical community is thriving and has a clear, consistent means to discover, "
            "build, and deploy applications that support community workflows, invent new forms "
            "of content creation and consumption, and leverage Wikimedia's APIs and data beyond "
            "the core wiki experience."
        ),
        "target_completion": "Q4 FY 21/22",
        "narrative": (
            "A working prototype of the Toolhub catalogue project is available for testing. "
            "This enables us to gather early feedback on the application. The proof of concept "
            "for the new deployment workflows in Toolforge has been completed. We have adapted "
            "the timeline for Q3 and Q4 work on the new deployment workflows in Toolforge to "
            "balance out unexpected resource gaps.\n\n"
            "We have reached out to South Asian, ESEAP and Kurdish communities to explore "
            "potential and need for technical workshops. First workshops with South Asian and "
            "Kurdish communities are planned for Q3.\n\n"
            "We have conducted exploratory conversations with WMF and WMDE teams around "
            "technical documentation workflows and needs. We moved the analysis and summary "
            "into Q3, and expect to be back on track by the end of Q3."
        ),
        "key_results": [
            {
                "code": "KR1",
                "statement": (
                    "Communities find the tools that they need through the new Toolhub catalog "
                    "system (technical plan Q1, working prototype Q2, MVP Q4), and developers "
                    "create more diverse solutions using a user-extensible, container-based "
                    "default deployment process (working prototype Q4) in Toolforge."
                ),
                "baseline_text": "n/a",
                "goal_text": "Toolhub MVP, working prototype for new deployment process",
                "q1": ("Q1 goal complete", None, ON),
                "q2": ("Q2 goals complete", None, ON),
            },
            {
                "code": "KR2",
                "statement": (
                    "A 10% increase in number of tool maintainers (4% by end of Q2) speaks to a "
                    "vibrant ecosystem of technical contributors, supported by an iterative "
                    "model and practice of community and capacity building (Q1 draft, Q4 MVP) "
                    "which has been refined through 3 initiatives in focused outreach to "
                    "technical communities (Q1-Q4)."
                ),
                "baseline_text": "1974 tool maintainers",
                "baseline_value": 1974,
                "goal_text": (
                    "10% increase in number of tool maintainers, MVP model of community and "
                    "capacity building"
                ),
                "q1": ("3% (2033), draft concept", 2033, ON),
                "q2": ("4.9% (2067)", 2067, ON),
            },
            {
                "code": "KR3",
                "statement": (
                    "An organization strategy for key technical documents informs a continuing "
                    "roadmap based on a process of drafts (Q1) refined by consultation with "
                    "staff (Q2) and community input (Q3) and a prototype of a single entry point "
                    "to lower barriers finding existing documentation (Q4)."
                ),
                "baseline_text": "n/a",
                "goal_text": "Prototype for a single entry point for technical documentation",
                "q1": ("Q1 goals complete", None, ON),
                "q2": ("Interviews with staff in progress, not completed", None, RISK),
            },
        ],
    },
    {
        "title": "Production Quality",
        "statement": (
            "Engineering teams at WMF have a shared understanding of development velocity, "
            "production health, and code quality, and they develop commitments and workflows "
            "for improving overall code health."
        ),
        "target_completion": "",
        "narrative": (
            "The purpose of this Objective is to streamline and strengthen our development, "
            "deployment, and hosting practices to improve the daily lives of our technical "
            "community.\n\n"
            "Most of this work is highly cross-team and cross-department dependent (Service "
            "Level Objectives and Code Health Objectives {SLOs & CHOs}) and we want to thank "
            "those who have participated thus far for their engagement. We look forward to more "
            "engagement in the remainder of the year.\n\n"
            "The GitLab consultation was completed in Q2 and we are now beginning the work to "
            "setup our self-hosted installation.\n\n"
            "The Deployment Pipeline project continues to move forward but also uncover added "
            "work along the way. We expect attaining our goal this fiscal but it will be very "
            "close."
        ),
        "key_results": [
            {
                "code": "KR1",
                "statement": (
                    "Evangelize, implement tooling for (by end of Q1) and define and implement "
                    "Service Level Objectives (SLO) and Error Budgets for our top 10 services and "
                    "systems (Q2: 2 services; Q3: 4 services; Q4: 4 services) and report and "
                    "iterate on them with product owners on a quarterly basis to optimize the "
                    "balance of speed of innovation and reliability."
                ),
                "baseline_text": "0 services with SLOs & Error Budgets defined",
                "baseline_value": 0,
                "goal_text": "10 services with SLOs and error budgets",
                "goal_value": 10,
                "goal_unit": "services",
                "q1": (
                    "O services\nDeveloped SLO definition worksheet, Technical SLO baseline "
                    "work completed",
                    0,
                    ON,
                ),
                "q2": ("1 service", 1, RISK),
            },
            {
                "code": "KR2",
                "statement": (
                    "Educate teams on and define Code Health Objectives for our "
                    "production-deployed code repositories (20% in Q1, 40% in Q2, 70% in Q3, "
                    "100% in Q4) and report and iterate on them with code owners on a quarterly "
                    "basis."
                ),
                "baseline_text": "0% coverage of CHOs (Code Health Objectives)",
                "baseline_value": 0,
                "goal_text": "100% coverage",
                "goal_value": 100,
                "goal_unit": "% of deployed repos",
                "q1": ("17% of deployed repos have CHOs identified", 17, RISK),
                "q2": ("28% of deployed repos have CHOs identified", 28, RISK),
            },
            {
                "code": "KR3",
                "statement": (
                    "Evaluate and shepherd a consultation and best practices recommendations on "
                    "a potential move to GitLab for code review by the end of Q2. In parallel, "
                    "70% of Wikimedia developed application layer production service traffic is "
                    "served by the Deployment Pipeline in Q3 and 95% by Q4"
                ),
                "baseline_text": (
                    "27k request per second (rqs) (baseline was measured in FY1920Q4 - eqiad usage)"
                ),
                "goal_text": "Code Review decision, 95% of traffic",
                "q1": ("GitLab consultation in progress and on-track; 54% of traffic", None, ON),
                "q2": ("GitLab consultation completed; 68% of traffic", None, ON),
            },
        ],
    },
    {
        "title": "Platform Evolution MTP: reuse of code and content",
        "statement": (
            "We will build tooling for internal and external development and reuse of code and "
            "content"
        ),
        "target_completion": "",
        "narrative": PLATFORM_OVERVIEW,
        "key_results": [
            {
                "code": "",
                "statement": "A 80% increase in structured data used (uptake) across wikis.",
                "baseline_text": (
                    "87M of pages across Wikimedia projects use Wikidata as of April 2020."
                ),
                "goal_text": "80% increase",
                "q1": ("16% increase in percentage of use from 4/20 baseline", 16, ON),
                "q2": None,
            },
            {
                "code": "",
                "statement": (
                    "An 10% increase in non-text (e.g. Commons) content used across wikis."
                ),
                "baseline_text": (
                    "31.2M items from Commons are used across Wikimedia projects as of April 2020."
                ),
                "goal_text": "10% increase",
                "q1": ("0.7% increase in percentage of use from 4/20 baseline", 0.7, RISK),
                "q2": ("1.8% decrease from baseline", -1.8, OFF),
            },
        ],
    },
    {
        "title": "Platform Evolution MTP: a thriving developer community",
        "statement": (
            "A secure and sustainable platform that empowers a thriving developer community "
            "with the ease of software-as-a-service tooling"
        ),
        "target_completion": "",
        "narrative": PLATFORM_OVERVIEW,
        "key_results": [
            {
                "code": "",
                "statement": "30% increase of tool maintainers",
                "baseline_text": "1880 maintainers in Q2 (FY 19/20)",
                "baseline_value": 1880,
                "goal_text": "15% increase from baseline",
                "q1": ("8% (2033) increase from baseline", 2033, ON),
                "q2": ("9.9% (2067) increase from baseline", 2067, ON),
            },
            {
                "code": "",
                "statement": "10% (4.2 / 5) increase in developer satisfaction",
                "baseline_text": "2019 developer satisfaction: 3.8 / 5",
                "baseline_value": 3.8,
                "goal_text": "4% (4.0)",
                "q1": ("Next survey will be conducted in early Q3", None, None),
                "q2": ("Next survey will be conducted in early Q3", None, None),
            },
            {
                "code": "",
                "statement": "10% decrease in code review time",
                "baseline_text": "19 days in June 2019",
                "baseline_value": 19,
                "goal_text": "4% (18 days)",
                "q1": ("-5% (20 days)", 20, OFF),
                "q2": ("-21% (22 days)", 22, OFF),
            },
            {
                "code": "",
                "statement": "20% decrease in outstanding code reviews",
                "baseline_text": "1088 code reviews in June 2019",
                "baseline_value": 1088,
                "goal_text": "4% (1043 reviews)",
                "q1": ("15% (918 reviews)", 918, ON),
                "q2": ("21% (851 reviews)", 851, ON),
            },
        ],
    },
]

STATUS_FIELDS = ("q1", "q2")


def load(context: dict) -> None:
    manager = context["users"][Role.MANAGER]
    q1, q2 = quarters_of_fiscal_year(FISCAL_YEAR, fiscal.start_month())[:2]
    context["objectives"] = {}
    for position, spec in enumerate(OBJECTIVES, start=1):
        objective = service.create_objective(
            title=spec["title"],
            statement=spec["statement"],
            department=DEPARTMENT,
            fiscal_year=FISCAL_YEAR,
            target_completion=spec["target_completion"],
            position=position,
        )
        context["objectives"][objective.title] = objective
        service.set_narrative(objective, q2, spec["narrative"])
        for kr_spec in spec["key_results"]:
            key_result = service.create_key_result(
                objective, **{k: kr_spec[k] for k in service.KEY_RESULT_FIELDS if k in kr_spec}
            )
            if kr_spec.get("baseline_quarter"):
                key_result.baseline_quarter_start = (q1, q2)[
                    kr_spec["baseline_quarter"] - 1
                ].first_day
            for quarter, written_on, status in (
                (q1, Q1_WRITTEN, kr_spec["q1"]),
                (q2, Q2_WRITTEN, kr_spec["q2"]),
            ):
                if status is None:
                    continue
                text, value, rating = status
                service.write_status(
                    key_result,
                    quarter=quarter,
                    text=text,
                    value=value,
                    rating=rating,
                    author_id=manager.id,
                    written_on=written_on,
                )
