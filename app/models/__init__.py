"""All models, imported here so Alembic and the app see one metadata."""

from app.models.api_token import ApiToken
from app.models.audit import AuditEntry
from app.models.catalogues import (
    CatalogueEntry,
    CountermeasureMapping,
    EntryKind,
    Library,
    LibraryKind,
    LibraryVersion,
    ThreatMapping,
)
from app.models.countermeasures import (
    Countermeasure,
    CountermeasureStatus,
    CountermeasureStatusChange,
    CountermeasureTargetPeriod,
    CountermeasureType,
    Effectiveness,
)
from app.models.deletions import Deletion
from app.models.feeds import CandidateStatus, ThreatCandidate
from app.models.notifications import (
    DigestSent,
    FeedFetch,
    NotificationPreference,
    NotificationRun,
    RunLock,
    SentNotification,
    Webhook,
    WebhookDelivery,
)
from app.models.okrs import (
    GoalDirection,
    KeyResult,
    KeyResultStatus,
    Objective,
    ObjectiveNarrative,
    Rating,
)
from app.models.recovery_code import RecoveryCode
from app.models.reports import ReportPublication
from app.models.setting import Setting
from app.models.sign_in_session import SignInSession
from app.models.sso_identity import SsoIdentity
from app.models.systems import (
    Criticality,
    Position,
    PositionStatus,
    PositionStatusChange,
    Responsibility,
    ResponsibilityKind,
    StaffMember,
    System,
    SystemCriticalityChange,
    SystemProductionChange,
)
from app.models.threats import (
    Tag,
    Threat,
    ThreatCategory,
    ThreatFeed,
    ThreatScoreChange,
    ThreatSearchTerm,
    ThreatSource,
    ThreatStateChange,
    ThreatStatus,
    Treatment,
)
from app.models.user import Role, User

__all__ = [
    "DigestSent",
    "FeedFetch",
    "NotificationPreference",
    "NotificationRun",
    "RunLock",
    "SentNotification",
    "Webhook",
    "WebhookDelivery",
    "ApiToken",
    "AuditEntry",
    "CandidateStatus",
    "CatalogueEntry",
    "CountermeasureMapping",
    "EntryKind",
    "Library",
    "LibraryKind",
    "LibraryVersion",
    "ThreatMapping",
    "Countermeasure",
    "CountermeasureStatus",
    "CountermeasureStatusChange",
    "CountermeasureTargetPeriod",
    "CountermeasureType",
    "Deletion",
    "Criticality",
    "Effectiveness",
    "GoalDirection",
    "KeyResult",
    "KeyResultStatus",
    "Objective",
    "ObjectiveNarrative",
    "Position",
    "PositionStatus",
    "PositionStatusChange",
    "Rating",
    "RecoveryCode",
    "ReportPublication",
    "Responsibility",
    "ResponsibilityKind",
    "Role",
    "Setting",
    "SignInSession",
    "SsoIdentity",
    "StaffMember",
    "System",
    "SystemCriticalityChange",
    "SystemProductionChange",
    "Tag",
    "Threat",
    "ThreatCandidate",
    "ThreatCategory",
    "ThreatFeed",
    "ThreatScoreChange",
    "ThreatSearchTerm",
    "ThreatSource",
    "ThreatStateChange",
    "ThreatStatus",
    "Treatment",
    "User",
]
