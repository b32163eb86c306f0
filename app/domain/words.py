"""How the app says things in words: plurals and the labels of stored states, used by pages
and reports."""

from __future__ import annotations

import enum
from typing import Self


class Worded(enum.Enum):
    """An enum whose members read as their value in words ("active_hiring": "Active
    hiring"); one whose words differ from its values defines its own ``label``."""

    @property
    def label(self) -> str:
        return str(self.value).replace("_", " ").capitalize()


class Labelled(enum.Enum):
    """An enum whose members are declared with their words beside their value:
    ``AUDIT = "audit", "Audit"`` stores ``"audit"`` and reads as "Audit"."""

    _value_: str
    label: str

    # A lookup by value (``Role("admin")``) finds the member made here: it passes no label.
    def __new__(cls, value: str, label: str = "") -> Self:
        member = object.__new__(cls)
        member._value_ = value
        member.label = label
        return member


def plural(
    count: int, singular: str, plural_form: str | None = None, with_count: bool = True
) -> str:
    """``1 threat``, ``2 threats``; ``plural_form`` for nouns that do not take an ``s``.

    Only the last word of ``singular`` is inflected: ``1 staff member``, ``2 staff members``.
    """
    if count == 1:
        word = singular
    elif plural_form is not None:
        word = plural_form
    elif singular.endswith(("s", "x", "ch", "sh")):
        word = singular + "es"
    elif singular.endswith("y") and singular[-2:-1] not in "aeiou":
        word = singular[:-1] + "ies"
    else:
        word = singular + "s"
    return f"{count} {word}" if with_count else word
