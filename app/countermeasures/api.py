"""The API's resources for countermeasures and the quarter's figures,
on the api blueprints of ``app.api.resources``."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app import fiscal
from app.api import writes as w
from app.api.records import record_action, record_detail, record_list
from app.api.resources import figures, get_or_404, page_args, refused, register
from app.countermeasures import figures as countermeasure_figures
from app.countermeasures import queries as cm_queries
from app.countermeasures.api_schemas import (
    CountermeasureArgs,
    CountermeasureCreate,
    CountermeasureDetailSchema,
    CountermeasurePage,
    CountermeasureStatusCreate,
    CountermeasureUpdate,
    DeploymentCreate,
    QuarterSchema,
    VerificationCreate,
)
from app.countermeasures.service import create_countermeasure, update_countermeasure
from app.countermeasures.status import change_status, deploy_countermeasure, verify_countermeasure
from app.domain.scoring import level_for
from app.models import (
    Countermeasure,
)
from app.models.user import Role
from app.security import readable
from app.threats.risk import risk_matrix

# ---- countermeasures ----------------------------------------------------------------

COUNTERMEASURE_LOADS = (selectinload(Countermeasure.owner), selectinload(Countermeasure.threats))


def _countermeasures(args: dict):
    query, _filters, problems = cm_queries.list_query(page_args())
    if problems:  # a value the page ignores (and says so): refused here
        refused("filters", " ".join(problems))
    return query.options(*COUNTERMEASURE_LOADS)


record_list(
    register,
    "/countermeasures",
    "Countermeasures",
    model=Countermeasure,
    args_schema=CountermeasureArgs,
    page_schema=CountermeasurePage,
    query=_countermeasures,
    listed="""Countermeasures, with the threats they treat.

        The countermeasures page's filters and sort (same names, values and order).""",
    schema=CountermeasureDetailSchema,
    create_schema=CountermeasureCreate,
    role=Role.SECURITY,
    create=lambda body: create_countermeasure(
        title=body.pop("title", None), **body, user_id=current_user.id
    ),
    added="Plan (or record) a countermeasure: security and admins.",
)


def load_countermeasure(countermeasure_id: int) -> Countermeasure:
    return get_or_404(
        Countermeasure,
        countermeasure_id,
        *COUNTERMEASURE_LOADS,
        selectinload(Countermeasure.status_changes),
    )


def _edit(countermeasure: Countermeasure, body: dict) -> Countermeasure:
    values = w.merged(countermeasure_values(countermeasure), body)
    update_countermeasure(countermeasure, **values, version=body["version"])
    return countermeasure


record_detail(
    register,
    "/countermeasures/<int:countermeasure_id>",
    "CountermeasureDetail",
    model=Countermeasure,
    schema=CountermeasureDetailSchema,
    update_schema=CountermeasureUpdate,
    role=Role.SECURITY,
    change=_edit,
    read="One countermeasure with its status history.",
    changed="Edit a countermeasure's description, threats, owner and plan (not its status).",
    loads=(*COUNTERMEASURE_LOADS, selectinload(Countermeasure.status_changes)),
)


def _by_user(step):
    """The step taken by the person calling (who changed the status, who deployed it)."""
    return lambda countermeasure, body: step(countermeasure, **body, user_id=current_user.id)


# Its steps: each a POST of the step's inputs (``app.countermeasures.inputs``) and the
# version read, answered with the countermeasure as it then stands.
STEPS = (
    (
        "status",
        "CountermeasureStatusChanges",
        CountermeasureStatusCreate,
        _by_user(change_status),
        "Move a countermeasure to in progress or retired (deployment has its own call).",
    ),
    (
        "deploy",
        "CountermeasureDeployment",
        DeploymentCreate,
        _by_user(deploy_countermeasure),
        "Record the deployment and the treated threats' new residual scores.",
    ),
    (
        "verify",
        "CountermeasureVerification",
        VerificationCreate,
        lambda countermeasure, body: verify_countermeasure(countermeasure, **body),
        "Record that a deployed countermeasure was verified: when, by whom, how well.",
    ),
)
for step, name, body_schema, act, doc in STEPS:
    record_action(
        register,
        f"/countermeasures/<int:countermeasure_id>/{step}",
        name,
        load=load_countermeasure,
        body_schema=body_schema,
        schema=CountermeasureDetailSchema,
        role=Role.SECURITY,
        act=act,
        doc=doc,
    )


@figures.route("/quarters/<label>")
class QuarterFigures(MethodView):
    @readable
    @figures.response(200, QuarterSchema)
    @figures.alt_response(422, response="DEFAULT_ERROR", description="Not started yet")
    def get(self, label):
        """A quarter's figures: countermeasures deployed (in it, and in its fiscal year to
        its end) against the target and the year's goal, the top threats at its start and
        what treated them, what slipped. A quarter that has not started is refused (422):
        it has nothing to measure yet."""
        quarter = fiscal.quarter_or_404(label)
        today = fiscal.today()
        if quarter.first_day > today:
            refused(
                "label", f"{quarter.label} starts on {quarter.first_day}: nothing to measure yet."
            )
        matrix = risk_matrix()
        target = countermeasure_figures.quarter_target()
        treated = countermeasure_figures.top_threats_treated(quarter, target)
        slipped = countermeasure_figures.slipped_countermeasures(quarter)
        return {
            "state": "over" if quarter.last_day < today else "in_progress",
            "target": target,
            "goal": countermeasure_figures.yearly_goal(),
            "slipped": [{"id": cm.id, "title": cm.title} for cm in slipped],
            "quarter": quarter.label,
            "starts_on": quarter.first_day,
            "ends_on": quarter.last_day,
            "countermeasures_deployed": countermeasure_figures.countermeasures_deployed(quarter),
            "countermeasures_deployed_to_date": (
                countermeasure_figures.countermeasures_deployed_to_date(quarter)
            ),
            "top_threats": [
                {
                    "rank": entry.rank,
                    "id": entry.threat.id,
                    "title": entry.threat.title,
                    "inherent_score": entry.threat.inherent_score,
                    "residual_score": entry.threat.residual_score,
                    "level": level_for(entry.threat.residual_score, matrix).value,
                    "treated": entry.treated,
                    "countermeasures": [
                        {"id": fact.id, "title": fact.title} for fact in entry.countermeasures
                    ],
                }
                for entry in treated
            ],
        }


# The record's current values, which an update merges the body into (``w.merged``).
def countermeasure_values(countermeasure: Countermeasure) -> dict:
    start = countermeasure.target_quarter_start
    return w.current(
        countermeasure,
        "title",
        "description",
        "type",
        threat_ids=[threat.id for threat in countermeasure.threats],
        owner_id=countermeasure.owner_id,
        target_quarter=fiscal.quarter_starting(start).label if start else None,
        evidence=countermeasure.evidence,
    )
