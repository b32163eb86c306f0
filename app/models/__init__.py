"""All models, imported here so Alembic and the app see one metadata. Each module names
what it offers in its ``__all__``: the app imports those names from ``app.models``."""

from app.models.api_token import *
from app.models.audit import *
from app.models.catalogues import *
from app.models.countermeasures import *
from app.models.deletions import *
from app.models.feeds import *
from app.models.notifications import *
from app.models.okrs import *
from app.models.recovery_code import *
from app.models.reports import *
from app.models.setting import *
from app.models.sign_in_session import *
from app.models.sso_identity import *
from app.models.systems import *
from app.models.threats import *
from app.models.user import *
