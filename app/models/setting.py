"""Admin-editable settings stored as JSON values under a key."""

from __future__ import annotations

import copy
from typing import Any

from flask import g, has_request_context
from sqlalchemy import JSON, String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.extensions import Model, db
from app.models.base import TimestampMixin

__all__ = ["Setting"]


class Setting(TimestampMixin, Model):
    __tablename__ = "settings"
    __audited__ = True

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


def _read(key: str) -> Any:
    # A page reads the risk matrix from several figures: one query per request and key.
    if not has_request_context():
        return db.session.scalar(select(Setting.value).where(Setting.key == key))
    memo = g.setdefault("_settings_read", {})
    if key not in memo:
        memo[key] = db.session.scalar(select(Setting.value).where(Setting.key == key))
    return copy.deepcopy(memo[key])


def _forget() -> None:
    if has_request_context():
        g.pop("_settings_read", None)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    _forget()


def get_setting(key: str, default: Any = None) -> Any:
    value = _read(key)
    return default if value is None else value


def set_setting(key: str, value: Any) -> None:
    _forget()
    setting = db.session.get(Setting, key)
    if setting is None:
        db.session.add(Setting(key=key, value=value))
    else:
        setting.value = value
