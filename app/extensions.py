"""Flask extensions, created unbound and initialised by the app factory."""

from typing import TYPE_CHECKING, ClassVar

from flask import has_request_context, request
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations behave the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every model is mapped to a table (none to a join or a select).
        __table__: ClassVar[Table]


# No list has a million pages; a larger page number would overflow the database's OFFSET.
MAX_PAGE = 1_000_000


class FrontlineSQLAlchemy(SQLAlchemy):
    def paginate(self, select, *, page=None, **kwargs):
        if page is None and has_request_context():
            asked = request.args.get("page", type=int)
            if asked is not None and asked > MAX_PAGE:
                page = MAX_PAGE
        elif page is not None and page > MAX_PAGE:
            page = MAX_PAGE
        return super().paginate(select, page=page, **kwargs)


db = FrontlineSQLAlchemy(model_class=Base)

# Models subclass `Model`: db.Model at run time (table names, the session binding), which the
# type checker cannot follow as a base class, so it sees the declarative base db.Model wraps.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
talisman = Talisman()
bootstrap = Bootstrap5()
